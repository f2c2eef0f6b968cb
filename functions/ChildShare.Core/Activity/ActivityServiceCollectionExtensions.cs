using ChildShare.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChildShare.Core.Activity;

/// <summary>Registers the activity read model: ingestion writes it (ActivitySummaryBuilder), the aggregate report and the de-identified export read it.</summary>
public static class ActivityServiceCollectionExtensions
{
    public static IServiceCollection AddChildShareActivity(this IServiceCollection services)
    {
        services.TryAddSingleton<ActivityTable>();
        services.TryAddSingleton<ActivityStore>();
        return services;
    }
}

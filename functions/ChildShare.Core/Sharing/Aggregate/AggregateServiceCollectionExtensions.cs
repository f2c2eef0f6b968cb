using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChildShare.Core.Sharing.Aggregate;

/// <summary>Registers the aggregate report (the activity read model, callers, agreements and the audit have their own registrations).</summary>
public static class AggregateServiceCollectionExtensions
{
    public static IServiceCollection AddChildShareAggregateReports(this IServiceCollection services)
    {
        services.TryAddSingleton<ReportSnapshots>();
        services.TryAddSingleton<AggregateReportService>();
        return services;
    }
}

using ChildShare.Core.Reporting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChildShare.Core;

/// <summary>Registers the aggregate report (callers, agreements and the audit have their own registrations).</summary>
public static class ReportingServiceCollectionExtensions
{
    public static IServiceCollection AddChildShareReporting(this IServiceCollection services)
    {
        services.TryAddSingleton<ActivityStore>();
        services.TryAddSingleton<ReportSnapshots>();
        services.TryAddSingleton<AggregateReportService>();
        return services;
    }
}

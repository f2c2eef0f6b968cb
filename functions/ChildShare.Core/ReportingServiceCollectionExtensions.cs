using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Callers;
using ChildShare.Core.Reporting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChildShare.Core;

/// <summary>Registers callers, agreements, the decision point, the audit and the aggregate report.</summary>
public static class ReportingServiceCollectionExtensions
{
    public static IServiceCollection AddChildShareReporting(this IServiceCollection services)
    {
        services.AddOptions<CallerOptions>().BindConfiguration(CallerOptions.SectionName);
        services.TryAddSingleton<AuditLog>();
        services.TryAddSingleton<PrincipalDirectory>();
        services.TryAddSingleton<ApiKeyStore>();
        services.TryAddSingleton<CallerResolver>();
        services.TryAddSingleton<AgreementStore>();
        services.TryAddSingleton<SharingDecisionPoint>();
        services.TryAddSingleton<ActivityStore>();
        services.TryAddSingleton<ReportSnapshots>();
        services.TryAddSingleton<AggregateReportService>();
        return services;
    }
}

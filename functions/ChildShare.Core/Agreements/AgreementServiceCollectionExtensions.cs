using ChildShare.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChildShare.Core.Agreements;

public static class AgreementServiceCollectionExtensions
{
    /// <summary>Registers the data sharing agreements, who may manage them, and the decision point every sharing mode asks.</summary>
    public static IServiceCollection AddChildShareAgreements(this IServiceCollection services)
    {
        services.TryAddSingleton<AgreementTable>();
        services.TryAddSingleton<AgreementStore>();
        services.TryAddSingleton<AgreementAdminService>();
        services.TryAddSingleton<SharingDecisionPoint>();
        return services;
    }
}

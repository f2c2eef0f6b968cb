using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChildShare.Core.Audit;

public static class AuditServiceCollectionExtensions
{
    /// <summary>Registers the append-only audit log every sharing mode writes before it releases or changes anything.</summary>
    public static IServiceCollection AddChildShareAudit(this IServiceCollection services)
    {
        services.TryAddSingleton<AuditLog>();
        return services;
    }
}

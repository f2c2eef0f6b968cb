using ChildShare.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChildShare.Core.Callers;

public static class CallerServiceCollectionExtensions
{
    /// <summary>Registers who may call: API keys, mapped Entra principals and the resolver that turns credentials into a caller.</summary>
    public static IServiceCollection AddChildShareCallers(this IServiceCollection services)
    {
        services.AddOptions<CallerOptions>().BindConfiguration(CallerOptions.SectionName);
        services.TryAddSingleton<PrincipalTable>();
        services.TryAddSingleton<PrincipalDirectory>();
        services.TryAddSingleton<ApiKeyTable>();
        services.TryAddSingleton<ApiKeyStore>();
        services.TryAddSingleton<CallerResolver>();
        return services;
    }
}

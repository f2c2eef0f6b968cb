using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChildShare.Core.Storage;

/// <summary>Registers the typed stores of ChildShare's tables (the storage account itself is registered by <see cref="ServiceCollectionExtensions"/>).</summary>
public static class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddChildShareStores(this IServiceCollection services)
    {
        services.TryAddSingleton<IIdentityVault, IdentityVault>();
        services.TryAddSingleton<ChildRecordStore>();
        services.TryAddSingleton<MembershipStore>();
        services.TryAddSingleton<UploadStagingStore>();
        return services;
    }
}

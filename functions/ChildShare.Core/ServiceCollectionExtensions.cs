using Azure.Core;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Callers;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChildShare.Core;

/// <summary>Registers ChildShare's application services, for the function app and the command line alike.</summary>
public static class ServiceCollectionExtensions
{
    public static IServiceCollection AddChildShareCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName);
        services.AddOptions<IngestionOptions>().BindConfiguration(IngestionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PseudonymizationOptions>().BindConfiguration(PseudonymizationOptions.SectionName)
            .Validate(o => o.KeySource != PseudonymKeySource.KeyVault || Uri.TryCreate(o.KeyVaultUri, UriKind.Absolute, out _),
                "Pseudonymization:KeyVaultUri must be the vault's URI when KeySource is KeyVault.")
            .Validate(o => o.KeySource != PseudonymKeySource.Settings || !string.IsNullOrWhiteSpace(o.LocalKey),
                "Pseudonymization:LocalKey must hold a base64 key when KeySource is Settings.")
            .ValidateOnStart();
        services.AddOptions<LinkageOptions>().BindConfiguration(LinkageOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        // One credential for the app's storage and Key Vault clients: DefaultAzureCredential caches its tokens, so it is built once.
        services.TryAddSingleton<TokenCredential>(_ => new DefaultAzureCredential());
        services.TryAddSingleton(sp =>
        {
            var (tables, blobs) = StorageClientFactory.Create(configuration, credential: sp.GetRequiredService<TokenCredential>());
            return new ChildShareStorage(tables, blobs, sp.GetRequiredService<IOptions<StorageOptions>>());
        });

        services.TryAddSingleton<ISecretSource>(sp =>
            new KeyVaultSecretSource(new SecretClient(new Uri(sp.GetRequiredService<IOptions<PseudonymizationOptions>>().Value.KeyVaultUri),
                sp.GetRequiredService<TokenCredential>())));
        services.TryAddSingleton<IPseudonymKeyProvider>(sp =>
            sp.GetRequiredService<IOptions<PseudonymizationOptions>>().Value.KeySource == PseudonymKeySource.KeyVault
                ? ActivatorUtilities.CreateInstance<KeyVaultKeyProvider>(sp)
                : ActivatorUtilities.CreateInstance<SettingsKeyProvider>(sp));

        services.AddChildShareStores();
        services.TryAddSingleton<LinkageRowStore>();
        services.TryAddSingleton<KnownChildrenStore>();
        services.TryAddSingleton<KnownBlocksStore>();
        services.TryAddSingleton(sp => new LinkageRowCache { Limit = sp.GetRequiredService<IOptions<LinkageOptions>>().Value.RowCacheLimit });
        services.TryAddSingleton<LinkageStore>();
        services.TryAddSingleton<ILinkageLock>(sp =>
        {
            // The system clock, never the app's TimeProvider: the lease expires in wall-clock time on the storage
            // service, so renewals, a waiter's backoff and the timeout must run on it even where tests fake the clock.
            var storage = sp.GetRequiredService<ChildShareStorage>();
            return new BlobLeaseLinkageLock(storage.Locks, storage.LockName(BlobLeaseLinkageLock.LinkageBlobName),
                sp.GetRequiredService<IOptions<LinkageOptions>>().Value, TimeProvider.System,
                sp.GetRequiredService<ILogger<BlobLeaseLinkageLock>>());
        });
        services.TryAddSingleton<LinkageAdmin>();
        services.TryAddSingleton<IChildLinker, IncrementalLinker>();
        services.TryAddSingleton<ProviderTable>();
        services.TryAddSingleton<ProviderRegistry>();
        services.TryAddSingleton<ManifestTable>();
        services.TryAddSingleton<ManifestStore>();
        services.TryAddSingleton<UploadManifestReader>();
        services.TryAddSingleton<ActivitySummaryBuilder>();
        services.TryAddSingleton<ISummaryRebuilder>(sp => sp.GetRequiredService<ActivitySummaryBuilder>());
        services.TryAddSingleton<ChildRecordWriter.Factory>();
        services.TryAddSingleton<IngestionService>();
        // Reads the platform's WEBSITE_AUTH_ENABLED from the app's configuration (environment variables in Azure).
        services.TryAddSingleton(new AppServiceAuthentication(configuration));
        services.TryAddSingleton<UploadHistoryService>();
        services.TryAddSingleton<HealthCheck>();
        services.AddChildShareAudit();
        services.AddChildShareCallers();
        services.AddChildShareAgreements();
        services.AddChildShareActivity();
        services.AddChildShareAggregateReports();
        services.AddChildShareDeidentification();
        services.AddChildShareConsent();
        return services;
    }
}

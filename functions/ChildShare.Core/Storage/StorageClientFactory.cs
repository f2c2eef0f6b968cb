using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;

namespace ChildShare.Core.Storage;

/// <summary>
/// Builds the storage clients from the <c>ChildShareStorage</c> setting, in either of the forms
/// the Functions host accepts for the blob trigger's connection: a connection string
/// (<c>UseDevelopmentStorage=true</c> on Azurite), or identity-based settings
/// <c>ChildShareStorage__blobServiceUri</c>, <c>__tableServiceUri</c> and optionally <c>__clientId</c>.
/// </summary>
public static class StorageClientFactory
{
    /// <param name="configuration">Where <c>ChildShareStorage</c> is read.</param>
    /// <param name="tableOptions">Client options for the tables (a benchmark adds a request counter to the pipeline).</param>
    /// <param name="credential">The app's one credential for identity-based settings without a <c>__clientId</c> (a new DefaultAzureCredential when null).</param>
    public static (TableServiceClient Tables, BlobServiceClient Blobs) Create(IConfiguration configuration, TableClientOptions? tableOptions = null,
        TokenCredential? credential = null)
    {
        var connectionString = configuration[StorageOptions.ConnectionName];
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return (new TableServiceClient(connectionString, tableOptions), new BlobServiceClient(connectionString));
        }

        var section = configuration.GetSection(StorageOptions.ConnectionName);
        var blobUri = section["blobServiceUri"];
        var tableUri = section["tableServiceUri"];
        if (string.IsNullOrWhiteSpace(blobUri) || string.IsNullOrWhiteSpace(tableUri))
        {
            throw new InvalidOperationException(
                $"Set {StorageOptions.ConnectionName} to a connection string, or set {StorageOptions.ConnectionName}__blobServiceUri and __tableServiceUri.");
        }

        TokenCredential identity = section["clientId"] is { Length: > 0 } clientId
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : credential ?? new DefaultAzureCredential();
        return (new TableServiceClient(new Uri(tableUri), identity, tableOptions), new BlobServiceClient(new Uri(blobUri), identity));
    }
}

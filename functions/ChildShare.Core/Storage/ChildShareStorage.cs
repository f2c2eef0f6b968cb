using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace ChildShare.Core.Storage;

/// <summary>The storage account as ChildShare names it: tables by logical name, and its containers.</summary>
public class ChildShareStorage(TableServiceClient tables, BlobServiceClient blobs, IOptions<StorageOptions> options)
{
    private readonly StorageOptions _options = options.Value;

    public BlobServiceClient Blobs => blobs;

    public virtual TableClient Table(string logicalName) => tables.GetTableClient(_options.TablePrefix + logicalName);

    public BlobContainerClient Uploads => blobs.GetBlobContainerClient(_options.UploadsContainer);

    public BlobContainerClient Rejects => blobs.GetBlobContainerClient(_options.RejectsContainer);

    public BlobContainerClient Exports => blobs.GetBlobContainerClient(_options.ExportsContainer);

    public BlobContainerClient Locks => blobs.GetBlobContainerClient(_options.LocksContainer);

    public BlobContainerClient Disclosures => blobs.GetBlobContainerClient(_options.DisclosuresContainer);

    /// <summary>The name of a lock blob: scoped by the table prefix, like the tables it protects.</summary>
    public string LockName(string logicalName) => _options.TablePrefix + logicalName;

    /// <summary>Creates every table and container that does not exist yet.</summary>
    public virtual async Task EnsureCreatedAsync(IEnumerable<string>? extraTables = null, CancellationToken cancellationToken = default)
    {
        foreach (var name in TableNames.All.Concat(extraTables ?? []))
        {
            await Table(name).CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var container in new[] { Uploads, Rejects, Exports, Locks, Disclosures })
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Storage.Blobs.Models;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// Upload manifests (PK upload id, RK <c>manifest</c>) and the per-provider index of content
/// already ingested (PK <c>content-{provider}</c>, RK SHA-256), in the manifests table (<see cref="ManifestTable"/>);
/// the uploads container is listed to find the uploads still to ingest.
/// </summary>
public class ManifestStore(ManifestTable table, ChildShareStorage storage)
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Upload ids are 32 lowercase hex characters.</summary>
    public static bool IsValidUploadId(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);

    public virtual async Task<UploadManifest?> GetAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        if (!IsValidUploadId(uploadId))
        {
            return null;
        }

        return await table.GetAsync(uploadId, cancellationToken).ConfigureAwait(false) is { } row
            ? JsonSerializer.Deserialize<UploadManifest>(row.Json ?? throw new InvalidOperationException("A manifest row has no document."), JsonOptions)
            : null;
    }

    public virtual async Task SaveAsync(UploadManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        await table.SaveAsync(new ManifestRow(manifest.UploadId)
        {
            Json = JsonSerializer.Serialize(manifest, JsonOptions),
            ProviderId = manifest.ProviderId,
            BlobName = manifest.BlobName,
            Status = manifest.Status.ToString(),
            BlobETag = manifest.BlobETag,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The upload that first ingested this content for this provider, if any.</summary>
    public virtual Task<string?> FindContentAsync(string providerId, string sha256, CancellationToken cancellationToken = default) =>
        table.FindContentAsync(providerId, sha256, cancellationToken);

    /// <summary>Records that this content is ingested; the first upload to record it keeps the entry.</summary>
    public virtual async Task RecordContentAsync(string providerId, string sha256, string uploadId, CancellationToken cancellationToken = default) =>
        // False when already recorded by this upload's earlier attempt or by a racing twin: either way it is recorded.
        _ = await table.AddContentAsync(providerId, sha256, uploadId, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// The blob versions (name and ETag) whose manifest is final, to find uploads still to ingest: blobs
    /// without a manifest, blobs overwritten under the same name since (a new ETag: the usual monthly
    /// roster), and those left <see cref="UploadStatus.Processing"/> (interrupted, or out of deliveries
    /// while waiting). Manifests written before ETags were recorded match no version: their blobs are
    /// fingerprinted once more, found final, and remembered.
    /// </summary>
    public virtual async Task<HashSet<(string BlobName, string ETag)>> ListFinalVersionsAsync(CancellationToken cancellationToken = default)
    {
        var versions = new HashSet<(string, string)>();
        foreach (var row in await table.ListBlobVersionsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (row.BlobName is { } name && row.BlobETag is { Length: > 0 } etag && row.Status != nameof(UploadStatus.Processing))
            {
                versions.Add((name, etag));
            }
        }

        return versions;
    }

    /// <summary>Every manifest of one provider's uploads, newest first (one query over the manifests table's manifest rows).</summary>
    public virtual async Task<List<UploadManifest>> ListByProviderAsync(string providerId, CancellationToken cancellationToken = default)
    {
        var found = new List<UploadManifest>();
        foreach (var json in await table.ListJsonByProviderAsync(providerId, cancellationToken).ConfigureAwait(false))
        {
            if (JsonSerializer.Deserialize<UploadManifest>(json, JsonOptions) is { } manifest)
            {
                found.Add(manifest);
            }
        }

        return found.OrderByDescending(m => m.ReceivedAt).ThenBy(m => m.UploadId, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The upload blobs still to ingest: those without a final manifest for their current content (new,
    /// overwritten under an old name, interrupted, or left waiting for the linkage lock), matched by name
    /// and ETag. What <c>ingest-pending</c> and the local host's poller deliver to ingestion.
    /// </summary>
    public virtual async Task<List<string>> ListPendingUploadsAsync(CancellationToken cancellationToken = default)
    {
        var done = await ListFinalVersionsAsync(cancellationToken).ConfigureAwait(false);
        var pending = new List<string>();
        await foreach (var blob in storage.Uploads.GetBlobsAsync(new GetBlobsOptions(), cancellationToken).ConfigureAwait(false))
        {
            if (blob.Properties.ETag is not { } etag || !done.Contains((blob.Name, ETagText(etag))))
            {
                pending.Add(blob.Name);
            }
        }

        return pending;
    }

    /// <summary>An ETag as manifests record it: listings and property reads spell it with or without quotes.</summary>
    public static string ETagText(ETag etag) => etag.ToString().Trim('"');
}

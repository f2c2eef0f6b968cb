using Azure;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>
/// An upload's manifest row: the manifest as a JSON document, and the columns kept beside it so the listings need not parse it
/// (the provider, the blob name and ETag, the status). A listing reads only the columns it needs; the others are then null.
/// </summary>
public sealed record ManifestRow(string UploadId)
{
    public string? Json { get; init; }

    public string? ProviderId { get; init; }

    public string? BlobName { get; init; }

    public string? Status { get; init; }

    public string? BlobETag { get; init; }
}

/// <summary>
/// The manifests table: each upload's manifest (PK upload id, RK <c>manifest</c>) and the per-provider index of content already
/// ingested (PK <c>content-{provider}</c>, RK SHA-256, column <c>UploadId</c>). The one place its keys and columns are spelled.
/// </summary>
public sealed class ManifestTable(ChildShareStorage storage)
{
    private const string ManifestRowKey = "manifest";
    private const string JsonColumn = "Json", ProviderIdColumn = "ProviderId", BlobNameColumn = "BlobName", StatusColumn = "Status", BlobETagColumn = "BlobETag",
        UploadIdColumn = "UploadId";

    private readonly TableClient _table = storage.Table(TableNames.Manifests);

    /// <summary>An upload's manifest row, or null.</summary>
    public async Task<ManifestRow?> GetAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(uploadId, ManifestRowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? FromEntity(entity) : null;
    }

    /// <summary>Writes an upload's manifest row whole (an upsert that replaces: the latest save wins).</summary>
    public Task SaveAsync(ManifestRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(row);
        var entity = new TableEntity(row.UploadId, ManifestRowKey)
        {
            [JsonColumn] = row.Json,
            [ProviderIdColumn] = row.ProviderId,
            [BlobNameColumn] = row.BlobName,
            [StatusColumn] = row.Status,
            [BlobETagColumn] = row.BlobETag,
        };
        return _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>The blob name, status and blob ETag of every manifest (one query over the manifest rows, of those columns only).</summary>
    public async Task<List<ManifestRow>> ListBlobVersionsAsync(CancellationToken cancellationToken = default)
    {
        var rows = new List<ManifestRow>();
        var filter = TableClient.CreateQueryFilter($"RowKey eq {ManifestRowKey}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", BlobNameColumn, StatusColumn, BlobETagColumn], cancellationToken: cancellationToken)
            .ConfigureAwait(false))
        {
            rows.Add(FromEntity(entity));
        }

        return rows;
    }

    /// <summary>The manifest documents of one provider's uploads (one query over the manifest rows, of that column only), in no set order.</summary>
    public async Task<List<string>> ListJsonByProviderAsync(string providerId, CancellationToken cancellationToken = default)
    {
        var documents = new List<string>();
        var filter = TableClient.CreateQueryFilter($"RowKey eq {ManifestRowKey} and ProviderId eq {providerId}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, select: [JsonColumn], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (entity.GetString(JsonColumn) is { } json)
            {
                documents.Add(json);
            }
        }

        return documents;
    }

    /// <summary>The upload that recorded this content for this provider, or null.</summary>
    public async Task<string?> FindContentAsync(string providerId, string sha256, CancellationToken cancellationToken = default)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(ContentPartition(providerId), sha256, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value?.GetString(UploadIdColumn) : null;
    }

    /// <summary>Records the upload that ingested this content; false (and the entry unchanged) when some upload recorded it first.</summary>
    public async Task<bool> AddContentAsync(string providerId, string sha256, string uploadId, CancellationToken cancellationToken = default)
    {
        try
        {
            await _table.AddEntityAsync(new TableEntity(ContentPartition(providerId), sha256) { [UploadIdColumn] = uploadId }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    private static string ContentPartition(string providerId) => "content-" + providerId;

    private static ManifestRow FromEntity(TableEntity entity) => new(entity.PartitionKey)
    {
        Json = entity.GetString(JsonColumn),
        ProviderId = entity.GetString(ProviderIdColumn),
        BlobName = entity.GetString(BlobNameColumn),
        Status = entity.GetString(StatusColumn),
        BlobETag = entity.GetString(BlobETagColumn),
    };
}

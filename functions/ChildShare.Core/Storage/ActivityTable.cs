using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>
/// The activity table's layout row (PK and RK <c>layout</c>) as stored: the bucket count (null when not written), the data version, whether a
/// writer is between its bumps, whether a rebuild of the store from the records began and has not ended (false when not written), and
/// how many rebuilds ever began (0 when not written).
/// </summary>
public sealed record ActivityLayoutRow(int? Buckets, long Version, bool Writing, ETag ETag, bool Rebuilding = false, long Rebuilds = 0);

/// <summary>A bucket-year of the activity table as stored: how many provider children it holds, its payload (the <c>D00</c>.. chunks joined) and its ETag.</summary>
public sealed record ActivityBucketRow(int Children, byte[] Payload, ETag ETag);

/// <summary>
/// The <c>activity</c> table (Activity/STORAGE.md), the one place its columns are mapped: the layout row, and one entity per bucket and year
/// (PK <c>b{bucket, 3 hex}</c>, RK <c>{yyyy}</c>) whose binary payload is split over <c>D00</c>..<c>D24</c>. Reads are point reads; every
/// write of the layout or a bucket-year is conditional on the ETag read (or an add where there was none), and a refused precondition
/// surfaces as the <see cref="RequestFailedException"/> (409, 412, 404) the service returned. The payload's format is the activity store's.
/// </summary>
public sealed class ActivityTable(ChildShareStorage storage)
{
    /// <summary>
    /// The most payload bytes a bucket-year holds: 25 binary properties of 30,000 bytes. Azure sizes an entity by its bytes (1 MiB),
    /// but Azurite refuses an update whose JSON body passes 1 MiB, and base64 makes 750,000 bytes about 1,000,000 characters: the
    /// largest payload both take, so a store behaves alike on both (960,000 until 4 Dec 2026, which Azurite could add but not update).
    /// </summary>
    public const int MaxPayloadBytes = ChunkBytes * MaxChunks;

    // A chunk's base64 text (40,000 characters, 80,000 bytes as a .NET string) stays under the large object heap's 85,000 bytes, so the
    // SDK's strings of a bucket-year read are collected young; 60,000-byte chunks (written before 4 Dec 2026, still read) made each one a
    // large object, left for a full collection (README, "Ingestion CPU and memory", "Goal 5 met").
    private const int ChunkBytes = 30_000;
    private const int MaxChunks = 25;
    private const string LayoutKey = "layout", BucketsColumn = "Buckets", VersionColumn = "Version", WritingColumn = "Writing", RebuildingColumn = "Rebuilding", RebuildsColumn = "Rebuilds", FormatColumn = "Format",
        ChildrenColumn = "Children", ChunksColumn = "Chunks";

    private readonly TableClient _table = storage.Table(TableNames.Activity);

    /// <summary>The name of a bucket's partition.</summary>
    public static string BucketKey(int bucket) => "b" + bucket.ToString("x3", CultureInfo.InvariantCulture);

    /// <summary>The layout row, or null before anything was written in this shape.</summary>
    public async Task<ActivityLayoutRow?> ReadLayoutAsync(CancellationToken cancellationToken = default)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(LayoutKey, LayoutKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } e
            ? new ActivityLayoutRow(e.GetInt32(BucketsColumn), e.GetInt64(VersionColumn) ?? 0, e.GetBoolean(WritingColumn) ?? false, e.ETag,
                e.GetBoolean(RebuildingColumn) ?? false, e.GetInt64(RebuildsColumn) ?? 0)
            : null;
    }

    /// <summary>
    /// Writes the layout row: replacing the version read (<paramref name="etag"/>), or added when <paramref name="etag"/> is null (409 if
    /// another writer added it first).
    /// </summary>
    public async Task WriteLayoutAsync(int buckets, long version, bool writing, int format, ETag? etag, bool rebuilding = false, long rebuilds = 0,
        CancellationToken cancellationToken = default)
    {
        var entity = LayoutEntity(buckets, version, writing, format, rebuilding, rebuilds);
        if (etag is { } known)
        {
            await _table.UpdateEntityAsync(entity, known, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Replaces the layout row whatever its version: only for a rebuild of the store.</summary>
    public async Task ReplaceLayoutAsync(int buckets, long version, bool writing, int format, bool rebuilding = false, long rebuilds = 0,
        CancellationToken cancellationToken = default) =>
        await _table.UpsertEntityAsync(LayoutEntity(buckets, version, writing, format, rebuilding, rebuilds), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);

    /// <summary>Deletes every bucket-year, keeping the layout row (a scan of the keys, deletes in batches): for a rebuild of the store.</summary>
    public async Task DeleteAllBucketsAsync(CancellationToken cancellationToken = default)
    {
        var writer = new BatchWriter();
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter: (string?)null, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken)
            .ConfigureAwait(false))
        {
            if (entity.PartitionKey != LayoutKey)
            {
                await writer.DeleteAsync(_table, entity.PartitionKey, entity.RowKey, cancellationToken).ConfigureAwait(false);
            }
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A bucket-year (a point read), or null.</summary>
    public async Task<ActivityBucketRow?> ReadBucketAsync(int bucket, int year, CancellationToken cancellationToken = default)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(BucketKey(bucket), YearKey(year), cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? new ActivityBucketRow(entity.GetInt32(ChildrenColumn) ?? 0, PayloadOf(entity), entity.ETag) : null;
    }

    /// <summary>
    /// Writes a bucket-year: replacing the version read (<paramref name="etag"/>), or added when <paramref name="etag"/> is null. The payload
    /// must fit <see cref="MaxPayloadBytes"/>.
    /// </summary>
    public async Task WriteBucketAsync(int bucket, int year, int format, int children, byte[] payload, ETag? etag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, MaxPayloadBytes);
        var chunks = (payload.Length + ChunkBytes - 1) / ChunkBytes;
        var entity = new TableEntity(BucketKey(bucket), YearKey(year)) { [FormatColumn] = format, [ChildrenColumn] = children, [ChunksColumn] = chunks };
        for (var c = 0; c < chunks; c++)
        {
            entity[ChunkName(c)] = payload.AsSpan(c * ChunkBytes, Math.Min(ChunkBytes, payload.Length - (c * ChunkBytes))).ToArray();
        }

        if (etag is { } known)
        {
            await _table.UpdateEntityAsync(entity, known, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes the version read of a bucket-year.</summary>
    public async Task DeleteBucketAsync(int bucket, int year, ETag etag, CancellationToken cancellationToken = default) =>
        await _table.DeleteEntityAsync(BucketKey(bucket), YearKey(year), etag, cancellationToken).ConfigureAwait(false);

    /// <summary>The payload of a bucket-year entity: its <c>D00</c>.. chunks joined (empty when it has none).</summary>
    public static byte[] PayloadOf(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var chunks = Enumerable.Range(0, entity.GetInt32(ChunksColumn) ?? 0).Select(c => entity.GetBinary(ChunkName(c)) ?? []).ToList();
        var payload = new byte[chunks.Sum(c => c.Length)];
        var at = 0;
        foreach (var chunk in chunks)
        {
            chunk.CopyTo(payload, at);
            at += chunk.Length;
        }

        return payload;
    }

    private static TableEntity LayoutEntity(int buckets, long version, bool writing, int format, bool rebuilding, long rebuilds) => new(LayoutKey, LayoutKey)
    {
        [BucketsColumn] = buckets, [VersionColumn] = version, [WritingColumn] = writing, [FormatColumn] = format, [RebuildingColumn] = rebuilding,
        [RebuildsColumn] = rebuilds,
    };

    private static string YearKey(int year) => year.ToString("D4", CultureInfo.InvariantCulture);

    private static string ChunkName(int chunk) => "D" + chunk.ToString("D2", CultureInfo.InvariantCulture);
}

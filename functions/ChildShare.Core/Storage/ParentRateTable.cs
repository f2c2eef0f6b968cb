using Azure;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>
/// The <c>parentlinkrate</c> table, the one place its keys and column are spelled: PK the window (the UTC hour <c>yyyyMMddHH</c>),
/// RK the counted key, a <c>Count</c> (Int32). A counter is added, raised with If-Match its ETag, and deleted with its window; a
/// point read and a conditional write per key, never a query, except the purge's one query of the old windows.
/// </summary>
public sealed class ParentRateTable(ChildShareStorage storage)
{
    private const string CountColumn = "Count";

    private readonly TableClient _table = storage.Table(TableNames.ParentLinkRate);

    /// <summary>A counter and its ETag, or null when the window has not counted this key yet.</summary>
    public async Task<(int Count, string ETag)?> ReadAsync(string window, string key, CancellationToken cancellationToken = default)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(window, key, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? (entity.GetInt32(CountColumn) ?? 0, entity.ETag.ToString()) : null;
    }

    /// <summary>Adds a counter; false when another request added it first (409), and nothing is written.</summary>
    public async Task<bool> TryAddAsync(string window, string key, int count, CancellationToken cancellationToken = default)
    {
        try
        {
            await _table.AddEntityAsync(Counter(window, key, count), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <summary>Sets a counter if its ETag is still <paramref name="etag"/>; false when another request changed it first, and nothing is written.</summary>
    public async Task<bool> TryReplaceAsync(string window, string key, int count, string etag, CancellationToken cancellationToken = default)
    {
        try
        {
            await _table.UpdateEntityAsync(Counter(window, key, count), new ETag(etag), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <summary>
    /// Deletes every counter of the windows before <paramref name="oldestKept"/> (one query of those partitions, keys only, deleted through
    /// a <see cref="BatchWriter"/>: transactions of one partition, a row already deleted is not an error). Returns the rows deleted;
    /// 0 when the table does not exist yet.
    /// </summary>
    public async Task<int> DeleteWindowsBeforeAsync(string oldestKept, CancellationToken cancellationToken = default)
    {
        var writer = new BatchWriter();
        var deleted = 0;
        try
        {
            var rows = _table.QueryAsync<TableEntity>(
                TableClient.CreateQueryFilter($"PartitionKey lt {oldestKept}"), select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken);
            await foreach (var row in rows.ConfigureAwait(false))
            {
                await writer.DeleteAsync(_table, row.PartitionKey, row.RowKey, cancellationToken).ConfigureAwait(false);
                deleted++;
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return 0;
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    private static TableEntity Counter(string window, string key, int count) => new(window, key) { [CountColumn] = count };
}

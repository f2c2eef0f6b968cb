using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>
/// The append-only audit table (PK month <c>yyyy-MM</c>): entries are added (an insert that fails on conflict) and read by
/// month; there is no way here to update or delete one. The entry's columns are the audit log's (Audit/AuditLog.cs).
/// </summary>
public sealed class AuditTable(ChildShareStorage storage)
{
    // One client for the store's life: a BatchWriter groups operations by client and partition, so a client per call would
    // split one partition's writes into transactions of their own, written in no particular order.
    private readonly TableClient _table = storage.Table(TableNames.Audit);

    /// <summary>Adds one entry; an entry with the same keys already there fails.</summary>
    public Task AddAsync(TableEntity entry, CancellationToken cancellationToken = default) => _table.AddEntityAsync(entry, cancellationToken);

    /// <summary>Adds entries of one partition in one transaction (at most 100): all or nothing.</summary>
    public Task AddAllAsync(IEnumerable<TableEntity> entries, CancellationToken cancellationToken = default) =>
        _table.SubmitTransactionAsync(entries.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e)), cancellationToken);

    /// <summary>The entries of one month, in row key (time) order.</summary>
    public async Task<List<TableEntity>> ReadMonthAsync(string month, CancellationToken cancellationToken = default)
    {
        var entries = new List<TableEntity>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {month}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            entries.Add(entity);
        }

        return entries;
    }
}

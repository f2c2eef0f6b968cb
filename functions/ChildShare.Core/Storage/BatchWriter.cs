using Azure;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>
/// Buffers upserts, inserts and deletes and writes them as entity group transactions of up to 100 entities
/// of one partition. Operations on the same entity collapse in the buffer (a later upsert merges
/// over an earlier one, the last delete or upsert wins), so a transaction never names an entity
/// twice. Memory stays bounded: when more than <c>maxBuffered</c> entities wait, the fullest
/// partitions are written first. With <c>parallelism</c> above 1, a flush writes that many
/// transactions at once (writes that touch many small partitions, such as linkage's, would
/// otherwise cost a round trip each). Adding is not thread-safe: one writer per unit of work.
/// A transaction also stays under Azure's 4 MiB payload (<see cref="MaxTransactionBytes"/>, by a pessimistic estimate of each
/// entity's JSON): a partition of large entities, such as packed staging rows, is written in more, smaller transactions.
/// </summary>
public sealed class BatchWriter(int maxBuffered = 5000, int parallelism = 1)
{
    public const int MaxBatchSize = 100;

    /// <summary>The most estimated payload of one transaction: under Azure's 4 MiB, with room for the multipart framing.</summary>
    public const int MaxTransactionBytes = 3_500_000;

    // A changeset part's headers and request line (method, the entity's URL with both keys, content headers), over its JSON.
    private const int OperationOverheadBytes = 1_000;

    private readonly Dictionary<(TableClient Table, string PartitionKey), Dictionary<string, TableTransactionAction>> _pending = [];
    private int _buffered;


    public Task UpsertAsync(TableClient table, TableEntity entity, CancellationToken cancellationToken = default) =>
        AddAsync(table, new TableTransactionAction(TableTransactionActionType.UpsertMerge, entity), cancellationToken);

    /// <summary>Adds an entity that must not exist yet: if it does, its transaction fails (409) and the flush throws.</summary>
    public Task InsertAsync(TableClient table, TableEntity entity, CancellationToken cancellationToken = default) =>
        AddAsync(table, new TableTransactionAction(TableTransactionActionType.Add, entity), cancellationToken);

    /// <summary>Deletes an entity; one that is already gone is not an error.</summary>
    public Task DeleteAsync(TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken = default) =>
        AddAsync(table, new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partitionKey, rowKey), ETag.All), cancellationToken);

    public Task FlushAsync(CancellationToken cancellationToken = default) => WritePartitionsAsync(_pending.Keys.ToList(), cancellationToken);

    private async Task AddAsync(TableClient table, TableTransactionAction action, CancellationToken cancellationToken)
    {
        var key = (table, action.Entity.PartitionKey);
        if (!_pending.TryGetValue(key, out var partition))
        {
            partition = new Dictionary<string, TableTransactionAction>(StringComparer.Ordinal);
            _pending[key] = partition;
        }

        var rowKey = action.Entity.RowKey;
        if (partition.TryGetValue(rowKey, out var earlier))
        {
            partition[rowKey] = Combine(earlier, action);
        }
        else
        {
            partition[rowKey] = action;
            _buffered++;
        }

        if (partition.Count >= MaxBatchSize)
        {
            await WritePartitionAsync(key, cancellationToken).ConfigureAwait(false);
        }
        else if (_buffered > maxBuffered)
        {
            var fullest = _pending.OrderByDescending(p => p.Value.Count).Take(Math.Max(1, _pending.Count / 2)).Select(p => p.Key).ToList();
            await WritePartitionsAsync(fullest, cancellationToken).ConfigureAwait(false);
        }
    }

    private static TableTransactionAction Combine(TableTransactionAction earlier, TableTransactionAction later)
    {
        if (earlier.ActionType is not (TableTransactionActionType.UpsertMerge or TableTransactionActionType.Add) || later.ActionType != TableTransactionActionType.UpsertMerge)
        {
            return later;
        }

        var merged = (TableEntity)earlier.Entity;
        foreach (var property in (TableEntity)later.Entity)
        {
            merged[property.Key] = property.Value;
        }

        return earlier;
    }

    private Task WritePartitionAsync((TableClient Table, string PartitionKey) key, CancellationToken cancellationToken) =>
        WritePartitionsAsync([key], cancellationToken);

    private async Task WritePartitionsAsync(List<(TableClient Table, string PartitionKey)> keys, CancellationToken cancellationToken)
    {
        var transactions = new List<(TableClient Table, TableTransactionAction[] Actions)>();
        foreach (var key in keys)
        {
            if (_pending.Remove(key, out var partition))
            {
                _buffered -= partition.Count;
                transactions.AddRange(Transactions(partition.Values).Select(chunk => (key.Table, chunk)));
            }
        }

        await Parallel.ForEachAsync(transactions, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (transaction, ct) =>
            {
                try
                {
                    await transaction.Table.SubmitTransactionAsync(transaction.Actions, ct).ConfigureAwait(false);
                }
                catch (TableTransactionFailedException ex) when (ex.Status == 404)
                {
                    // A delete of an entity already gone (an earlier attempt got that far) fails the whole
                    // transaction; write the chunk one by one, where a missing entity is not an error.
                    await WriteOneByOneAsync(transaction.Table, transaction.Actions, ct).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
    }

    /// <summary>A partition's operations in transactions of at most <see cref="MaxBatchSize"/> and <see cref="MaxTransactionBytes"/>.</summary>
    private static IEnumerable<TableTransactionAction[]> Transactions(IEnumerable<TableTransactionAction> actions)
    {
        var transaction = new List<TableTransactionAction>(MaxBatchSize);
        long bytes = 0;
        foreach (var action in actions)
        {
            var size = EstimatedBytes(action);
            if (transaction.Count == MaxBatchSize || (transaction.Count > 0 && bytes + size > MaxTransactionBytes))
            {
                yield return [.. transaction];
                transaction.Clear();
                bytes = 0;
            }

            transaction.Add(action);
            bytes += size;
        }

        if (transaction.Count > 0)
        {
            yield return [.. transaction];
        }
    }

    /// <summary>
    /// At least the bytes an operation takes in a transaction's payload: every character of a string that JSON may escape counted as
    /// the six of <c>\uXXXX</c>, so the estimate never falls short of what the SDK sends.
    /// </summary>
    public static long EstimatedBytes(TableTransactionAction action)
    {
        ArgumentNullException.ThrowIfNull(action);
        long bytes = OperationOverheadBytes + (action.Entity.PartitionKey.Length + action.Entity.RowKey.Length) * 6L;
        if (action.ActionType == TableTransactionActionType.Delete || action.Entity is not TableEntity entity)
        {
            return bytes;
        }

        foreach (var (name, value) in entity)
        {
            // "name":value, plus an "@odata.type" annotation for the types that need one.
            bytes += name.Length * 2 + 60;
            if (value is string text)
            {
                foreach (var character in text)
                {
                    bytes += character is >= ' ' and < (char)0x7F and not ('"' or '\\' or '<' or '>' or '&' or '\'' or '+' or '`') ? 1 : 6;
                }
            }
            else if (value is byte[] binary)
            {
                bytes += (binary.Length + 2) / 3 * 4;
            }
            else
            {
                bytes += 40;
            }
        }

        return bytes;
    }

    private static async Task WriteOneByOneAsync(TableClient table, TableTransactionAction[] actions, CancellationToken cancellationToken)
    {
        foreach (var action in actions)
        {
            if (action.ActionType == TableTransactionActionType.Delete)
            {
                await table.DeleteEntityAsync(action.Entity.PartitionKey, action.Entity.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
            }
            else if (action.ActionType == TableTransactionActionType.Add)
            {
                await table.AddEntityAsync((TableEntity)action.Entity, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await table.UpsertEntityAsync((TableEntity)action.Entity, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

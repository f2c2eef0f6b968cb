using Azure;
using Azure.Data.Tables;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Linkage;

/// <summary>
/// Collects the upserts and deletes of one linkage step and writes them as entity group
/// transactions, many partitions at once. Linkage writes touch many small partitions (one per
/// token, cluster and provider child), so writing them one after another would cost a round trip
/// each. Operations on one entity collapse (later upserts merge over earlier ones; the last
/// delete or upsert wins). Holds one step's writes (a chunk of an upload) in memory.
/// </summary>
public sealed class LinkageWriter(int parallelism = 16)
{
    private readonly Dictionary<(TableClient Table, string PartitionKey), Dictionary<string, TableTransactionAction>> _pending = [];

    public int Count => _pending.Values.Sum(p => p.Count);

    public Task UpsertAsync(TableClient table, TableEntity entity, CancellationToken cancellationToken = default)
    {
        Add(table, new TableTransactionAction(TableTransactionActionType.UpsertMerge, entity));
        return Task.CompletedTask;
    }

    public Task DeleteAsync(TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken = default)
    {
        Add(table, new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partitionKey, rowKey), ETag.All));
        return Task.CompletedTask;
    }

    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var work = _pending.SelectMany(p => p.Value.Values.Chunk(BatchWriter.MaxBatchSize).Select(chunk => (p.Key.Table, Actions: chunk))).ToList();
        _pending.Clear();
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (item, ct) =>
            {
                try
                {
                    await item.Table.SubmitTransactionAsync(item.Actions, ct).ConfigureAwait(false);
                }
                catch (TableTransactionFailedException ex) when (ex.Status == 404)
                {
                    // A delete of an entity already gone fails the whole transaction; write one by one.
                    foreach (var action in item.Actions)
                    {
                        if (action.ActionType == TableTransactionActionType.Delete)
                        {
                            await item.Table.DeleteEntityAsync(action.Entity.PartitionKey, action.Entity.RowKey, ETag.All, ct).ConfigureAwait(false);
                        }
                        else
                        {
                            await item.Table.UpsertEntityAsync((TableEntity)action.Entity, TableUpdateMode.Merge, ct).ConfigureAwait(false);
                        }
                    }
                }
            }).ConfigureAwait(false);
    }

    private void Add(TableClient table, TableTransactionAction action)
    {
        var key = (table, action.Entity.PartitionKey);
        if (!_pending.TryGetValue(key, out var partition))
        {
            partition = new Dictionary<string, TableTransactionAction>(StringComparer.Ordinal);
            _pending[key] = partition;
        }

        var rowKey = action.Entity.RowKey;
        if (partition.TryGetValue(rowKey, out var earlier)
            && earlier.ActionType == TableTransactionActionType.UpsertMerge && action.ActionType == TableTransactionActionType.UpsertMerge)
        {
            var merged = (TableEntity)earlier.Entity;
            foreach (var property in (TableEntity)action.Entity)
            {
                merged[property.Key] = property.Value;
            }

            return;
        }

        partition[rowKey] = action;
    }
}

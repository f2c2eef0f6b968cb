using System.Runtime.CompilerServices;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>
/// The <c>children</c> table: which provider records belong to which community child. PK the child key's first two hex
/// characters (<see cref="RecordKeys.ChildBucket"/>), RK <c>{child key}|{provider}|{local token}</c>. Written by the summary
/// rebuild through a <see cref="BatchWriter"/>; read by one child's partition range.
/// </summary>
public sealed class MembershipStore(ChildShareStorage storage)
{
    private const string ChildKeyColumn = "ChildKey", ProviderIdColumn = "ProviderId", LocalTokenColumn = "LocalToken";

    // One client for the store's life: a BatchWriter groups operations by client and partition, so a client per call would
    // split one partition's writes into transactions of their own, written in no particular order.
    private readonly TableClient _table = storage.Table(TableNames.Children);

    /// <summary>The local tokens of every provider record of the community child, by provider.</summary>
    public async Task<Dictionary<string, List<string>>> MembershipsAsync(string childKey, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {RecordKeys.ChildBucket(childKey)} and RowKey gt {childKey + "|"} and RowKey lt {childKey + "|~"}");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (row.GetString(ProviderIdColumn) is { } provider && row.GetString(LocalTokenColumn) is { } token)
            {
                if (!result.TryGetValue(provider, out var tokens))
                {
                    result[provider] = tokens = [];
                }

                tokens.Add(token);
            }
        }

        return result;
    }

    /// <summary>Adds to <paramref name="writer"/> the membership of a provider record in a community child.</summary>
    public Task AddAsync(BatchWriter writer, string childKey, string providerId, string localToken, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return writer.UpsertAsync(_table, new TableEntity(RecordKeys.ChildBucket(childKey), RecordKeys.ChildMemberRow(childKey, RecordKeys.ProviderChild(providerId, localToken)))
        {
            [ChildKeyColumn] = childKey,
            [ProviderIdColumn] = providerId,
            [LocalTokenColumn] = localToken,
        }, cancellationToken);
    }

    /// <summary>Adds to <paramref name="writer"/> the removal of a provider record's membership in a community child (gone already is fine).</summary>
    public Task RemoveAsync(BatchWriter writer, string childKey, string providerChild, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return writer.DeleteAsync(_table, RecordKeys.ChildBucket(childKey), RecordKeys.ChildMemberRow(childKey, providerChild), cancellationToken);
    }

    /// <summary>The community child key of every membership: a scan of that column only.</summary>
    public async IAsyncEnumerable<string> ChildKeysAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var member in _table.QueryAsync<TableEntity>(select: [ChildKeyColumn], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return member.GetString(ChildKeyColumn) ?? "";
        }
    }
}

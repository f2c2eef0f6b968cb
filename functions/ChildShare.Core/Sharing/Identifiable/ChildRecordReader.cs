using System.Globalization;
using Azure.Data.Tables;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Sharing.Identifiable;

/// <summary>
/// Reads one community child's provider records for the identifiable mode: which providers hold a
/// record of the child (the <c>children</c> membership rows of its bucket), and each record's
/// identity row and child row, by point reads. Only the identifiable report and a source's review of
/// an authorization request read through it, and the review only ever reads the caller's own records.
/// </summary>
public class ChildRecordReader(ChildShareStorage storage)
{
    /// <summary>The local tokens of every provider record of the community child, by provider.</summary>
    public virtual async Task<Dictionary<string, List<string>>> MembershipsAsync(string childKey, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {RecordKeys.ChildBucket(childKey)} and RowKey gt {childKey + "|"} and RowKey lt {childKey + "|~"}");
        await foreach (var row in storage.Table(TableNames.Children).QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (row.GetString("ProviderId") is { } provider && row.GetString("LocalToken") is { } token)
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

    /// <summary>The provider's identity row of one record (names, birth date, local id, address), or null.</summary>
    public virtual async Task<TableEntity?> IdentityAsync(string providerId, string localToken, CancellationToken cancellationToken = default)
    {
        var row = await storage.Table(TableNames.Identities).GetEntityIfExistsAsync<TableEntity>(providerId, localToken, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>The provider's child row of one record (demographics and services, no direct identifier), or null.</summary>
    public virtual async Task<TableEntity?> RecordAsync(string providerId, string localToken, CancellationToken cancellationToken = default)
    {
        var row = await storage.Table(TableNames.Records).GetEntityIfExistsAsync<TableEntity>(providerId, localToken, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>
    /// The named properties that hold a value. An empty (or blank) string is absent: ingestion writes one
    /// to clear an optional identity field the latest upload no longer sends, and it is never released.
    /// </summary>
    public static Dictionary<string, string> Values(TableEntity entity, params string[] properties)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in properties)
        {
            if (entity.TryGetValue(property, out var value) && value is not null && Convert.ToString(value, CultureInfo.InvariantCulture) is { } text
                && !string.IsNullOrWhiteSpace(text))
            {
                values[char.ToLowerInvariant(property[0]) + property[1..]] = text;
            }
        }

        return values;
    }
}

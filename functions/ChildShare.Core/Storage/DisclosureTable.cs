using System.Globalization;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>One disclosure made under a consent, as <c>consentdisclosures</c> holds it, with the keys of the audit entry of the release.</summary>
public sealed record DisclosureRow(string ConsentId, DateTimeOffset At, string Recipient, IReadOnlyList<string> Sources, IReadOnlyList<string> Categories,
    string AuditPartition, string AuditRow);

/// <summary>
/// The <c>consentdisclosures</c> table, the one place its keys and columns are spelled: PK consent id, RK
/// <c>{inverted ticks of the time}|{audit row key}</c>, so one partition reads newest first. Rows are written (a replace: the same
/// release written again is the same row) and read; nothing updates or deletes them.
/// </summary>
public sealed class DisclosureTable(ChildShareStorage storage)
{
    private const string AtColumn = "At", RecipientColumn = "Recipient", SourcesColumn = "Sources", CategoriesColumn = "Categories",
        AuditPartitionColumn = "AuditPartition", AuditRowColumn = "AuditRow";

    private readonly TableClient _table = storage.Table(TableNames.ConsentDisclosures);

    /// <summary>Writes one disclosure.</summary>
    public Task PutAsync(DisclosureRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(row);
        return _table.UpsertEntityAsync(ToEntity(row), TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>The newest disclosures under a consent (at most <paramref name="max"/>), and whether there are more.</summary>
    public async Task<(List<DisclosureRow> Rows, bool More)> NewestAsync(string consentId, int max, CancellationToken cancellationToken = default)
    {
        var found = new List<DisclosureRow>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {consentId}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max + 1, 1000), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (found.Count == max)
            {
                return (found, true);
            }

            found.Add(FromEntity(entity));
        }

        return (found, false);
    }

    private static TableEntity ToEntity(DisclosureRow row)
    {
        var inverted = (DateTimeOffset.MaxValue.UtcTicks - row.At.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);
        return new TableEntity(row.ConsentId, inverted + "|" + row.AuditRow)
        {
            [AtColumn] = row.At,
            [RecipientColumn] = row.Recipient,
            [SourcesColumn] = string.Join(',', row.Sources),
            [CategoriesColumn] = string.Join(',', row.Categories),
            [AuditPartitionColumn] = row.AuditPartition,
            [AuditRowColumn] = row.AuditRow,
        };
    }

    private static DisclosureRow FromEntity(TableEntity entity) => new(entity.PartitionKey, entity.GetDateTimeOffset(AtColumn) ?? default,
        entity.GetString(RecipientColumn) ?? "", Split(entity.GetString(SourcesColumn)), Split(entity.GetString(CategoriesColumn)),
        entity.GetString(AuditPartitionColumn) ?? "", entity.GetString(AuditRowColumn) ?? "");

    private static List<string> Split(string? list) => (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).ToList();
}

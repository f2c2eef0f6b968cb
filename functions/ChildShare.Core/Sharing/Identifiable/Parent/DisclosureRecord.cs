using System.Globalization;
using Azure.Data.Tables;
using ChildShare.Core.Audit;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Sharing.Identifiable.Parent;

/// <summary>One disclosure made under a consent: when, to which organization, from which sources, which categories.</summary>
public sealed record Disclosure(DateTimeOffset At, string Recipient, IReadOnlyList<string> Sources, IReadOnlyList<string> Categories);

/// <summary>
/// The record of disclosures made under each consent (FERPA's record of disclosures, 34 CFR 99.32),
/// kept so the parent's page reads one partition instead of scanning the audit:
/// <c>consentdisclosures</c>, PK consent id, RK <c>{inverted ticks}|{audit row key}</c> (newest first; the
/// audit entry of the release is named by its keys). The identifiable report writes it after its audit
/// entry and before it releases anything; when it cannot be written the report is withheld (503), so a
/// release is never missing from the parent's record. The audit stays the truth: an audit entry without
/// its index row is a report that was withheld.
/// </summary>
public class DisclosureRecord(ChildShareStorage storage)
{
    /// <summary>At most this many disclosures are shown on one page (newest first); the page says when there are more.</summary>
    public const int PageSize = 200;

    private TableClient Table => storage.Table(TableNames.ConsentDisclosures);

    /// <summary>Records a release under each consent it relied on. An outage throws <see cref="AuditUnavailableException"/>.</summary>
    public virtual async Task RecordAsync(IReadOnlyList<(string ConsentId, Disclosure Disclosure)> releases, (string Partition, string Row) auditEntry,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(releases);
        foreach (var (consentId, disclosure) in releases)
        {
            var inverted = (DateTimeOffset.MaxValue.UtcTicks - disclosure.At.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);
            var row = new TableEntity(consentId, inverted + "|" + auditEntry.Row)
            {
                ["At"] = disclosure.At,
                ["Recipient"] = disclosure.Recipient,
                ["Sources"] = string.Join(',', disclosure.Sources),
                ["Categories"] = string.Join(',', disclosure.Categories),
                ["AuditPartition"] = auditEntry.Partition,
                ["AuditRow"] = auditEntry.Row,
            };
            try
            {
                await Table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new AuditUnavailableException(ex);
            }
        }
    }

    /// <summary>The newest disclosures under a consent (at most <paramref name="max"/>), and whether there are more.</summary>
    public virtual async Task<(IReadOnlyList<Disclosure> Disclosures, bool More)> ReadAsync(string consentId, int max = PageSize, CancellationToken cancellationToken = default)
    {
        var found = new List<Disclosure>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {consentId}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max + 1, 1000), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (found.Count == max)
            {
                return (found, true);
            }

            found.Add(new Disclosure(row.GetDateTimeOffset("At") ?? default, row.GetString("Recipient") ?? "", Split(row.GetString("Sources")), Split(row.GetString("Categories"))));
        }

        return (found, false);
    }

    private static List<string> Split(string? list) => (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).ToList();
}

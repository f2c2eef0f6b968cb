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
public class DisclosureRecord(DisclosureTable table)
{
    /// <summary>At most this many disclosures are shown on one page (newest first); the page says when there are more.</summary>
    public const int PageSize = 200;

    /// <summary>Records a release under each consent it relied on. An outage throws <see cref="AuditUnavailableException"/>.</summary>
    public virtual async Task RecordAsync(IReadOnlyList<(string ConsentId, Disclosure Disclosure)> releases, (string Partition, string Row) auditEntry,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(releases);
        foreach (var (consentId, disclosure) in releases)
        {
            var row = new DisclosureRow(consentId, disclosure.At, disclosure.Recipient, disclosure.Sources, disclosure.Categories, auditEntry.Partition, auditEntry.Row);
            try
            {
                await table.PutAsync(row, cancellationToken).ConfigureAwait(false);
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
        var (rows, more) = await table.NewestAsync(consentId, max, cancellationToken).ConfigureAwait(false);
        return (rows.Select(r => new Disclosure(r.At, r.Recipient, r.Sources, r.Categories)).ToList(), more);
    }
}

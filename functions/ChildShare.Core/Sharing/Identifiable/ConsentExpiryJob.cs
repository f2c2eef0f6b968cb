using ChildShare.Core.Audit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChildShare.Core.Sharing.Identifiable;

/// <summary>What one run of the expiry job did.</summary>
public sealed record ConsentExpiryResult(int DaysRead, int IndexRowsRead, int Expired, IReadOnlyList<ConsentExpiringSoon> ExpiringSoon);

/// <summary>A consent to renew: its id, expiry and the organizations party to it (no child identifier).</summary>
public sealed record ConsentExpiringSoon(string ConsentId, DateTimeOffset ExpiresAt, IReadOnlyList<string> Parties);

/// <summary>
/// The expiry job (timer and <c>expire-consents</c> command): reads the expiry index from the cursor
/// day to today, page by page, and marks every active consent past its expiry as expired (a
/// conditional replace, audited). Idempotent: a consent already expired, revoked or superseded is
/// left alone, so a second run changes nothing. When every day before today is done the cursor
/// moves to today, so a run reads only the days that can still hold due consents. It then lists the
/// consents expiring within the renewal window.
/// </summary>
public partial class ConsentExpiryJob(
    ConsentStore store, ConsentService consents, AuditLog audit, IOptions<ConsentOptions> options, TimeProvider time, ILogger<ConsentExpiryJob> logger)
{
    public const int PageSize = 500;

    public async Task<ConsentExpiryResult> RunAsync(string actor, CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var cursor = await store.ReadCursorAsync(cancellationToken).ConfigureAwait(false);
        int days = 0, rows = 0, expired = 0;
        if (cursor is { } first)
        {
            for (var day = first; day <= today; day = day.AddDays(1))
            {
                days++;
                await foreach (var page in store.ExpiryPagesAsync(day, day == today ? now.AddSeconds(1) : null, PageSize, cancellationToken).ConfigureAwait(false))
                {
                    rows += page.Count;
                    var read = new System.Collections.Concurrent.ConcurrentBag<VersionedConsent>();
                    await Parallel.ForEachAsync(page, new ParallelOptions { MaxDegreeOfParallelism = options.Value.ExpiryParallelism, CancellationToken = cancellationToken },
                        async (row, ct) =>
                        {
                            if (await store.GetAsync(row.ConsentId, ct).ConfigureAwait(false) is { } consent)
                            {
                                read.Add(consent);
                            }
                        }).ConfigureAwait(false);
                    var changed = await consents.ExpireManyAsync(read.ToList(), options.Value.ExpiryParallelism, cancellationToken).ConfigureAwait(false);
                    expired += changed;
                }
            }

            if (first < today)
            {
                await store.WriteCursorAsync(today, cancellationToken).ConfigureAwait(false);
            }
        }

        var soon = (await consents.ExpiringAsync(null, options.Value.RenewalWindowDays, cancellationToken).ConfigureAwait(false))
            .Select(c => new ConsentExpiringSoon(c.Consent.Id, c.Consent.ExpiresAt, c.Consent.Parties.ToList())).ToList();
        await audit.AppendAsync(new AuditEntry(AuditEvents.ConsentExpiryRun, "Succeeded")
        {
            Actor = actor,
            RowsReturned = expired,
            Parameters = new Dictionary<string, string>
            {
                ["daysRead"] = days.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["indexRowsRead"] = rows.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["expired"] = expired.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["expiringSoon"] = soon.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        }, cancellationToken).ConfigureAwait(false);
        var elapsedMs = (long)time.GetElapsedTime(started).TotalMilliseconds;
        LogRun(logger, days, rows, expired, soon.Count, options.Value.RenewalWindowDays, elapsedMs);
        return new ConsentExpiryResult(days, rows, expired, soon);
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information,
        Message = "Consent expiry: {Days} day(s) of the index read, {Rows} row(s), {Expired} consent(s) expired, {ExpiringSoon} expiring within {WindowDays} days, in {ElapsedMs} ms")]
    private static partial void LogRun(ILogger logger, int days, int rows, int expired, int expiringSoon, int windowDays, long elapsedMs);
}

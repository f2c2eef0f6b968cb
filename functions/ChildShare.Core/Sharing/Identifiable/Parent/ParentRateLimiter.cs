using System.Globalization;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Sharing.Identifiable.Parent;

/// <summary>What the rate limit says about one request.</summary>
public enum RateDecision
{
    Allowed,

    /// <summary>The request that went over the limit first in this hour: refused, and audited once.</summary>
    FirstRefusal,

    /// <summary>A later request over the limit in the same hour: refused, not written or audited again.</summary>
    Refused,
}

/// <summary>
/// Fixed one-hour windows (UTC) counted in Table Storage, because a serverless app has no memory shared
/// by its instances: <c>parentlinkrate</c>, PK the hour (<c>yyyyMMddHH</c>), RK <c>link|{link id}</c> or
/// <c>client|{keyed hash of the address}</c>, a <c>Count</c> raised with If-Match (a point read and a
/// conditional write per key, never a query). The counter stops one past the limit, so a flood writes
/// nothing more and is audited once per hour. Past hours are never read again, so <see cref="PurgeAsync"/>
/// (the hourly <c>PurgeParentLinkRates</c> timer) deletes them.
/// </summary>
public class ParentRateLimiter(ParentRateTable table, TimeProvider time)
{
    private const int MaxAttempts = 8;

    public static string LinkKey(string linkId) => "link|" + linkId;

    public static string ClientKey(string clientHash) => "client|" + clientHash;

    /// <summary>Counts one request against <paramref name="key"/> in the current hour.</summary>
    public virtual async Task<RateDecision> CountAsync(string key, int limit, CancellationToken cancellationToken = default)
    {
        var hour = Window(time.GetUtcNow());
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            // A false write: another request counted first, read again.
            if (await table.ReadAsync(hour, key, cancellationToken).ConfigureAwait(false) is not var (count, etag))
            {
                if (await table.TryAddAsync(hour, key, 1, cancellationToken).ConfigureAwait(false))
                {
                    return limit >= 1 ? RateDecision.Allowed : RateDecision.FirstRefusal;
                }

                continue;
            }

            if (count > limit)
            {
                return RateDecision.Refused;
            }

            if (await table.TryReplaceAsync(hour, key, count + 1, etag, cancellationToken).ConfigureAwait(false))
            {
                return count + 1 <= limit ? RateDecision.Allowed : RateDecision.FirstRefusal;
            }
        }

        // So contended that the count could not be raised: refuse rather than let it pass uncounted.
        return RateDecision.Refused;
    }

    /// <summary>
    /// Deletes the windows of every hour before the previous one (the previous hour stays, so a clock a
    /// little behind another instance's never loses a count it still uses), in transactions of one partition
    /// (a row another purge already deleted is not an error). Returns the rows deleted; 0 when no page has
    /// been opened since the table was provisioned.
    /// </summary>
    public virtual Task<int> PurgeAsync(CancellationToken cancellationToken = default) =>
        table.DeleteWindowsBeforeAsync(Window(time.GetUtcNow().AddHours(-1)), cancellationToken);

    private static string Window(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture);
}

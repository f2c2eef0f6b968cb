using System.Globalization;
using Azure;
using Azure.Data.Tables;
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
public class ParentRateLimiter(ChildShareStorage storage, TimeProvider time)
{
    private const int MaxAttempts = 8;

    public static string LinkKey(string linkId) => "link|" + linkId;

    public static string ClientKey(string clientHash) => "client|" + clientHash;

    /// <summary>Counts one request against <paramref name="key"/> in the current hour.</summary>
    public virtual async Task<RateDecision> CountAsync(string key, int limit, CancellationToken cancellationToken = default)
    {
        var table = storage.Table(TableNames.ParentLinkRate);
        var hour = time.GetUtcNow().UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var row = await table.GetEntityIfExistsAsync<TableEntity>(hour, key, cancellationToken: cancellationToken).ConfigureAwait(false);
            try
            {
                if (!row.HasValue || row.Value is null)
                {
                    await table.AddEntityAsync(new TableEntity(hour, key) { ["Count"] = 1 }, cancellationToken).ConfigureAwait(false);
                    return limit >= 1 ? RateDecision.Allowed : RateDecision.FirstRefusal;
                }

                var count = row.Value.GetInt32("Count") ?? 0;
                if (count > limit)
                {
                    return RateDecision.Refused;
                }

                row.Value["Count"] = count + 1;
                await table.UpdateEntityAsync(row.Value, row.Value.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                return count + 1 <= limit ? RateDecision.Allowed : RateDecision.FirstRefusal;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Another request counted first: read again.
            }
        }

        // So contended that the count could not be raised: refuse rather than let it pass uncounted.
        return RateDecision.Refused;
    }

    /// <summary>
    /// Deletes the windows of every hour before the previous one (the previous hour stays, so a clock a
    /// little behind another instance's never loses a count it still uses), through the
    /// <see cref="BatchWriter"/> (transactions of one partition, a row another purge already deleted is
    /// not an error). Returns the rows deleted.
    /// </summary>
    public virtual async Task<int> PurgeAsync(CancellationToken cancellationToken = default)
    {
        var table = storage.Table(TableNames.ParentLinkRate);
        var oldestKept = time.GetUtcNow().UtcDateTime.AddHours(-1).ToString("yyyyMMddHH", CultureInfo.InvariantCulture);
        var writer = new BatchWriter();
        var deleted = 0;
        try
        {
            var rows = table.QueryAsync<TableEntity>(
                TableClient.CreateQueryFilter($"PartitionKey lt {oldestKept}"), select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken);
            await foreach (var row in rows.ConfigureAwait(false))
            {
                await writer.DeleteAsync(table, row.PartitionKey, row.RowKey, cancellationToken).ConfigureAwait(false);
                deleted++;
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return 0; // No page has been opened since the table was provisioned.
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        return deleted;
    }
}

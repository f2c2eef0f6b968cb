using System.CommandLine;
using ChildShare.Core.Activity;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Sharing.Aggregate;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Cli;

/// <summary>
/// <c>activity-rebuild [--buckets N]</c>: rebuilds the activity buckets reports and exports read
/// from the records table, under the linkage lock (no upload summarizes meanwhile). The migration
/// from the month-summary shape (it deletes those entities), and the way to change the bucket count
/// when the community grows (STORAGE.md). Idempotent: running it twice gives the same buckets.
/// </summary>
public static class ActivityCommands
{
    public static void AddTo(Command root, Option<bool> verbose)
    {
        var buckets = new Option<int>("--buckets")
        {
            Description = $"Buckets, a power of two up to {ActivityStore.MaxBuckets} (default: the current count, or {ActivityStore.DefaultBuckets}).",
        };
        CliCommands.Add(root, verbose, "activity-rebuild", "Rebuild the activity buckets from the records (migration from month summaries; change of bucket count).", [buckets],
            async (services, result, ct) =>
            {
                var store = services.GetRequiredService<ActivityStore>();
                var count = result.GetValue(buckets) is > 0 and var n ? n : (await store.LayoutAsync(ct))?.Buckets ?? ActivityStore.DefaultBuckets;
                var rebuilt = await services.GetRequiredService<ILinkageLock>().RunExclusiveAsync(
                    ct2 => services.GetRequiredService<ActivitySummaryBuilder>().RebuildAllAsync(count, ct2), ct);
                Console.WriteLine($"activity rebuilt: {rebuilt.Children:N0} provider records in {count} buckets");
            },
            // Too few buckets for the community: the message (counts only) says to run it again with more.
            ex => ex is ArgumentOutOfRangeException or ActivityBucketFullException);
    }
}

using ChildShare.Core.Linkage;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Linkage;

/// <summary>
/// Daily at 04:30 UTC: deletes the linkage review entries closed since they were queued (the two records joined by a later
/// upload, separated by a do-not-link, or no longer stored), under the linkage lock (<see cref="LinkageAdmin.PruneReviewsAsync"/>).
/// Idempotent; <c>linkage prune-review</c> runs the same by hand.
/// </summary>
public sealed class PruneLinkageReview(LinkageAdmin admin)
{
    [Function(nameof(PruneLinkageReview))]
    public async Task<int> RunAsync([TimerTrigger("0 30 4 * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        _ = timer;
        return await admin.PruneReviewsAsync("timer", cancellationToken);
    }
}

using ChildShare.Core.Sharing.Identifiable.Parent;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Consent;

/// <summary>
/// Hourly, at a quarter past: deletes the parent page's rate-limit windows of past hours, which are
/// never read again (<see cref="ParentRateLimiter.PurgeAsync"/>). Idempotent.
/// </summary>
public sealed class PurgeParentLinkRates(ParentRateLimiter rates)
{
    [Function(nameof(PurgeParentLinkRates))]
    public async Task<int> RunAsync([TimerTrigger("0 15 * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        _ = timer;
        return await rates.PurgeAsync(cancellationToken);
    }
}

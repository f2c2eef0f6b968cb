using ChildShare.Core.Sharing.Identifiable;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Consent;

/// <summary>
/// The consent expiry timer: on the NCRONTAB schedule of the app setting <c>Consent__ExpirySchedule</c>
/// (hourly, <c>0 0 * * * *</c>, by default), marks consents past their expiry as expired and lists
/// those expiring within <c>Consent__RenewalWindowDays</c>. Idempotent; the <c>expire-consents</c>
/// command runs the same job by hand.
/// </summary>
public sealed class ExpireConsents(ConsentExpiryJob job)
{
    [Function(nameof(ExpireConsents))]
    public async Task<ConsentExpiryResult> RunAsync([TimerTrigger("%Consent:ExpirySchedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        _ = timer;
        return await job.RunAsync("timer", cancellationToken);
    }
}

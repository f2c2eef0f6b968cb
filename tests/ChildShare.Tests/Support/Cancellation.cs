namespace ChildShare.Tests.Support;

public static class Cancellation
{
    /// <summary>
    /// Work that waits only for its token: completes by throwing <see cref="OperationCanceledException"/> once
    /// <paramref name="token"/> is cancelled, and fails with <see cref="TimeoutException"/> after
    /// <paramref name="timeout"/> (30 s by default: a safety net so a broken cancellation fails instead of hanging).
    /// </summary>
    public static Task UntilCancelledAsync(CancellationToken token, TimeSpan? timeout = null) =>
        Task.Delay(Timeout.InfiniteTimeSpan, token).WaitAsync(timeout ?? TimeSpan.FromSeconds(30), CancellationToken.None);
}

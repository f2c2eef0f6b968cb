using System.Diagnostics.CodeAnalysis;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;

namespace ChildShare.Core.Linkage;

/// <summary>
/// The linkage lock as a lease on one blob (<c>{locks container}/{table prefix}linkage.lock</c>), so
/// every instance of the function app and the operator command line on the same tables exclude each
/// other. The blob is created when missing (a creation race is harmless). A held lease has a finite
/// duration and is renewed in the background every third of it; if renewals stop succeeding (the lease
/// was broken or taken, or storage was unreachable for most of a duration) the handle's token is
/// cancelled before the lease could expire, so the holder stops writing. A waiter retries with jittered
/// exponential backoff and gives up after <see cref="LinkageOptions.LockTimeoutSeconds"/>.
/// <para>
/// The lease is wall-clock time on the storage service, so the lock must run on
/// <see cref="TimeProvider.System"/> (the app registers it so even where the rest of the app has a fake
/// clock); tests that want another clock pass it to the constructor.
/// </para>
/// <para>
/// Blob leases are not fair: a holder that releases and at once acquires again (the next upload of a busy
/// instance) would win against waiters that poll. So a waiter touches a second blob
/// (<c>linkage.lock.waiting</c>) on its first failed attempt and then at most every
/// <see cref="AnnounceInterval"/> (each overwrite keeps a soft-deleted version where blob soft delete is on);
/// a holder that finds it changed while it held the lock pauses for <see cref="HandOffPause"/> (longer than
/// a waiter's longest backoff) before its next acquisition.
/// </para>
/// </summary>
public sealed partial class BlobLeaseLinkageLock : ILinkageLock
{
    /// <summary>The lock blob's name in the locks container (after the table prefix, which scopes it like the tables).</summary>
    public const string LinkageBlobName = "linkage.lock";

    private const string LockBlobContent =
        "A lease on this blob is ChildShare's linkage lock (functions/ChildShare.Core/Linkage/LINKAGE.md). Its content does not matter.";

    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(15);

    private readonly BlobContainerClient _container;
    private readonly BlobClient _blob;
    private readonly BlobClient _waiting;
    private readonly TimeProvider _time;
    private readonly ILogger<BlobLeaseLinkageLock> _logger;
    private readonly string _name;
    private const long NoHandOff = long.MinValue;

    // The timestamp (of _time) of a release that had waiters, or NoHandOff.
    private long _handOffFrom = NoHandOff;

    public BlobLeaseLinkageLock(BlobContainerClient container, string blobName, LinkageOptions options, TimeProvider time, ILogger<BlobLeaseLinkageLock> logger)
    {
        _container = container;
        _blob = container.GetBlobClient(blobName);
        _waiting = container.GetBlobClient(blobName + ".waiting");
        _time = time;
        _logger = logger;
        _name = $"{container.Name}/{_blob.Name}";
        LeaseDuration = TimeSpan.FromSeconds(options.LockLeaseSeconds);
        Timeout = TimeSpan.FromSeconds(options.LockTimeoutSeconds);
        RenewInterval = LeaseDuration / 3;
    }

    public TimeSpan LeaseDuration { get; }

    public TimeSpan Timeout { get; }

    /// <summary>Time between renewals of a held lease (a third of the duration; tests shorten it).</summary>
    internal TimeSpan RenewInterval { get; init; }

    /// <summary>The holder stops trusting its lease this long before it would expire counted from the last renewal's start.</summary>
    internal TimeSpan SafetyMargin => LeaseDuration / 6;

    /// <summary>A waiter's first pause; each further attempt doubles it (with ±20% jitter) up to <see cref="MaxRetryDelay"/>.</summary>
    internal TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    internal TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a holder that had waiters stays away before acquiring again: longer than a waiter's longest pause.</summary>
    internal TimeSpan HandOffPause { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>A waiter announces itself on its first failed attempt, then at most this often.</summary>
    internal TimeSpan AnnounceInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Pause after a renewal that failed for a reason other than losing the lease.</summary>
    internal TimeSpan RenewRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public override string ToString() => _name;

    public async Task<ILinkageLockHandle> AcquireAsync(CancellationToken cancellationToken = default)
    {
        await WaitForHandOffAsync(cancellationToken).ConfigureAwait(false);
        var started = _time.GetTimestamp();
        var lease = _blob.GetBlobLeaseClient(Guid.NewGuid().ToString());
        var delay = FirstRetryDelay;
        var attempts = 0;
        var creations = 0;
        var waitingLogged = false;
        long? announced = null;
        while (true)
        {
            attempts++;
            var attemptStarted = _time.GetTimestamp();
            try
            {
                await lease.AcquireAsync(LeaseDuration, cancellationToken: cancellationToken).ConfigureAwait(false);
                var handle = await Handle.StartAsync(this, lease, attemptStarted, cancellationToken).ConfigureAwait(false);
                if (attempts > 1)
                {
                    var waitedMs = (long)_time.GetElapsedTime(started).TotalMilliseconds;
                    LogAcquiredAfterWaiting(_name, waitedMs, attempts);
                }

                return handle;
            }
            catch (RequestFailedException ex) when (ex.Status == 404 && creations < 3)
            {
                creations++;
                await CreateLockBlobAsync(ex.ErrorCode, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.LeaseAlreadyPresent.ToString())
            {
                var waited = _time.GetElapsedTime(started);
                if (waited >= Timeout)
                {
                    LogTimedOut(_name, (long)Timeout.TotalSeconds, attempts);
                    throw new LinkageLockTimeoutException(_name, Timeout);
                }

                if (!waitingLogged)
                {
                    LogWaiting(_name, (long)Timeout.TotalSeconds);
                    waitingLogged = true;
                }

                if (announced is not { } last || _time.GetElapsedTime(last) >= AnnounceInterval)
                {
                    announced = _time.GetTimestamp();
                    await AnnounceWaitingAsync(cancellationToken).ConfigureAwait(false);
                }

                var pause = Min(Jitter(delay), Timeout - waited);
                await Task.Delay(pause, _time, cancellationToken).ConfigureAwait(false);
                delay = Min(delay * 2, MaxRetryDelay);
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static string Describe(RequestFailedException ex) =>
        ex.ErrorCode ?? ex.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [SuppressMessage("Security", "CA5394:Do not use insecure randomness", Justification =
        "Backoff jitter only spreads the waiters' retries; nothing depends on it being unpredictable.")]
    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.8 + (0.4 * Random.Shared.NextDouble()));

    private async Task WaitForHandOffAsync(CancellationToken cancellationToken)
    {
        var releasedAt = Interlocked.Exchange(ref _handOffFrom, NoHandOff);
        if (releasedAt == NoHandOff)
        {
            return;
        }

        // Timestamps, not the UTC clock: a wall-clock jump must neither skip the pause nor stretch it.
        var pause = HandOffPause - _time.GetElapsedTime(releasedAt);
        if (pause > TimeSpan.Zero)
        {
            LogHandingOff(_name, (long)pause.TotalMilliseconds);
            await Task.Delay(pause, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private void HandOffAfterRelease() => Interlocked.Exchange(ref _handOffFrom, _time.GetTimestamp());

    private async Task CreateLockBlobAsync(string? errorCode, CancellationToken cancellationToken)
    {
        if (errorCode == BlobErrorCode.ContainerNotFound.ToString())
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var onlyIfMissing = new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } };
            await _blob.UploadAsync(BinaryData.FromString(LockBlobContent), onlyIfMissing, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Another instance created it first (and may hold it already): the next attempt tells.
        }
    }

    /// <summary>What a best-effort step's failure may log: a storage error code or the exception's type, never a message.</summary>
    private static string Describe(Exception ex) => ex is RequestFailedException failed ? Describe(failed) : ex.GetType().Name;

    /// <summary>Best effort: a waiter that cannot announce itself still gets the lock, only later.</summary>
    private async Task AnnounceWaitingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _waiting.UploadAsync(BinaryData.Empty, overwrite: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogBestEffortFailed(_name, "announcing a waiter", Describe(ex));
        }
    }

    /// <summary>
    /// The ETag of the waiting blob, or null when there is none (best effort: null on any failure other than
    /// the caller's cancellation).
    /// </summary>
    private async Task<ETag?> WaitingTagAsync(CancellationToken cancellationToken)
    {
        try
        {
            return (await _waiting.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.ETag;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            if (ex is not RequestFailedException { Status: 404 })
            {
                LogBestEffortFailed(_name, "reading the waiting blob", Describe(ex));
            }

            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Linkage lock {Lock} is held by another instance; waiting up to {TimeoutSeconds} s")]
    private partial void LogWaiting(string @lock, long timeoutSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Linkage lock {Lock} acquired after {WaitedMs} ms and {Attempts} attempts")]
    private partial void LogAcquiredAfterWaiting(string @lock, long waitedMs, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Linkage lock {Lock} still held by another instance after {TimeoutSeconds} s ({Attempts} attempts); giving up")]
    private partial void LogTimedOut(string @lock, long timeoutSeconds, int attempts);

    [LoggerMessage(Level = LogLevel.Information, Message = "Linkage lock {Lock}: other instances waited; pausing {PauseMs} ms before acquiring again")]
    private partial void LogHandingOff(string @lock, long pauseMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Linkage lock {Lock}: {Step} failed ({Error}); ignored, it is best effort")]
    private partial void LogBestEffortFailed(string @lock, string step, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Linkage lock {Lock}: renewal failed ({Error}); retrying while the lease is still valid")]
    private partial void LogRenewalFailed(string @lock, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Linkage lock {Lock} lost ({Reason}); cancelling the work under it")]
    private partial void LogLost(string @lock, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Linkage lock {Lock}: release failed ({Error}); the lease expires by itself")]
    private partial void LogReleaseFailed(string @lock, string error);

    /// <summary>A held lease: renews it until disposed, then releases it.</summary>
    private sealed class Handle : ILinkageLockHandle
    {
        private readonly BlobLeaseLinkageLock _owner;
        private readonly BlobLeaseClient _lease;
        private readonly ETag? _waitingAtAcquire;
        private readonly CancellationTokenSource _stop = new();
        private readonly CancellationTokenSource _lost = new();
        private readonly CancellationTokenSource _work;
        private long _validFrom;
        private Task _renewal = Task.CompletedTask;
        private int _disposed;
        private volatile bool _isLost;

        private Handle(BlobLeaseLinkageLock owner, BlobLeaseClient lease, long validFrom, ETag? waitingAtAcquire, CancellationToken cancellationToken)
        {
            _owner = owner;
            _lease = lease;
            _validFrom = validFrom;
            _waitingAtAcquire = waitingAtAcquire;
            _work = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lost.Token);
        }

        public CancellationToken CancellationToken => _work.Token;

        public bool IsLost => _isLost;

        public static async Task<Handle> StartAsync(BlobLeaseLinkageLock owner, BlobLeaseClient lease, long validFrom, CancellationToken cancellationToken)
        {
            ETag? waiting;
            try
            {
                waiting = await owner.WaitingTagAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await ReleaseAsync(owner, lease).ConfigureAwait(false);
                throw;
            }

            var handle = new Handle(owner, lease, validFrom, waiting, cancellationToken);
            handle._renewal = handle.RenewUntilStoppedAsync(handle._stop.Token);
            return handle;
        }

        /// <summary>
        /// Stops renewing and releases the lease (not when it was lost: it is no longer ours). Never throws:
        /// every step is best effort, so releasing cannot mask the outcome of the work under the lock.
        /// </summary>
        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
            {
                return;
            }

            try
            {
                await StopRenewingAsync().ConfigureAwait(false);
                if (!_isLost)
                {
                    await ReleaseAsync(_owner, _lease).ConfigureAwait(false);
                }

                await HandOffIfOthersWaitedAsync().ConfigureAwait(false);
            }
            finally
            {
                _work.Dispose();
                _lost.Dispose();
                _stop.Dispose();
            }
        }

        [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification =
            "Best-effort step of DisposeAsync, which must never throw: a cleanup failure must not mask the outcome of the work under the lock. It is logged by type or storage error code.")]
        private async Task StopRenewingAsync()
        {
            try
            {
                await _stop.CancelAsync().ConfigureAwait(false);
                await _renewal.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _owner.LogBestEffortFailed(_owner._name, "stopping the renewal", Describe(ex));
            }
        }

        [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification =
            "Best-effort step of DisposeAsync, which must never throw: a cleanup failure must not mask the outcome of the work under the lock. It is logged by type or storage error code.")]
        private async Task HandOffIfOthersWaitedAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(ReleaseTimeout, _owner._time);
                if (await _owner.WaitingTagAsync(timeout.Token).ConfigureAwait(false) is { } waiting && waiting != _waitingAtAcquire)
                {
                    _owner.HandOffAfterRelease();
                }
            }
            catch (Exception ex)
            {
                // Without an answer, no pause; waiters still get in, only later.
                _owner.LogBestEffortFailed(_owner._name, "checking for waiters", Describe(ex));
            }
        }

        [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification =
            "Best-effort step of DisposeAsync, which must never throw: a cleanup failure must not mask the outcome of the work under the lock. It is logged by type or storage error code.")]
        private static async Task ReleaseAsync(BlobLeaseLinkageLock owner, BlobLeaseClient lease)
        {
            try
            {
                using var timeout = new CancellationTokenSource(ReleaseTimeout, owner._time);
                await lease.ReleaseAsync(cancellationToken: timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Azure.Core may throw an AggregateException after its retries, not only RequestFailedException.
                owner.LogReleaseFailed(owner._name, ex is OperationCanceledException ? "timed out" : Describe(ex));
            }
        }

        /// <summary>
        /// Renews every <see cref="RenewInterval"/>. A renewal refused by storage (the lease was broken or
        /// another holder has it) loses the lock at once; other failures are retried until the lease's
        /// validity, counted from the start of the last successful renewal, is within the safety margin.
        /// </summary>
        [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification =
            "Any renewal failure is retried while the lease is still valid; an exception escaping would end the renewals silently while the work goes on. Persistent failures become a lost lock at the deadline.")]
        private async Task RenewUntilStoppedAsync(CancellationToken stop)
        {
            var time = _owner._time;
            var next = _owner.RenewInterval;
            while (true)
            {
                var valid = _owner.LeaseDuration - _owner.SafetyMargin - time.GetElapsedTime(_validFrom);
                try
                {
                    await Task.Delay(Min(next, valid > TimeSpan.Zero ? valid : TimeSpan.Zero), time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                valid = _owner.LeaseDuration - _owner.SafetyMargin - time.GetElapsedTime(_validFrom);
                if (valid <= TimeSpan.Zero)
                {
                    await LoseAsync("not renewed within its duration").ConfigureAwait(false);
                    return;
                }

                var attempt = time.GetTimestamp();
                try
                {
                    using var timeout = new CancellationTokenSource(valid, time);
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
                    await _lease.RenewAsync(cancellationToken: linked.Token).ConfigureAwait(false);
                    _validFrom = attempt;
                    next = _owner.RenewInterval;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
                {
                    await LoseAsync($"renewal refused: {Describe(ex)}").ConfigureAwait(false);
                    return;
                }
                catch (Exception ex)
                {
                    _owner.LogRenewalFailed(_owner._name, Describe(ex));
                    next = Min(_owner.RenewRetryDelay, _owner.RenewInterval);
                }
            }
        }

        private async Task LoseAsync(string reason)
        {
            _isLost = true;
            _owner.LogLost(_owner._name, reason);
            await _lost.CancelAsync().ConfigureAwait(false);
        }
    }
}

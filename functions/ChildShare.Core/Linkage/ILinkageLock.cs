namespace ChildShare.Core.Linkage;

/// <summary>
/// Mutual exclusion, across Function instances and the operator command line, of the work that reads and
/// rewrites child keys: an upload's second phase (linking, then the summary rebuild that carries its child
/// keys into the records, activity and children tables) and an operator split (with its rebuild). Whoever
/// holds it may load a neighbourhood from the linkage tables, decide, write back and rebuild summaries,
/// knowing no other instance does the same meanwhile.
/// </summary>
public interface ILinkageLock
{
    /// <summary>
    /// Waits until the lock is free and takes it. Throws <see cref="LinkageLockTimeoutException"/> when
    /// another holder keeps it longer than the configured timeout.
    /// </summary>
    Task<ILinkageLockHandle> AcquireAsync(CancellationToken cancellationToken = default);
}

/// <summary>A held linkage lock; disposing it releases the lock.</summary>
public interface ILinkageLockHandle : IAsyncDisposable
{
    /// <summary>
    /// The token the work under the lock must use: cancelled with the caller's token, and as soon as
    /// the lock is lost (it could not be kept), so the holder stops writing instead of racing the next one.
    /// </summary>
    CancellationToken CancellationToken { get; }

    /// <summary>True once the lock was lost while held.</summary>
    bool IsLost { get; }
}

/// <summary>The linkage lock was held by others longer than the configured timeout.</summary>
public sealed class LinkageLockTimeoutException(string lockName, TimeSpan timeout)
    : TimeoutException($"The linkage lock ({lockName}) stayed held by another instance for more than {timeout.TotalSeconds:0} s; "
        + "gave up so the work can be retried later. If linking and summarizing an upload legitimately takes that long, raise Linkage__LockTimeoutSeconds.");

/// <summary>
/// The linkage lock was lost while work ran under it (its lease could not be renewed, or nested work outlived
/// the hold it ran under); the work was cancelled.
/// </summary>
public sealed class LinkageLockLostException(string lockName, Exception? inner = null)
    : Exception($"The linkage lock ({lockName}) was lost while work ran under it (its lease could not be renewed, "
        + "or the hold the work ran under had ended); the work was cancelled and must be retried.", inner);

public static class LinkageLockExtensions
{
    // The hold this flow is under, so work under it can call code that takes the same lock (an upload's
    // linking chunks inside its second phase) without waiting for itself. A task the work starts and does
    // not await inherits it and may outlive the hold: the hold says when it ended, so such a task neither
    // runs unprotected nor uses a disposed handle.
    private static readonly AsyncLocal<Hold?> Held = new();

    /// <summary>
    /// Runs <paramref name="work"/> under the lock, with the handle's token, and releases the lock
    /// afterwards. A cancellation caused by losing the lock, or a lock lost by the time the work ends,
    /// surfaces as <see cref="LinkageLockLostException"/> (the caller retries), never as success.
    /// Re-entrant: inside work that holds this lock, the work runs at once under the outer hold (and fails
    /// with <see cref="LinkageLockLostException"/> if that hold is lost, or ends while it runs); once the
    /// outer work has ended, a flow that inherited the hold acquires the lock like any other.
    /// </summary>
    public static async Task<T> RunExclusiveAsync<T>(
        this ILinkageLock linkageLock, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(linkageLock);
        ArgumentNullException.ThrowIfNull(work);
        if (Held.Value is { } held && ReferenceEquals(held.Lock, linkageLock) && !held.Released)
        {
            return await RunNestedAsync(held, work, cancellationToken).ConfigureAwait(false);
        }

        var handle = await linkageLock.AcquireAsync(cancellationToken).ConfigureAwait(false);
        await using (handle.ConfigureAwait(false))
        {
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(handle.CancellationToken);
            var hold = new Hold(linkageLock, handle, ended.Token);

            // Set here, so it flows into the work and is gone again when this method returns.
            Held.Value = hold;
            T result;
            try
            {
                result = await work(handle.CancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (handle.IsLost && !cancellationToken.IsCancellationRequested)
            {
                throw new LinkageLockLostException(NameOf(linkageLock), ex);
            }
            finally
            {
                // Before the handle is released: nested work still running is cancelled, later nested calls acquire.
                hold.Released = true;
                await ended.CancelAsync().ConfigureAwait(false);
            }

            return handle.IsLost ? throw new LinkageLockLostException(NameOf(linkageLock)) : result;
        }
    }

    private static async Task<T> RunNestedAsync<T>(Hold held, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        if (held.Handle.IsLost)
        {
            throw new LinkageLockLostException(NameOf(held.Lock));
        }

        using var nested = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, held.Token);
        T result;
        try
        {
            result = await work(nested.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when ((held.Handle.IsLost || held.Released) && !cancellationToken.IsCancellationRequested)
        {
            throw new LinkageLockLostException(NameOf(held.Lock), ex);
        }

        return held.Handle.IsLost || held.Released ? throw new LinkageLockLostException(NameOf(held.Lock)) : result;
    }

    private static string NameOf(ILinkageLock linkageLock) => linkageLock.ToString() ?? linkageLock.GetType().Name;

    /// <summary>One hold of the lock by a flow: its handle, and a token cancelled when the lock is lost or the outer work ends.</summary>
    private sealed class Hold(ILinkageLock linkageLock, ILinkageLockHandle handle, CancellationToken token)
    {
        private volatile bool _released;

        public ILinkageLock Lock { get; } = linkageLock;

        public ILinkageLockHandle Handle { get; } = handle;

        public CancellationToken Token { get; } = token;

        /// <summary>True once the work that took the lock has ended (the lease is being, or has been, released).</summary>
        public bool Released
        {
            get => _released;
            set => _released = value;
        }
    }
}

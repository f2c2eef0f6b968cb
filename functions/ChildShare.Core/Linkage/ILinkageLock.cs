namespace ChildShare.Core.Linkage;

/// <summary>
/// Mutual exclusion of linking across Function instances: whoever holds it may load a neighbourhood
/// from the linkage tables, decide and write back, knowing no other instance does the same meanwhile.
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

/// <summary>The linkage lock was lost while held (its lease could not be renewed); the work under it was cancelled.</summary>
public sealed class LinkageLockLostException(string lockName, Exception? inner = null)
    : Exception($"The linkage lock ({lockName}) was lost while linking (its lease could not be renewed); "
        + "the work was cancelled and must be retried.", inner);

public static class LinkageLockExtensions
{
    // The lock this flow already holds, so work under it can call code that takes the same lock
    // (an upload's summary rebuild around its linking chunks) without waiting for itself.
    private static readonly AsyncLocal<(ILinkageLock Lock, ILinkageLockHandle Handle)?> Held = new();

    /// <summary>
    /// Runs <paramref name="work"/> under the lock, with the handle's token, and releases the lock
    /// afterwards. A cancellation caused by losing the lock, or a lock lost by the time the work ends,
    /// surfaces as <see cref="LinkageLockLostException"/> (the caller retries), never as success.
    /// Re-entrant: inside work that already holds this lock, the work runs at once under the outer hold.
    /// </summary>
    public static async Task<T> RunExclusiveAsync<T>(
        this ILinkageLock linkageLock, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(linkageLock);
        ArgumentNullException.ThrowIfNull(work);
        if (Held.Value is { } held && ReferenceEquals(held.Lock, linkageLock))
        {
            using var nested = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, held.Handle.CancellationToken);
            return await work(nested.Token).ConfigureAwait(false);
        }

        var handle = await linkageLock.AcquireAsync(cancellationToken).ConfigureAwait(false);
        await using (handle.ConfigureAwait(false))
        {
            // Set here, so it flows into the work and is gone again when this method returns.
            Held.Value = (linkageLock, handle);
            T result;
            try
            {
                result = await work(handle.CancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (handle.IsLost && !cancellationToken.IsCancellationRequested)
            {
                throw new LinkageLockLostException(NameOf(linkageLock), ex);
            }

            return handle.IsLost ? throw new LinkageLockLostException(NameOf(linkageLock)) : result;
        }
    }

    private static string NameOf(ILinkageLock linkageLock) => linkageLock.ToString() ?? linkageLock.GetType().Name;
}

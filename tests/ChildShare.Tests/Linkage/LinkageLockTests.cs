using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using ChildShare.Core.Linkage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChildShare.Tests.Linkage;

/// <summary>
/// The blob-lease linkage lock on Azurite (real lease protocol). Each <see cref="BlobLeaseLinkageLock"/>
/// object stands for one Function instance; they share the lock blob of this test's locks container.
/// The tests that need a lease to outlive or expire its 15 s minimum are in <see cref="LinkageLockExpiryTests"/>.
/// </summary>
public sealed class LinkageLockTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    /// <summary>What the lock logs when it is refused because another holder has the lease.</summary>
    internal const string Waiting = "is held by another instance; waiting";

    /// <summary>What the lock logs when it gets the lease after having been refused.</summary>
    internal const string AcquiredAfterWaiting = "acquired after";

    /// <summary>What a holder logs when it stays away after a release because others waited.</summary>
    internal const string HandingOff = "other instances waited; pausing";

    /// <summary>The name of the blob a refused waiter touches to tell the holder (<see cref="BlobLeaseLinkageLock"/>).</summary>
    private const string WaitingBlob = BlobLeaseLinkageLock.LinkageBlobName + ".waiting";

    /// <summary>One instance's lock on the shared lock blob; a short <paramref name="renewInterval"/> lets a test see renewals soon.</summary>
    internal static BlobLeaseLinkageLock Lock(BlobContainerClient container, int leaseSeconds = 15, int timeoutSeconds = 30, TimeSpan? renewInterval = null,
        LogEvents<BlobLeaseLinkageLock>? events = null)
    {
        var options = new LinkageOptions { LockLeaseSeconds = leaseSeconds, LockTimeoutSeconds = timeoutSeconds };
        ILogger<BlobLeaseLinkageLock> logger = events ?? (ILogger<BlobLeaseLinkageLock>)NullLogger<BlobLeaseLinkageLock>.Instance;
        return renewInterval is { } interval
            ? new BlobLeaseLinkageLock(container, BlobLeaseLinkageLock.LinkageBlobName, options, TimeProvider.System, logger) { RenewInterval = interval }
            : new BlobLeaseLinkageLock(container, BlobLeaseLinkageLock.LinkageBlobName, options, TimeProvider.System, logger);
    }

    [Fact]
    public async Task AcquireAsync_WhileAnotherInstanceHoldsTheLock_WaitsUntilItIsReleased()
    {
        var events = new LogEvents<BlobLeaseLinkageLock>();
        var first = Lock(_storage.Storage.Locks);
        var second = Lock(_storage.Storage.Locks, events: events);
        var held = await first.AcquireAsync();

        var waiting = second.AcquireAsync();
        await events.WaitForAsync(Waiting);
        Assert.False(waiting.IsCompleted, "the second instance got the lock while the first held it");

        await held.DisposeAsync();
        var handle = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(events.Saw(AcquiredAfterWaiting), "the second instance got the lock without having been refused first");
        Assert.False(handle.IsLost);
        await handle.DisposeAsync();
    }

    [Fact]
    public async Task RunExclusiveAsync_InsideWorkThatHoldsTheSameLock_RunsAtOnceAndOthersStillWait()
    {
        var instanceEvents = new LogEvents<BlobLeaseLinkageLock>();
        var otherEvents = new LogEvents<BlobLeaseLinkageLock>();
        var instance = Lock(_storage.Storage.Locks, events: instanceEvents);
        var other = Lock(_storage.Storage.Locks, events: otherEvents);
        Task<int>? outsider = null;
        Task<int>? otherInstance = null;
        var result = await instance.RunExclusiveAsync(async outer =>
        {
            // Nested (an upload's linking chunks inside its second phase): no second lease, no waiting for itself.
            var inner = await instance.RunExclusiveAsync(_ => Task.FromResult(41), outer).WaitAsync(TimeSpan.FromSeconds(5), outer);

            // An unrelated flow of the same process (another upload: it does not inherit this flow's context) waits.
            using (ExecutionContext.SuppressFlow())
            {
                outsider = Task.Run(() => instance.RunExclusiveAsync(_ => Task.FromResult(0)));
            }

            otherInstance = other.RunExclusiveAsync(_ => Task.FromResult(0), CancellationToken.None);
            await Task.WhenAll(instanceEvents.WaitForAsync(Waiting), otherEvents.WaitForAsync(Waiting));
            Assert.False(outsider.IsCompleted, "another flow entered while the lock was held");
            Assert.False(otherInstance.IsCompleted, "another instance entered while the lock was held");
            return inner + 1;
        });

        Assert.Equal(42, result);
        Assert.Equal(0, await outsider!.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal(0, await otherInstance!.WaitAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task RunExclusiveAsync_ManyInstancesAtOnce_NeverOverlap()
    {
        var inside = 0;
        var most = 0;
        var runs = 0;
        var instances = Enumerable.Range(0, 4).Select(_ => Lock(_storage.Storage.Locks)).ToList();

        await Task.WhenAll(instances.Select(instance => Task.Run(async () =>
        {
            for (var i = 0; i < 2; i++)
            {
                await instance.RunExclusiveAsync(async ct =>
                {
                    var now = Interlocked.Increment(ref inside);
                    InterlockedMax(ref most, now);
                    // Work that takes a while (not a wait for something to happen): without the lock the others would run meanwhile.
                    await Task.Delay(200, ct);
                    Interlocked.Decrement(ref inside);
                    return Interlocked.Increment(ref runs);
                });
            }
        })));

        Assert.Equal(8, runs);
        Assert.Equal(1, most);
    }

    [Fact]
    public async Task AcquireAsync_WithoutContainerOrBlob_CreatesThemEvenWhenInstancesRace()
    {
        var container = _storage.Blobs.GetBlobContainerClient(_storage.Options.LocksContainer + "-new");
        try
        {
            var instances = Enumerable.Range(0, 3).Select(_ => Lock(container)).ToList();
            var acquisitions = instances.Select(async instance =>
            {
                var handle = await instance.AcquireAsync();
                await handle.DisposeAsync();
            });

            await Task.WhenAll(acquisitions).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(await container.GetBlobClient(BlobLeaseLinkageLock.LinkageBlobName).ExistsAsync());
        }
        finally
        {
            await container.DeleteIfExistsAsync();
        }
    }

    [Fact]
    public async Task AcquireAsync_HeldLongerThanTheTimeout_ThrowsAClearTimeoutException()
    {
        var events = new LogEvents<BlobLeaseLinkageLock>();
        var holder = Lock(_storage.Storage.Locks);
        var impatient = Lock(_storage.Storage.Locks, timeoutSeconds: 2, events: events);
        await using var held = await holder.AcquireAsync();

        var error = await Assert.ThrowsAsync<LinkageLockTimeoutException>(() => impatient.AcquireAsync());

        // It waited and retried until its timeout, then said so; not at once, not forever.
        Assert.True(events.Saw(Waiting));
        Assert.Contains(events.Messages, m => m.Contains("still held by another instance after 2 s", StringComparison.Ordinal) && !m.Contains("(1 attempts)", StringComparison.Ordinal));
        Assert.Contains(impatient.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("more than 2 s", error.Message, StringComparison.Ordinal);
        Assert.Contains("Linkage__LockTimeoutSeconds", error.Message, StringComparison.Ordinal);
        Assert.False(held.IsLost);
    }

    [Fact]
    public async Task RunExclusiveAsync_WhenTheLeaseIsTakenAway_CancelsTheWorkAndThrowsLockLost()
    {
        var instance = Lock(_storage.Storage.Locks, renewInterval: TimeSpan.FromMilliseconds(300));
        var lockBlob = _storage.Storage.Locks.GetBlobClient(BlobLeaseLinkageLock.LinkageBlobName);

        var error = await Assert.ThrowsAsync<LinkageLockLostException>(() => instance.RunExclusiveAsync<int>(async ct =>
        {
            // Someone breaks the lease (an operator, or another holder once it had expired).
            await lockBlob.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero, cancellationToken: CancellationToken.None);

            // Work that ends only when its token is cancelled (a TimeoutException after 30 s otherwise).
            await Cancellation.UntilCancelledAsync(ct);
            return 0;
        }));

        // The work was stopped by its token, not by running out: the cancellation is what the lost lock reports.
        Assert.IsType<TaskCanceledException>(error.InnerException);
        Assert.Contains("was lost", error.Message, StringComparison.Ordinal);

        // The lock is free for the next holder.
        await using var next = await Lock(_storage.Storage.Locks, timeoutSeconds: 5).AcquireAsync();
        Assert.False(next.IsLost);
    }

    [Fact]
    public async Task AcquireAsync_WhileAnotherInstanceLinksChunkAfterChunk_GetsInBetweenTwoChunks()
    {
        var busyEvents = new LogEvents<BlobLeaseLinkageLock>();
        var otherRequests = new StorageRequests();

        // A hand-off pause far longer than the waiter's longest backoff on any machine: the waiter gets in during it,
        // and the test ends the pause by cancelling the busy instance's next chunk.
        var busy = new BlobLeaseLinkageLock(_storage.Storage.Locks, BlobLeaseLinkageLock.LinkageBlobName, new LinkageOptions(), TimeProvider.System, busyEvents)
        {
            HandOffPause = TimeSpan.FromMinutes(10),
        };
        var other = Lock(otherRequests.Container(_storage.Storage.Locks.Name));
        var chunksDone = 0;
        var firstChunkHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstChunkMayEnd = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stopBusy = new CancellationTokenSource();

        var longUpload = Task.Run(async () =>
        {
            for (var chunk = 0; chunk < 3; chunk++)
            {
                await busy.RunExclusiveAsync(async _ =>
                {
                    firstChunkHeld.TrySetResult();
                    await firstChunkMayEnd.Task;
                    return Interlocked.Increment(ref chunksDone);
                }, stopBusy.Token);
            }
        });

        await firstChunkHeld.Task;
        var otherGotIn = other.RunExclusiveAsync(_ => Task.FromResult(Volatile.Read(ref chunksDone)));

        // The first chunk ends only once the other instance was refused and has announced itself.
        await otherRequests.WaitForAsync(r => r.IsUploadOf(WaitingBlob));
        firstChunkMayEnd.SetResult();
        var doneWhenOtherGotIn = await otherGotIn.WaitAsync(TimeSpan.FromSeconds(60));
        await stopBusy.CancelAsync();

        // Without the hand-off, the busy instance re-acquires within milliseconds of its release while the waiter
        // sleeps in its backoff, and runs its other chunks first.
        Assert.Equal(1, doneWhenOtherGotIn);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => longUpload);
        Assert.Equal(1, Volatile.Read(ref chunksDone));
        Assert.True(busyEvents.Saw(HandingOff), "the busy instance did not pause for the waiter");
    }

    [Fact]
    public async Task AcquireAsync_WaitingWhileTheLockIsHeld_AnnouncesItselfOnlyOncePerInterval()
    {
        var requests = new StorageRequests();
        var holder = Lock(_storage.Storage.Locks);

        // Short pauses so the waiter retries often; an interval longer than the whole test, so every retry falls inside it.
        var waiter = new BlobLeaseLinkageLock(requests.Container(_storage.Storage.Locks.Name), BlobLeaseLinkageLock.LinkageBlobName,
            new LinkageOptions { LockTimeoutSeconds = 120 }, TimeProvider.System, NullLogger<BlobLeaseLinkageLock>.Instance)
        {
            FirstRetryDelay = TimeSpan.FromMilliseconds(20),
            MaxRetryDelay = TimeSpan.FromMilliseconds(20),
            AnnounceInterval = TimeSpan.FromHours(1),
        };
        var held = await holder.AcquireAsync();

        var waiting = waiter.AcquireAsync();
        await requests.WaitForAsync(r => r.IsRefusedLeaseAcquisition, count: 6);

        // Soft delete would keep a version of every overwrite: the first refusal announced the waiter, the next five did not.
        Assert.False(waiting.IsCompleted, "the waiter got the lock while it was held");
        Assert.Equal(1, requests.Count(r => r.IsUploadOf(WaitingBlob)));

        await held.DisposeAsync();
        await using var handle = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(handle.IsLost);
        Assert.Equal(1, requests.Count(r => r.IsUploadOf(WaitingBlob)));
    }

    [Fact]
    public async Task AppLock_WhileTheAppsClockIsFake_WaitsOnTheSystemClock()
    {
        // The app's own registration in two instances whose TimeProvider is a fake clock nobody advances: a lock on
        // that clock would never wake from its backoff (nor renew its lease).
        var events = new LogEvents<BlobLeaseLinkageLock>();
        await using var first = TestApp.Build(_storage);
        await using var second = TestApp.Build(_storage, configure: services => services.AddSingleton<ILogger<BlobLeaseLinkageLock>>(events));
        var held = await first.GetRequiredService<ILinkageLock>().AcquireAsync();

        var waiting = second.GetRequiredService<ILinkageLock>().AcquireAsync();
        await events.WaitForAsync(Waiting);
        Assert.False(waiting.IsCompleted, "the second instance got the lock while the first held it");
        await held.DisposeAsync();

        // On the fake clock its backoff would never end: it gets in only by retrying on the system clock.
        await using var handle = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(events.Saw(AcquiredAfterWaiting));
        Assert.False(handle.IsLost);
    }

    [Fact]
    public async Task RunExclusiveAsync_NestedInATaskThatOutlivesTheOuterWork_AcquiresTheLockItself()
    {
        var events = new LogEvents<BlobLeaseLinkageLock>();
        var instance = Lock(_storage.Storage.Locks, events: events);
        var other = Lock(_storage.Storage.Locks);
        var outerEnded = new TaskCompletionSource();
        Task<int>? orphan = null;

        await instance.RunExclusiveAsync(_ =>
        {
            // Fire and forget: the task inherits the hold but runs its locked work only after the hold ended.
            orphan = Task.Run(async () =>
            {
                await outerEnded.Task;
                return await instance.RunExclusiveAsync(ct => Task.FromResult(ct.IsCancellationRequested ? -1 : 1));
            });
            return Task.FromResult(0);
        });

        // Another instance takes the lock in between: the orphan must wait for it, not run on the ended hold.
        var held = await other.AcquireAsync();
        outerEnded.SetResult();
        await events.WaitForAsync(Waiting);
        Assert.False(orphan!.IsCompleted, "work nested in an ended hold ran while another instance held the lock");
        await held.DisposeAsync();

        Assert.Equal(1, await orphan.WaitAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task RunExclusiveAsync_NestedWorkStillRunningWhenTheOuterWorkEnds_IsCancelledAndThrowsLockLost()
    {
        var instance = Lock(_storage.Storage.Locks);
        var nestedStarted = new TaskCompletionSource();
        Task<int>? orphan = null;

        await instance.RunExclusiveAsync(async _ =>
        {
            orphan = Task.Run(() => instance.RunExclusiveAsync(async ct =>
            {
                nestedStarted.SetResult();
                await Cancellation.UntilCancelledAsync(ct);
                return 1;
            }));
            await nestedStarted.Task;
            return 0;
        });

        var error = await Assert.ThrowsAsync<LinkageLockLostException>(() => orphan!.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.IsAssignableFrom<OperationCanceledException>(error.InnerException);
    }

    [Fact]
    public async Task RunExclusiveAsync_NestedAfterTheOuterHoldWasLost_ThrowsLockLostWithoutRunning()
    {
        var instance = Lock(_storage.Storage.Locks, renewInterval: TimeSpan.FromMilliseconds(300));
        var lockBlob = _storage.Storage.Locks.GetBlobClient(BlobLeaseLinkageLock.LinkageBlobName);
        var nestedRan = false;
        Exception? nestedError = null;

        await Assert.ThrowsAsync<LinkageLockLostException>(() => instance.RunExclusiveAsync(async ct =>
        {
            await lockBlob.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero, cancellationToken: CancellationToken.None);
            Assert.IsType<TaskCanceledException>(await Record.ExceptionAsync(() => Cancellation.UntilCancelledAsync(ct)));
            Assert.True(ct.IsCancellationRequested, "the lost lease was not noticed");

            // Work that swallowed the cancellation and goes on to nested locked work.
            nestedError = await Record.ExceptionAsync(() => instance.RunExclusiveAsync(_ =>
            {
                nestedRan = true;
                return Task.FromResult(0);
            }, CancellationToken.None));
            return 0;
        }));

        Assert.IsType<LinkageLockLostException>(nestedError);
        Assert.False(nestedRan, "nested work ran under a lost hold");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

/// <summary>
/// Leases are at least 15 s long, so these two tests take about that long each: they are slow tests
/// (<see cref="SlowTests"/>), in a class of their own so the other lock tests are not.
/// </summary>
[Collection(SlowTests.Name)]
[Trait(SlowTests.Category, SlowTests.Slow)]
public sealed class LinkageLockExpiryTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    private const string Waiting = LinkageLockTests.Waiting;

    private const string AcquiredAfterWaiting = LinkageLockTests.AcquiredAfterWaiting;

    [Fact]
    public async Task RunExclusiveAsync_WorkOutlastingTheLease_KeepsTheLockByRenewingIt()
    {
        var holder = LinkageLockTests.Lock(_storage.Storage.Locks, timeoutSeconds: 60, renewInterval: TimeSpan.FromSeconds(1));
        var contender = LinkageLockTests.Lock(_storage.Storage.Locks, timeoutSeconds: 60);
        var holderFinished = 0;
        var held = new TaskCompletionSource();

        // The work outlasts the 15 s lease: without renewals the contender would get in before it finishes.
        var work = holder.RunExclusiveAsync(async ct =>
        {
            held.SetResult();
            await Task.Delay(TimeSpan.FromSeconds(19), ct);
            Volatile.Write(ref holderFinished, 1);
            return 0;
        });
        await held.Task;
        var contending = contender.RunExclusiveAsync(_ => Task.FromResult(Volatile.Read(ref holderFinished)));

        await Task.WhenAll(work, contending);

        Assert.Equal(1, await contending);
    }

    [Fact]
    public async Task AcquireAsync_AfterAHolderDiedWithoutReleasing_GetsTheLockWhenItsLeaseExpires()
    {
        var blob = _storage.Storage.Locks.GetBlobClient(BlobLeaseLinkageLock.LinkageBlobName);
        await blob.UploadAsync(BinaryData.FromString("lock"));
        // A crashed instance: it took a 15 s lease and will never renew or release it.
        await blob.GetBlobLeaseClient().AcquireAsync(TimeSpan.FromSeconds(15));

        var events = new LogEvents<BlobLeaseLinkageLock>();
        await using var handle = await LinkageLockTests.Lock(_storage.Storage.Locks, timeoutSeconds: 40, events: events).AcquireAsync();

        // Refused while the dead holder's lease ran, then in once it expired.
        Assert.True(events.Saw(Waiting));
        Assert.True(events.Saw(AcquiredAfterWaiting));
        Assert.False(handle.IsLost);
    }
}

using System.Collections.Concurrent;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs.Specialized;
using ChildShare.Core.Audit;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.Linkage;

/// <summary>
/// Adversarial review of the review-queue prune (b66d595): <see cref="LinkageAdmin.PruneReviewsAsync"/> and
/// <see cref="LinkageRowStore.DeleteReviewsIfUnchangedAsync"/>. A failing test here is a finding (see REPORT.md of adv33b).
/// </summary>
[Collection(SlowTests.Name)]
public sealed class Adversary33PruneTests : IAsyncLifetime
{
    private const string Profile = """
        {
          "dateFormats": ["yyyy-MM-dd"],
          "columns": {
            "Id": "LocalChildId", "StateId": "StateStudentId", "First": "FirstName", "Last": "LastName", "DOB": "BirthDate",
            "Zip": "Zip", "Program": "Program", "Start": "ServiceStart", "End": "ServiceEnd", "Address": "StreetAddress"
          }
        }
        """;

    private const string Header = "Id,StateId,First,Last,DOB,Zip,Program,Start,End,Address";

    private static readonly string[] Providers = ["prov-a", "prov-b", "prov-c"];

    private readonly TestStorage _storage = new();
    private readonly HookedAudit.Hooks _hooks = new();
    private readonly ReviewTableFaults _faults = new();
    private ServiceProvider _services = null!;

    private LinkageAdmin Admin => _services.GetRequiredService<LinkageAdmin>();

    private LinkageRowStore Rows => new(_storage.Storage);

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        await Rows.EnsureCreatedAsync();
        _services = Build();
        var providers = _services.GetRequiredService<ProviderRegistry>();
        foreach (var provider in Providers)
        {
            await providers.RegisterAsync(provider, provider, "Other");
            await providers.SaveProfileAsync(provider, Profile);
        }
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _storage.DisposeAsync();
    }

    // The app over this test's storage: the table clients go through _faults (which does nothing unless armed), and the audit
    // runs _hooks after it appended a LinkageReviewPruned entry (nothing unless set).
    private ServiceProvider Build() => TestApp.Build(_storage, new FakeTimeProvider(TestApp.Now), configure: services =>
    {
        services.AddSingleton(_ => _storage.StorageWithTablePolicy(_faults));
        services.AddSingleton<AuditLog>(sp => new HookedAudit(_hooks, sp.GetRequiredService<ChildShareStorage>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<AuditLog>>()));
    });

    // ---------------------------------------------------------------------------------------------------------------------------
    // Lead 1: an entry closed by a join is not closed for good. A split of another pair re-opens it, but the prune deleted it.
    // ---------------------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// A1 (prov-a) and C1 (prov-c) are the same name and birth date at different addresses: uncertain, queued. B1 (prov-b) is A1
    /// at A1's address (joined) and uncertain with C1. The operator merges B1 with C1 (all three one cluster: the entry A1~C1 is
    /// "joined", closed), then finds the merge wrong and splits B1 from C1: A1 and C1 are again two children that nothing
    /// separates, and the uncertain pair is open again. Without a prune the listing shows it (the control test below).
    /// </summary>
    [Fact]
    public async Task Adversary33Prune_PruneBetweenAMergeAndItsUndo_LosesTheEntryTheSplitReopens()
    {
        var (a1, _, c1) = await ThreeChildrenMergedByTheOperatorAsync();
        Assert.Equal(1, await Admin.PruneReviewsAsync("operator:test", default));

        await Admin.SplitAsync(await KeyOf("prov-b", "B1"), c1, "operator:test", default);

        // Expected: A1~C1 is open again and listed, as it is without a prune. Actual: the prune deleted it for good (nothing
        // queues it again until prov-a or prov-c sends the child again and it scores in the band once more).
        var listed = await Admin.ReviewAsync(10, "operator:test", default);
        Assert.Contains(listed, r => LinkageStore.ReviewKey(r.ProviderChildA, r.ProviderChildB) == LinkageStore.ReviewKey(a1, c1));
    }

    /// <summary>
    /// The same loss without an operator merge: B1 is sent at A1's address (joined with A1), then again at C1's address (its second
    /// variant joins C1), so a later upload closes A1~C1; the prune deletes it; the operator splits B1 from C1. With
    /// <paramref name="prune"/> false this is the control (passes); with true it fails.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Adversary33Prune_PruneAfterAnUploadJoinedThePair_ThenASplit_LosesTheReopenedEntry(bool prune)
    {
        await IngestAsync("prov-a/a.csv", ["A1,,Olivia,Walker,2010-02-20,12345,Tutoring,2026-09-01,2026-09-30,12 Banner St"]);
        await IngestAsync("prov-c/c.csv", ["C1,,Olivia,Walker,2010-02-20,54321,Clinic,2026-09-01,2026-09-30,7 Oxley Pl"]);
        await IngestAsync("prov-b/b.csv", ["B1,,Olivia,Walker,2010-02-20,12345,Meals,2026-09-01,2026-09-30,12 Banner St"]);
        await IngestAsync("prov-b/b2.csv", ["B1,,Olivia,Walker,2010-02-20,54321,Meals,2026-10-01,2026-10-30,7 Oxley Pl"]);
        var (a1, b1, c1) = (await KeyOf("prov-a", "A1"), await KeyOf("prov-b", "B1"), await KeyOf("prov-c", "C1"));
        var nodes = await NodesAsync(a1, b1, c1);
        Assert.Equal(nodes[a1].ClusterKey, nodes[b1].ClusterKey);
        Assert.Equal(nodes[a1].ClusterKey, nodes[c1].ClusterKey);
        Assert.Contains(await Rows.ReadReviewsAsync(), r => LinkageStore.ReviewKey(r.KeyA, r.KeyB) == LinkageStore.ReviewKey(a1, c1));

        if (prune)
        {
            Assert.True(await Admin.PruneReviewsAsync("operator:test", default) >= 1);
        }

        await Admin.SplitAsync(b1, c1, "operator:test", default);
        nodes = await NodesAsync(a1, b1, c1);
        Assert.NotEqual(nodes[a1].ClusterKey, nodes[c1].ClusterKey);

        var listed = await Admin.ReviewAsync(10, "operator:test", default);
        Assert.Contains(listed, r => LinkageStore.ReviewKey(r.ProviderChildA, r.ProviderChildB) == LinkageStore.ReviewKey(a1, c1));
    }

    /// <summary>
    /// How long the loss of F1 lasts: after the prune and the split, both providers send the same children again (a new month of
    /// service, identities unchanged). Does the linker queue A1~C1 again? (Evidence of severity, either way.)
    /// </summary>
    [Fact]
    public async Task Adversary33Prune_AfterTheLoss_BothChildrenSentAgainUnchanged_TheEntryIsQueuedAgain()
    {
        var (a1, b1, c1) = await ThreeChildrenMergedByTheOperatorAsync();
        Assert.Equal(1, await Admin.PruneReviewsAsync("operator:test", default));
        await Admin.SplitAsync(b1, c1, "operator:test", default);

        await IngestAsync("prov-a/a-oct.csv", ["A1,,Olivia,Walker,2010-02-20,12345,Tutoring,2026-10-01,2026-10-30,12 Banner St"]);
        await IngestAsync("prov-c/c-oct.csv", ["C1,,Olivia,Walker,2010-02-20,54321,Clinic,2026-10-01,2026-10-30,7 Oxley Pl"]);

        var listed = await Admin.ReviewAsync(10, "operator:test", default);
        Assert.Contains(listed, r => LinkageStore.ReviewKey(r.ProviderChildA, r.ProviderChildB) == LinkageStore.ReviewKey(a1, c1));
    }

    /// <summary>The control of the test above: the same steps without the prune list A1~C1 after the split.</summary>
    [Fact]
    public async Task Adversary33Prune_Control_WithoutAPruneTheSplitReopensTheEntryInTheListing()
    {
        var (a1, _, c1) = await ThreeChildrenMergedByTheOperatorAsync();

        await Admin.SplitAsync(await KeyOf("prov-b", "B1"), c1, "operator:test", default);

        var listed = await Admin.ReviewAsync(10, "operator:test", default);
        Assert.Contains(listed, r => LinkageStore.ReviewKey(r.ProviderChildA, r.ProviderChildB) == LinkageStore.ReviewKey(a1, c1));
    }

    private async Task<(string A1, string B1, string C1)> ThreeChildrenMergedByTheOperatorAsync()
    {
        await IngestAsync("prov-a/a.csv", ["A1,,Olivia,Walker,2010-02-20,12345,Tutoring,2026-09-01,2026-09-30,12 Banner St"]);
        await IngestAsync("prov-c/c.csv", ["C1,,Olivia,Walker,2010-02-20,54321,Clinic,2026-09-01,2026-09-30,7 Oxley Pl"]);
        var (a1, c1) = (await KeyOf("prov-a", "A1"), await KeyOf("prov-c", "C1"));
        var first = Assert.Single(await Admin.ReviewAsync(10, "operator:test", default));
        Assert.Equal(LinkageStore.ReviewKey(a1, c1), LinkageStore.ReviewKey(first.ProviderChildA, first.ProviderChildB));

        await IngestAsync("prov-b/b.csv", ["B1,,Olivia,Walker,2010-02-20,12345,Meals,2026-09-01,2026-09-30,12 Banner St"]);
        var b1 = await KeyOf("prov-b", "B1");
        var nodes = await NodesAsync(a1, b1, c1);
        Assert.Equal(nodes[a1].ClusterKey, nodes[b1].ClusterKey);
        Assert.NotEqual(nodes[a1].ClusterKey, nodes[c1].ClusterKey);

        await Admin.MergeAsync(b1, c1, "operator:test", default);
        nodes = await NodesAsync(a1, b1, c1);
        Assert.Equal(nodes[a1].ClusterKey, nodes[c1].ClusterKey);
        // The entry A1~C1 is still stored (closed: one cluster); the listing leaves it out.
        Assert.Contains(await Rows.ReadReviewsAsync(), r => LinkageStore.ReviewKey(r.KeyA, r.KeyB) == LinkageStore.ReviewKey(a1, c1));
        Assert.DoesNotContain(await Admin.ReviewAsync(10, "operator:test", default),
            r => LinkageStore.ReviewKey(r.ProviderChildA, r.ProviderChildB) == LinkageStore.ReviewKey(a1, c1));
        return (a1, b1, c1);
    }

    // ---------------------------------------------------------------------------------------------------------------------------
    // Lead 2: the lease lost between the check and the deletes. Nothing stops the deletes; a split by the next holder re-opens
    // the entry meanwhile, and the If-Match does not help (a split does not touch the review row).
    // ---------------------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Adversary33Prune_LeaseLostAfterTheCheck_DoesNotDeleteAnEntryTheNextHolderReopened()
    {
        var (a1, b1, c1) = await ThreeChildrenMergedByTheOperatorAsync();
        var ranSplit = false;
        _hooks.AfterPruneAudit = async _ =>
        {
            // The prune's lease is taken away (a long GC pause, a partition: the holder does not know yet) and another instance,
            // the command line, takes the lock and undoes the merge.
            await LockBlob().GetBlobLeaseClient().BreakAsync(TimeSpan.Zero, cancellationToken: CancellationToken.None);
            Task split;
            using (ExecutionContext.SuppressFlow())
            {
                split = Task.Run(
                    async () =>
                    {
                        await using var other = TestApp.Build(_storage, new FakeTimeProvider(TestApp.Now));
                        await other.GetRequiredService<LinkageAdmin>().SplitAsync(b1, c1, "operator:other", default);
                    },
                    CancellationToken.None);
            }

            await split;

            ranSplit = true;
        };

        // Expected: the prune notices it lost the lock and deletes nothing (or the entry is kept). Actual: it deletes A1~C1.
        string outcome;
        try
        {
            outcome = "returned " + await Admin.PruneReviewsAsync("operator:test", default);
        }
        catch (LinkageLockLostException)
        {
            // Acceptable outcome, as long as the entry is still there.
            outcome = "threw LinkageLockLostException";
        }

        Assert.True(ranSplit);
        var nodes = await NodesAsync(a1, b1, c1);
        Assert.NotEqual(nodes[a1].ClusterKey, nodes[c1].ClusterKey);
        Assert.True((await Rows.ReadReviewsAsync()).Any(r => LinkageStore.ReviewKey(r.KeyA, r.KeyB) == LinkageStore.ReviewKey(a1, c1)),
            $"A1~C1 was deleted after the split reopened it; the prune {outcome}");
    }

    /// <summary>
    /// The evidence on the other side: when the loss IS noticed (a 15 s lease broken, the renewal at 5 s refused) before the
    /// deletes, the work's token is cancelled and nothing is deleted.
    /// </summary>
    [Fact]
    public async Task Adversary33Prune_LeaseLostAndNoticedBeforeTheDeletes_DeletesNothingAndThrowsLockLost()
    {
        await using var shortLease = TestApp.Build(_storage, new FakeTimeProvider(TestApp.Now), [new("Linkage:LockLeaseSeconds", "15")], services =>
            services.AddSingleton<AuditLog>(sp => new HookedAudit(_hooks, sp.GetRequiredService<ChildShareStorage>(), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<AuditLog>>())));
        await ClosedEntriesAsync(3);
        var noticed = false;
        _hooks.AfterPruneAudit = async ct =>
        {
            await LockBlob().GetBlobLeaseClient().BreakAsync(TimeSpan.Zero, cancellationToken: CancellationToken.None);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), ct);
            }
            catch (OperationCanceledException)
            {
                noticed = true;
            }
        };

        await Assert.ThrowsAsync<LinkageLockLostException>(() => shortLease.GetRequiredService<LinkageAdmin>().PruneReviewsAsync("operator:test", default));
        Assert.True(noticed);
        Assert.Equal(3, (await Rows.ReadReviewsAsync()).Count);
    }

    private Azure.Storage.Blobs.BlobClient LockBlob() =>
        _storage.Blobs.GetBlobContainerClient(_storage.Options.LocksContainer).GetBlobClient(_storage.Options.TablePrefix + BlobLeaseLinkageLock.LinkageBlobName);

    // ---------------------------------------------------------------------------------------------------------------------------
    // Lead 4: a crash among the deletes, after the audit.
    // ---------------------------------------------------------------------------------------------------------------------------

    /// <summary>The deletes fail (storage throttles, the process dies): the audit should not claim a prune that did not happen.</summary>
    [Fact]
    public async Task Adversary33Prune_DeletesFailAfterTheAudit_TheAuditDoesNotRecordASucceededPrune()
    {
        await ClosedEntriesAsync(3);
        _faults.FailReviewDeletes = true;
        await Assert.ThrowsAnyAsync<Exception>(() => Admin.PruneReviewsAsync("operator:test", default));
        Assert.Equal(3, (await Rows.ReadReviewsAsync()).Count);

        // Expected: an entry appended before the change says so (AuditOutcomes.Committing, like every other audited change: "an
        // attempt that crashed has the entry and no change"), or the failure is recorded. Actual: "Succeeded", RowsReturned 3,
        // for a prune that deleted nothing.
        var pruned = Assert.Single(await PruneAuditsAsync());
        Assert.NotEqual(AuditOutcomes.Succeeded, pruned.GetString("Outcome"));
    }

    /// <summary>The same crash, then a re-run: everything closed is deleted, and the re-run is audited again.</summary>
    [Fact]
    public async Task Adversary33Prune_DeletesFailAfterTheAudit_ARerunDeletesEveryClosedEntryAndKeepsTheOpenOne()
    {
        var open = await ClosedEntriesAsync(3, withOpen: true);
        _faults.FailReviewDeletes = true;
        await Assert.ThrowsAnyAsync<Exception>(() => Admin.PruneReviewsAsync("operator:test", default));
        _faults.FailReviewDeletes = false;

        Assert.Equal(3, await Admin.PruneReviewsAsync("operator:test", default));
        var left = Assert.Single(await Rows.ReadReviewsAsync());
        Assert.Equal(open, LinkageStore.ReviewKey(left.KeyA, left.KeyB));
        Assert.Equal(2, (await PruneAuditsAsync()).Count);
    }

    /// <summary>
    /// A crash between two transactions (150 closed entries: the first 100 go, the second transaction fails): 50 are left, the audit
    /// already says 150 "Committing" (an intent, not a result), and a re-run deletes the 50 (and audits 50).
    /// </summary>
    [Fact]
    public async Task Adversary33Prune_CrashBetweenTransactions_LeavesTheRestForARerunAndTheFirstAuditClaimsAll()
    {
        await ClosedEntriesAsync(150);
        _faults.FailReviewDeletesAfterBatches = 1;
        await Assert.ThrowsAnyAsync<Exception>(() => Admin.PruneReviewsAsync("operator:test", default));
        _faults.FailReviewDeletesAfterBatches = -1;
        Assert.Equal(50, (await Rows.ReadReviewsAsync()).Count);

        Assert.Equal(50, await Admin.PruneReviewsAsync("operator:test", default));
        Assert.Empty(await Rows.ReadReviewsAsync());
        var audits = await PruneAuditsAsync();
        Assert.Equal([50L, 150L], audits.Select(e => e.GetInt64("RowsReturned") ?? -1).Order());
        Assert.All(audits, e => Assert.Equal(AuditOutcomes.Committing, e.GetString("Outcome")));
    }

    // ---------------------------------------------------------------------------------------------------------------------------
    // Lead 1: only closed entries go, whatever the keys look like (nodes written directly, so every case is exact).
    // ---------------------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Adversary33Prune_OnlyClosedEntriesGo_OpenOnesWithConstraintsSharedKeysAndOneProviderAreKept()
    {
        var writer = new BatchWriter();
        async Task Node(string key, string cluster, string doNotLink = "", string mustLink = "")
        {
            var provider = key[..key.IndexOf('|', StringComparison.Ordinal)];
            await Rows.WriteNodeAsync(writer, new LinkNodeRow(key, provider, "seed-" + key, "", cluster, "rule", doNotLink, mustLink), LinkageLayout.Current);
        }

        // Open: separate clusters, the do-not-link names a third node; a must-link to another node; one local token at two providers;
        // two local ids of one provider; keys that are prefixes of each other.
        await Node("p1|aa", "k1", doNotLink: "p3|zz");
        await Node("p2|aa", "k2", mustLink: "p3|zz");
        await Node("p3|zz", "k3", doNotLink: "p1|aa");
        await Node("p1|ab", "k4");
        await Node("p1|a", "k5");
        await Node("p1|abc", "k6");
        // Closed: one cluster; a do-not-link on one side only; a node missing.
        await Node("p4|x1", "k7");
        await Node("p5|x1", "k7");
        await Node("p4|x2", "k8", doNotLink: "p5|x2");
        await Node("p5|x2", "k9");
        await Node("p4|x3", "k10");
        await writer.FlushAsync();

        string[][] open = [["p1|aa", "p2|aa"], ["p2|aa", "p3|zz"], ["p1|aa", "p1|ab"], ["p1|a", "p1|ab"], ["p1|ab", "p1|abc"], ["p1|a", "p1|abc"]];
        string[][] closed = [["p4|x1", "p5|x1"], ["p5|x2", "p4|x2"], ["p4|x3", "p5|x3"], ["p1|aa", "p3|zz"]];
        writer = new BatchWriter();
        foreach (var pair in open.Concat(closed))
        {
            await Rows.WriteReviewAsync(writer, new LinkReviewRow(pair[0], pair[1], 13, "fn+", false), TestApp.Now);
        }

        await writer.FlushAsync();

        Assert.Equal(closed.Length, await Admin.PruneReviewsAsync("operator:test", default));
        Assert.Equal(open.Select(p => LinkageStore.ReviewKey(p[0], p[1])).Order(StringComparer.Ordinal),
            (await Rows.ReadReviewsAsync()).Select(r => LinkageStore.ReviewKey(r.KeyA, r.KeyB)).Order(StringComparer.Ordinal));
    }

    // ---------------------------------------------------------------------------------------------------------------------------
    // Lead 3: past 100 rows, one changed in the second transaction and one gone from the third.
    // ---------------------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Adversary33Prune_DeleteReviewsIfUnchanged_250RowsOneRequeuedOneGone_DeletesTheOther248AndKeepsTheRequeued()
    {
        var writer = new BatchWriter();
        for (var i = 0; i < 250; i++)
        {
            await Rows.WriteReviewAsync(writer, new LinkReviewRow($"p1|t{i:D4}", $"p2|t{i:D4}", 13, "fn+", false), TestApp.Now);
        }

        await writer.FlushAsync();
        var read = await Rows.ReadQueuedReviewsAsync();
        Assert.Equal(250, read.Count);
        var requeued = read[150].Row;
        var gone = read[220].Row;
        writer = new BatchWriter();
        await Rows.WriteReviewAsync(writer, requeued with { Weight = 14 }, TestApp.Now.AddDays(1));
        await writer.FlushAsync();
        await Rows.DeleteReviewAsync(gone.KeyA, gone.KeyB);

        Assert.Equal(248, await Rows.DeleteReviewsIfUnchangedAsync(read));
        var left = Assert.Single(await Rows.ReadReviewsAsync());
        Assert.Equal(requeued with { Weight = 14 }, left);
    }

    // ---------------------------------------------------------------------------------------------------------------------------
    // Lead 6: requests per prune.
    // ---------------------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Adversary33Prune_ManyEntries_OneQueryOfTheQueueAndTwoPointReadsAnEntryAndNoQueryPerEntry()
    {
        const int entries = 120;
        var writer = new BatchWriter();
        for (var i = 0; i < entries; i++)
        {
            var (a, b) = ($"p1|t{i:D4}", $"p2|t{i:D4}");
            await Rows.WriteNodeAsync(writer, new LinkNodeRow(a, "p1", "s", "", "k" + i, "r", "", ""), LinkageLayout.Current);
            // Every other pair closed (one cluster).
            await Rows.WriteNodeAsync(writer, new LinkNodeRow(b, "p2", "s", "", i % 2 == 0 ? "k" + i : "m" + i, "r", "", ""), LinkageLayout.Current);
            await Rows.WriteReviewAsync(writer, new LinkReviewRow(a, b, 13, "fn+", false), TestApp.Now);
        }

        await writer.FlushAsync();
        _faults.Record = true;
        Assert.Equal(entries / 2, await Admin.PruneReviewsAsync("operator:test", default));
        _faults.Record = false;

        var seen = _faults.Seen.ToList();
        var queries = seen.Where(r => r.Method == "GET" && r.Uri.Contains("$filter", StringComparison.OrdinalIgnoreCase)).ToList();
        var pointReads = seen.Count(r => r.Method == "GET" && r.Uri.Contains("linkrecords", StringComparison.Ordinal) && r.Uri.Contains("PartitionKey=", StringComparison.Ordinal));
        var batches = seen.Count(r => r.Method == "POST" && r.Uri.Contains("$batch", StringComparison.Ordinal));
        Assert.Single(queries);
        Assert.Equal(2 * entries, pointReads);
        Assert.Equal(1, batches);
    }

    // ---------------------------------------------------------------------------------------------------------------------------
    // Lead 5: what the audit, the log and the exceptions carry.
    // ---------------------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Adversary33Prune_TheAuditEntryCarriesNoKeyAndAnAuditOutageDeletesNothing()
    {
        var keys = await ClosedEntriesAsync(2, withOpen: true);
        await using (var outage = AuditOutage.Build(_storage, new FakeTimeProvider(TestApp.Now)))
        {
            var e = await Assert.ThrowsAnyAsync<Exception>(() => outage.GetRequiredService<LinkageAdmin>().PruneReviewsAsync("operator:test", default));
            Assert.DoesNotContain("p1|", e.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal(3, (await Rows.ReadReviewsAsync()).Count);
        Assert.Equal(2, await Admin.PruneReviewsAsync("operator:test", default));
        var entry = Assert.Single(await PruneAuditsAsync());
        foreach (var (name, value) in entry)
        {
            var text = value?.ToString() ?? "";
            Assert.DoesNotContain("p1|", text, StringComparison.Ordinal);
            Assert.DoesNotContain("p2|", text, StringComparison.Ordinal);
            Assert.DoesNotContain(keys, text, StringComparison.Ordinal);
            _ = name;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------------------

    /// <summary>Writes <paramref name="count"/> closed entries (one cluster) and, optionally, one open one; returns the open one's key.</summary>
    private async Task<string> ClosedEntriesAsync(int count, bool withOpen = false)
    {
        var writer = new BatchWriter();
        for (var i = 0; i < count; i++)
        {
            var (a, b) = ($"p1|c{i}", $"p2|c{i}");
            await Rows.WriteNodeAsync(writer, new LinkNodeRow(a, "p1", "s", "", "k" + i, "r", "", ""), LinkageLayout.Current);
            await Rows.WriteNodeAsync(writer, new LinkNodeRow(b, "p2", "s", "", "k" + i, "r", "", ""), LinkageLayout.Current);
            await Rows.WriteReviewAsync(writer, new LinkReviewRow(a, b, 13, "fn+", false), TestApp.Now);
        }

        await Rows.WriteNodeAsync(writer, new LinkNodeRow("p1|open", "p1", "s", "", "ko1", "r", "", ""), LinkageLayout.Current);
        await Rows.WriteNodeAsync(writer, new LinkNodeRow("p2|open", "p2", "s", "", "ko2", "r", "", ""), LinkageLayout.Current);
        if (withOpen)
        {
            await Rows.WriteReviewAsync(writer, new LinkReviewRow("p1|open", "p2|open", 13, "fn+", false), TestApp.Now);
        }

        await writer.FlushAsync();
        return LinkageStore.ReviewKey("p1|open", "p2|open");
    }

    private async Task<List<TableEntity>> PruneAuditsAsync() =>
        (await _storage.ReadAllAsync(TableNames.Audit)).Where(e => e.GetString("Event") == LinkageAuditEvents.ReviewPruned).ToList();

    private async Task<Dictionary<string, LinkNodeState>> NodesAsync(params string[] keys) =>
        (await _services.GetRequiredService<LinkageStore>().ReadNodesAsync(keys, default)).ToDictionary(n => n.Key, StringComparer.Ordinal);

    private async Task IngestAsync(string blobName, IEnumerable<string> rows)
    {
        var content = Header + "\n" + string.Join("\n", rows) + "\n";
        var blob = await _storage.UploadAsync(blobName, new UTF8Encoding(false).GetBytes(content));
        var manifest = await _services.GetRequiredService<IngestionService>().IngestAsync(blob);
        Assert.NotEqual(UploadStatus.Failed, manifest.Status);
    }

    private async Task<string> KeyOf(string providerId, string localId) => await Admin.ProviderChildAsync(providerId, localId, default);

    /// <summary>An audit that runs a test's hook right after it appended the prune's entry (between the check and the deletes).</summary>
    private sealed class HookedAudit(HookedAudit.Hooks hooks, ChildShareStorage storage, TimeProvider time, ILogger<AuditLog> logger)
        : AuditLog(storage, time, logger)
    {
        public override async Task<(string PartitionKey, string RowKey)> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default)
        {
            var appended = await base.AppendAsync(entry, cancellationToken);
            if (entry.Event == LinkageAuditEvents.ReviewPruned && hooks.AfterPruneAudit is { } hook)
            {
                hooks.AfterPruneAudit = null;
                await hook(cancellationToken);
            }

            return appended;
        }

        public sealed class Hooks
        {
            public Func<CancellationToken, Task>? AfterPruneAudit { get; set; }
        }
    }

    /// <summary>Records table requests, and when armed fails every delete of a review row (alone or in a transaction).</summary>
    private sealed class ReviewTableFaults : HttpPipelinePolicy
    {
        public volatile bool FailReviewDeletes;
        public volatile int FailReviewDeletesAfterBatches = -1;
        private int _batches;
        public volatile bool Record;

        public ConcurrentQueue<(string Method, string Uri)> Seen { get; } = new();

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) => throw new NotSupportedException();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            var uri = Uri.UnescapeDataString(message.Request.Uri.ToString());
            if (Record)
            {
                Seen.Enqueue((message.Request.Method.Method, uri));
            }

            var isReviewDelete = (message.Request.Method == RequestMethod.Delete && uri.Contains("linkreview", StringComparison.Ordinal))
                || (message.Request.Method == RequestMethod.Post && uri.Contains("$batch", StringComparison.Ordinal) && BodyOf(message).Contains("linkreview", StringComparison.Ordinal));
            if (isReviewDelete && FailReviewDeletesAfterBatches >= 0 && Interlocked.Increment(ref _batches) > FailReviewDeletesAfterBatches)
            {
                throw new RequestFailedException(503, "Injected: a later review delete fails.");
            }

            if (FailReviewDeletes && isReviewDelete)
            {
                throw new RequestFailedException(503, "Injected: the review deletes fail.");
            }

            await ProcessNextAsync(message, pipeline);
        }

        private static string BodyOf(HttpMessage message)
        {
            if (message.Request.Content is not { } content)
            {
                return "";
            }

            using var stream = new MemoryStream();
            content.WriteTo(stream, default);
            return Encoding.UTF8.GetString(stream.ToArray());
        }
    }
}

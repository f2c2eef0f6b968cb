using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using ChildShare.Cli;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.Linkage;

/// <summary>
/// The storage shape of linkage on Azurite: blocks and clusters as rows read by point reads (no query per record), written back
/// with the ETag they were read with (a stale writer fails and writes nothing), a re-delivered upload that changes no row, and an
/// upload whose attempt stopped after the shared rows were written, completed by the next delivery as a clean run would.
/// </summary>
public sealed class LinkageStoreTests : IAsyncLifetime
{
    private static readonly Pseudonymizer Pseudonymizer = new(PseudonymKey.FromBase64("local-dev-1", CliHost.DevelopmentKey));

    private readonly TestStorage _storage = new();
    private readonly TableRequestCounter _counter = new();
    private ServiceProvider _services = null!;

    private IChildLinker Linker => _services.GetRequiredService<IChildLinker>();

    private LinkageStore Store => _services.GetRequiredService<LinkageStore>();

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        _services = Build(_storage, _counter);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _storage.DisposeAsync();
    }

    [Fact]
    public async Task CompleteUploadAsync_UploadAgainstAStoredCommunity_ReadsByPointReadsAndIssuesNoQuery()
    {
        // A small community of families sharing birth dates and names, then an upload whose records find them as candidates.
        await LinkUploadAsync("u-community", Enumerable.Range(0, 40).Select(i => Child("prov-a", "A" + i, i)));
        var before = _counter.Snapshot();

        var completion = await LinkUploadAsync("u-probe", Enumerable.Range(0, 40).Select(i => Child("prov-b", "B" + i, i)));

        var after = _counter.Snapshot();
        Assert.True(completion.Candidates > 40, "the probe should have found the community's records as candidates");
        Assert.Equal(40, (await NodesAsync()).Select(n => n.Cluster).Distinct().Count());
        Assert.Equal(0, after.Queries - before.Queries);
        Assert.True(after.PointReads - before.PointReads > 0);
    }

    [Fact]
    public async Task CompleteUploadAsync_ChildrenNoUploadSentBefore_ReadsNoneOfTheirNodeRows()
    {
        await LinkUploadAsync("u-community", Enumerable.Range(0, 40).Select(i => Child("prov-a", "A" + i, i)));
        var before = _counter.Snapshot();

        // Another instance, which keeps none of the first's rows: it reads what it needs.
        await using var other = Build(_storage, _counter);
        var otherLinker = other.GetRequiredService<IChildLinker>();
        var completion = await LinkUploadAsync(otherLinker, "u-probe", Enumerable.Range(0, 40).Select(i => Child("prov-b", "B" + i, i)));

        var after = _counter.Snapshot();
        var probeKeys = Enumerable.Range(0, 40).Select(i => Child("prov-b", "B" + i, i).Key).ToHashSet();
        Assert.Equal(probeKeys, completion.NewChildren.ToHashSet());

        // Their candidates' nodes (prov-a) are read; theirs never: a node row of prov-b does not exist to read.
        Assert.True(after.ReadsOf(LinkageTables.Records, "prov-b") == before.ReadsOf(LinkageTables.Records, "prov-b"),
            "a node of a child no upload sent before was read");
        Assert.True(after.ReadsOf(LinkageTables.Records, "prov-a") > before.ReadsOf(LinkageTables.Records, "prov-a"));

        // Sent again (to the first instance, which did not write them), they are known: their rows are read, and nothing changes.
        var again = await LinkUploadAsync("u-probe-again", Enumerable.Range(0, 40).Select(i => Child("prov-b", "B" + i, i)));
        Assert.Empty(again.NewChildren);
        Assert.True(_counter.Snapshot().ReadsOf(LinkageTables.Records, "prov-b") >= 40);
        Assert.Equal(40, (await NodesAsync()).Select(n => n.Cluster).Distinct().Count());
    }

    [Fact]
    public async Task CompleteUploadAsync_TokensNoUploadIndexedBefore_ReadsNoneOfTheirBlockRowsAndLinksAsAStoreThatReadsThemAll()
    {
        // A store whose fence says its known-blocks set is not complete (older code linked in it) reads every block: the reference.
        var reference = new TestStorage();
        await reference.InitializeAsync();
        try
        {
            var referenceCounter = new TableRequestCounter();
            await using var referenceServices = Build(reference, referenceCounter);
            await referenceServices.GetRequiredService<LinkageStore>().EnsureCreatedAsync(default);
            await reference.Storage.Table(LinkageTables.Blocks).AddEntityAsync(new TableEntity("~fence", "linkage") { ["Writes"] = 0L, ["Layout"] = 2 });
            var referenceLinker = referenceServices.GetRequiredService<IChildLinker>();

            // The first upload's tokens are all new: not one block is read. A second provider's children share the first's tokens
            // (one family each): those blocks are read, and only those.
            var first = Enumerable.Range(0, 30).Select(i => Child("prov-a", "A" + i, i)).ToList();
            var second = Enumerable.Range(0, 40).Select(i => Child("prov-b", "B" + i, i)).ToList();
            await LinkUploadAsync("u-1", first);
            Assert.Equal(0, _counter.Snapshot().BlockReads);

            // The second in another instance, which keeps none of the first's rows.
            await using (var other = Build(_storage, _counter))
            {
                await LinkUploadAsync(other.GetRequiredService<IChildLinker>(), "u-2", second);
            }

            var blockReads = _counter.Snapshot().BlockReads;
            Assert.InRange(blockReads, 1, (await _storage.ReadAllAsync(LinkageTables.Blocks)).Count(b => b.PartitionKey != "~fence"));

            await LinkUploadAsync(referenceLinker, "u-1", first);
            await LinkUploadAsync(referenceLinker, "u-2", second);
            Assert.True(referenceCounter.Snapshot().BlockReads > blockReads, "the reference store should read every block");
            Assert.Equal(await NodesAsync(reference), await NodesAsync());
            Assert.Equal(await SnapshotAsync(reference, LinkageTables.Clusters), await SnapshotAsync(_storage, LinkageTables.Clusters));
            Assert.Equal(await SnapshotAsync(reference, LinkageTables.Blocks), await SnapshotAsync(_storage, LinkageTables.Blocks));
            Assert.Equal(40, (await NodesAsync()).Select(n => n.Cluster).Distinct().Count());
            Assert.False(await reference.Storage.Locks.GetBlobClient(reference.Storage.LockName("known-blocks")).ExistsAsync());
        }
        finally
        {
            await reference.DisposeAsync();
        }
    }

    [Fact]
    public async Task CompleteUploadAsync_KnownBlocksSetLost_TurnsTheSetOffAndLinksLikeACleanRun()
    {
        var first = Enumerable.Range(0, 6).Select(i => Child("prov-a", "A" + i, i)).ToList();
        var second = Enumerable.Range(0, 6).Select(i => Child("prov-b", "B" + i, i)).ToList();
        await LinkUploadAsync("u-1", first);
        await _storage.Storage.Locks.DeleteBlobIfExistsAsync(_storage.Storage.LockName("known-blocks"));

        // Units of work wrote, yet there is no set: it was deleted, so it is off for good and every block is read, as in a store older
        // code linked in.
        await LinkUploadAsync("u-2", second);
        Assert.False((await new LinkageRowStore(_storage.Storage).ReadFenceAsync()).KnownBlocks);
        Assert.False(await _storage.Storage.Locks.GetBlobClient(_storage.Storage.LockName("known-blocks")).ExistsAsync());

        await AssertEndsLikeACleanRunAsync(("u-1", first), ("u-2", second));
        Assert.Equal(6, (await NodesAsync()).Select(n => n.Cluster).Distinct().Count());
    }

    [Fact]
    public async Task CompleteUploadAsync_ALaterUploadOfTheSameInstance_ReadsNoLinkageRowTheEarlierLeftAndLinksLikeACleanRun()
    {
        // One family member per provider: every child of the second upload finds the first's as a candidate.
        var first = Enumerable.Range(0, 30).Select(i => Child("prov-a", "A" + i, i)).ToList();
        var second = Enumerable.Range(0, 40).Select(i => Child("prov-b", "B" + i, i)).ToList();
        await LinkUploadAsync("u-1", first);
        var before = _counter.Snapshot();

        var completion = await LinkUploadAsync("u-2", second);

        var after = _counter.Snapshot();
        Assert.True(completion.Candidates > 40, "the second upload should have found the first's records as candidates");
        Assert.Equal(0, after.LinkageRowReads - before.LinkageRowReads);
        Assert.Equal(40, (await NodesAsync()).Select(n => n.Cluster).Distinct().Count());
        await AssertEndsLikeACleanRunAsync(("u-1", first), ("u-2", second));
    }

    [Fact]
    public async Task CompleteUploadAsync_AnotherInstanceLinkedSince_ReadsTheRowsAgainAndLinksLikeACleanRun()
    {
        // The second instance's children share the first's surnames and birth dates, but not their first names: they are other
        // children, in the same blocks. The third upload holds the second's children again: only with the second's block rows does it
        // find them.
        var first = Enumerable.Range(0, 10).Select(i => Child("prov-a", "A" + i, i)).ToList();
        var second = Enumerable.Range(0, 10).Select(i => Child("prov-b", "B" + i, i, first: "Zebulon")).ToList();
        var third = Enumerable.Range(0, 10).Select(i => Child("prov-c", "C" + i, i, first: "Zebulon")).ToList();
        await LinkUploadAsync("u-1", first);
        await using (var other = Build(_storage, _counter))
        {
            await LinkUploadAsync(other.GetRequiredService<IChildLinker>(), "u-2", second);
        }

        var before = _counter.Snapshot();
        await LinkUploadAsync("u-3", third);

        Assert.True(_counter.Snapshot().LinkageRowReads > before.LinkageRowReads, "rows another instance wrote must be read");
        await AssertEndsLikeACleanRunAsync(("u-1", first), ("u-2", second), ("u-3", third));
        Assert.Equal(20, (await NodesAsync()).Select(n => n.Cluster).Distinct().Count());
    }

    [Fact]
    public async Task CompleteUploadAsync_AnOperatorSplitSince_ReadsTheRowsAgainAndKeepsTheSplit()
    {
        // A split by the command line (another process) and one by this instance's own admin: neither is remembered, so the next upload
        // reads the rows they wrote and never puts the split children back together from a copy taken before.
        var first = Enumerable.Range(0, 4).Select(i => Child("prov-a", "A" + i, i)).ToList();
        var second = Enumerable.Range(0, 4).Select(i => Child("prov-b", "B" + i, i)).ToList();
        await LinkUploadAsync("u-1", first);
        await LinkUploadAsync("u-2", second);
        var admin = _services.GetRequiredService<LinkageAdmin>();
        await admin.SplitAsync(first[0].Key, second[0].Key, "operator", default);
        var before = _counter.Snapshot();

        await LinkUploadAsync("u-3", second);

        Assert.True(_counter.Snapshot().LinkageRowReads > before.LinkageRowReads, "rows the split wrote must be read");
        var nodes = (await NodesAsync()).ToDictionary(n => n.Key);
        Assert.NotEqual(nodes[first[0].Key].Cluster, nodes[second[0].Key].Cluster);
        Assert.Equal(nodes[first[1].Key].Cluster, nodes[second[1].Key].Cluster);
    }

    [Fact]
    public async Task CandidatesAsync_KnownBlocksSetDeleted_ReadsTheBlockOfATokenTheUploadOnlyLooksUp()
    {
        // The probe's birth date is the stored child's with day and month swapped: the stored child's Dob block is one the probe looks up
        // but does not index, so no add of the probe's would fail on it.
        var (stored, probe) = SwappedBirthDates();
        await LinkUploadAsync("u-1", [stored]);
        await _storage.Storage.Locks.DeleteBlobIfExistsAsync(_storage.Storage.LockName("known-blocks"));

        var encoding = Encode(probe);
        var reads = new LinkageReadSet { NewTokens = await Store.ClaimNewTokensAsync(encoding.Indexed(), default) };
        var candidates = await Store.CandidatesAsync(encoding.Lookups(), new LinkageEngine().Options.MaxBlockSize, reads, default);

        Assert.Contains(stored.Key, candidates);
    }

    [Fact]
    public async Task CandidatesAsync_AnotherHolderLinkedSinceTheUploadClaimedItsTokens_ReadsTheBlocksItWrote()
    {
        // An upload claims its tokens, then loses its lease; another holder links a child whose Dob block the first only looks up. The
        // first's copy of the set does not hold that token, and no add of its own would fail on the block.
        var (stored, probe) = SwappedBirthDates();
        var encoding = Encode(probe);
        var stale = await Store.ClaimNewTokensAsync(encoding.Indexed(), default);
        await LinkUploadAsync("u-other", [stored]);

        var reads = new LinkageReadSet { NewTokens = stale };
        var candidates = await Store.CandidatesAsync(encoding.Lookups(), new LinkageEngine().Options.MaxBlockSize, reads, default);

        Assert.Contains(stored.Key, candidates);
    }

    [Fact]
    public async Task ClaimNewTokensAsync_ANewStoresFirstUnitClaimsNoToken_WritesTheSetSoALaterUploadKeepsIt()
    {
        // A first unit of work with no indexed token (no child had one) writes the fence; were the set not written, the next upload
        // would take the store for one whose set was deleted and turn the set off.
        await Store.EnsureCreatedAsync(default);
        var first = await Store.ClaimNewTokensAsync([], default);
        Assert.Equal(0, first.Claimed);
        Assert.True(await _storage.Storage.Locks.GetBlobClient(_storage.Storage.LockName("known-blocks")).ExistsAsync());

        var rows = new LinkageRowStore(_storage.Storage);
        await rows.AdvanceFenceAsync(await rows.ReadFenceAsync());
        await LinkUploadAsync("u-1", [Child("prov-a", "A1", 1)]);
        Assert.True((await new LinkageRowStore(_storage.Storage).ReadFenceAsync()).KnownBlocks);
    }

    /// <summary>Two children of different families whose birth dates are each other's with day and month swapped.</summary>
    private static (TestChild Stored, TestChild Probe) SwappedBirthDates()
    {
        var stored = Child("prov-a", "A1", 1);
        stored = stored with { Identity = stored.Identity with { BirthDate = new DateOnly(2010, 3, 7) } };
        var probe = Child("prov-b", "B1", 20);
        probe = probe with { Identity = probe.Identity with { BirthDate = new DateOnly(2010, 7, 3) } };
        var storedDob = Encode(stored)[LinkTokenKind.Dob];
        Assert.Contains(storedDob, Encode(probe).Lookups());
        Assert.DoesNotContain(storedDob, Encode(probe).Indexed());
        return (stored, probe);
    }

    private static LinkEncoding Encode(TestChild child) =>
        new LinkEncoder(Pseudonymizer, LinkEncoder.DefaultHardening).Encode(LinkInputs.From(child.Identity, child.Demographics));

    [Fact]
    public async Task CompleteUploadAsync_AnUploadOfSeveralChunksSharingTokens_ReadsTheBlocksAnEarlierChunkWrote()
    {
        // Three records a chunk, each family's two records in different chunks: the second chunk must read the blocks the first
        // wrote, though the upload claimed their tokens as new.
        var linker = new IncrementalLinker(_services.GetRequiredService<UploadStagingStore>(), Store, _services.GetRequiredService<ILinkageLock>(),
            TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<IncrementalLinker>.Instance) { ChunkSize = 3 };
        var children = Enumerable.Range(0, 3).Select(i => Child("prov-a", "A" + i, i))
            .Concat(Enumerable.Range(0, 3).Select(i => Child("prov-b", "B" + i, i))).ToList();

        var completion = await LinkUploadAsync(linker, "u-1", children);

        Assert.Equal(6, completion.Records);
        Assert.Equal(3, (await NodesAsync()).Select(n => n.Cluster).Distinct().Count());
        Assert.Equal(3, (await _storage.ReadAllAsync(LinkageTables.Clusters)).Count);
    }

    [Fact]
    public async Task CompleteUploadAsync_AFenceAnOlderVersionReplacedWithoutTheKnownBlocksFlag_ReadsEveryBlockFromThenOn()
    {
        await LinkUploadAsync("u-1", Enumerable.Range(0, 4).Select(i => Child("prov-a", "A" + i, i)));
        Assert.True((await new LinkageRowStore(_storage.Storage).ReadFenceAsync()).KnownBlocks);

        // An instance of the version before the set links once (it writes blocks without adding their tokens to the set), and
        // replaces the fence with its count and layout only.
        var blocks = _storage.Storage.Table(LinkageTables.Blocks);
        var fence = (await blocks.GetEntityAsync<TableEntity>("~fence", "linkage")).Value;
        await blocks.UpdateEntityAsync(new TableEntity("~fence", "linkage") { ["Writes"] = fence.GetInt64("Writes") + 1, ["Layout"] = 2 }, fence.ETag,
            TableUpdateMode.Replace);

        // From then on the set is not relied on: even an upload of families no one sent reads their blocks.
        var before = _counter.Snapshot().BlockReads;
        await LinkUploadAsync("u-2", Enumerable.Range(10, 4).Select(i => Child("prov-b", "B" + i, i)));
        Assert.True(_counter.Snapshot().BlockReads > before, "a store whose set older code may have missed must read every block");
        Assert.False((await new LinkageRowStore(_storage.Storage).ReadFenceAsync()).KnownBlocks);
    }

    [Fact]
    public async Task RebuildKnownBlocksAsync_AStoreBegunWithoutTheSet_SkipsTheBlocksOfNewTokensFromThenOnAndLinksAsBefore()
    {
        // A store begun by the version before the set (a fence with a layout but without the flag), and a reference store like it.
        var reference = new TestStorage();
        await reference.InitializeAsync();
        try
        {
            var referenceCounter = new TableRequestCounter();
            await using var referenceServices = Build(reference, referenceCounter);
            var referenceLinker = referenceServices.GetRequiredService<IChildLinker>();
            foreach (var storage in new[] { _storage, reference })
            {
                await new LinkageRowStore(storage.Storage).EnsureCreatedAsync();
                await storage.Storage.Table(LinkageTables.Blocks).AddEntityAsync(new TableEntity("~fence", "linkage") { ["Writes"] = 0L, ["Layout"] = 2 });
            }

            var first = Enumerable.Range(0, 8).Select(i => Child("prov-a", "A" + i, i)).ToList();
            await LinkUploadAsync("u-1", first);
            await LinkUploadAsync(referenceLinker, "u-1", first);

            var tokens = await _services.GetRequiredService<LinkageAdmin>().RebuildKnownBlocksAsync(default);

            Assert.Equal((await _storage.ReadAllAsync(LinkageTables.Blocks)).Count(b => b.PartitionKey != "~fence"), tokens);
            Assert.True((await new LinkageRowStore(_storage.Storage).ReadFenceAsync()).KnownBlocks);

            // Families no one sent (some of their phonetic tokens are the first families'): only the blocks that exist are read, where
            // the reference reads every token's. Then families the store has: both stores link them alike.
            var before = _counter.Snapshot().BlockReads;
            var referenceBefore = referenceCounter.Snapshot().BlockReads;
            var fresh = Enumerable.Range(20, 4).Select(i => Child("prov-b", "F" + i, i)).ToList();
            await LinkUploadAsync("u-2", fresh);
            await LinkUploadAsync(referenceLinker, "u-2", fresh);
            var reads = _counter.Snapshot().BlockReads - before;
            var referenceReads = referenceCounter.Snapshot().BlockReads - referenceBefore;
            Assert.True(reads < referenceReads, $"{reads} block reads with the set built, {referenceReads} without");
            var known = Enumerable.Range(0, 8).Select(i => Child("prov-b", "B" + i, i)).ToList();
            await LinkUploadAsync("u-3", known);
            await LinkUploadAsync(referenceLinker, "u-3", known);
            Assert.Equal(await NodesAsync(reference), await NodesAsync());
            Assert.Equal(await SnapshotAsync(reference, LinkageTables.Clusters), await SnapshotAsync(_storage, LinkageTables.Clusters));
            Assert.Equal(12, (await NodesAsync()).Select(n => n.Cluster).Distinct().Count());
        }
        finally
        {
            await reference.DisposeAsync();
        }
    }

    [Fact]
    public async Task WriteChangesAsync_AUnitOfWorkThatDidNotClaimItsTokens_IsRefusedBeforeWritingAnything()
    {
        await LinkUploadAsync("u-1", [Child("prov-a", "A1", 1)]);
        var nodes = await NodesAsync();
        var blocks = await SnapshotAsync(LinkageTables.Blocks);

        // A record of a family no one sent, linked without claiming its tokens: its blocks would be added unknown to the set.
        var unclaimed = Child("prov-b", "B5", 5);
        var reads = new LinkageReadSet();
        var engine = new LinkageEngine();
        var encoding = new LinkEncoder(Pseudonymizer, LinkEncoder.DefaultHardening).Encode(LinkInputs.From(unclaimed.Identity, unclaimed.Demographics));
        var candidates = await Store.CandidatesAsync(encoding.Lookups(), engine.Options.MaxBlockSize, reads, default);
        candidates.Add(unclaimed.Key);
        var loaded = await Store.LoadNeighbourhoodAsync(engine, candidates, reads, default);
        engine.Add(unclaimed.Key, unclaimed.Provider, IncrementalLinker.SeedOf(Pseudonymizer, unclaimed.Key), encoding);

        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.WriteChangesAsync(engine, loaded, [unclaimed.Key], reads, new BatchWriter(), default));
        Assert.Equal(nodes, await NodesAsync());
        Assert.Equal(blocks, await SnapshotAsync(LinkageTables.Blocks));
    }

    [Fact]
    public async Task CompleteUploadAsync_KnownChildrenSetLost_FailsWithoutOverwritingAndTheNextDeliveryEndsLikeACleanRun()
    {
        var children = Enumerable.Range(0, 6).Select(i => Child(i % 2 == 0 ? "prov-a" : "prov-b", "C" + (i / 2), i / 2)).ToList();
        await LinkUploadAsync("u-1", children);
        var nodes = await NodesAsync();
        var clusters = await SnapshotAsync(LinkageTables.Clusters);
        await foreach (var blob in _storage.Storage.Locks.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, _storage.Storage.LockName("known-children/"), default))
        {
            await _storage.Storage.Locks.DeleteBlobAsync(blob.Name);
        }

        // The set says every child is new, but their node rows exist: the attempt fails instead of replacing them.
        await Assert.ThrowsAnyAsync<Exception>(() => LinkUploadAsync("u-2", children));
        Assert.Equal(nodes, await NodesAsync());

        // The failed attempt claimed them again, so the next delivery reads their rows and changes nothing.
        var again = await LinkUploadAsync("u-2", children);
        Assert.Empty(again.NewChildren);
        Assert.Equal(nodes, await NodesAsync());
        Assert.Equal(clusters, await SnapshotAsync(LinkageTables.Clusters));
    }

    [Fact]
    public async Task CompleteUploadAsync_OneProvidersSetLostAndItsChildrenLinkedToAnothers_FailsAndTheNextDeliveryReadsTheirRows()
    {
        // Each of prov-a's children is linked to one of prov-b's. Only prov-a's set is lost: prov-b's children are still known, so
        // their nodes and clusters are read, and prov-a's nodes come in as members of those clusters, unchanged, so no insert of
        // theirs would fail. Called new, their records rows would not be read by the summary rebuild (their services replaced).
        var children = Enumerable.Range(0, 6).Select(i => Child(i % 2 == 0 ? "prov-a" : "prov-b", "C" + (i / 2), i / 2)).ToList();
        await LinkUploadAsync("u-1", children);
        var nodes = await NodesAsync();
        await _storage.Storage.Locks.DeleteBlobAsync(_storage.Storage.LockName("known-children/prov-a"));
        var providerA = children.Where(c => c.Provider == "prov-a").ToList();

        await Assert.ThrowsAsync<KnownChildrenLostException>(() => LinkUploadAsync("u-2", providerA));
        Assert.Equal(nodes, await NodesAsync());

        var again = await LinkUploadAsync("u-2", providerA);
        Assert.Empty(again.NewChildren);
        Assert.Equal(nodes, await NodesAsync());
    }

    [Fact]
    public async Task CompleteUploadAsync_ACurrentStoreWhoseFenceAnOlderVersionReplaced_StaysInTheCurrentLayout()
    {
        var children = Enumerable.Range(0, 6).Select(i => Child(i % 2 == 0 ? "prov-a" : "prov-b", "C" + (i / 2), i / 2)).ToList();
        await LinkUploadAsync("u-1", children);
        var nodes = await NodesAsync();

        // An instance or command line of a version before layouts links once: it replaces the fence with only its count.
        var blocks = _storage.Storage.Table(LinkageTables.Blocks);
        var fence = (await blocks.GetEntityAsync<TableEntity>("~fence", "linkage")).Value;
        await blocks.UpdateEntityAsync(new TableEntity("~fence", "linkage") { ["Writes"] = fence.GetInt64("Writes") + 1 }, fence.ETag, TableUpdateMode.Replace);

        Assert.Equal(LinkageLayout.Current, (await new LinkageRowStore(_storage.Storage).ReadFenceAsync()).Layout);
        var again = await LinkUploadAsync("u-2", children);
        Assert.Equal(0, again.Moved);
        Assert.Equal(nodes, await NodesAsync());
    }

    [Fact]
    public async Task CompleteUploadAsync_AStoreWhoseFenceHasNoLayout_KeepsTheLegacyKeysAndTakesNoChildForNew()
    {
        // A fence written by code before layouts: the store's rows are keyed the legacy way.
        await Store.EnsureCreatedAsync(default);
        await _storage.Storage.Table(LinkageTables.Blocks).AddEntityAsync(new TableEntity("~fence", "linkage") { ["Writes"] = 1L });
        var children = Enumerable.Range(0, 6).Select(i => Child(i % 2 == 0 ? "prov-a" : "prov-b", "C" + (i / 2), i / 2)).ToList();

        var first = await LinkUploadAsync("u-1", children);
        var again = await LinkUploadAsync("u-2", children);

        Assert.Empty(first.NewChildren);
        Assert.Equal(0, again.Moved);
        var nodes = await _storage.ReadAllAsync(LinkageTables.Records);
        Assert.Equal(children.Select(c => c.Key).Order(StringComparer.Ordinal), nodes.Select(n => n.PartitionKey).Order(StringComparer.Ordinal));
        Assert.All(nodes, n => Assert.Equal("link", n.RowKey));
        Assert.Equal(3, nodes.Select(n => n.GetString("ClusterKey")).Distinct().Count());
        Assert.All(await _storage.ReadAllAsync(LinkageTables.Clusters), c => Assert.Equal(2, c.PartitionKey.Length));
        Assert.Equal(LinkageLayout.Legacy, (await new LinkageRowStore(_storage.Storage).ReadFenceAsync()).Layout);
        await foreach (var blob in _storage.Storage.Locks.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None,
            _storage.Storage.LockName("known-children/"), default))
        {
            Assert.Fail("a legacy store got a known-children set: " + blob.Name);
        }
    }

    [Fact]
    public async Task CompleteUploadAsync_SameRecordsDeliveredAgain_ChangesNoSharedRow()
    {
        var children = Enumerable.Range(0, 12).Select(i => Child(i % 2 == 0 ? "prov-a" : "prov-b", "C" + (i / 2), i / 2)).ToList();
        await LinkUploadAsync("u-1", children);
        var blocks = await SnapshotAsync(LinkageTables.Blocks);
        var clusters = await SnapshotAsync(LinkageTables.Clusters);
        var nodes = await NodesAsync();

        var again = await LinkUploadAsync("u-1-again", children);

        Assert.Equal(0, again.Moved);
        Assert.Equal(blocks, await SnapshotAsync(LinkageTables.Blocks));
        Assert.Equal(clusters, await SnapshotAsync(LinkageTables.Clusters));
        Assert.Equal(nodes, await NodesAsync());
        Assert.Equal(6, clusters.Count);
    }

    [Fact]
    public async Task WriteChangesAsync_ABlockAnotherFlowWroteAfterTheRead_ThrowsAndWritesNothingOfTheWork()
    {
        await LinkUploadAsync("u-1", [Child("prov-a", "A1", 1)]);

        // A flow reads its neighbourhood (the block of the shared birth date among it) ...
        var stale = Child("prov-b", "B1", 1);
        var reads = new LinkageReadSet();
        var engine = new LinkageEngine();
        var encoding = new LinkEncoder(Pseudonymizer, LinkEncoder.DefaultHardening).Encode(LinkInputs.From(stale.Identity, stale.Demographics));
        var candidates = await Store.CandidatesAsync(encoding.Lookups(), engine.Options.MaxBlockSize, reads, default);
        candidates.Add(stale.Key);
        var loaded = await Store.LoadNeighbourhoodAsync(engine, candidates, reads, default);
        engine.Add(stale.Key, stale.Provider, IncrementalLinker.SeedOf(Pseudonymizer, stale.Key), encoding);

        // ... then loses its lease without noticing, and another flow links a record of the same block.
        await LinkUploadAsync("u-2", [Child("prov-c", "C1", 1)]);

        var writer = new BatchWriter();
        await Assert.ThrowsAsync<LinkageConflictException>(() => Store.WriteChangesAsync(engine, loaded, [stale.Key], reads, writer, default));
        await writer.FlushAsync();

        Assert.DoesNotContain(await NodesAsync(), n => n.Key == stale.Key);
        var clusterRows = await _storage.ReadAllAsync(LinkageTables.Clusters);
        Assert.DoesNotContain(clusterRows.SelectMany(LinkageRowStore.MembersOf), m => m == stale.Key);
    }

    [Fact]
    public async Task CompleteUploadAsync_AttemptStoppedAfterTheSharedRows_NextDeliveryEndsLikeACleanRun()
    {
        // A and C (two providers) are one child; B bridges them with a merge in the second upload.
        var first = new[] { Child("prov-a", "A1", 7), Child("prov-c", "C1", 7, first: "Desmund") };
        var bridge = Child("prov-b", "B1", 7);
        await LinkUploadAsync("u-1", first);

        // The second upload's attempt claims its new child and tokens, writes the shared rows (blocks, clusters) and stops before its node rows
        // and child keys.
        await Store.ClaimNewChildrenAsync([bridge.Key], default);
        var encoding = new LinkEncoder(Pseudonymizer, LinkEncoder.DefaultHardening).Encode(LinkInputs.From(bridge.Identity, bridge.Demographics));
        var reads = new LinkageReadSet { NewTokens = await Store.ClaimNewTokensAsync(encoding.Indexed(), default) };
        var engine = new LinkageEngine();
        var candidates = await Store.CandidatesAsync(encoding.Lookups(), engine.Options.MaxBlockSize, reads, default);
        candidates.Add(bridge.Key);
        var loaded = await Store.LoadNeighbourhoodAsync(engine, candidates, reads, default);
        engine.Add(bridge.Key, bridge.Provider, IncrementalLinker.SeedOf(Pseudonymizer, bridge.Key), encoding);
        await Store.WriteChangesAsync(engine, loaded, [bridge.Key], reads, new BatchWriter(), default);

        // The next delivery of the same upload.
        await LinkUploadAsync("u-2", [bridge]);

        // The same two uploads, cleanly, in a store of their own.
        await AssertEndsLikeACleanRunAsync(("u-1", first), ("u-2", [bridge]));
    }

    [Fact]
    public async Task SplitAsync_ByThisInstanceAfterItsUploadMergedAwayTheFirstsCluster_WritesThatClusterRowAgain()
    {
        // Two records of one child, the one with the greater seed uploaded first: its own cluster is deleted when the second upload merges
        // it into the other's (a cluster's key is the smallest seed). This instance's split then puts the first record back in a cluster of
        // that key, which must be added anew, not replaced as the version the first upload wrote.
        var (x, y) = (Child("prov-a", "A1", 3), Child("prov-b", "B1", 3));
        var (first, second) = string.CompareOrdinal(IncrementalLinker.SeedOf(Pseudonymizer, x.Key), IncrementalLinker.SeedOf(Pseudonymizer, y.Key)) > 0
            ? (x, y) : (y, x);
        await LinkUploadAsync("u-1", [first]);
        await LinkUploadAsync("u-2", [second]);
        var merged = (await NodesAsync()).ToDictionary(n => n.Key);
        Assert.Equal(merged[first.Key].Cluster, merged[second.Key].Cluster);

        var split = await _services.GetRequiredService<LinkageAdmin>().SplitAsync(first.Key, second.Key, "operator", default);

        Assert.NotEqual(split.ClusterA, split.ClusterB);
        var nodes = (await NodesAsync()).ToDictionary(n => n.Key);
        Assert.Equal(IncrementalLinker.SeedOf(Pseudonymizer, first.Key), nodes[first.Key].Cluster);
        Assert.NotEqual(nodes[first.Key].Cluster, nodes[second.Key].Cluster);

        // Each cluster row lists its member: the first record's, deleted by the merge, was written again (a copy of it as the first upload
        // left it, with the same member, would have been taken for unchanged and not written).
        var clusters = (await _storage.ReadAllAsync(LinkageTables.Clusters)).ToDictionary(r => r.RowKey, r => string.Join(';', LinkageRowStore.MembersOf(r)));
        Assert.Equal(first.Key, clusters.GetValueOrDefault(nodes[first.Key].Cluster!));
        Assert.Equal(second.Key, clusters.GetValueOrDefault(nodes[second.Key].Cluster!));
    }

    [Theory]
    [InlineData(1)] // the fence
    [InlineData(2)] // the first block or cluster transaction
    [InlineData(8)] // among the block and cluster transactions
    [InlineData(20)] // among the node rows and child keys of the final flush
    [InlineData(40)] // late in the final flush
    public async Task CompleteUploadAsync_AttemptCrashedAtATransactionThenDeliveredAgainInTheSameInstance_EndsLikeACleanRun(int failing)
    {
        // The second upload merges every cluster of the first (about half of them change key, deleting the first's cluster row); its first
        // attempt stops at one transaction. The same instance then completes it and links a third upload, from what it kept of the attempt
        // only what storage still holds.
        var first = Enumerable.Range(0, 12).Select(i => Child("prov-a", "A" + i, i)).ToList();
        var second = Enumerable.Range(0, 12).Select(i => Child("prov-b", "B" + i, i)).Concat(Enumerable.Range(20, 6).Select(i => Child("prov-b", "N" + i, i))).ToList();
        var third = Enumerable.Range(0, 18).Select(i => Child("prov-c", "C" + i, i)).ToList();
        await LinkUploadAsync("u-1", first);

        _counter.FailTransaction(failing);
        await Assert.ThrowsAsync<SimulatedCrashException>(() => LinkUploadAsync("u-2", second));
        await LinkUploadAsync("u-2", second);
        await LinkUploadAsync("u-3", third);

        await AssertEndsLikeACleanRunAsync(("u-1", first), ("u-2", second), ("u-3", third));
    }

    [Theory]
    [InlineData(LinkageRowCache.DefaultLimit, "current")]
    [InlineData(12, "current")]
    [InlineData(40, "current")]
    [InlineData(LinkageRowCache.DefaultLimit, "legacy")]
    [InlineData(12, "legacy")]
    [InlineData(LinkageRowCache.DefaultLimit, "without the known-blocks set")]
    public async Task CompleteUploadAsync_UploadsOfSeveralChunksWithACacheOfThisLimit_EndLikeUploadsWithoutTheCache(int limit, string store)
    {
        // Four records a chunk; each family's records are in different chunks and uploads, so chunks merge what earlier chunks wrote (and
        // delete their clusters); the second upload is delivered twice. A cache of a few rows keeps some units' rows and drops others'.
        var uploads = new (string UploadId, List<TestChild> Children)[]
        {
            ("u-1", [.. Enumerable.Range(0, 10).Select(i => Child("prov-a", "A" + i, i))]),
            ("u-2", [.. Enumerable.Range(0, 14).Select(i => Child("prov-b", "B" + i, 13 - i))]),
            ("u-2", [.. Enumerable.Range(0, 14).Select(i => Child("prov-b", "B" + i, 13 - i))]),
            ("u-3", [.. Enumerable.Range(0, 14).Select(i => Child(i % 2 == 0 ? "prov-a" : "prov-c", "C" + i, i))]),
        };

        var cached = await LinkInAStoreOfItsOwnAsync(limit, store, uploads);
        var uncached = await LinkInAStoreOfItsOwnAsync(0, store, uploads);

        Assert.Equal(uncached, cached);
    }

    /// <summary>
    /// Links the uploads, four records a chunk, in a store of their own (of the kind <paramref name="store"/> names) with a row cache of
    /// <paramref name="limit"/> rows (0: none kept); returns its nodes, clusters and blocks.
    /// </summary>
    private static async Task<List<string>> LinkInAStoreOfItsOwnAsync(int limit, string store, (string UploadId, List<TestChild> Children)[] uploads)
    {
        var storage = new TestStorage();
        await storage.InitializeAsync();
        try
        {
            await using var services = TestApp.Build(storage, new FakeTimeProvider(TestApp.Now), configure: s => s.AddSingleton(new LinkageRowCache { Limit = limit }));
            var linkage = services.GetRequiredService<LinkageStore>();
            await linkage.EnsureCreatedAsync(default);
            if (store != "current")
            {
                // A fence of code before layouts (legacy keys), or of code before the known-blocks set (current keys, no set).
                await storage.Storage.Table(LinkageTables.Blocks).AddEntityAsync(store == "legacy"
                    ? new TableEntity("~fence", "linkage") { ["Writes"] = 1L }
                    : new TableEntity("~fence", "linkage") { ["Writes"] = 1L, ["Layout"] = 2 });
            }

            var linker = new IncrementalLinker(services.GetRequiredService<UploadStagingStore>(), linkage, services.GetRequiredService<ILinkageLock>(),
                TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<IncrementalLinker>.Instance) { ChunkSize = 4 };
            foreach (var (uploadId, children) in uploads)
            {
                await LinkUploadAsync(linker, uploadId, children);
            }

            var fence = await new LinkageRowStore(storage.Storage).ReadFenceAsync();
            Assert.Equal(store == "legacy" ? LinkageLayout.Legacy : LinkageLayout.Current, fence.Layout);
            Assert.Equal(store == "current", fence.KnownBlocks);
            return [.. (await NodesAsync(storage)).Select(n => $"{n.Key} {n.Cluster} {n.Rule}"),
                .. await SnapshotAsync(storage, LinkageTables.Clusters), .. await SnapshotAsync(storage, LinkageTables.Blocks)];
        }
        finally
        {
            await storage.DisposeAsync();
        }
    }

    [Fact]
    public async Task CompleteUploadAsync_AnOperatorMergeByThisInstanceSince_KeepsTheMergeAndEndsLikeAnInstanceWithoutTheCache()
    {
        // The second provider's children have other first names: they do not link to the first's until an operator merges one pair (which
        // deletes a cluster this instance had kept). The third upload's children are the second's again, and read what the merge wrote.
        var first = Enumerable.Range(0, 4).Select(i => Child("prov-a", "A" + i, i)).ToList();
        var second = Enumerable.Range(0, 4).Select(i => Child("prov-b", "B" + i, i, first: "Zebulon")).ToList();
        var third = Enumerable.Range(0, 4).Select(i => Child("prov-c", "C" + i, i, first: "Zebulon")).ToList();

        var cached = await RunAsync(_services, _storage);
        var uncached = new TestStorage();
        await uncached.InitializeAsync();
        try
        {
            await using var services = TestApp.Build(uncached, new FakeTimeProvider(TestApp.Now), configure: s => s.AddSingleton(new LinkageRowCache { Limit = 0 }));
            Assert.Equal(await RunAsync(services, uncached), cached);
        }
        finally
        {
            await uncached.DisposeAsync();
        }

        var nodes = (await NodesAsync()).ToDictionary(n => n.Key);
        Assert.Equal(nodes[first[0].Key].Cluster, nodes[second[0].Key].Cluster);
        Assert.NotEqual(nodes[first[1].Key].Cluster, nodes[second[1].Key].Cluster);
        await AssertClusterRowsMatchTheNodesAsync();

        async Task<List<string>> RunAsync(ServiceProvider services, TestStorage storage)
        {
            var linker = services.GetRequiredService<IChildLinker>();
            await LinkUploadAsync(linker, "u-1", first);
            await LinkUploadAsync(linker, "u-2", second);
            await services.GetRequiredService<LinkageAdmin>().MergeAsync(first[0].Key, second[0].Key, "operator", default);
            await LinkUploadAsync(linker, "u-3", third);
            return [.. (await NodesAsync(storage)).Select(n => $"{n.Key} {n.Cluster} {n.Rule}"),
                .. await SnapshotAsync(storage, LinkageTables.Clusters), .. await SnapshotAsync(storage, LinkageTables.Blocks)];
        }
    }

    [Fact]
    public async Task CompleteUploadAsync_TheKnownBlocksSetRebuiltByThisInstanceSince_LinksLikeACleanRun()
    {
        // A store begun without the set; this instance links, builds the set (a fence write that is not a unit of linking work), links again.
        await Store.EnsureCreatedAsync(default);
        await _storage.Storage.Table(LinkageTables.Blocks).AddEntityAsync(new TableEntity("~fence", "linkage") { ["Writes"] = 1L, ["Layout"] = 2 });
        var first = Enumerable.Range(0, 8).Select(i => Child("prov-a", "A" + i, i)).ToList();
        var second = Enumerable.Range(0, 12).Select(i => Child("prov-b", "B" + i, i)).ToList();
        await LinkUploadAsync("u-1", first);
        await _services.GetRequiredService<LinkageAdmin>().RebuildKnownBlocksAsync(default);

        await LinkUploadAsync("u-2", second);

        Assert.True((await new LinkageRowStore(_storage.Storage).ReadFenceAsync()).KnownBlocks);
        await AssertEndsLikeACleanRunAsync(("u-1", first), ("u-2", second));
    }

    [Fact]
    public async Task CompleteUploadAsync_AnOverlappingUnitOfThisInstanceWroteItsSharedRowsAndStopped_TheOtherFailsAndBothDeliveredAgainEndLikeACleanRun()
    {
        // Two units of one process read the same fence version (a lease lost without noticing): the stale one writes its shared rows first
        // and stops before its nodes; the other's upload then fails at the fence. Both uploads are delivered again to the same instance.
        var first = Enumerable.Range(0, 6).Select(i => Child("prov-a", "A" + i, i)).ToList();
        var stale = Child("prov-b", "B1", 1);
        var other = Enumerable.Range(0, 6).Select(i => Child("prov-c", "C" + i, i)).ToList();
        await LinkUploadAsync("u-1", first);

        await Store.ClaimNewChildrenAsync([stale.Key], default);
        var encoding = new LinkEncoder(Pseudonymizer, LinkEncoder.DefaultHardening).Encode(LinkInputs.From(stale.Identity, stale.Demographics));
        var reads = new LinkageReadSet { NewTokens = await Store.ClaimNewTokensAsync(encoding.Indexed(), default) };
        var engine = new LinkageEngine();
        var candidates = await Store.CandidatesAsync(encoding.Lookups(), engine.Options.MaxBlockSize, reads, default);
        candidates.Add(stale.Key);
        var loaded = await Store.LoadNeighbourhoodAsync(engine, candidates, reads, default);
        engine.Add(stale.Key, stale.Provider, IncrementalLinker.SeedOf(Pseudonymizer, stale.Key), encoding);

        // The other unit reads (from what u-1 left) while the stale one has not written yet ...
        foreach (var child in other)
        {
            await Linker.LinkAsync(new LinkSubject(child.Provider, child.LocalToken, LinkInputs.From(child.Identity, child.Demographics)) { UploadId = "u-3" }, Pseudonymizer);
        }

        var otherReads = new LinkageReadSet();
        await Store.CandidatesAsync([], engine.Options.MaxBlockSize, otherReads, default);

        // ... the stale one writes its shared rows and stops ...
        await Store.WriteChangesAsync(engine, loaded, [stale.Key], reads, new BatchWriter(), default);

        // ... and a unit that read before that write fails at the fence.
        await Assert.ThrowsAsync<LinkageConflictException>(() => Store.WriteChangesAsync(new LinkageEngine(), new Dictionary<string, LinkNodeState>(), [], otherReads, new BatchWriter(), default));
        Linker.AbandonUpload("u-3");

        await LinkUploadAsync("u-2", [stale]);
        await LinkUploadAsync("u-3", other);

        await AssertEndsLikeACleanRunAsync(("u-1", first), ("u-2", [stale]), ("u-3", other));
    }

    /// <summary>Every node's cluster row lists it, and every member of a cluster row is a node of that cluster.</summary>
    [Fact]
    public async Task CompleteUploadAsync_NodeRowsWrittenBeforeXorFolding_LinksAsACleanRunAndWritesTheUnchangedCandidatesRowsFolded()
    {
        var community = Enumerable.Range(0, 40).Select(i => Child("prov-a", "A" + i, i)).ToList();
        await LinkUploadAsync("u-community", community);

        // The rows as code before the fold wrote them: the same records' encodings with full 1,024-bit filters.
        var unfolded = new LinkEncoder(Pseudonymizer, BloomHardening.None);
        var table = _storage.Storage.Table(LinkageTables.Records);
        foreach (var child in community)
        {
            var (partition, row) = (await _storage.ReadAllAsync(LinkageTables.Records)).Select(r => (r.PartitionKey, r.RowKey)).Single(r => r.RowKey == child.Key);
            var variants = unfolded.Encode(LinkInputs.From(child.Identity, child.Demographics)).Serialize();
            await table.UpdateEntityAsync(new TableEntity(partition, row) { ["Variants"] = variants }, Azure.ETag.All, TableUpdateMode.Merge);
        }

        // Another instance (nothing of the first's cached) reads them as its candidates: children of the same birth dates and surnames
        // but another first name, so no candidate changes cluster (a changed node would be written anyway).
        await using var other = Build(_storage, _counter);
        var probe = Enumerable.Range(0, 40).Select(i => Child("prov-b", "B" + i, i, first: "Bartholomew")).ToList();
        await LinkUploadAsync(other.GetRequiredService<IChildLinker>(), "u-probe", probe);

        var widths = (await _storage.ReadAllAsync(LinkageTables.Records))
            .SelectMany(r => r.GetString("Variants").Split(';', StringSplitOptions.RemoveEmptyEntries))
            .Select(v => LinkEncoding.Deserialize(v, BloomHardening.None)!.First!.Length).Distinct().ToList();
        Assert.Equal([LinkEncoder.BloomBits / 128], widths);
        Assert.Equal(80, (await NodesAsync()).Select(n => n.Cluster).Distinct().Count());
        await AssertEndsLikeACleanRunAsync(("u-community", community), ("u-probe", probe));
    }

    private async Task AssertClusterRowsMatchTheNodesAsync()
    {
        var nodes = await NodesAsync();
        var clusters = (await _storage.ReadAllAsync(LinkageTables.Clusters)).ToDictionary(r => r.RowKey, r => LinkageRowStore.MembersOf(r).Order(StringComparer.Ordinal).ToList());
        var expected = nodes.GroupBy(n => n.Cluster!).ToDictionary(g => g.Key, g => g.Select(n => n.Key).Order(StringComparer.Ordinal).ToList());
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), clusters.Keys.Order(StringComparer.Ordinal));
        Assert.All(expected, e => Assert.Equal(e.Value, clusters[e.Key]));
    }

    /// <summary>Links the same uploads cleanly in a store of their own: this store's nodes, clusters and blocks must equal that one's.</summary>
    private async Task AssertEndsLikeACleanRunAsync(params (string UploadId, IEnumerable<TestChild> Children)[] uploads)
    {
        var clean = new TestStorage();
        await clean.InitializeAsync();
        try
        {
            await using var cleanServices = Build(clean, new TableRequestCounter());
            var cleanLinker = cleanServices.GetRequiredService<IChildLinker>();
            foreach (var (uploadId, children) in uploads)
            {
                await LinkUploadAsync(cleanLinker, uploadId, children);
            }

            Assert.Equal(await NodesAsync(clean), await NodesAsync());
            Assert.Equal(await SnapshotAsync(clean, LinkageTables.Clusters), await SnapshotAsync(_storage, LinkageTables.Clusters));
            Assert.Equal(await SnapshotAsync(clean, LinkageTables.Blocks), await SnapshotAsync(_storage, LinkageTables.Blocks));
        }
        finally
        {
            await clean.DisposeAsync();
        }
    }

    private static ServiceProvider Build(TestStorage storage, TableRequestCounter counter) =>
        TestApp.Build(storage, new FakeTimeProvider(TestApp.Now), configure: services => services.AddSingleton(_ => storage.StorageWithTablePolicy(counter)));

    private Task<LinkCompletion> LinkUploadAsync(string uploadId, IEnumerable<TestChild> children) => LinkUploadAsync(Linker, uploadId, children);

    private static async Task<LinkCompletion> LinkUploadAsync(IChildLinker linker, string uploadId, IEnumerable<TestChild> children)
    {
        foreach (var child in children)
        {
            await linker.LinkAsync(new LinkSubject(child.Provider, child.LocalToken, LinkInputs.From(child.Identity, child.Demographics)) { UploadId = uploadId }, Pseudonymizer);
        }

        return await linker.CompleteUploadAsync(uploadId);
    }

    private Task<List<(string Key, string? Cluster, string? Rule)>> NodesAsync() => NodesAsync(_storage);

    private static async Task<List<(string Key, string? Cluster, string? Rule)>> NodesAsync(TestStorage storage) =>
        (await storage.ReadAllAsync(LinkageTables.Records))
            .Select(n => (Key: n.RowKey, Cluster: (string?)n.GetString("ClusterKey"), Rule: (string?)n.GetString("Rule")))
            .OrderBy(n => n.Key, StringComparer.Ordinal).ToList();

    private Task<List<string>> SnapshotAsync(string table) => SnapshotAsync(_storage, table);

    private static async Task<List<string>> SnapshotAsync(TestStorage storage, string table) =>
        (await storage.ReadAllAsync(table))
            .Select(r => $"{r.PartitionKey} {r.RowKey} {string.Join(';', LinkageRowStore.MembersOf(r).Order(StringComparer.Ordinal))} {r.GetBoolean("Overflow")}")
            .Order(StringComparer.Ordinal).ToList();

    private static readonly string[] Surnames = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Brennan", "Vasquez", "Haddad", "Kowalski", "Nguyen", "Abernathy"];

    private static readonly string[] Given = ["Maria", "Oliver", "Priya", "Kwame", "Ingrid", "Tomasz", "Leila", "Desmond", "Yuki", "Rafael"];

    /// <summary>Family <paramref name="family"/>: a name and a birth date of its own, so only records of one family link.</summary>
    private static TestChild Child(string provider, string localId, int family, string? first = null)
    {
        var identity = new ChildIdentity
        {
            LocalChildId = localId,
            FirstName = NameNormalizer.Name(first ?? Given[family % Given.Length]),
            LastName = NameNormalizer.Name(Surnames[family % Surnames.Length] + (family >= Surnames.Length ? "-" + Surnames[family / Surnames.Length % Surnames.Length] : "")),
            BirthDate = new DateOnly(2008 + family % 9, 1 + family % 12, 1 + family % 28),
        };
        var localToken = RecordKeys.LocalToken(Pseudonymizer, provider, localId);
        return new TestChild(provider, localToken, identity, new Demographics { Sex = family % 2 == 0 ? Sex.Female : Sex.Male, Zip = "12345" });
    }

    private sealed class SimulatedCrashException() : Exception("The work stopped at this transaction (simulated crash).");

    private sealed record TestChild(string Provider, string LocalToken, ChildIdentity Identity, Demographics Demographics)
    {
        public string Key => RecordKeys.ProviderChild(Provider, LocalToken);
    }

    /// <summary>
    /// Counts table requests: a GET naming PartitionKey and RowKey is a point read, any other GET a query. Point reads are also kept
    /// by path, to count the reads of one table and provider.
    /// </summary>
    private sealed class TableRequestCounter : HttpPipelineSynchronousPolicy
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _pointReadPaths = new();
        private long _pointReads;
        private long _queries;

        // The transaction (a $batch request) to fail from now on, counting from 1; 0 when none is to fail.
        private int _failIn;

        public Counts Snapshot() => new(Interlocked.Read(ref _pointReads), Interlocked.Read(ref _queries), [.. _pointReadPaths]);

        /// <summary>The <paramref name="nth"/> transaction sent from now on fails before it is sent (a crash at that point of the work).</summary>
        public void FailTransaction(int nth) => Volatile.Write(ref _failIn, nth);

        public override void OnSendingRequest(HttpMessage message)
        {
            var request = message.Request;
            if (request.Method == RequestMethod.Post && request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal)
                && Volatile.Read(ref _failIn) > 0 && Interlocked.Decrement(ref _failIn) == 0)
            {
                throw new SimulatedCrashException();
            }

            if (request.Method != RequestMethod.Get)
            {
                return;
            }

            if (request.Uri.Path.Contains("(PartitionKey=", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _pointReads);
                _pointReadPaths.Enqueue(Uri.UnescapeDataString(request.Uri.Path));
            }
            else
            {
                Interlocked.Increment(ref _queries);
            }
        }

        public sealed record Counts(long PointReads, long Queries, IReadOnlyList<string> PointReadPaths)
        {
            /// <summary>Point reads of the linkage table <paramref name="table"/> (by its logical name's suffix) in partitions of <paramref name="provider"/>.</summary>
            public int ReadsOf(string table, string provider) =>
                PointReadPaths.Count(p => p.Contains(table + "(PartitionKey='" + provider + "|", StringComparison.Ordinal));

            /// <summary>Point reads of node, block and cluster rows (not the fence).</summary>
            public int LinkageRowReads =>
                PointReadPaths.Count(p => (p.Contains(LinkageTables.Records + "(", StringComparison.Ordinal) || p.Contains(LinkageTables.Clusters + "(", StringComparison.Ordinal)
                    || p.Contains(LinkageTables.Blocks + "(", StringComparison.Ordinal)) && !p.Contains("'~fence'", StringComparison.Ordinal));

            /// <summary>Point reads of block rows (the token index, not its fence).</summary>
            public int BlockReads =>
                PointReadPaths.Count(p => p.Contains(LinkageTables.Blocks + "(PartitionKey='", StringComparison.Ordinal) && !p.Contains("'~fence'", StringComparison.Ordinal));
        }
    }
}

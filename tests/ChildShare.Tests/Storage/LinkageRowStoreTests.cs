using Azure.Data.Tables;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>
/// The linkage tables' store against Azurite: node rows under the same keys and columns, block and cluster rows written back only over
/// the version read (a stale ETag, or an add over a row another flow added, is refused), the fence, the review queue and constraints.
/// </summary>
public sealed class LinkageRowStoreTests : IAsyncLifetime
{
    private const string Cluster = "ab00000000000000000000000000000a";

    private readonly TestStorage _storage = new();

    private LinkageRowStore Store => new(_storage.Storage);

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        await Store.EnsureCreatedAsync();
    }

    public Task DisposeAsync() => _storage.DisposeAsync();

    [Fact]
    public async Task WriteNodeAsync_ThenReadNodeAsync_RoundTripsUnderTheSameKeysAndColumns()
    {
        var node = new LinkNodeRow("p1|t1", "p1", "seed", "v1;v2", Cluster, "exact", "p2|t2", "");
        var writer = new BatchWriter();
        await Store.WriteNodeAsync(writer, node, LinkageLayout.Current);
        await writer.FlushAsync();

        Assert.Equal(node, await Store.ReadNodeAsync("p1|t1", LinkageLayout.Current));
        Assert.Null(await Store.ReadNodeAsync("p1|t9", LinkageLayout.Current));
        var stored = Assert.Single(await _storage.ReadAllAsync(LinkageTables.Records));
        Assert.Equal(("p1|t", "p1|t1", Cluster, "v1;v2"), (stored.PartitionKey, stored.RowKey, stored.GetString("ClusterKey"), stored.GetString("Variants")));
    }

    [Fact]
    public async Task WriteNodeAsync_NodesOfOneUpload_ShareSixteenPartitionsAProviderSoTheyGoInTransactionsOf100()
    {
        var writer = new BatchWriter();
        for (var i = 0; i < 320; i++)
        {
            var key = "p1|" + i.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
            await Store.WriteNodeAsync(writer, new LinkNodeRow(key, "p1", "seed", "", Cluster, "new", "", ""), LinkageLayout.Current);
        }

        await writer.FlushAsync();

        var stored = await _storage.ReadAllAsync(LinkageTables.Records);
        Assert.Equal(320, stored.Count);
        Assert.InRange(stored.Select(s => s.PartitionKey).Distinct().Count(), 1, 16);
        Assert.All(stored, s => Assert.Equal(LinkageTables.NodeKeys(s.RowKey, LinkageLayout.Current), (s.PartitionKey, s.RowKey)));
    }

    [Fact]
    public async Task ReadNodeAsync_ANodeUnderItsLegacyKeys_IsReadInAStoreOfTheLegacyLayoutOnly()
    {
        await _storage.Storage.Table(LinkageTables.Records).AddEntityAsync(new TableEntity("p1|t1", "link")
        {
            ["ProviderId"] = "p1",
            ["Seed"] = "seed",
            ["Variants"] = "",
            ["ClusterKey"] = Cluster,
            ["Rule"] = "exact",
            ["DoNotLink"] = "",
            ["MustLink"] = "",
        });

        Assert.Equal(Cluster, (await Store.ReadNodeAsync("p1|t1", LinkageLayout.Legacy))?.ClusterKey);
        Assert.Null(await Store.ReadNodeAsync("p1|t1", LinkageLayout.Current));
    }

    [Fact]
    public async Task ReadFenceAsync_AFenceWrittenWithoutALayout_IsTheLegacyLayoutAndAdvancingItKeepsIt()
    {
        Assert.Equal(LinkageLayout.Current, (await Store.ReadFenceAsync()).Layout);
        await _storage.Storage.Table(LinkageTables.Blocks).AddEntityAsync(new TableEntity("~fence", "linkage") { ["Writes"] = 3L });

        var legacy = await Store.ReadFenceAsync();
        await Store.AdvanceFenceAsync(legacy);

        Assert.Equal(LinkageLayout.Legacy, legacy.Layout);
        Assert.Equal((4L, LinkageLayout.Legacy), ((await Store.ReadFenceAsync()).Writes, (await Store.ReadFenceAsync()).Layout));
    }

    [Fact]
    public async Task WriteMemberRowsAsync_AddThenReplaceWithTheETagRead_WritesTheMembers()
    {
        await Store.WriteMemberRowsAsync([new MemberRowWrite(MemberTable.Clusters, Cluster, ["p1|t1"], false, null)], LinkageLayout.Current);
        var read = await Store.ReadClusterAsync(Cluster, LinkageLayout.Current);

        await Store.WriteMemberRowsAsync([new MemberRowWrite(MemberTable.Clusters, Cluster, ["p1|t1", "p2|t2"], false, read.ETag)], LinkageLayout.Current);

        Assert.Equal(["p1|t1", "p2|t2"], (await Store.ReadClusterAsync(Cluster, LinkageLayout.Current)).Members);
        var stored = Assert.Single(await _storage.ReadAllAsync(LinkageTables.Clusters));
        Assert.Equal(("a", Cluster, 2), (stored.PartitionKey, stored.RowKey, stored.GetInt32("Count")));
    }

    [Fact]
    public async Task WriteMemberRowsAsync_AStaleETag_IsRefusedAndLeavesTheRow()
    {
        await Store.WriteMemberRowsAsync([new MemberRowWrite(MemberTable.Blocks, Cluster, ["p1|t1"], false, null)], LinkageLayout.Current);
        var stale = await Store.ReadBlockAsync(Cluster, LinkageLayout.Current);
        await Store.WriteMemberRowsAsync([new MemberRowWrite(MemberTable.Blocks, Cluster, ["p1|t1", "p3|t3"], false, stale.ETag)], LinkageLayout.Current);

        await Assert.ThrowsAsync<LinkageRowsChangedException>(() =>
            Store.WriteMemberRowsAsync([new MemberRowWrite(MemberTable.Blocks, Cluster, ["p1|t1", "p2|t2"], false, stale.ETag)], LinkageLayout.Current));

        Assert.Equal(["p1|t1", "p3|t3"], (await Store.ReadBlockAsync(Cluster, LinkageLayout.Current)).Members);
    }

    [Fact]
    public async Task WriteMemberRowsAsync_AnAddOverARowAnotherFlowAdded_IsRefused()
    {
        await Store.WriteMemberRowsAsync([new MemberRowWrite(MemberTable.Clusters, Cluster, ["p1|t1"], false, null)], LinkageLayout.Current);

        await Assert.ThrowsAsync<LinkageRowsChangedException>(() =>
            Store.WriteMemberRowsAsync([new MemberRowWrite(MemberTable.Clusters, Cluster, ["p2|t2"], false, null)], LinkageLayout.Current));
    }

    [Fact]
    public async Task WriteMemberRowsAsync_DeleteOfTheVersionRead_RemovesTheRow()
    {
        await Store.WriteMemberRowsAsync([new MemberRowWrite(MemberTable.Clusters, Cluster, ["p1|t1"], false, null)], LinkageLayout.Current);
        var read = await Store.ReadClusterAsync(Cluster, LinkageLayout.Current);

        await Store.WriteMemberRowsAsync([new MemberRowWrite(MemberTable.Clusters, Cluster, [], false, read.ETag, Delete: true)], LinkageLayout.Current);

        Assert.Equal(MemberRow.Missing, await Store.ReadClusterAsync(Cluster, LinkageLayout.Current));
    }

    [Fact]
    public async Task WriteMemberRowsAsync_AnOverflowingBlock_KeepsOnlyTheOverflowFlag()
    {
        await Store.WriteMemberRowsAsync([new MemberRowWrite(MemberTable.Blocks, Cluster, ["p1|t1", "p2|t2"], Overflow: true, null)], LinkageLayout.Current);

        var read = await Store.ReadBlockAsync(Cluster, LinkageLayout.Current);

        Assert.True(read.Overflow);
        Assert.Empty(read.Members);
    }

    [Fact]
    public async Task WriteMemberRowsAsync_RowsWrittenInOneTransaction_ReturnsTheVersionsALaterReadFinds()
    {
        // The linkage row cache replaces rows it wrote by these versions without reading them: they must be the stored ones.
        var written = await Store.WriteMemberRowsAsync(
        [
            new MemberRowWrite(MemberTable.Clusters, Cluster, ["p1|t1"], false, null),
            new MemberRowWrite(MemberTable.Clusters, Cluster + "b", ["p2|t2"], false, null),
        ], LinkageLayout.Current);
        var replaced = await Store.WriteMemberRowsAsync([new MemberRowWrite(MemberTable.Clusters, Cluster, ["p1|t1", "p3|t3"], false, written[0].Row.ETag)],
            LinkageLayout.Current);

        Assert.Equal((await Store.ReadClusterAsync(Cluster + "b", LinkageLayout.Current)).ETag, written[1].Row.ETag);
        var read = await Store.ReadClusterAsync(Cluster, LinkageLayout.Current);
        Assert.Equal(read.ETag, replaced[0].Row.ETag);
        Assert.Equal(read.Members, replaced[0].Row.Members);
        Assert.NotEqual(written[0].Row.ETag, replaced[0].Row.ETag);
    }

    [Fact]
    public async Task AdvanceFenceAsync_ReturnsTheVersionTheNextReadFinds()
    {
        var advanced = await Store.AdvanceFenceAsync(await Store.ReadFenceAsync());

        Assert.Equal((await Store.ReadFenceAsync()).ETag, advanced);
    }

    [Fact]
    public async Task AdvanceFenceAsync_TwoFlowsFromTheSameRead_TheSecondIsRefused()
    {
        var first = await Store.ReadFenceAsync();
        var second = await Store.ReadFenceAsync();

        await Store.AdvanceFenceAsync(first);

        await Assert.ThrowsAsync<LinkageRowsChangedException>(() => Store.AdvanceFenceAsync(second));
        Assert.Equal(1, (await Store.ReadFenceAsync()).Writes);
    }

    [Fact]
    public async Task DeleteReviewsIfUnchangedAsync_ARowQueuedAgainSinceItWasRead_IsKeptAndTheOthersGo()
    {
        var writer = new BatchWriter();
        await Store.WriteReviewAsync(writer, new LinkReviewRow("p1|t1", "p2|t2", 3.25, "fn+", false), DateTimeOffset.UnixEpoch);
        await Store.WriteReviewAsync(writer, new LinkReviewRow("p1|t3", "p2|t4", 2.5, "fn+", false), DateTimeOffset.UnixEpoch);
        await Store.WriteReviewAsync(writer, new LinkReviewRow("p1|t5", "p2|t6", 2.0, "fn+", false), DateTimeOffset.UnixEpoch);
        await writer.FlushAsync();
        var read = await Store.ReadQueuedReviewsAsync();
        Assert.Equal(3, read.Count);

        // A linker queues the first pair again (a new version) and someone deletes the third before the prune's deletes land.
        writer = new BatchWriter();
        await Store.WriteReviewAsync(writer, new LinkReviewRow("p1|t1", "p2|t2", 4.0, "fn+ ln+", false), DateTimeOffset.UnixEpoch.AddDays(1));
        await writer.FlushAsync();
        await Store.DeleteReviewAsync("p1|t5", "p2|t6");

        Assert.Equal(1, await Store.DeleteReviewsIfUnchangedAsync(read));
        var left = Assert.Single(await Store.ReadReviewsAsync());
        Assert.Equal(new LinkReviewRow("p1|t1", "p2|t2", 4.0, "fn+ ln+", false), left);
    }

    [Fact]
    public async Task WriteReviewAsync_ThenReadAndDelete_RoundTripsThePairInKeyOrder()
    {
        var writer = new BatchWriter();
        await Store.WriteReviewAsync(writer, new LinkReviewRow("p2|t2", "p1|t1", 3.25, "fn+ ln-", Ambiguous: true), DateTimeOffset.UnixEpoch);
        await writer.FlushAsync();

        var review = Assert.Single(await Store.ReadReviewsAsync());
        Assert.Equal(new LinkReviewRow("p1|t1", "p2|t2", 3.25, "fn+ ln-", true), review);

        await Store.DeleteReviewAsync("p2|t2", "p1|t1");
        Assert.Empty(await Store.ReadReviewsAsync());
    }

    [Fact]
    public async Task AddConstraintAsync_APair_StoresBothDirections()
    {
        await Store.AddConstraintAsync("p1|t1", "p2|t2", DateTimeOffset.UnixEpoch);

        var rows = await _storage.ReadAllAsync(LinkageTables.Constraints);
        Assert.Equal(["p1|t1 p2|t2", "p2|t2 p1|t1"], rows.Select(r => r.PartitionKey + " " + r.RowKey).Order(StringComparer.Ordinal));
    }
}

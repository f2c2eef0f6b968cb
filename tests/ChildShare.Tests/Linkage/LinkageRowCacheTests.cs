using Azure;
using ChildShare.Core;
using ChildShare.Core.Linkage;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Linkage;

/// <summary>
/// The process's linkage row cache without storage: rows are relied on only at the fence version the unit that remembered them wrote,
/// only once that unit's writes all landed, and never after two units of the process overlapped.
/// </summary>
public sealed class LinkageRowCacheTests
{
    private static readonly FenceRow First = new(1, new ETag("v1"), LinkageLayout.Current, KnownBlocks: true);
    private static readonly FenceRow Second = First with { Writes = 2, ETag = new ETag("v2") };
    private static readonly FenceRow Third = First with { Writes = 3, ETag = new ETag("v3") };

    private static readonly MemberRow Block = new(["p|a"], new ETag("b1"), false);

    [Fact]
    public void TryGetBlock_AtTheFenceVersionTheUnitWrote_ReturnsTheRowAndAtAnyOtherNothing()
    {
        var cache = new LinkageRowCache();
        var ticket = cache.BeginWrite(First);
        cache.Remember(ticket, Second.ETag!.Value, [], [new(7, Block)], []);

        Assert.True(cache.TryGetBlock(Second, 7, out var row));
        Assert.Equal(Block.Members, row!.Members);
        Assert.Equal(Block.ETag, row.ETag);
        Assert.False(cache.TryGetBlock(First, 7, out _));
        Assert.False(cache.TryGetBlock(Third, 7, out _));
        Assert.False(cache.TryGetBlock(Second, 8, out _));
    }

    [Fact]
    public void TryGetBlock_AUnitBeganWritingAndNeverRemembered_ReturnsNothingUntilTheNextUnitRemembers()
    {
        var cache = new LinkageRowCache();
        cache.Remember(cache.BeginWrite(First), Second.ETag!.Value, [], [new(7, Block)], []);

        // A unit that read the second version began writing and stopped (a conflict, a crash): its fence write may have landed.
        cache.BeginWrite(Second);

        Assert.False(cache.TryGetBlock(Second, 7, out _));
        Assert.False(cache.TryGetBlock(Third, 7, out _));
    }

    [Fact]
    public void BeginWrite_AUnitThatReadAnotherFenceVersion_DropsTheRowsOfTheEarlierOne()
    {
        // Another instance wrote the second version: what this process kept of the first is stale, and must not outlive the next unit.
        var cache = new LinkageRowCache();
        cache.Remember(cache.BeginWrite(First), First.ETag!.Value, [], [new(7, Block)], []);

        var ticket = cache.BeginWrite(Second);
        cache.Remember(ticket, Third.ETag!.Value, [], [new(8, Block)], []);

        Assert.True(cache.TryGetBlock(Third, 8, out _));
        Assert.False(cache.TryGetBlock(Third, 7, out _));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void BeginWrite_TheNextUnitOfTheSameVersion_KeepsTheEarlierRows()
    {
        var cache = new LinkageRowCache();
        cache.Remember(cache.BeginWrite(First), Second.ETag!.Value, [], [new(7, Block)], []);

        cache.Remember(cache.BeginWrite(Second), Third.ETag!.Value, [], [new(8, Block)], []);

        Assert.True(cache.TryGetBlock(Third, 7, out _));
        Assert.True(cache.TryGetBlock(Third, 8, out _));
    }

    [Fact]
    public void Remember_TwoUnitsOfTheProcessWroteAtOnce_NeitherIsRelied()
    {
        // A unit whose lease was lost without its noticing, and the unit of the new holder, in one process.
        var cache = new LinkageRowCache();
        var stale = cache.BeginWrite(First);
        var current = cache.BeginWrite(First);

        cache.Remember(stale, Second.ETag!.Value, [], [new(7, Block)], []);
        cache.Remember(current, Third.ETag!.Value, [], [new(8, Block)], []);

        Assert.False(cache.TryGetBlock(Second, 7, out _));
        Assert.False(cache.TryGetBlock(Third, 8, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Remember_RowsThatDoNotExist_AreNotKept()
    {
        var cache = new LinkageRowCache();

        cache.Remember(cache.BeginWrite(First), Second.ETag!.Value, [], [new(7, MemberRow.Missing)], [new("c", MemberRow.Missing)]);

        Assert.False(cache.TryGetBlock(Second, 7, out _));
        Assert.False(cache.TryGetCluster(Second, "c", out _));
    }

    [Fact]
    public void Remember_ARowAnEarlierUnitKeptAndThisOneDeleted_IsNoLongerKept()
    {
        // A cluster the first unit wrote, merged into another (its row deleted) by the next unit of the same version.
        var cache = new LinkageRowCache();
        cache.Remember(cache.BeginWrite(First), Second.ETag!.Value, [], [new(7, Block)], [new("c", Block)]);

        cache.Remember(cache.BeginWrite(Second), Third.ETag!.Value, [], [new(7, MemberRow.Missing)], [new("c", MemberRow.Missing)]);

        Assert.False(cache.TryGetCluster(Third, "c", out _));
        Assert.False(cache.TryGetBlock(Third, 7, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Remember_PastTheLimit_KeepsOnlyTheLatestUnitsRows()
    {
        var cache = new LinkageRowCache { Limit = 3 };
        cache.Remember(cache.BeginWrite(First), Second.ETag!.Value, [], [new(1, Block), new(2, Block)], []);

        cache.Remember(cache.BeginWrite(Second), Third.ETag!.Value, [], [new(3, Block), new(4, Block)], []);

        Assert.False(cache.TryGetBlock(Third, 1, out _));
        Assert.True(cache.TryGetBlock(Third, 3, out _));
        Assert.True(cache.TryGetBlock(Third, 4, out _));

        // A single unit past the limit is not kept at all.
        cache.Remember(cache.BeginWrite(Third), new ETag("v4"), [], [new(5, Block), new(6, Block), new(7, Block), new(8, Block)], []);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Remember_AKeyReadInANodeItsBlocksAndItsCluster_IsKeptOnce()
    {
        // Each row read from storage brings its own copy of a key; the cache holds every row of a community up to its limit, so the
        // copies are memory held for nothing (LINKAGE.md, "Rows this process wrote").
        static string Copy(string value) => new(value.AsSpan());
        var cache = new LinkageRowCache();
        var node = new LinkNodeState(Copy("p|a"), Copy("p"), Copy("seed-a"), [], Copy("seed-a"), Copy(LinkageEngine.Unlinked), []);
        MemberRow Members(params string[] keys) => new(keys.Select(Copy).ToArray(), new ETag("r1"), false);

        cache.Remember(cache.BeginWrite(First), Second.ETag!.Value, [node],
            [new(1, Members("p|a", "q|b")), new(2, Members("q|b", "p|a"))], [new(Copy("seed-a"), Members("p|a"))]);

        Assert.True(cache.TryGetNode(Second, "p|a", out var kept));
        Assert.True(cache.TryGetBlock(Second, 1, out var first));
        Assert.True(cache.TryGetBlock(Second, 2, out var second));
        Assert.True(cache.TryGetCluster(Second, "seed-a", out var cluster));
        Assert.Equal(node.Key, kept!.Key);
        Assert.Same(kept.Key, first!.Members[0]);
        Assert.Same(kept.Key, second!.Members[1]);
        Assert.Same(kept.Key, cluster!.Members[0]);
        Assert.Same(first.Members[1], second.Members[0]);
        Assert.Same(kept.Seed, kept.ClusterKey);
        Assert.Equal(["p|a", "q|b"], first.Members);
        Assert.Equal(new ETag("r1"), first.ETag);
    }

    [Fact]
    public void Remember_RowsANextUnitTookFromTheCacheUnchanged_KeepsTheInstancesItHeld()
    {
        // Adversary 30: a unit that takes its rows from the cache remembers them again as it read them (LinkageStore.RememberWritten
        // passes every row it read). Copying each again (a new record and a new array of members for every one, each string looked up)
        // makes garbage of rows that had lived long enough to be in the old generation: per unit, the rows it touched, every time.
        var cache = new LinkageRowCache();
        var node = new LinkNodeState("p|a", "p", "seed-a", [], "seed-a", LinkageEngine.Unlinked, ["p|z"]) { MustLink = ["q|y"] };
        cache.Remember(cache.BeginWrite(First), Second.ETag!.Value, [node], [new(1, new MemberRow(["p|a", "q|b"], new ETag("b1"), false))],
            [new("seed-a", new MemberRow(["p|a"], new ETag("c1"), false))]);
        Assert.True(cache.TryGetNode(Second, "p|a", out var readNode));
        Assert.True(cache.TryGetBlock(Second, 1, out var readBlock));
        Assert.True(cache.TryGetCluster(Second, "seed-a", out var readCluster));

        cache.Remember(cache.BeginWrite(Second), Third.ETag!.Value, [readNode!], [new(1, readBlock!)], [new("seed-a", readCluster!)]);

        Assert.True(cache.TryGetNode(Third, "p|a", out var node2));
        Assert.True(cache.TryGetBlock(Third, 1, out var block2));
        Assert.True(cache.TryGetCluster(Third, "seed-a", out var cluster2));
        Assert.Equal(["p|z"], node2!.DoNotLink);
        Assert.Equal(["q|y"], node2.MustLink);
        Assert.Same(readBlock, block2);
        Assert.Same(readCluster, cluster2);
        Assert.Same(readNode, node2);
    }

    [Fact]
    public void Remember_ANodeWhoseKeyAnEarlierUnitKeptInABlock_IsKeyedByTheKeptInstance()
    {
        // Adversary 30: the nodes are keyed by the key as the unit read it, not the one instance kept; a child first seen as a block's
        // member (a candidate) and remembered as a node by a later unit (its own record) is then held twice.
        static string Copy(string value) => new(value.AsSpan());
        var cache = new LinkageRowCache();
        cache.Remember(cache.BeginWrite(First), Second.ETag!.Value, [], [new(1, new MemberRow([Copy("p|a")], new ETag("b1"), false))], []);
        Assert.True(cache.TryGetBlock(Second, 1, out var block));

        cache.Remember(cache.BeginWrite(Second), Third.ETag!.Value,
            [new LinkNodeState(Copy("p|a"), "p", "seed-a", [], "seed-a", LinkageEngine.Unlinked, [])], [], []);

        Assert.True(cache.TryGetNode(Third, "p|a", out var node));
        Assert.Same(block!.Members[0], node!.Key);
        var nodes = (Dictionary<string, LinkNodeState>)typeof(LinkageRowCache)
            .GetField("_nodes", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(cache)!;
        Assert.Same(block.Members[0], nodes.Keys.Single());
    }

    [Fact]
    public async Task Remember_WhileOtherThreadsRead_EveryRowReadIsWhole()
    {
        // Adversary 30: the pool is changed under the cache's lock only; readers on other threads see a row as remembered or not at all.
        var cache = new LinkageRowCache();
        var fences = Enumerable.Range(0, 201).Select(i => First with { Writes = i, ETag = new Azure.ETag("w" + i) }).ToList();
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            var seen = 0;
            while (!stop.IsCancellationRequested)
            {
                foreach (var fence in fences)
                {
                    if (cache.TryGetBlock(fence, 1, out var row))
                    {
                        Assert.Equal(["p|a", "p|b", "w|" + fence.Writes], row!.Members);
                        seen++;
                    }
                }
            }

            return seen;
        })).ToList();

        for (var i = 0; i < 200; i++)
        {
            cache.Remember(cache.BeginWrite(fences[i]), fences[i + 1].ETag!.Value, [],
                [new(1, new MemberRow(["p|a", "p|b", "w|" + (i + 1)], new Azure.ETag("b" + i), false))], []);
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.True(cache.TryGetBlock(fences[200], 1, out _));
    }

    [Theory]
    [InlineData(null, LinkageRowCache.DefaultLimit)]
    [InlineData("1000", 1000)]
    [InlineData("0", 0)]
    public void AddChildShareCore_LinkageRowCacheLimit_IsLinkageRowCacheLimitOrTheDefault(string? setting, int expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(setting is null ? [] : [new("Linkage:RowCacheLimit", setting)])
            .Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddChildShareCore(configuration).BuildServiceProvider();

        Assert.Equal(expected, services.GetRequiredService<LinkageRowCache>().Limit);
    }
}

using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>The children (membership) table's store against Azurite: keys as before, one child's range, removal.</summary>
public sealed class MembershipStoreTests : IAsyncLifetime
{
    private const string ChildA = "ab00000000000000000000000000000a", ChildB = "ab00000000000000000000000000000b";

    private readonly TestStorage _storage = new();

    private MembershipStore Store => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    [Fact]
    public async Task AddAsync_ThenMembershipsAsync_ReturnsOnlyThatChildsRecordsUnderTheSameKeys()
    {
        var writer = new BatchWriter();
        await Store.AddAsync(writer, ChildA, "p1", "t1");
        await Store.AddAsync(writer, ChildA, "p2", "t2");
        await Store.AddAsync(writer, ChildB, "p1", "t3");
        await writer.FlushAsync();

        var memberships = await Store.MembershipsAsync(ChildA);

        Assert.Equal(["t1"], memberships["p1"]);
        Assert.Equal(["t2"], memberships["p2"]);
        var stored = (await _storage.ReadAllAsync(TableNames.Children)).Single(e => e.GetString("LocalToken") == "t1");
        Assert.Equal(("ab", ChildA + "|p1|t1", ChildA), (stored.PartitionKey, stored.RowKey, stored.GetString("ChildKey")));
    }

    [Fact]
    public async Task RemoveAsync_KnownAndAlreadyGoneMemberships_RemovesWithoutError()
    {
        var writer = new BatchWriter();
        await Store.AddAsync(writer, ChildA, "p1", "t1");
        await writer.FlushAsync();

        await Store.RemoveAsync(writer, ChildA, "p1|t1");
        await Store.RemoveAsync(writer, ChildB, "p1|t9");
        await writer.FlushAsync();

        Assert.Empty(await Store.MembershipsAsync(ChildA));
    }

    [Fact]
    public async Task ChildKeysAsync_TwoMemberships_ListsEachChildKey()
    {
        var writer = new BatchWriter();
        await Store.AddAsync(writer, ChildA, "p1", "t1");
        await Store.AddAsync(writer, ChildB, "p1", "t3");
        await writer.FlushAsync();

        var keys = new List<string>();
        await foreach (var key in Store.ChildKeysAsync())
        {
            keys.Add(key);
        }

        Assert.Equal([ChildA, ChildB], keys.Order(StringComparer.Ordinal));
    }
}

using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>The parent links' table against Azurite: a round trip under the keys and columns on disk, the If-Match of a revocation.</summary>
public sealed class ParentLinkTableTests : IAsyncLifetime
{
    private const string LinkId = "b0000000000000000000000000000001";
    private static readonly DateTimeOffset At = new(2026, 10, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TestStorage _storage = new();

    private ParentLinkTable Table => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    private static ParentLinkRow Link => new(LinkId, "a0000000000000000000000000000001", "district", At, At.AddDays(30), null, null);

    [Fact]
    public async Task AddAsync_ThenGetAsync_ReturnsTheRowUnderTheKeysAndColumnsOnDisk()
    {
        await Table.AddAsync(Link);

        Assert.Equal(Link, (await Table.GetAsync(LinkId))!.Value.Row);
        Assert.Null(await Table.GetAsync("b0000000000000000000000000000002"));
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.ParentLinks));
        Assert.Equal((LinkId, "link", Link.ConsentId, "district", At, At.AddDays(30)),
            (stored.PartitionKey, stored.RowKey, stored.GetString("ConsentId"), stored.GetString("IssuedBy"), stored.GetDateTimeOffset("IssuedAt"),
                stored.GetDateTimeOffset("ExpiresAt")));
    }

    [Fact]
    public async Task AddAsync_AnIdAlreadyThere_Fails()
    {
        await Table.AddAsync(Link);

        var ex = await Assert.ThrowsAsync<Azure.RequestFailedException>(() => Table.AddAsync(Link with { IssuedBy = "clinic" }));
        Assert.Equal(409, ex.Status);
    }

    [Fact]
    public async Task TryReplaceAsync_CurrentThenStaleETag_RevokesOnceAndRefusesTheStaleWrite()
    {
        await Table.AddAsync(Link);
        var (_, etag) = (await Table.GetAsync(LinkId))!.Value;
        var revoked = Link with { RevokedAt = At.AddDays(1), RevokedBy = "district/ApiKey/k1" };

        var first = await Table.TryReplaceAsync(revoked, etag);
        var stale = await Table.TryReplaceAsync(Link with { RevokedBy = "someone else" }, etag);

        Assert.Equal((true, false), (first, stale));
        Assert.Equal(revoked, (await Table.GetAsync(LinkId))!.Value.Row);
    }
}

using Azure.Data.Tables;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>
/// The consent tables' store against Azurite: a version round trip under the keys and columns on disk, the If-Match that guards every
/// change (a stale ETag and a history row already there both lose, writing nothing), the indexes and the query shapes it offers.
/// </summary>
public sealed class ConsentTablesTests : IAsyncLifetime
{
    private const string Id = "a0000000000000000000000000000001", Other = "a0000000000000000000000000000002";
    private static readonly DateTimeOffset Expires = new(2026, 12, 24, 15, 30, 0, TimeSpan.Zero);

    private readonly TestStorage _storage = new();

    private ConsentTables Tables => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    private static ConsentRow Version(int version, string id = Id, string status = "Active") =>
        new(id, version, "{\"id\":\"" + id + "\",\"version\":" + version + "}", status, "childkey1", Expires);

    [Fact]
    public async Task AddAsync_ThenGetAsync_ReturnsTheRowUnderTheKeysAndColumnsOnDisk()
    {
        var etag = await Tables.AddAsync(Version(1));

        var (row, read) = (await Tables.GetAsync(Id))!.Value;
        Assert.Equal(Version(1), row);
        Assert.Equal(etag, read);
        var stored = (await _storage.ReadAllAsync(TableNames.Consents)).OrderBy(e => e.RowKey, StringComparer.Ordinal).ToList();
        Assert.Equal([("a", Id), ("a", Id + "|v000001")], stored.Select(e => (e.PartitionKey, e.RowKey)));
        Assert.All(stored, e => Assert.Equal((Version(1).Document, 1, "Active", "childkey1", Expires),
            (e.GetString("Document"), e.GetInt32("Version"), e.GetString("Status"), e.GetString("ChildKey"), e.GetDateTimeOffset("ExpiresAt"))));
        Assert.Null(await Tables.GetAsync(Other));
    }

    [Fact]
    public async Task AddAsync_AnIdAlreadyThere_FailsAndKeepsTheFirst()
    {
        await Tables.AddAsync(Version(1));

        await Assert.ThrowsAsync<TableTransactionFailedException>(() => Tables.AddAsync(Version(1) with { Status = "Revoked" }));
        Assert.Equal("Active", (await Tables.GetAsync(Id))!.Value.Row.Status);
    }

    [Fact]
    public async Task TryReplaceAsync_CurrentETag_ReplacesAndAddsTheVersionsHistoryRow()
    {
        var etag = await Tables.AddAsync(Version(1));

        var next = await Tables.TryReplaceAsync(Version(2, status: "Revoked"), etag);

        Assert.NotNull(next);
        Assert.Equal((Version(2, status: "Revoked"), next), (await Tables.GetAsync(Id))!.Value);
        var versions = new List<ConsentRow>();
        await foreach (var row in Tables.VersionsAsync(Id))
        {
            versions.Add(row);
        }

        Assert.Equal([1, 2], versions.Select(v => v.Version));
    }

    [Fact]
    public async Task TryReplaceAsync_StaleETagOrVersionAlreadyWritten_ReturnsNullAndWritesNothing()
    {
        var first = await Tables.AddAsync(Version(1));
        var second = await Tables.TryReplaceAsync(Version(2), first);

        var stale = await Tables.TryReplaceAsync(Version(3, status: "Revoked"), first); // 412: the current row changed
        var again = await Tables.TryReplaceAsync(Version(2, status: "Revoked"), second!); // 409: version 2's history row exists

        Assert.Equal((null, null), (stale, again));
        Assert.Equal(Version(2), (await Tables.GetAsync(Id))!.Value.Row);
        Assert.Equal(3, (await _storage.ReadAllAsync(TableNames.Consents)).Count);
    }

    [Fact]
    public async Task TryReplaceAllAsync_OneStaleETag_WritesNoneOfThem()
    {
        var a = await Tables.AddAsync(Version(1));
        var b = await Tables.AddAsync(Version(1, Other));
        await Tables.TryReplaceAsync(Version(2, Other), b);

        var replaced = await Tables.TryReplaceAllAsync([(Version(2, status: "Expired"), a), (Version(2, Other, "Expired"), b)]);

        Assert.False(replaced);
        Assert.Equal("Active", (await Tables.GetAsync(Id))!.Value.Row.Status);
        Assert.True(await Tables.TryReplaceAllAsync([(Version(2, status: "Expired"), a)]));
        Assert.Equal("Expired", (await Tables.GetAsync(Id))!.Value.Row.Status);
    }

    [Fact]
    public async Task WriteAsync_BulkLoad_WritesCurrentHistoryAndIndexRows()
    {
        var writer = new BatchWriter();
        await Tables.WriteAsync(writer, Version(1));
        await Tables.WriteChildAsync(writer, "childkey1", Id);
        await Tables.WriteExpiryAsync(writer, new ConsentExpiryRow(Id, Expires, ["district", "clinic"]));
        await Tables.WriteSourceAsync(writer, new ConsentSourceRow("clinic", Id, "Pending", "Active", Expires));
        await writer.FlushAsync();

        var current = new List<string>();
        await foreach (var row in Tables.CurrentRowsAsync())
        {
            current.Add(row.ConsentId);
        }

        Assert.Equal([Id], current);
        Assert.Equal([Id], await Tables.ChildConsentIdsAsync("childkey1"));
        Assert.Equal([Id], await Tables.SourceConsentIdsAsync("clinic", "Pending", "Active", Expires.AddSeconds(-1)));
        var expiry = Assert.Single(await _storage.ReadAllAsync(TableNames.ConsentExpiry));
        Assert.Equal(("expiry-2026-12-24", "20261224153000|" + Id, ",district,clinic,"), (expiry.PartitionKey, expiry.RowKey, expiry.GetString("Parties")));
    }

    [Fact]
    public async Task ChildConsentIdsAsync_AddedTwice_ListsEachConsentOfThatChildOnce()
    {
        await Tables.AddChildAsync("childkey1", Id);
        await Tables.AddChildAsync("childkey1", Id);
        await Tables.AddChildAsync("childkey1", Other);
        await Tables.AddChildAsync("childkey2", "b0000000000000000000000000000003");

        Assert.Equal([Id, Other], await Tables.ChildConsentIdsAsync("childkey1"));
    }

    [Fact]
    public async Task SourceConsentIdsAsync_OtherDecisionStatusOrExpiry_AreLeftOut()
    {
        await Tables.PutSourceAsync(new ConsentSourceRow("clinic", Id, "Pending", "Active", Expires));
        await Tables.PutSourceAsync(new ConsentSourceRow("clinic", Other, "Approved", "Active", Expires));
        await Tables.PutSourceAsync(new ConsentSourceRow("clinic", "a0000000000000000000000000000003", "Pending", "Revoked", Expires));
        await Tables.PutSourceAsync(new ConsentSourceRow("district", "a0000000000000000000000000000004", "Pending", "Active", Expires));

        Assert.Equal([Id], await Tables.SourceConsentIdsAsync("clinic", "Pending", "Active", Expires.AddSeconds(-1)));
        Assert.Empty(await Tables.SourceConsentIdsAsync("clinic", "Pending", "Active", Expires));
    }

    [Fact]
    public async Task ExpiryPagesAsync_ADayWithABound_ReturnsThatDaysRowsBeforeTheBoundInPages()
    {
        var one = new DateTimeOffset(2026, 12, 24, 1, 0, 0, TimeSpan.Zero);
        foreach (var minutes in new[] { 0, 10, 20, 30 })
        {
            await Tables.PutExpiryAsync(new ConsentExpiryRow($"c{minutes:D31}", one.AddMinutes(minutes), ["district"]));
        }

        await Tables.PutExpiryAsync(new ConsentExpiryRow(Other, one.AddDays(1), ["clinic"]));

        var pages = new List<IReadOnlyList<ConsentExpiryRow>>();
        await foreach (var page in Tables.ExpiryPagesAsync(new DateOnly(2026, 12, 24), one.AddMinutes(25), pageSize: 2))
        {
            pages.Add(page);
        }

        Assert.Equal([2, 1], pages.Select(p => p.Count));
        Assert.Equal([one, one.AddMinutes(10), one.AddMinutes(20)], pages.SelectMany(p => p).Select(r => r.ExpiresAt));
        Assert.All(pages.SelectMany(p => p), r => Assert.Equal(["district"], r.Parties));
    }

    [Fact]
    public async Task ExpiryCursor_AddedThenAddedAgainThenMoved_KeepsTheFirstUntilWritten()
    {
        Assert.Null(await Tables.ReadExpiryCursorAsync());

        await Tables.AddExpiryCursorAsync(new DateOnly(2026, 10, 1));
        await Tables.AddExpiryCursorAsync(new DateOnly(2026, 10, 5));
        var kept = await Tables.ReadExpiryCursorAsync();
        await Tables.WriteExpiryCursorAsync(new DateOnly(2026, 10, 9));

        Assert.Equal((new DateOnly(2026, 10, 1), new DateOnly(2026, 10, 9)), (kept, await Tables.ReadExpiryCursorAsync()));
        var cursor = Assert.Single(await _storage.ReadAllAsync(TableNames.ConsentExpiry));
        Assert.Equal(("cursor", "expiry", "2026-10-09"), (cursor.PartitionKey, cursor.RowKey, cursor.GetString("Day")));
    }
}

using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>The parent page's rate counters against Azurite: add once, raise with If-Match, delete old windows only.</summary>
public sealed class ParentRateTableTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    private ParentRateTable Table => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    [Fact]
    public async Task TryAddAsync_ThenReadAsync_ReturnsTheCountUnderTheKeysOnDiskAndASecondAddLoses()
    {
        var first = await Table.TryAddAsync("2026100112", "link|l1", 1);
        var second = await Table.TryAddAsync("2026100112", "link|l1", 1);

        Assert.Equal((true, false), (first, second));
        Assert.Equal(1, (await Table.ReadAsync("2026100112", "link|l1"))!.Value.Count);
        Assert.Null(await Table.ReadAsync("2026100113", "link|l1"));
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.ParentLinkRate));
        Assert.Equal(("2026100112", "link|l1", 1), (stored.PartitionKey, stored.RowKey, stored.GetInt32("Count")));
    }

    [Fact]
    public async Task TryReplaceAsync_CurrentThenStaleETag_RaisesOnce()
    {
        await Table.TryAddAsync("2026100112", "client|h", 1);
        var (_, etag) = (await Table.ReadAsync("2026100112", "client|h"))!.Value;

        var raised = await Table.TryReplaceAsync("2026100112", "client|h", 2, etag);
        var stale = await Table.TryReplaceAsync("2026100112", "client|h", 2, etag);

        Assert.Equal((true, false), (raised, stale));
        Assert.Equal(2, (await Table.ReadAsync("2026100112", "client|h"))!.Value.Count);
    }

    [Fact]
    public async Task DeleteWindowsBeforeAsync_OldAndKeptWindows_DeletesOnlyTheOldOnes()
    {
        foreach (var window in new[] { "2026100109", "2026100110", "2026100111", "2026100112" })
        {
            await Table.TryAddAsync(window, "link|l1", 1);
            await Table.TryAddAsync(window, "client|h", 1);
        }

        var deleted = await Table.DeleteWindowsBeforeAsync("2026100111");
        var again = await Table.DeleteWindowsBeforeAsync("2026100111");

        Assert.Equal((4, 0), (deleted, again));
        Assert.Equal(["2026100111", "2026100112"], (await _storage.ReadAllAsync(TableNames.ParentLinkRate)).Select(e => e.PartitionKey).Distinct().Order(StringComparer.Ordinal));
    }
}

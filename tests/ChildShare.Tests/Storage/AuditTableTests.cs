using Azure;
using Azure.Data.Tables;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>The audit table's store against Azurite: entries are added and read by month, and an entry is never replaced.</summary>
public sealed class AuditTableTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    private AuditTable Table => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    [Fact]
    public async Task AddAsync_ThenReadMonthAsync_ReturnsTheMonthsEntriesInOrder()
    {
        await Table.AddAsync(new TableEntity("2026-10", "2") { ["Event"] = "b" });
        await Table.AddAllAsync([new TableEntity("2026-10", "1") { ["Event"] = "a" }, new TableEntity("2026-10", "3") { ["Event"] = "c" }]);
        await Table.AddAsync(new TableEntity("2026-11", "1") { ["Event"] = "other month" });

        var month = await Table.ReadMonthAsync("2026-10");

        Assert.Equal(["a", "b", "c"], month.Select(e => e.GetString("Event")));
    }

    [Fact]
    public async Task AddAsync_SameKeysAgain_FailsAndKeepsTheFirstEntry()
    {
        await Table.AddAsync(new TableEntity("2026-10", "1") { ["Event"] = "first" });

        var conflict = await Assert.ThrowsAsync<RequestFailedException>(() => Table.AddAsync(new TableEntity("2026-10", "1") { ["Event"] = "rewritten" }));

        Assert.Equal(409, conflict.Status);
        Assert.Equal("first", Assert.Single(await Table.ReadMonthAsync("2026-10")).GetString("Event"));
    }
}

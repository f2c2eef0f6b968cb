using Azure;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>The agreements table's store against Azurite: current rows under their keys, the history, and the ETag on replace.</summary>
public sealed class AgreementTableTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    private AgreementTable Table => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    private static AgreementRow Row(int version, string document = "{\"v\":1}") =>
        new("dsa-a", version, document) { Status = "Active", TermsFormat = 2 };

    [Fact]
    public async Task AddCurrentAsync_ThenGetCurrentAsync_ReturnsTheRowUnderTheSameKeysAndColumns()
    {
        await Table.AddCurrentAsync(Row(1));

        var read = await Table.GetCurrentAsync("dsa-a");

        Assert.Equal(Row(1), read! with { ETag = default });
        Assert.NotEqual(default, read.ETag);
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Agreements));
        Assert.Equal(("dsa", "dsa-a", "{\"v\":1}", 1, "Active", 2),
            (stored.PartitionKey, stored.RowKey, stored.GetString("Document"), stored.GetInt32("Version"), stored.GetString("Status"), stored.GetInt32("TermsFormat")));
        Assert.Null(await Table.GetCurrentAsync("dsa-none"));
    }

    [Fact]
    public async Task AddCurrentAsync_IdInUse_FailsWith409()
    {
        await Table.AddCurrentAsync(Row(1));

        var conflict = await Assert.ThrowsAsync<RequestFailedException>(() => Table.AddCurrentAsync(Row(1, "{}")));

        Assert.Equal(409, conflict.Status);
    }

    [Fact]
    public async Task ReplaceCurrentAsync_StaleETag_FailsWith412AndKeepsTheNewerRow()
    {
        await Table.AddCurrentAsync(Row(1));
        var read = (await Table.GetCurrentAsync("dsa-a"))!;
        await Table.ReplaceCurrentAsync(Row(2, "{\"v\":2}"), read.ETag);

        var stale = await Assert.ThrowsAsync<RequestFailedException>(() => Table.ReplaceCurrentAsync(Row(2, "{\"v\":\"racing\"}"), read.ETag));

        Assert.Equal(412, stale.Status);
        Assert.Equal("{\"v\":2}", (await Table.GetCurrentAsync("dsa-a"))!.Document);
    }

    [Fact]
    public async Task AddVersionAsync_ThenHistoryAsync_ReturnsThatAgreementsVersionsInOrder()
    {
        await Table.AddVersionAsync(Row(2, "{\"v\":2}"));
        await Table.AddVersionAsync(Row(1));
        await Table.AddVersionAsync(new AgreementRow("dsa-ab", 1, "{}"));
        await Table.AddCurrentAsync(Row(2));

        var history = await Table.HistoryAsync("dsa-a");

        Assert.Equal([(1, "{\"v\":1}"), (2, "{\"v\":2}")], history.Select(r => (r.Version, r.Document)));
        var stored = (await _storage.ReadAllAsync(TableNames.Agreements)).Single(e => e.RowKey == "dsa-a|000002");
        Assert.Equal(("dsa-history", 2, false), (stored.PartitionKey, stored.GetInt32("TermsFormat"), stored.ContainsKey("Status")));
        await Assert.ThrowsAsync<RequestFailedException>(() => Table.AddVersionAsync(Row(1)));
    }

    [Fact]
    public async Task GetCurrentAsync_RowWithoutTermsFormat_ReadsNull()
    {
        await Table.AddCurrentAsync(Row(1) with { TermsFormat = null });

        Assert.Null((await Table.GetCurrentAsync("dsa-a"))!.TermsFormat);
        Assert.False(Assert.Single(await _storage.ReadAllAsync(TableNames.Agreements)).ContainsKey("TermsFormat"));
    }
}

using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>The upload staging table's store against Azurite: the columns on disk, merges of a re-link, one upload's partition in child order.</summary>
public sealed class UploadStagingStoreTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    private UploadStagingStore Store => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    [Fact]
    public async Task StageChildAsync_ThenReadUploadAsync_RoundTripsUnderTheSameKeysAndColumns()
    {
        var writer = new BatchWriter();
        await Store.StageChildAsync(writer, "u1", Child("p1|t1"));
        await writer.FlushAsync();

        var row = Assert.Single(await ReadAsync("u1"));

        Assert.Null(row.Service);
        Assert.Equal(("p1|t1", "k1", "exact", "v1"), (row.ProviderChild, row.Child!.ChildKey, row.Child.LinkRule, row.Child.KeyVersion));
        Assert.Equal(new Dictionary<string, string> { ["Sex"] = "Female", ["Zip"] = "12345" }, row.Child.Demographics);
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.UploadStaging));
        Assert.Equal(("u1", "p1|t1", "k1", "exact", "v1", "Female", ""), (stored.PartitionKey, stored.RowKey, stored.GetString("ChildKey"),
            stored.GetString("LinkRule"), stored.GetString("KeyVersion"), stored.GetString("Sex"), stored.GetString("BirthDate")));
    }

    [Fact]
    public async Task StageServiceAsync_ThenReadUploadAsync_RoundTripsTheServiceAndItsOptionalCounts()
    {
        var writer = new BatchWriter();
        var withCounts = new StoredService("20240101-aa", "Pre-K", "Class", "2024-01-01", "", "2024-03-01", "u1", 12.5, 20);
        var without = new StoredService("20240201-bb", "Pre-K", "Visit", "2024-02-01", "2024-02-02", "2024-03-01", "u1");
        await Store.StageServiceAsync(writer, "u1", "p1|t1", withCounts);
        await Store.StageServiceAsync(writer, "u1", "p1|t1", without);
        await writer.FlushAsync();

        var rows = await ReadAsync("u1");

        Assert.Equal([withCounts, without], rows.Select(r => r.Service));
        Assert.All(rows, r => Assert.Equal(("p1|t1", null), (r.ProviderChild, r.Child)));
        var stored = (await _storage.ReadAllAsync(TableNames.UploadStaging)).Single(e => e.RowKey == "p1|t1|20240101-aa");
        Assert.Equal(("2024-01-01", "", 12.5, 20), (stored.GetString("StartDate"), stored.GetString("EndDate"), stored.GetDouble("Hours"), stored.GetInt32("DaysAttended")));
    }

    [Fact]
    public async Task StageChildAsync_ARelinkWithOnlyAChildKey_KeepsTheRestOfTheRow()
    {
        var writer = new BatchWriter();
        await Store.StageChildAsync(writer, "u1", Child("p1|t1"));
        await writer.FlushAsync();

        await Store.StageChildAsync(writer, "u1", new StagedChildRow("p1|t1") { ChildKey = "k2" });
        await writer.FlushAsync();

        var child = Assert.Single(await ReadAsync("u1")).Child!;
        Assert.Equal(("k2", "exact", "v1", "Female"), (child.ChildKey, child.LinkRule, child.KeyVersion, child.Demographics["Sex"]));
    }

    [Fact]
    public async Task ReadUploadAsync_TwoUploads_ReadsOnlyThatUploadInChildOrder()
    {
        var writer = new BatchWriter();
        await Store.StageServiceAsync(writer, "u1", "p1|t2", new StoredService("20240101-aa", "P", "S", "2024-01-01", "", "2024-03-01", "u1"));
        await Store.StageChildAsync(writer, "u1", Child("p1|t2"));
        await Store.StageChildAsync(writer, "u1", Child("p1|t1"));
        await Store.StageChildAsync(writer, "u2", Child("p1|t3"));
        await writer.FlushAsync();

        var rows = await ReadAsync("u1");

        Assert.Equal(["p1|t1", "p1|t2", "p1|t2"], rows.Select(r => r.ProviderChild));
        Assert.NotNull(rows[1].Child);
        Assert.NotNull(rows[2].Service);
    }

    private static StagedChildRow Child(string providerChild) => new(providerChild)
    {
        ChildKey = "k1",
        LinkRule = "exact",
        KeyVersion = "v1",
        Demographics = new Dictionary<string, string> { ["Sex"] = "Female", ["Zip"] = "12345", ["BirthDate"] = "" },
    };

    private async Task<List<StagedRow>> ReadAsync(string uploadId)
    {
        var rows = new List<StagedRow>();
        await foreach (var row in Store.ReadUploadAsync(uploadId))
        {
            rows.Add(row);
        }

        return rows;
    }
}

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
    public async Task StageServicesAsync_ThenReadUploadAsync_RoundTripsTheServicesAndTheirOptionalCounts()
    {
        var writer = new BatchWriter();
        var withCounts = new StoredService("20240101-aa", "Pre-K", "Class", "2024-01-01", "", "2024-03-01", "u1", 12.5, 20);
        var without = new StoredService("20240201-bb", "Pre-K", "Visit", "2024-02-01", "2024-02-02", "2024-03-01", "u1");
        await Store.StageServicesAsync(writer, "u1", "p1|t1", 0, [withCounts, without]);
        await writer.FlushAsync();

        var rows = await ReadAsync("u1");

        Assert.Equal([withCounts, without], rows.Select(r => r.Service));
        Assert.All(rows, r => Assert.Equal(("p1|t1", null), (r.ProviderChild, r.Child)));
        // Both in one row, keyed by the child and the writer's round, so a later round's row sorts after it.
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.UploadStaging));
        Assert.Equal("p1|t1|~00000.00000", stored.RowKey);
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
    public async Task StageServicesAsync_MoreServicesThanARowHoldsWithCellsThatAllEscape_PacksThemInRowsUnderThePropertyLimitAndReadsEveryOneBack()
    {
        var writer = new BatchWriter();
        var services = Enumerable.Range(0, (UploadStagingStore.ServicesPerRow * 2) + 7)
            .Select(i => new StoredService($"2024{i:D4}-aa", new string('"', 200), new string('<', 200), "2024-01-01", "", "2024-03-01", "u1", i, i))
            .ToList();
        await Store.StageServicesAsync(writer, "u1", "p1|t1", 0, services);
        await writer.FlushAsync();

        Assert.Equal(services, (await ReadAsync("u1")).Select(r => r.Service));
        var stored = await _storage.ReadAllAsync(TableNames.UploadStaging);
        Assert.InRange(stored.Count, 3, services.Count - 1);
        Assert.All(stored, r => Assert.InRange(r.GetString("Services")!.Length, 1, 32_768));
    }

    [Fact]
    public async Task ReadUploadAsync_ServicesOneARowAsEarlierCodeStagedThem_ReadsThemBesideThePackedOnes()
    {
        // An upload staged by code before the packing, delivered again after a deploy: both forms are in its partition.
        await _storage.Storage.Table(TableNames.UploadStaging).AddEntityAsync(new Azure.Data.Tables.TableEntity("u1", "p1|t1|20240101-aa")
        {
            ["Program"] = "P", ["ServiceType"] = "S", ["StartDate"] = "2024-01-01", ["EndDate"] = "", ["AsOf"] = "2024-03-01", ["Hours"] = 2.5,
        });
        var writer = new BatchWriter();
        var packed = new StoredService("20240201-bb", "P", "S", "2024-02-01", "", "2024-03-01", "u1");
        await Store.StageServicesAsync(writer, "u1", "p1|t1", 0, [packed]);
        await writer.FlushAsync();

        Assert.Equal([new StoredService("20240101-aa", "P", "S", "2024-01-01", "", "2024-03-01", "u1", 2.5), packed],
            (await ReadAsync("u1")).Select(r => r.Service));
    }

    [Fact]
    public async Task ReadUploadAsync_TwoUploads_ReadsOnlyThatUploadInChildOrder()
    {
        var writer = new BatchWriter();
        await Store.StageServicesAsync(writer, "u1", "p1|t2", 0, [new StoredService("20240101-aa", "P", "S", "2024-01-01", "", "2024-03-01", "u1")]);
        await Store.StageChildAsync(writer, "u1", Child("p1|t2"));
        await Store.StageChildAsync(writer, "u1", Child("p1|t1"));
        await Store.StageChildAsync(writer, "u2", Child("p1|t3"));
        await writer.FlushAsync();

        var rows = await ReadAsync("u1");

        Assert.Equal(["p1|t1", "p1|t2", "p1|t2"], rows.Select(r => r.ProviderChild));
        Assert.NotNull(rows[1].Child);
        Assert.NotNull(rows[2].Service);
    }

    [Fact]
    public async Task StageServicesAsync_ThousandsOfServicesOfOneChildAmongOthersInOneWriter_ReadsEveryServiceOnceInChildOrder()
    {
        // 6,000 services of one child: more packed rows than a transaction holds, between two other children of the partition.
        var writer = new BatchWriter();
        var many = Enumerable.Range(0, 6_000)
            .Select(i => new StoredService($"2024{i:D5}-aa", "Pre-K \"é中😀\"", "Class", "2024-01-01", "", "2024-03-01", "u1", i % 7, i % 30))
            .ToList();
        var one = new StoredService("20240101-bb", "P", "S", "2024-01-01", "", "2024-03-01", "u1");
        foreach (var child in new[] { "p1|t1", "p1|t2", "p1|t3" })
        {
            await Store.StageChildAsync(writer, "u1", Child(child));
            await Store.StageServicesAsync(writer, "u1", child, 0, child == "p1|t2" ? many : [one]);
        }

        await writer.FlushAsync();

        var rows = await ReadAsync("u1");
        Assert.Equal(3 + 1 + many.Count + 1, rows.Count);
        Assert.Equal(many, rows.Where(r => r.ProviderChild == "p1|t2" && r.Service is not null).Select(r => r.Service));
        Assert.Equal(["p1|t1", "p1|t2", "p1|t3"], rows.Select(r => r.ProviderChild).Distinct());
        Assert.True(rows.Select(r => r.ProviderChild).SequenceEqual(rows.Select(r => r.ProviderChild).Order(StringComparer.Ordinal)));
        var packedRows = (await _storage.ReadAllAsync(TableNames.UploadStaging)).Where(r => r.RowKey.StartsWith("p1|t2|~", StringComparison.Ordinal)).ToList();
        Assert.True(packedRows.Count > BatchWriter.MaxBatchSize);
        Assert.Equal(many.Count / UploadStagingStore.ServicesPerRow, packedRows.Count);
    }

    [Fact]
    public async Task ReadUploadAsync_ServiceInRoundsNineAndTenWrittenInReverse_ReadsTheLaterRoundsLast()
    {
        // Row keys sort as text: round 10 after round 9 (and part 1 after part 0), whatever order they were written in.
        var writer = new BatchWriter();
        var tenth = Enumerable.Range(0, UploadStagingStore.ServicesPerRow + 1)
            .Select(i => new StoredService($"2024{i:D4}-aa", "P", "S", "2024-01-01", "", "2024-03-01", "u1", 10)).ToList();
        await Store.StageServicesAsync(writer, "u1", "p1|t1", 10, tenth);
        await writer.FlushAsync();
        var ninth = new StoredService(tenth[^1].Key, "P", "S", "2024-01-01", "", "2024-03-01", "u1", 9);
        await Store.StageServicesAsync(writer, "u1", "p1|t1", 9, [ninth]);
        await writer.FlushAsync();

        var rows = await ReadAsync("u1");

        Assert.Equal([ninth, .. tenth], rows.Select(r => r.Service));
        Assert.Equal(10, rows.Last(r => r.Service!.Key == ninth.Key).Service!.Hours);
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

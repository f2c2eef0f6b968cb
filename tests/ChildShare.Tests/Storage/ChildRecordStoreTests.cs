using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>The records table's store against Azurite: a round trip, merges that keep what they do not name, the narrow reads.</summary>
public sealed class ChildRecordStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset At = new(2026, 10, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TestStorage _storage = new();

    private ChildRecordStore Store => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    private static ChildRecordRow Row => new("p1", "tok1")
    {
        ChildKey = "c1", LinkRule = "exact", KeyVersion = "v1", LinkedChildKey = "c1", ActivityYears = "2025,2026", LastUploadId = "u1", UpdatedAt = At,
        Demographics = new Dictionary<string, string> { [DemographicColumns.Sex] = "Female", [DemographicColumns.Zip3] = "021" },
        Services = [new StoredService("k1", "Tutoring", "Session", "2026-01-05", "", "2026-09-30", "u1", Hours: 2.5)],
    };

    private async Task WriteAsync(ChildRecordRow row)
    {
        var writer = new BatchWriter();
        await Store.WriteAsync(writer, row);
        await writer.FlushAsync();
    }

    [Fact]
    public async Task WriteAsync_ThenReadAsync_ReturnsTheSameRowUnderTheSameKeysAndColumns()
    {
        await WriteAsync(Row);

        var expected = Row;
        var read = await Store.ReadAsync("p1", "tok1");
        Assert.Equal(expected with { Services = null }, read! with { Services = null, Demographics = expected.Demographics });
        Assert.Equal(expected.Demographics, read.Demographics);
        Assert.Equal(expected.Services, read.Services);
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Records));
        Assert.Equal(("p1", "tok1", "Female", "c1"), (stored.PartitionKey, stored.RowKey, stored.GetString("Sex"), stored.GetString("ChildKey")));
        Assert.Equal(StoredService.Serialize(Row.Services!), stored.GetString("Services"));
    }

    [Fact]
    public async Task WriteAsync_RowWithoutAColumn_KeepsTheStoredValue()
    {
        await WriteAsync(Row);

        await WriteAsync(new ChildRecordRow("p1", "tok1") { ActivityYears = "2026" });

        var read = await Store.ReadAsync("p1", "tok1");
        Assert.Equal(("2026", "c1", "Female"), (read!.ActivityYears, read.ChildKey, read.DemographicOf(DemographicColumns.Sex)));
    }

    [Fact]
    public async Task RelinkAsync_KnownRecord_ChangesOnlyTheChildKeyAndRule()
    {
        await WriteAsync(Row);
        var writer = new BatchWriter();

        await Store.RelinkAsync(writer, "p1", "tok1", "c2", "probabilistic");
        await writer.FlushAsync();

        var read = await Store.ReadAsync("p1", "tok1");
        Assert.Equal(("c2", "probabilistic", "c1", "021"), (read!.ChildKey, read.LinkRule, read.LinkedChildKey, read.DemographicOf(DemographicColumns.Zip3)));
    }

    [Fact]
    public async Task NarrowReads_KnownAndUnknownRecords_ReturnTheColumnOrNothing()
    {
        await WriteAsync(Row);

        Assert.Equal("c1", await Store.ChildKeyAsync("p1", "tok1"));
        Assert.Equal(Row.Services, await Store.ServicesAsync("p1", "tok1"));
        Assert.Null(await Store.ChildKeyAsync("p1", "nobody"));
        Assert.Empty(await Store.ServicesAsync("p1", "nobody"));
        Assert.Null(await Store.ReadAsync("p1", "nobody"));
    }

    [Fact]
    public async Task KeysAsync_TwoRecords_ListsBothKeys()
    {
        await WriteAsync(Row);
        await WriteAsync(Row with { ProviderId = "p2" });

        var keys = new List<(string, string)>();
        await foreach (var key in Store.KeysAsync())
        {
            keys.Add(key);
        }

        Assert.Equal([("p1", "tok1"), ("p2", "tok1")], keys.Order());
    }

    [Fact]
    public void Released_BlankAndMissingColumns_AreLeftOutAndNamesAreCamelCase()
    {
        var row = Row with { Demographics = new Dictionary<string, string> { [DemographicColumns.Grade] = " ", [DemographicColumns.Sex] = "Male" } };

        Assert.Equal([new("sex", "Male")], row.Released(DemographicColumns.Grade, DemographicColumns.Sex, DemographicColumns.School).ToList());
    }
}

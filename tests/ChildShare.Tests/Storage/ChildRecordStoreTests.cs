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

        var expected = Row with { ServicePartsOnDisk = 1 };
        var read = await Store.ReadAsync("p1", "tok1");
        Assert.Equal(expected with { Services = null }, read! with { Services = null, Demographics = expected.Demographics });
        Assert.Equal(expected.Demographics, read.Demographics);
        Assert.Equal(expected.Services, read.Services);
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Records));
        Assert.Equal(("p1", "tok1", "Female", "c1"), (stored.PartitionKey, stored.RowKey, stored.GetString("Sex"), stored.GetString("ChildKey")));
        Assert.Equal(StoredService.Serialize(Row.Services!), stored.GetString("Services"));
    }

    // Services with the longest program and type a file may give: about 500 characters of JSON each.
    private static List<StoredService> ManyServices(int count, string upload = "u1") =>
        Enumerable.Range(0, count).Select(i => new StoredService($"k{i:D5}", "Program " + new string('p', 190), "Type " + new string('t', 190),
            "2026-01-05", "2026-01-06", "2026-09-30", upload, Hours: 2.5, DaysAttended: 1)).ToList();

    [Fact]
    public async Task WriteAsync_AChildWithSevenHundredLongServices_StaysUnderAzuresLimitsAndReadsThemAllBack()
    {
        // A child of one provider with 700 service records of long names: in one property that is 350,000 characters, which
        // Azure refuses (32,768 a string property); the test pipeline holds every request to Azure's limits, as Azurite does not.
        var services = ManyServices(700);

        await WriteAsync(Row with { Services = services });

        var read = await Store.ReadAsync("p1", "tok1");
        Assert.Equal(services, read!.Services);
        Assert.Equal(services, await Store.ServicesAsync("p1", "tok1"));
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Records));
        Assert.All(stored.Select(p => p.Value).OfType<string>(), value => Assert.True(value.Length <= ChildRecordStore.ServicePartChars));
        Assert.True(stored.GetInt32("ServiceParts") > 1);
    }

    [Fact]
    public async Task WriteAsync_FewerServicesAfterMany_ReadsOnlyTheNewOnesAndBlanksTheLongerWritesParts()
    {
        await WriteAsync(Row with { Services = ManyServices(700) });
        var earlier = await Store.ReadAsync("p1", "tok1");

        await WriteAsync(earlier! with { Services = ManyServices(3, "u2") });

        var read = await Store.ReadAsync("p1", "tok1");
        Assert.Equal(ManyServices(3, "u2"), read!.Services);
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Records));
        Assert.Equal(1, stored.GetInt32("ServiceParts"));
        Assert.All(Enumerable.Range(1, earlier.ServicePartsOnDisk - 1), part => Assert.Equal("", stored.GetString("Services" + part)));
    }

    [Fact]
    public async Task ReadAsync_ARowOfTheOneServicesColumnShape_ReadsItsServices()
    {
        // Rows written before the services were split have the one Services column and no part count.
        var entity = new Azure.Data.Tables.TableEntity("p1", "tok1") { ["ChildKey"] = "c1", ["Services"] = StoredService.Serialize(Row.Services!) };
        await _storage.Storage.Table(TableNames.Records).UpsertEntityAsync(entity);

        Assert.Equal(Row.Services, (await Store.ReadAsync("p1", "tok1"))!.Services);
        Assert.Equal(Row.Services, await Store.ServicesAsync("p1", "tok1"));
    }

    [Fact]
    public async Task WriteAsync_MoreServicesThanARowHolds_ThrowsACountOnlyErrorAndWritesNothing()
    {
        var writer = new BatchWriter();

        var error = await Assert.ThrowsAsync<ChildRecordTooLargeException>(() => Store.WriteAsync(writer, Row with { Services = ManyServices(1_000_000 / 50) }));
        await writer.FlushAsync();

        Assert.DoesNotContain("tok1", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Program", error.Message, StringComparison.Ordinal);
        Assert.Empty(await _storage.ReadAllAsync(TableNames.Records));
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

using System.Text.RegularExpressions;
using ChildShare.Tests.Support;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;

namespace ChildShare.Tests.Ingestion;

/// <summary>What a corrected re-upload does to a provider's earlier records.</summary>
public sealed class ReuploadTests : IAsyncLifetime
{
    private const string Header = "Id,First,Last,DOB,Sex,Race,Zip,Grade,Program,Start,End";
    private const string OptionalHeader = Header + ",Address,StateId,Middle,Suffix";

    private static readonly string WithOptionalIdentityColumns = IngestionHarness.DefaultProfile.Replace(
        "\"Address\": \"StreetAddress\"", "\"Address\": \"StreetAddress\", \"StateId\": \"StateStudentId\", \"Middle\": \"MiddleName\", \"Suffix\": \"Suffix\"",
        StringComparison.Ordinal);

    private static readonly string WithoutAddress = Regex.Replace(IngestionHarness.DefaultProfile, @",\s*""Address"": ""StreetAddress""", "");

    private readonly IngestionHarness _harness = new();

    public Task InitializeAsync() => _harness.InitializeAsync();

    public Task DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task Upsert_CorrectedEndDate_ReplacesTheServiceAndRemovesStaleMonths()
    {
        await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/roster.csv",
            $"{Header}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-07-01,2026-09-30\n");

        var corrected = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/roster.csv",
            $"{Header}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-07-01,2026-07-31\n");

        Assert.Equal(UploadStatus.Completed, corrected.Status);
        var record = Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Records));
        var service = Assert.Single(StoredService.Deserialize(record.GetString("Services")));
        Assert.Equal("2026-07-31", service.End);
        Assert.Equal(["2026-07"], (await _harness.Storage.ReadActivityMonthsAsync()).Select(a => a.PartitionKey));
    }

    [Fact]
    public async Task Upsert_ServiceAbsentFromTheNewFile_IsKept()
    {
        await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/july.csv",
            $"{Header}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-07-01,2026-07-31\n");

        await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/august.csv",
            $"{Header}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Arts,2026-08-01,2026-08-31\n");

        var record = Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Records));
        Assert.Equal(2, StoredService.Deserialize(record.GetString("Services")).Count);
    }

    [Fact]
    public async Task ReplaceChildServices_CorrectedStartDate_WithdrawsTheOldServiceOfThatChildOnly()
    {
        var profile = MappingProfile.Parse(IngestionHarness.DefaultProfile) with { ReuploadPolicy = ReuploadPolicy.ReplaceChildServices };
        await _harness.Providers.SaveProfileAsync(IngestionHarness.ProviderId, profile.ToJson());
        await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/roster.csv", $"""
            {Header}
            A1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-07-10,2026-08-31
            B2,Ben,Okafor,2014-07-19,M,5,12345,4,Tutoring,2026-07-01,2026-07-31
            """);

        var corrected = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/roster-fixed.csv",
            $"{Header}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-08-01,2026-08-31\n");

        Assert.Equal(1, corrected.ServicesWithdrawn);
        var records = await _harness.Storage.ReadAllAsync(TableNames.Records);
        var services = records.ToDictionary(r => r.GetString("Grade"), r => StoredService.Deserialize(r.GetString("Services")));
        Assert.Equal("2026-08-01", Assert.Single(services["3"]).Start);
        Assert.Single(services["4"]);
        var months = (await _harness.Storage.ReadActivityMonthsAsync()).Select(a => (a.PartitionKey, a.GetString("Grade"))).Order().ToList();
        Assert.Equal([("2026-07", "4"), ("2026-08", "3")], months);
    }

    [Fact]
    public async Task Upsert_OptionalIdentityFieldsBlank_ClearsThemFromTheIdentity()
    {
        await _harness.Providers.SaveProfileAsync(IngestionHarness.ProviderId, WithOptionalIdentityColumns);
        await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/july.csv",
            $"{OptionalHeader}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-07-01,2026-07-31,\"4417 N. Larkspur Hollow Rd, Apt #2\",900000077,Maria,Jr\n");
        var first = Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Identities));
        Assert.Equal(("4417 N. Larkspur Hollow Rd, Apt #2", "900000077", "Maria", "JR"),
            (first.GetString("StreetAddress"), first.GetString("StateStudentId"), first.GetString("MiddleName"), first.GetString("Suffix")));

        var blank = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/august.csv",
            $"{OptionalHeader}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-07-01,2026-07-31,,,,\n");

        Assert.Equal(UploadStatus.Completed, blank.Status);
        var identity = Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Identities));
        Assert.All(new[] { "StreetAddress", "StateStudentId", "MiddleName", "Suffix" }, f => Assert.Equal("", identity.GetString(f)));
        Assert.Equal(("A1", "Ana", "Lopez"), (identity.GetString("LocalChildId"), identity.GetString("FirstName"), identity.GetString("LastName")));
        Assert.False(string.IsNullOrEmpty(identity.GetString("ChildKey")));
    }

    [Fact]
    public async Task OneUpload_LaterRowOfTheSameChildWithBlankIdentifiers_KeepsWhatAnEarlierRowGave()
    {
        // A row per service: the second row leaves the optional identifiers blank. Whatever the row order, the file
        // as a whole gave them, so they stay; a later upload that gives none clears them (test above).
        await _harness.Providers.SaveProfileAsync(IngestionHarness.ProviderId, WithOptionalIdentityColumns);
        var upload = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/july.csv",
            $"{OptionalHeader}\n"
            + "A1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-07-01,2026-07-31,\"4417 N. Larkspur Hollow Rd, Apt #2\",900000077,Maria,Jr\n"
            + "A1,Ana,Lopez,2015-03-02,F,5,12345,3,Meals,2026-07-01,2026-07-31,,,,\n");

        Assert.Equal(UploadStatus.Completed, upload.Status);
        var identity = Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Identities));
        Assert.Equal(("4417 N. Larkspur Hollow Rd, Apt #2", "900000077", "Maria", "JR"),
            (identity.GetString("StreetAddress"), identity.GetString("StateStudentId"), identity.GetString("MiddleName"), identity.GetString("Suffix")));
    }

    [Fact]
    public async Task Upsert_OptionalIdentityColumnsNoLongerMapped_ClearsThemFromTheIdentity()
    {
        await _harness.Providers.SaveProfileAsync(IngestionHarness.ProviderId, WithOptionalIdentityColumns);
        await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/july.csv",
            $"{OptionalHeader}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-07-01,2026-07-31,\"4417 N. Larkspur Hollow Rd, Apt #2\",900000077,Maria,Jr\n");

        await _harness.Providers.SaveProfileAsync(IngestionHarness.ProviderId, WithoutAddress);
        var unmapped = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/august.csv",
            $"{Header}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-08-01,2026-08-31\n");

        Assert.DoesNotContain("StreetAddress", WithoutAddress, StringComparison.Ordinal);
        Assert.Equal(UploadStatus.Completed, unmapped.Status);
        var identity = Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Identities));
        Assert.All(new[] { "StreetAddress", "StateStudentId", "MiddleName", "Suffix" }, f => Assert.Equal("", identity.GetString(f)));
        foreach (var table in TableNames.All)
        {
            foreach (var entity in await _harness.Storage.ReadAllAsync(table))
            {
                Assert.DoesNotContain(entity.Select(p => p.Value?.ToString() ?? ""), v => v.Contains("Larkspur", StringComparison.OrdinalIgnoreCase) || v.Contains("900000077", StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public async Task OpenService_CountsAsActiveThroughTheUploadDate()
    {
        await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/open.csv",
            $"{Header}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-09-20,\n");

        var months = (await _harness.Storage.ReadActivityMonthsAsync()).ToDictionary(a => a.PartitionKey, a => a.GetInt64("DayMask"));

        // The test clock says 2026-10-15: active 20 to 30 September and 1 to 15 October.
        Assert.Equal(0b11111111111L << 19, months["2026-09"]);
        Assert.Equal((1L << 15) - 1, months["2026-10"]);
    }
}

using System.Globalization;
using System.Text;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Ingestion;

/// <summary>
/// Ingestion end to end with a child's services packed in its staging rows (<see cref="UploadStagingStore.StageServicesAsync"/>):
/// many services of one child, hostile cells, rows of one child far apart, a service repeated with other hours, a re-upload.
/// </summary>
public sealed class PackedServicesIngestionTests : IAsyncLifetime
{
    private const string Header = "Id,First,Last,DOB,Sex,Race,Zip,Grade,Program,Type,Start,End,Hours";

    private static readonly string WithTypeAndHours = IngestionHarness.DefaultProfile.Replace(
        "\"Address\": \"StreetAddress\"", "\"Address\": \"StreetAddress\", \"Type\": \"ServiceType\", \"Hours\": \"Hours\"", StringComparison.Ordinal);

    // Quotes, a comma, HTML-sensitive characters, accents and a character outside the BMP: each escapes in JSON.
    private static readonly string Hostile = "\"\"Q\"\" <b>&'é中😀\\";

    private readonly IngestionHarness _harness = new();

    public async Task InitializeAsync()
    {
        await _harness.InitializeAsync();
        await _harness.Providers.SaveProfileAsync(IngestionHarness.ProviderId, WithTypeAndHours);
    }

    public Task DisposeAsync() => _harness.DisposeAsync();

    private static string Row(string id, string program, string type, DateOnly start, double hours) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{id},Ana{id},Lopez,2015-03-02,F,5,12345,3,\"{program.Replace("\"", "\"\"", StringComparison.Ordinal)}\",\"{type.Replace("\"", "\"\"", StringComparison.Ordinal)}\",{start:yyyy-MM-dd},{start.AddDays(3):yyyy-MM-dd},{hours}");

    private static readonly DateOnly First = new(2026, 1, 1);

    [Fact]
    public async Task IngestAsync_ChildWithServicesInSeveralPackedRowsHostileCellsAndARepeatedService_RecordsEachServiceOnceWithTheLastRowsValues()
    {
        var rows = new List<string>();
        for (var i = 0; i < 120; i++)
        {
            rows.Add(Row("A1", "Tutoring", "Weekly", First.AddDays(i), 1));
        }

        for (var i = 0; i < 5; i++)
        {
            rows.Add(Row("A1", Hostile + i, Hostile, First.AddDays(i), 2));
        }

        // Other children between the child's rows, then the child's first service again with other hours: the last row wins.
        for (var i = 0; i < 30; i++)
        {
            rows.Add(Row("B" + i, "Arts", "Weekly", First, 1));
        }

        rows.Add(Row("A1", "Tutoring", "Weekly", First, 7.5));
        var manifest = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/many.csv", Header + "\n" + string.Join('\n', rows) + "\n");

        Assert.Equal(UploadStatus.Completed, manifest.Status);
        Assert.Equal(rows.Count, manifest.RowsAccepted);
        var records = await _harness.Storage.ReadAllAsync(TableNames.Records);
        Assert.Equal(31, records.Count);
        var identities = await _harness.Storage.ReadAllAsync(TableNames.Identities);
        var a1Token = identities.Single(i => i.GetString("LocalChildId") == "A1").RowKey;
        var services = StoredService.Deserialize(records.Single(r => r.RowKey == a1Token).GetString("Services"));
        Assert.Equal(125, services.Count);
        Assert.Equal(125, services.Select(s => s.Key).Distinct().Count());
        Assert.Equal(7.5, services.Single(s => s.Program == "Tutoring" && s.Start == "2026-01-01").Hours);
        Assert.Equal(119, services.Count(s => s.Program == "Tutoring" && s.Hours == 1));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => Hostile + i), services.Where(s => s.ServiceType == Hostile).Select(s => s.Program).Order(StringComparer.Ordinal));

        // The child's services are in packed rows of at most ServicesPerRow, none one a service as before the packing.
        var staging = (await _harness.Storage.ReadAllAsync(TableNames.UploadStaging))
            .Where(s => s.PartitionKey == manifest.UploadId && s.RowKey.StartsWith(IngestionHarness.ProviderId + "|" + a1Token + "|", StringComparison.Ordinal))
            .ToList();
        Assert.InRange(staging.Count, 3, 10);
        Assert.All(staging, s => Assert.Contains("|~", s.RowKey, StringComparison.Ordinal));
        Assert.All(staging, s => Assert.InRange(StoredService.Deserialize(s.GetString("Services")).Count, 1, UploadStagingStore.ServicesPerRow));
    }

    [Fact]
    public async Task IngestAsync_ReuploadReplacingChildServicesWithFewerPackedServices_WithdrawsExactlyTheMissingOnesAndStagesTheSameRowsForTheSameRows()
    {
        var profile = MappingProfile.Parse(WithTypeAndHours) with { ReuploadPolicy = ReuploadPolicy.ReplaceChildServices };
        await _harness.Providers.SaveProfileAsync(IngestionHarness.ProviderId, profile.ToJson());
        var all = Enumerable.Range(0, 140).Select(i => Row("A1", "Tutoring", Hostile, First.AddDays(i), 1)).ToList();
        var first = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/january.csv", Header + "\n" + string.Join('\n', all) + "\n");

        // The second file keeps the services in the first and last packed rows and drops those between.
        var kept = all.Take(30).Concat(all.Skip(110)).ToList();
        var second = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/january-fixed.csv", Header + "\n" + string.Join('\n', kept) + "\n");
        // The same rows again with another child's (the same content would be refused as already ingested).
        var third = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/january-again.csv",
            Header + "\n" + string.Join('\n', kept) + "\n" + Row("B1", "Arts", "Weekly", First, 1) + "\n");

        Assert.Equal(UploadStatus.Completed, second.Status);
        Assert.Equal(80, second.ServicesWithdrawn);
        Assert.Equal(0, third.ServicesWithdrawn);
        var a1Token = (await _harness.Storage.ReadAllAsync(TableNames.Identities)).Single(i => i.GetString("LocalChildId") == "A1").RowKey;
        var services = StoredService.Deserialize((await _harness.Storage.ReadAllAsync(TableNames.Records)).Single(r => r.RowKey == a1Token).GetString("Services"));
        Assert.Equal(60, services.Count);
        Assert.Equal(kept.Count, services.Select(s => s.Start).Distinct().Count());
        Assert.All(services, s => Assert.Equal(third.UploadId, s.UploadId));

        // The same file under two uploads stages the same rows (row keys and content but the upload's partition).
        var staging = await _harness.Storage.ReadAllAsync(TableNames.UploadStaging);
        string Rows(string uploadId) => string.Join('\n', staging
            .Where(s => s.PartitionKey == uploadId && s.RowKey.StartsWith(IngestionHarness.ProviderId + "|" + a1Token + "|", StringComparison.Ordinal))
            .Select(s => s.RowKey + "=" + (s.GetString("Services") ?? "").Replace(uploadId, "", StringComparison.Ordinal)));
        Assert.Equal(Rows(second.UploadId), Rows(third.UploadId));
        Assert.NotEqual(Rows(first.UploadId), Rows(second.UploadId));
    }
}

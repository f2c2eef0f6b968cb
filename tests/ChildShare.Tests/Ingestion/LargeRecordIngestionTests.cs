using System.Globalization;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Ingestion;

/// <summary>
/// Ingestion end to end of a child with many long service records, with every table request held to Azure's limits
/// (<see cref="AzureTableLimits"/>): the records row splits its services over several properties, a re-upload with fewer keeps
/// only those, and a child past what a row holds is left as it was and counted in the manifest while the rest of the file lands.
/// </summary>
public sealed class LargeRecordIngestionTests : IAsyncLifetime
{
    private const string Header = "Id,First,Last,DOB,Sex,Race,Zip,Grade,Program,Start,End";

    private readonly IngestionHarness _harness = new();

    public Task InitializeAsync() => _harness.InitializeAsync();

    public Task DisposeAsync() => _harness.DisposeAsync();

    private ChildRecordStore Records => new(_harness.Storage.Storage);

    // Each service of a long program name (the longest a cell may be, with quotes and accents that JSON escapes).
    private static string File(string id, int services, int otherChildren = 3, int firstDay = 0)
    {
        var program = "\"\"Tutoring\"\" é " + new string('p', FieldLimits.FreeText - 20);
        var rows = Enumerable.Range(0, services).Select(i => string.Create(CultureInfo.InvariantCulture,
            $"{id},Ana,Lopez,2015-03-02,F,5,12345,3,\"{program}{i % 10}\",{new DateOnly(2020, 1, 1).AddDays(firstDay + i):yyyy-MM-dd},"));
        var others = Enumerable.Range(0, otherChildren).Select(i => $"B{i},Ben{i},Ortiz,2014-05-{i + 1:D2},M,5,12345,4,Arts,2026-01-05,");
        return Header + "\n" + string.Join('\n', rows.Concat(others)) + "\n";
    }

    private async Task<string> TokenOfAsync(string localChildId) =>
        (await _harness.Storage.ReadAllAsync(TableNames.Identities)).Single(i => i.GetString("LocalChildId") == localChildId).RowKey;

    [Fact]
    public async Task IngestAsync_AChildWithSixHundredLongServices_CompletesWithEveryServiceInItsRecord()
    {
        // About 250,000 characters of service JSON for one child: eight times what one property of an Azure entity holds.
        var manifest = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/long.csv", File("A1", 600));

        Assert.Equal(UploadStatus.Completed, manifest.Status);
        var record = await Records.ReadAsync(IngestionHarness.ProviderId, await TokenOfAsync("A1"));
        Assert.Equal(600, record!.Services!.Count);
        Assert.Equal(600, record.Services.Select(s => s.Key).Distinct().Count());
        Assert.True(record.ServicePartsOnDisk > 1);
    }

    [Fact]
    public async Task IngestAsync_ReuploadReplacingTheServicesWithFewer_KeepsOnlyTheNewOnes()
    {
        var profile = MappingProfile.Parse(IngestionHarness.DefaultProfile) with { ReuploadPolicy = ReuploadPolicy.ReplaceChildServices };
        await _harness.Providers.SaveProfileAsync(IngestionHarness.ProviderId, profile.ToJson());
        await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/january.csv", File("A1", 600));

        _harness.Time.Advance(TimeSpan.FromDays(1));
        var second = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/february.csv", File("A1", 4));

        Assert.Equal((UploadStatus.Completed, 596), (second.Status, second.ServicesWithdrawn));
        var token = await TokenOfAsync("A1");
        Assert.Equal(4, (await Records.ReadAsync(IngestionHarness.ProviderId, token))!.Services!.Count);
        var stored = (await _harness.Storage.ReadAllAsync(TableNames.Records)).Single(r => r.RowKey == token);
        Assert.Equal(1, stored.GetInt32("ServiceParts"));
        Assert.All(stored.Where(p => p.Key.StartsWith("Services", StringComparison.Ordinal) && p.Key != "Services").Select(p => p.Value), v => Assert.Equal("", v));
    }

    [Fact]
    public async Task IngestAsync_AChildWithMoreServicesThanARecordHolds_LandsTheRestOfTheFileAndCountsTheChildNotStored()
    {
        var manifest = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/huge.csv", File("A1", 2_500));

        Assert.Equal((UploadStatus.CompletedWithRejections, 1, 1), (manifest.Status, manifest.Attempts, manifest.ChildrenNotStored));
        Assert.Contains("more than a records row can", manifest.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("Ana", manifest.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("Tutoring", manifest.Reason, StringComparison.Ordinal);
        Assert.True(await _harness.Storage.Storage.Uploads.GetBlobClient($"{IngestionHarness.ProviderId}/huge.csv").ExistsAsync());

        // The child that does not fit keeps the services it had (none, so no activity); the three others landed and are counted.
        Assert.Empty((await Records.ReadAsync(IngestionHarness.ProviderId, await TokenOfAsync("A1")))!.Services ?? []);
        foreach (var other in new[] { "B0", "B1", "B2" })
        {
            Assert.Single((await Records.ReadAsync(IngestionHarness.ProviderId, await TokenOfAsync(other)))!.Services!);
        }

        Assert.Equal(3, (await ActivityAsync()).Count);
    }

    [Fact]
    public async Task IngestAsync_TheUploadWithAChildNotStoredDeliveredAgain_ReturnsItsManifestWithoutAnotherAttempt()
    {
        // A trigger may deliver a blob twice: the second delivery must neither try again nor count anything twice.
        var first = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/huge.csv", File("A1", 2_500));
        var blob = _harness.Storage.Storage.Uploads.GetBlobClient($"{IngestionHarness.ProviderId}/huge.csv");

        var again = await _harness.Ingestion.IngestAsync(blob);

        Assert.Equal((first.Status, 1, first.Reason, 1), (again.Status, again.Attempts, again.Reason, again.ChildrenNotStored));
        Assert.Empty((await Records.ReadAsync(IngestionHarness.ProviderId, await TokenOfAsync("A1")))!.Services ?? []);
        Assert.Equal(3, (await ActivityAsync()).Count);
    }

    [Fact]
    public async Task IngestAsync_UnderUpsertAChildAtCapacity_LaterUploadsNamingItStillLandTheirOtherChildren()
    {
        // Finding (stop 24 adversary): under Upsert a child's services only grow, so once its row was nearly full every later upload
        // naming it failed as a whole, and none of that file's other children were counted again.
        await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/january.csv", File("A1", 600));
        var token = await TokenOfAsync("A1");

        _harness.Time.Advance(TimeSpan.FromDays(1));
        var second = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/february.csv", File("A1", 700, otherChildren: 5, firstDay: 600));
        _harness.Time.Advance(TimeSpan.FromDays(1));
        var third = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/march.csv", File("A1", 700, otherChildren: 6, firstDay: 600));

        Assert.Equal((UploadStatus.CompletedWithRejections, 1), (second.Status, second.ChildrenNotStored));
        Assert.Equal((UploadStatus.CompletedWithRejections, 1), (third.Status, third.ChildrenNotStored));
        Assert.Equal(600, (await Records.ReadAsync(IngestionHarness.ProviderId, token))!.Services!.Count);
        Assert.Single((await Records.ReadAsync(IngestionHarness.ProviderId, await TokenOfAsync("B5")))!.Services!);
        // A1 with its first 600 services (2020-2021), and the six others.
        Assert.Equal(7, (await ActivityAsync()).Select(c => c.ProviderChild).Distinct().Count());
    }

    [Fact]
    public async Task IngestAsync_UnderReplaceChildServicesAReuploadPastCapacity_KeepsTheEarlierServicesAndWithdrawsNone()
    {
        // The file would be the truth for the child, but its services do not fit: withdrawing the earlier ones and storing none would
        // drop a child still served from every report, so the earlier services stand and the child is counted as not stored.
        var profile = MappingProfile.Parse(IngestionHarness.DefaultProfile) with { ReuploadPolicy = ReuploadPolicy.ReplaceChildServices };
        await _harness.Providers.SaveProfileAsync(IngestionHarness.ProviderId, profile.ToJson());
        await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/january.csv", File("A1", 600));
        var token = await TokenOfAsync("A1");

        _harness.Time.Advance(TimeSpan.FromDays(1));
        var second = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/february.csv", File("A1", 2_500, otherChildren: 5, firstDay: 600));

        Assert.Equal((UploadStatus.CompletedWithRejections, 1, 0), (second.Status, second.ChildrenNotStored, second.ServicesWithdrawn));
        var services = (await Records.ReadAsync(IngestionHarness.ProviderId, token))!.Services!;
        Assert.Equal(600, services.Count);
        Assert.All(services, s => Assert.True(string.CompareOrdinal(s.Start, "2021-08-23") < 0));
        Assert.Equal(6, (await ActivityAsync()).Select(c => c.ProviderChild).Distinct().Count());
    }

    private async Task<List<ChildShare.Core.Activity.ProviderChildYear>> ActivityAsync()
    {
        var activity = _harness.Services.GetRequiredService<ChildShare.Core.Activity.ActivityStore>();
        return (await activity.ReadAsync(Enumerable.Range(2020, 7))).Children.Select(c => c.Child).ToList();
    }
}

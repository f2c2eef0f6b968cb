using System.Globalization;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Ingestion;

/// <summary>
/// Ingestion end to end of a child with many long service records, with every table request held to Azure's limits
/// (<see cref="AzureTableLimits"/>): the records row splits its services over several properties, a re-upload with fewer keeps
/// only those, and a child past what a row holds fails the upload with a clear reason, once, keeping the file.
/// </summary>
public sealed class LargeRecordIngestionTests : IAsyncLifetime
{
    private const string Header = "Id,First,Last,DOB,Sex,Race,Zip,Grade,Program,Start,End";

    private readonly IngestionHarness _harness = new();

    public Task InitializeAsync() => _harness.InitializeAsync();

    public Task DisposeAsync() => _harness.DisposeAsync();

    private ChildRecordStore Records => new(_harness.Storage.Storage);

    // Each service of a long program name (the longest a cell may be, with quotes and accents that JSON escapes).
    private static string File(string id, int services, int otherChildren = 3)
    {
        var program = "\"\"Tutoring\"\" é " + new string('p', FieldLimits.FreeText - 20);
        var rows = Enumerable.Range(0, services).Select(i => string.Create(CultureInfo.InvariantCulture,
            $"{id},Ana,Lopez,2015-03-02,F,5,12345,3,\"{program}{i % 10}\",{new DateOnly(2020, 1, 1).AddDays(i):yyyy-MM-dd},"));
        var others = Enumerable.Range(0, otherChildren).Select(i => $"B{i},Ben{i},Ortiz,2014-05-0{i + 1},M,5,12345,4,Arts,2026-01-05,");
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
    public async Task IngestAsync_AChildWithMoreServicesThanARecordHolds_FailsOnceWithAReasonOfCountsOnlyAndKeepsTheFile()
    {
        var manifest = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/huge.csv", File("A1", 2_500));

        Assert.Equal((UploadStatus.Failed, 1), (manifest.Status, manifest.Attempts));
        Assert.Contains("more than its records row holds", manifest.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("Ana", manifest.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("Tutoring", manifest.Reason, StringComparison.Ordinal);
        Assert.True(await _harness.Storage.Storage.Uploads.GetBlobClient($"{IngestionHarness.ProviderId}/huge.csv").ExistsAsync());

        // It failed before the summary flush wrote anything: no bucket counts a child of the failed upload, no record holds a service
        // (the linker's child keys are on the records rows already).
        Assert.All(await _harness.Storage.ReadAllAsync(TableNames.Records), r => Assert.Null(r.GetString("Services")));
        var activity = _harness.Services.GetRequiredService<ChildShare.Core.Activity.ActivityStore>();
        Assert.Empty((await activity.ReadAsync(Enumerable.Range(2020, 7))).Children);
    }

    [Fact]
    public async Task IngestAsync_TheTooLargeUploadDeliveredAgain_ReturnsItsFailureWithoutAnotherAttempt()
    {
        // A trigger may deliver a blob twice: the second delivery must neither try again (it would fail the same way) nor count anything.
        var first = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/huge.csv", File("A1", 2_500));
        var blob = _harness.Storage.Storage.Uploads.GetBlobClient($"{IngestionHarness.ProviderId}/huge.csv");

        var again = await _harness.Ingestion.IngestAsync(blob);

        Assert.Equal((UploadStatus.Failed, 1, first.Reason), (again.Status, again.Attempts, again.Reason));
        Assert.All(await _harness.Storage.ReadAllAsync(TableNames.Records), r => Assert.Null(r.GetString("Services")));
        var activity = _harness.Services.GetRequiredService<ChildShare.Core.Activity.ActivityStore>();
        Assert.Empty((await activity.ReadAsync(Enumerable.Range(2020, 7))).Children);
    }
}

using System.Text;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Tests.Agreements;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>The report follows re-uploads and linkage merges, because it reads the summaries ingestion rebuilds.</summary>
public sealed class ReportConsistencyTests : IAsyncLifetime
{
    private const string Header = "Id,First,Last,DOB,Sex,Race,Zip,Grade,Program,Type,Start,End\n";
    private static readonly Caller County = new("county-health", CallerRoles.Reader, CallerAuthMethod.ApiKey, "k");
    private readonly TestStorage _storage = new();
    private readonly FakeTimeProvider _time = new(TestApp.Now);
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        _services = TestApp.Build(_storage, _time);
        var registry = _services.GetRequiredService<ProviderRegistry>();
        foreach (var provider in new[] { "district", "clinic" })
        {
            await registry.RegisterAsync(provider, provider, "Other");
            await registry.SaveProfileAsync(provider, ReportHarness.Profile);
        }

        await _services.GetRequiredService<AgreementStore>().CreateAsync(
            AgreementTestData.Aggregate("dsa-county", "county-health", "district", "clinic") with { MinimumCellSize = 2 }, "test");
        var district = string.Concat(Enumerable.Range(0, 12).Select(i =>
        {
            var (first, last, dob) = ReportHarness.Child(i);
            return $"D{i},{first},{last},{dob},F,5,12345,3,Tutoring,Academic,2026-08-01,2026-09-30\n";
        }));
        await IngestAsync("district", district);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _storage.DisposeAsync();
    }

    private async Task IngestAsync(string provider, string rows)
    {
        _time.Advance(TimeSpan.FromMinutes(5));
        var blob = await _storage.UploadAsync($"{provider}/{Guid.NewGuid():N}.csv", Encoding.UTF8.GetBytes(Header + rows));
        var manifest = await _services.GetRequiredService<IngestionService>().IngestAsync(blob);
        Assert.Equal(UploadStatus.Completed, manifest.Status);
    }

    private async Task<long?> TotalAsync(string from, string to)
    {
        var result = await _services.GetRequiredService<AggregateReportService>().RunAsync(County,
            new Dictionary<string, string?> { ["from"] = from, ["to"] = to }, null);
        return result.Page!.Value.Single().Children;
    }

    [Fact]
    public async Task Report_LinkageMergeAfterCorrectedName_ChildCountedOnce()
    {
        var (first, last, dob) = ReportHarness.Child(0);
        // A first and last name too different for any rule: a separate child until the clinic corrects it.
        await IngestAsync("clinic", $"C0,Qwrtpk,Zyxwvut,{dob},F,5,12345,3,Checkup,Health,2026-09-10,2026-09-10\n");
        var beforeMerge = await TotalAsync("2026-09-01", "2026-09-30");

        await IngestAsync("clinic", $"C0,{first},{last},{dob},F,5,12345,3,Checkup,Health,2026-09-10,2026-09-10\n");
        var afterMerge = await TotalAsync("2026-09-01", "2026-09-30");

        Assert.Equal((13L, 12L), (beforeMerge!.Value, afterMerge!.Value));
    }

    [Fact]
    public async Task Report_ReuploadCorrectsEndDate_CountFollows()
    {
        var (first, last, dob) = ReportHarness.Child(30);
        // Exact counts come one calendar month at a time: the correction moves the service's end out of September.
        await IngestAsync("district", $"D30,{first},{last},{dob},M,5,12345,3,Mentoring,Academic,2026-08-01,2026-09-30\n");
        var before = await TotalAsync("2026-09-01", "2026-09-30");

        await IngestAsync("district", $"D30,{first},{last},{dob},M,5,12345,3,Mentoring,Academic,2026-08-01,2026-08-05\n");
        var after = await TotalAsync("2026-09-01", "2026-09-30");

        Assert.Equal((13L, 12L), (before!.Value, after!.Value));
    }
}

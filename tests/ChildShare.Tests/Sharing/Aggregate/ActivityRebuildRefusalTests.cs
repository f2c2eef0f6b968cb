using System.Text.Json;
using ChildShare.Core.Activity;
using ChildShare.Core.Audit;
using ChildShare.Core.Ingestion;
using ChildShare.Tests.Sharing.Deidentified;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>
/// A rebuild of the activity store (<c>childshare activity-rebuild</c>) empties the store before it writes every provider child again: until
/// it ends, reports and exports are refused instead of counting the part of the children written so far. Each test has its own community
/// (the rebuild changes the store).
/// </summary>
public sealed class ActivityRebuildRefusalTests : IAsyncLifetime
{
    private const string September = "from=2026-09-01&to=2026-09-30&groupBy=provider";
    private readonly ExportHarness _exports = new();

    private ReportHarness Reports => _exports.Reports;

    public Task InitializeAsync() => _exports.InitializeAsync();

    public Task DisposeAsync() => _exports.DisposeAsync();

    [Fact]
    public async Task Report_ARebuildStoppedAfterItEmptiedTheStore_503UntilARebuildEndsThenTheSameCounts()
    {
        // Finding (4 Dec 2026): a rebuild that stopped (a crash, too few buckets) left the store empty or part-written, and reports counted
        // from it as if it were whole: far fewer children, served as the truth, with nothing to say why.
        var (statusBefore, _, bodyBefore, _) = await Reports.GetAsync($"?{September}&api-key={Reports.CountyKey}");
        var store = Reports.Services.GetRequiredService<ActivityStore>();
        await store.ResetAsync(64);

        // An upload's write between (its version bumps) does not take the mark off: only a rebuild's end does.
        await store.BeginWriteAsync();
        await store.EndWriteAsync();
        var (statusDuring, contentType, problem, _) = await Reports.GetAsync($"?{September}&api-key={Reports.CountyKey}");
        var readDuring = await Assert.ThrowsAsync<ActivityRebuildingException>(() => store.ReadAsync([2026]));
        await Reports.Services.GetRequiredService<ActivitySummaryBuilder>().RebuildAllAsync(64);
        var (statusAfter, _, bodyAfter, _) = await Reports.GetAsync($"?{September}&api-key={Reports.CountyKey}");

        Assert.Equal((200, 503, 200), (statusBefore, statusDuring, statusAfter));
        Assert.Equal("application/problem+json", contentType);
        var detail = JsonDocument.Parse(problem).RootElement.GetProperty("detail").GetString()!;
        Assert.Contains(ActivityStore.Rebuilding, detail, StringComparison.Ordinal);
        Assert.Equal(readDuring.Message, detail);
        Assert.Equal(Counts(bodyBefore), Counts(bodyAfter));
        Assert.False((await store.LayoutAsync())!.Rebuilding);
        var audit = (await Reports.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10"))
            .Where(e => e.GetString("Event") == AuditEvents.AggregateReport).Select(e => e.GetString("Outcome")).ToList();
        Assert.Equal(["Succeeded", "Unavailable", "Succeeded"], audit);
    }

    [Fact]
    public async Task Report_ARebuildWithTooFewBuckets_503AndTheRebuildWithEnoughServesAgain()
    {
        var store = Reports.Services.GetRequiredService<ActivityStore>();
        var builder = ActivatorUtilities.CreateInstance<ActivitySummaryBuilder>(Reports.Services,
            new ActivityStore(Reports.Services.GetRequiredService<Core.Storage.ActivityTable>()) { MaxPayloadBytes = 100 });

        await Assert.ThrowsAsync<ActivityBucketFullException>(() => builder.RebuildAllAsync(1));
        var (statusStopped, _, _, _) = await Reports.GetAsync($"?{September}&api-key={Reports.CountyKey}");
        await Reports.Services.GetRequiredService<ActivitySummaryBuilder>().RebuildAllAsync(64);
        var (statusRebuilt, _, _, _) = await Reports.GetAsync($"?{September}&api-key={Reports.CountyKey}");

        Assert.Equal((503, 200), (statusStopped, statusRebuilt));
        Assert.False((await store.LayoutAsync())!.Rebuilding);
    }

    [Fact]
    public async Task Export_ARebuildStoppedAfterItEmptiedTheStore_503AuditedUntilARebuildEnds()
    {
        var query = $"?agreement=dsa-research&from=2026-09-01&to=2026-09-30&api-key={_exports.ResearchKey}";
        var (statusBefore, _, bodyBefore) = await _exports.GetAsync(query);
        await Reports.Services.GetRequiredService<ActivityStore>().ResetAsync(64);

        var (statusDuring, contentType, _) = await _exports.GetAsync(query);
        await Reports.Services.GetRequiredService<ActivitySummaryBuilder>().RebuildAllAsync(64);
        var (statusAfter, _, bodyAfter) = await _exports.GetAsync(query);

        Assert.Equal((200, 503, 200), (statusBefore, statusDuring, statusAfter));
        Assert.Equal("application/problem+json", contentType);
        Assert.Equal(ExportHarness.ParseJson(bodyBefore).Rows.Count, ExportHarness.ParseJson(bodyAfter).Rows.Count);
        var audit = (await Reports.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10"))
            .Where(e => e.GetString("Event") == AuditEvents.DeidentifiedExport).Select(e => e.GetString("Outcome")).ToList();
        Assert.Equal(["Succeeded", "Unavailable", "Succeeded"], audit);
    }

    private static List<string> Counts(string body) =>
        JsonDocument.Parse(body).RootElement.GetProperty("value").EnumerateArray().Select(r => r.GetRawText()).ToList();
}

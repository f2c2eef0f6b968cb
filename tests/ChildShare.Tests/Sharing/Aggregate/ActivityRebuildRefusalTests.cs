using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using ChildShare.Core.Activity;
using ChildShare.Core.Audit;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Core.Storage;
using ChildShare.Functions.Exports;
using ChildShare.Functions.Reports;
using ChildShare.Tests.Sharing.Deidentified;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>
/// A rebuild of the activity store (<c>childshare activity-rebuild</c>) empties the store before it writes every provider child again: until
/// it ends, reports and exports are refused instead of counting the part of the children written so far, and so are those whose reads a
/// rebuild began during (adversary 31's races: the rebuild's reset is run just before the reader's first bucket-year read). Through HTTP
/// and the command line. Each test has its own community (the rebuild changes the store).
/// </summary>
public sealed class ActivityRebuildRefusalTests : IAsyncLifetime
{
    private const string September = "from=2026-09-01&to=2026-09-30&groupBy=provider";
    private readonly ExportHarness _exports = new();

    private ReportHarness Reports => _exports.Reports;

    public Task InitializeAsync() => _exports.InitializeAsync();

    public Task DisposeAsync() => _exports.DisposeAsync();

    private ActivityStore StoreWith(HttpPipelinePolicy policy) => new(new ActivityTable(Reports.Storage.StorageWithTablePolicy(policy)));

    private string ReportQuery => $"?{September}&api-key={Reports.CountyKey}";

    private string ExportQuery => $"?agreement=dsa-research&from=2026-09-01&to=2026-09-30&api-key={_exports.ResearchKey}";

    private Task RebuildAsync() => Reports.Services.GetRequiredService<ActivitySummaryBuilder>().RebuildAllAsync(64);

    [Fact]
    public async Task Report_ARebuildStoppedAfterItEmptiedTheStore_503UntilARebuildEndsThenTheSameCounts()
    {
        // Finding (4 Dec 2026): a rebuild that stopped (a crash, too few buckets) left the store empty or part-written, and reports counted
        // from it as if it were whole: far fewer children, served as the truth, with nothing to say why.
        var (statusBefore, _, bodyBefore, _) = await Reports.GetAsync(ReportQuery);
        var store = Reports.Services.GetRequiredService<ActivityStore>();
        await store.ResetAsync(64);

        // An upload's write between (its version bumps) does not take the mark off: only a rebuild's end does.
        await store.BeginWriteAsync();
        await store.EndWriteAsync();
        var (statusDuring, contentType, problem, _) = await Reports.GetAsync(ReportQuery);
        var readDuring = await Assert.ThrowsAsync<ActivityRebuildingException>(() => store.ReadAsync([2026]));
        await RebuildAsync();
        var (statusAfter, _, bodyAfter, _) = await Reports.GetAsync(ReportQuery);

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
            new ActivityStore(Reports.Services.GetRequiredService<ActivityTable>()) { MaxPayloadBytes = 100 });

        await Assert.ThrowsAsync<ActivityBucketFullException>(() => builder.RebuildAllAsync(1));
        var (statusStopped, _, _, _) = await Reports.GetAsync(ReportQuery);
        await RebuildAsync();
        var (statusRebuilt, _, _, _) = await Reports.GetAsync(ReportQuery);

        Assert.Equal((503, 200), (statusStopped, statusRebuilt));
        Assert.False((await store.LayoutAsync())!.Rebuilding);
    }

    [Fact]
    public async Task Export_ARebuildStoppedAfterItEmptiedTheStore_503AuditedUntilARebuildEnds()
    {
        var (statusBefore, _, bodyBefore) = await _exports.GetAsync(ExportQuery);
        await Reports.Services.GetRequiredService<ActivityStore>().ResetAsync(64);

        var (statusDuring, contentType, _) = await _exports.GetAsync(ExportQuery);
        await RebuildAsync();
        var (statusAfter, _, bodyAfter) = await _exports.GetAsync(ExportQuery);

        Assert.Equal((200, 503, 200), (statusBefore, statusDuring, statusAfter));
        Assert.Equal("application/problem+json", contentType);
        Assert.Equal(ExportHarness.ParseJson(bodyBefore).Rows.Count, ExportHarness.ParseJson(bodyAfter).Rows.Count);
        var audit = (await Reports.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10"))
            .Where(e => e.GetString("Event") == AuditEvents.DeidentifiedExport).Select(e => e.GetString("Outcome")).ToList();
        Assert.Equal(["Succeeded", "Unavailable", "Succeeded"], audit);
    }

    [Fact]
    public async Task Export_ARebuildBeganAfterTheLayoutWasReadAndBeforeTheBuckets_503NotTheEmptiedStoresRows()
    {
        // ReadAsync checks the layout once, before its bucket-year reads, and nothing checks it after: an export whose reads overlap the
        // start of a rebuild is served from the emptied store (no rows, or part of them), audited Succeeded.
        var (statusBefore, _, bodyBefore) = await _exports.GetAsync(ExportQuery);
        var store = Reports.Services.GetRequiredService<ActivityStore>();
        var race = new AroundActivityReads(beforeFirstBucket: () => store.ResetAsync(64));
        var service = ActivatorUtilities.CreateInstance<DeidentifiedExportService>(Reports.Services, StoreWith(race));

        var (statusRace, _, bodyRace) = await _exports.GetAsync(ExportQuery, function: new GetDeidentifiedExport(service));
        var rowsRace = statusRace == 200 ? ExportHarness.ParseJson(bodyRace).Rows.Count : -1;
        await RebuildAsync();

        Assert.True(race.RanBeforeFirstBucket);
        Assert.Equal(200, statusBefore);
        Assert.True(statusRace == 503,
            $"served {statusRace} with {rowsRace} rows read during the rebuild (before it: {ExportHarness.ParseJson(bodyBefore).Rows.Count} rows)");
    }

    [Fact]
    public async Task Report_ARebuildBeganAndEndedWhileTheReportReadTheBuckets_503OrTheRebuiltCountsNotTheEmptiedStores()
    {
        // The report checks the layout before its reads and after them, but only for the mark: a rebuild that began after the first check
        // and ended before the second leaves no mark, only a new version, and the counts read from the emptied store are served (the
        // version change only stops the snapshot being kept).
        var store = Reports.Services.GetRequiredService<ActivityStore>();
        var race = new AroundActivityReads(beforeFirstBucket: () => store.ResetAsync(64), beforeLayoutAfterBuckets: RebuildAsync);
        var service = ActivatorUtilities.CreateInstance<AggregateReportService>(Reports.Services, StoreWith(race));

        var (statusRace, _, bodyRace, _) = await Reports.GetAsync(ReportQuery, function: new GetAggregateReport(service));
        var (statusAfter, _, bodyAfter, _) = await Reports.GetAsync(ReportQuery);

        Assert.True(race.RanBeforeFirstBucket && race.RanAfterBuckets);
        Assert.Equal(200, statusAfter);
        Assert.True(statusRace == 503 || Counts(bodyRace).SequenceEqual(Counts(bodyAfter)),
            $"served {statusRace}: {string.Join(" ", statusRace == 200 ? Counts(bodyRace) : [])} against the rebuilt store's {string.Join(" ", Counts(bodyAfter))}");
    }

    [Fact]
    public async Task Report_ARebuildBeganWhileTheReportReadTheBucketsAndHasNotEnded_503()
    {
        // Held: the check after the reads sees the mark.
        var store = Reports.Services.GetRequiredService<ActivityStore>();
        var race = new AroundActivityReads(beforeFirstBucket: () => store.ResetAsync(64));
        var service = ActivatorUtilities.CreateInstance<AggregateReportService>(Reports.Services, StoreWith(race));

        var (statusRace, _, _, _) = await Reports.GetAsync(ReportQuery, function: new GetAggregateReport(service));
        var (statusSeries, _, _, _) = await Reports.GetAsync($"?from=2026-08-01&to=2026-09-30&interval=month&api-key={Reports.CountyKey}");
        await RebuildAsync();

        Assert.True(race.RanBeforeFirstBucket);
        Assert.Equal((503, 503), (statusRace, statusSeries));
    }

    [Fact]
    public async Task ReportAndExport_WhileARebuildHasNotEnded_ExitCode5WithTheMessageAndNoRows()
    {
        var (reportBefore, _, _) = await RunAsync("report aggregate --as county-health --from 2026-09-01 --to 2026-09-30 --group-by provider");
        await Reports.Services.GetRequiredService<ActivityStore>().ResetAsync(64);

        var report = await RunAsync("report aggregate --as county-health --from 2026-09-01 --to 2026-09-30 --group-by provider --format csv");
        var export = await RunAsync("export deidentified --as uni-research --agreement dsa-research --from 2026-09-01 --to 2026-09-30");
        await RebuildAsync();

        Assert.Equal((0, 5, 5), (reportBefore, report.Exit, export.Exit));
        Assert.Equal("", report.Output + export.Output);
        Assert.Equal(new ActivityRebuildingException().Message, report.Error.Trim());
        Assert.Equal(new ActivityRebuildingException().Message, export.Error.Trim());
    }

    [Fact]
    public async Task Report_WhileARebuildHasNotEndedAndTheAuditIsDown_503NoCounts()
    {
        await Reports.Services.GetRequiredService<ActivityStore>().ResetAsync(64);
        await using var down = Support.AuditOutage.Build(Reports.Storage, Reports.Time);
        var function = new GetAggregateReport(down.GetRequiredService<AggregateReportService>());

        var (status, contentType, body, _) = await Reports.GetAsync(ReportQuery, function: function);
        var exportFunction = new GetDeidentifiedExport(down.GetRequiredService<DeidentifiedExportService>());
        var (exportStatus, _, exportBody) = await _exports.GetAsync(ExportQuery, function: exportFunction);
        await RebuildAsync();

        Assert.Equal((503, 503), (status, exportStatus));
        Assert.Equal("application/problem+json", contentType);
        Assert.DoesNotContain("\"value\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"rows\"", exportBody, StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Output, string Error)> RunAsync(string commandLine)
    {
        var root = new System.CommandLine.RootCommand();
        var verbose = new System.CommandLine.Option<bool>("--verbose") { Recursive = true };
        root.Options.Add(verbose);
        ChildShare.Cli.ModeCommands.AddTo(root, verbose, _ => Support.TestApp.Build(Reports.Storage, Reports.Time));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await root.Parse(commandLine).InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private static List<string> Counts(string body) =>
        JsonDocument.Parse(body).RootElement.GetProperty("value").EnumerateArray().Select(r => r.GetRawText()).ToList();

    /// <summary>
    /// Runs work just before the first read of a bucket-year of the activity table (every bucket-year read waits for it), and optionally
    /// just before the first read of the layout after a bucket-year was read.
    /// </summary>
    private sealed class AroundActivityReads(Func<Task> beforeFirstBucket, Func<Task>? beforeLayoutAfterBuckets = null) : HttpPipelinePolicy
    {
        private readonly Lock _sync = new();
        private Task? _first;
        private Task? _after;

        public bool RanBeforeFirstBucket => _first is { IsCompletedSuccessfully: true };

        public bool RanAfterBuckets => _after is { IsCompletedSuccessfully: true };

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) => throw new NotSupportedException();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            var uri = Uri.UnescapeDataString(message.Request.Uri.ToString());
            if (message.Request.Method == RequestMethod.Get && message.Request.Uri.Path.Contains(TableNames.Activity, StringComparison.Ordinal))
            {
                Task? wait = null;
                lock (_sync)
                {
                    if (uri.Contains("PartitionKey='layout'", StringComparison.Ordinal))
                    {
                        if (_first is not null && beforeLayoutAfterBuckets is not null)
                        {
                            wait = _after ??= Task.Run(async () => { await _first; await beforeLayoutAfterBuckets(); });
                        }
                    }
                    else if (uri.Contains("PartitionKey='b", StringComparison.Ordinal))
                    {
                        wait = _first ??= Task.Run(beforeFirstBucket);
                    }
                }

                if (wait is not null)
                {
                    await wait.ConfigureAwait(false);
                }
            }

            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        }
    }
}

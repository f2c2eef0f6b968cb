using System.Globalization;
using System.Text;
using ChildShare.Cli;
using ChildShare.Core.Ingestion;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Ingestion;

/// <summary>What a long ingestion tells a progress display: every phase in order, and counts that add up.</summary>
public sealed class IngestionProgressTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    private sealed class Recorder : IProgress<IngestionProgress>
    {
        public List<IngestionProgress> Reports { get; } = [];

        public void Report(IngestionProgress value) => Reports.Add(value);
    }

    [Fact]
    public async Task IngestAsync_WithProgress_ReportsEveryPhaseInOrderWithTheRowCounts()
    {
        // A report every 500 rows instead of 5,000, so a small file shows each phase.
        await using var services = TestApp.Build(_storage, configure: s => s.PostConfigure<IngestionOptions>(o => o.ProgressEveryRows = 500));
        var registry = services.GetRequiredService<ProviderRegistry>();
        await registry.RegisterAsync("north", "North", "Other");
        await registry.SaveProfileAsync("north", """{"dateFormats":["yyyy-MM-dd"],"columns":{"Id":"LocalChildId","First":"FirstName","Last":"LastName","DOB":"BirthDate"}}""");
        var rows = Enumerable.Range(0, 600).Select(i => string.Create(CultureInfo.InvariantCulture, $"N{i},Child{i % 97},Family{i % 89},{new DateOnly(2010, 1, 1).AddDays(i * 7 % 3_001):yyyy-MM-dd}"));
        var blob = await _storage.UploadAsync("north/big.csv", Encoding.UTF8.GetBytes("Id,First,Last,DOB\n" + string.Join("\n", rows) + "\nX1,,,2015-01-01\n"));
        var recorder = new Recorder();

        var manifest = await services.GetRequiredService<IngestionService>().IngestAsync(blob, recorder);

        var phases = recorder.Reports.Select(r => r.Phase).Distinct().ToList();
        Assert.Equal([IngestionPhase.Fingerprint, IngestionPhase.Parse, IngestionPhase.Link, IngestionPhase.Summarize, IngestionPhase.Done], phases);
        var parse = recorder.Reports.Where(r => r.Phase == IngestionPhase.Parse).ToList();
        Assert.Equal([0, 500], parse.Select(r => r.RowsRead));
        Assert.All(parse.Skip(1), r => Assert.InRange(r.BytesRead, 1, r.ContentLength));
        var done = recorder.Reports[^1];
        Assert.Equal((manifest.RowsRead, manifest.RowsRejected), (done.RowsRead, done.RowsRejected));
        Assert.Equal((601, 1), (done.RowsRead, done.RowsRejected));
    }

    [Fact]
    public void Describe_Parsing_RowsRatePercentAndTimeLeft()
    {
        var line = ConsoleIngestionProgress.Describe(new IngestionProgress(IngestionPhase.Parse, 120_000, 3, 450, 1000, TimeSpan.FromSeconds(60)));

        Assert.Equal("parse: 120,000 rows, 2,000 rows/s, 45%, about 1m 13s left", line);
    }

    [Fact]
    public void Report_ToATerminal_OneLineRewrittenAndClearedAtTheEnd()
    {
        using var terminal = new StringWriter();
        var display = new ConsoleIngestionProgress(terminal);

        display.Report(new IngestionProgress(IngestionPhase.Parse, 5000, 0, 10, 100, TimeSpan.FromSeconds(1)));
        display.Report(new IngestionProgress(IngestionPhase.Link, 9000, 0, 100, 100, TimeSpan.FromSeconds(2)));
        display.Report(new IngestionProgress(IngestionPhase.Done, 9000, 0, 100, 100, TimeSpan.FromSeconds(3)));

        Assert.DoesNotContain('\n', terminal.ToString());
        Assert.Contains("\rlink: 9,000 rows", terminal.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("\r", terminal.ToString(), StringComparison.Ordinal);
    }
}

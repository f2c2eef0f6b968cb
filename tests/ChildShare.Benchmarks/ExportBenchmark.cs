using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using ChildShare.Cli;
using ChildShare.Cli.Synthetic;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Organizations;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Benchmarks;

/// <summary>
/// The de-identified export of the whole community (issue 13, goal 3: at most 3 times one group-by of the same rows in memory).
/// The community is the report benchmark's (<see cref="ReportBenchmark.Generate"/>: <see cref="CommunitySpec.Benchmark"/>'s
/// children, 5 providers, ten services a child), turned into the provider-child years the activity store returns
/// (<see cref="ReportBenchmark.ActivityChanges"/>, the shape ingestion writes). The period covers every service, so every child
/// of the community is exported; k 11 over the default quasi-identifiers.
/// In the same run, medians of several repetitions after a warm-up, wall time and this process's CPU time:
///   (a) the export's compute, the real service's code between the storage read and the delivery
///       (<see cref="DeidentifiedExportService.Compose"/>: period and providers, demographic resolution, research ids, row order,
///       generalization and suppression, the rows), and that plus writing the CSV;
///   (b) the baseline: one group-by of the same rows (the provider-child years the export reads) over the quasi-identifiers at
///       their most precise exported level, in memory; and the previous benchmark's baseline, one group-by of one row a child.
/// With <c>--azurite</c> it also writes the activity to the local Azurite (a fresh table prefix) and times, through the real
/// service (<see cref="DeidentifiedExportService.RunAsync"/>: agreement, decisions, audit, CSV inline), the whole request and
/// the storage read alone (<see cref="ActivityStore.ReadAsync"/>), so read time and compute are reported apart.
///   dotnet run -c Release --project tests/ChildShare.Benchmarks -- export [--children N] [--k K] [--repeat R] [--azurite]
/// </summary>
public static class ExportBenchmark
{
    private static readonly DateOnly From = new(2025, 1, 1);
    private static readonly DateOnly To = new(2026, 12, 31);

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var count = int.Parse(Arg("--children") ?? "100000", CultureInfo.InvariantCulture);
        var k = int.Parse(Arg("--k") ?? "11", CultureInfo.InvariantCulture);
        var repeat = int.Parse(Arg("--repeat") ?? "5", CultureInfo.InvariantCulture);

        var data = ReportBenchmark.Generate(CommunitySpec.Benchmark with { Children = count, ServiceRows = count * 10 });
        var changes = ReportBenchmark.ActivityChanges(data);
        var read = changes.SelectMany(c => c.Years.Select(y => (Year: y.Key, Child: y.Value))).ToList();
        var providers = SyntheticCommunity.ProviderCatalog.Select(p => p.Id).ToList();
        var key = new PseudonymKey("bench", RandomNumberGenerator.GetBytes(32));
        var terms = new DeidentificationTerms { K = k };
        var perChild = data.Children.Select(c => new ResolvedChild(c.BirthDate, c.Sex.ToString(),
            c.Races.Length > 1 ? "TwoOrMore" : c.Races.Length == 1 ? c.Races[0].ToString() : null, c.Ethnicity.ToString(), c.Zip[..3], c.Grade, c.School)).ToList();
        Console.WriteLine($"{read.Count:N0} provider-child years ({changes.Count:N0} provider children) for {data.Children.Length:N0} children, period {From:yyyy-MM-dd}..{To:yyyy-MM-dd}, k {k}");

        (ExportTable Table, AnonymizationSummary Summary) Compose()
        {
            var (table, _, summary, _) = DeidentifiedExportService.Compose(read, providers, From, To, key, "dsa-bench", terms, 11, serviceRows: false);
            return (table, summary);
        }

        var timings = new Dictionary<string, (List<double> Wall, List<double> Cpu)>(StringComparer.Ordinal);
        T Time<T>(string name, Func<T> work)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var result = work();
            var wall = watch.Elapsed.TotalMilliseconds;
            var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
            if (!timings.TryGetValue(name, out var lists))
            {
                lists = ([], []);
                timings[name] = lists;
            }

            lists.Wall.Add(wall);
            lists.Cpu.Add(cpuMs);
            return result;
        }

        // Warm-up, then alternate so that the load of the machine falls on all alike.
        var export = Compose();
        _ = export.Table.ToCsv();
        GroupBySameRows(read);
        GroupByPerChild(perChild);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        export = Compose();
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        timings.Clear();
        var groups = 0;
        var childGroups = 0;
        for (var i = 0; i < repeat; i++)
        {
            groups = Time("group-by", () => GroupBySameRows(read));
            childGroups = Time("group-by per child", () => GroupByPerChild(perChild));
            export = Time("export", Compose);
            Time("csv", () => export.Table.ToCsv().Length);
        }

        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        string Line(string name) => $"wall median {Median(timings[name].Wall),8:N1} ms, CPU median {Median(timings[name].Cpu),8:N1} ms";
        double Ratio(string a, string b, bool cpu) => cpu ? Median(timings[a].Cpu) / Median(timings[b].Cpu) : Median(timings[a].Wall) / Median(timings[b].Wall);
        Console.WriteLine($"group-by of the same rows ({read.Count:N0} provider-child years, {groups:N0} classes):   {Line("group-by")}");
        Console.WriteLine($"group-by of one row a child ({perChild.Count:N0}, {childGroups:N0} classes; the earlier baseline): {Line("group-by per child")}");
        Console.WriteLine($"export compute (DeidentifiedExportService.Compose): {Line("export")}");
        Console.WriteLine($"export compute allocates {allocated / 1e6:N1} MB (one call, after the warm-up)");
        Console.WriteLine($"writing its CSV ({export.Table.Rows.Count:N0} rows):            {Line("csv")}");
        Console.WriteLine($"ratio export / group-by of the same rows: wall {Ratio("export", "group-by", false):N2}, CPU {Ratio("export", "group-by", true):N2} (goal: at most 3)");
        Console.WriteLine($"ratio export / group-by of one row a child: wall {Ratio("export", "group-by per child", false):N2}, CPU {Ratio("export", "group-by per child", true):N2}");
        Console.WriteLine($"ratio export + CSV / group-by of the same rows: wall {(Median(timings["export"].Wall) + Median(timings["csv"].Wall)) / Median(timings["group-by"].Wall):N2}");
        var s = export.Summary;
        Console.WriteLine($"k {s.K}: achieved {s.KAchieved}, {s.EquivalenceClasses:N0} classes (average {s.AverageClassSize:N1}), suppressed {s.RecordsSuppressed:N0} of {s.Records:N0} (limit {s.SuppressionLimit:N0})");
        Console.WriteLine("levels: " + string.Join(", ", s.Levels.Select(l => $"{l.Key}={l.Value} ({s.LevelDescriptions[l.Key]})")));
        Console.WriteLine($"lattice: {s.LatticeSize} nodes, {s.NodesEvaluated} evaluated; information loss (LM) {s.InformationLoss:N4}; suppression alone: {s.SuppressionOnlyInformationLoss:N4}");

        if (args.Contains("--azurite"))
        {
            await AzuriteAsync(changes, k, repeat, Median(timings["group-by"].Wall));
        }

        return 0;
    }

    /// <summary>One group-by of the rows the export reads: each provider-child year's stored demographics at level 0.</summary>
    private static int GroupBySameRows(List<(int Year, ProviderChildYear Child)> read)
    {
        var groups = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, child) in read)
        {
            var d = child.Demographics;
            var resolved = new ResolvedChild(RecordKeys.ParseIsoDate(d[0]), d[1], d[2], d[3], d[4], d[5], d[6]);
            var key = string.Join('|', QuasiIdentifierNames.Default.Select(q => QuasiIdentifiers.Generalize(q, 0, resolved, From, null)));
            groups[key] = groups.GetValueOrDefault(key) + 1;
        }

        return groups.Count;
    }

    /// <summary>The earlier baseline: the same group-by over one row a child.</summary>
    private static int GroupByPerChild(List<ResolvedChild> children)
    {
        var groups = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var d in children)
        {
            var key = string.Join('|', QuasiIdentifierNames.Default.Select(q => QuasiIdentifiers.Generalize(q, 0, d, From, null)));
            groups[key] = groups.GetValueOrDefault(key) + 1;
        }

        return groups.Count;
    }

    private static async Task AzuriteAsync(List<ActivityChange> changes, int k, int repeat, double groupByMs)
    {
        var prefix = "bx" + Guid.NewGuid().ToString("N")[..8];
        await using var services = CliHost.Build([new("Storage:TablePrefix", prefix), new("Storage:UploadsContainer", prefix + "-up"),
            new("Storage:RejectsContainer", prefix + "-rj"), new("Storage:ExportsContainer", prefix + "-ex")]);
        var storage = services.GetRequiredService<ChildShareStorage>();
        Console.WriteLine($"Azurite: table prefix {prefix} (remove with: cleanup --prefix {prefix})");
        await storage.EnsureCreatedAsync();
        var watch = Stopwatch.StartNew();
        await ReportBenchmark.RegisterAsync(services, ReportBenchmark.Agreement("dsa-bench-deid", SharingMode.DeIdentified) with
        {
            DeIdentification = new DeidentificationTerms { K = k },
        });
        await ReportBenchmark.WriteActivityAsync(services, changes);
        Console.WriteLine($"activity written in {watch.Elapsed.TotalSeconds:F0} s");

        var activity = services.GetRequiredService<ActivityStore>();
        var service = services.GetRequiredService<DeidentifiedExportService>();
        var caller = new Caller("bench-org", CallerRoles.Reader, CallerAuthMethod.ApiKey, "bench");
        var parameters = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["agreement"] = "dsa-bench-deid", ["from"] = From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["to"] = To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), ["format"] = "csv", ["delivery"] = "inline",
        };
        var reads = new List<double>();
        var requests = new List<double>();
        var rows = 0;
        var entities = 0;
        for (var i = 0; i <= repeat; i++)
        {
            watch.Restart();
            var read = await activity.ReadAsync(Enumerable.Range(From.Year, To.Year - From.Year + 1));
            var readMs = watch.Elapsed.TotalMilliseconds;
            entities = read.EntitiesRead;
            watch.Restart();
            var result = await service.RunAsync(caller, parameters, "text/csv");
            var csv = result.Table!.ToCsv();
            var requestMs = watch.Elapsed.TotalMilliseconds;
            rows = result.Table.Rows.Count;
            if (i > 0)
            {
                reads.Add(readMs);
                requests.Add(requestMs);
            }

            _ = csv.Length;
        }

        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        Console.WriteLine($"Azurite: storage read (ActivityStore.ReadAsync, {entities:N0} entities): wall median {Median(reads):N1} ms");
        Console.WriteLine($"Azurite: whole request (RunAsync + CSV, {rows:N0} rows): wall median {Median(requests):N1} ms; without the read: {Median(requests) - Median(reads):N1} ms "
            + $"= {(Median(requests) - Median(reads)) / groupByMs:N2} group-bys of the same rows in memory");
    }
}

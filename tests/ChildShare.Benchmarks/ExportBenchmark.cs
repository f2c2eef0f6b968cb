using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using ChildShare.Cli.Synthetic;
using ChildShare.Core.Agreements;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Sharing.Deidentified;

namespace ChildShare.Benchmarks;

/// <summary>
/// The de-identified export's engine at community scale, in memory (no storage): 100,000 synthetic
/// children (<see cref="CommunitySpec.Benchmark"/>), k 11 over the default quasi-identifiers. In the
/// same run it times (a) the export: research ids, the lattice search, suppression and the row
/// layout, and (b) one group-by over the same quasi-identifiers at their most precise exported level
/// (age in years, sex, race, ethnicity, zip3, grade, school) — the cheapest thing any export must
/// do. Medians of several repetitions after a warm-up. It also reports the information loss of the
/// chosen generalization against no generalization (0) and against reaching k by suppression alone.
///   dotnet run -c Release --project tests/ChildShare.Benchmarks -- export [--children N] [--k K] [--repeat R]
/// </summary>
public static class ExportBenchmark
{
    public static Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var count = int.Parse(Arg("--children") ?? "100000", CultureInfo.InvariantCulture);
        var k = int.Parse(Arg("--k") ?? "11", CultureInfo.InvariantCulture);
        var repeat = int.Parse(Arg("--repeat") ?? "5", CultureInfo.InvariantCulture);
        var periodStart = new DateOnly(2026, 9, 1);

        var watch = Stopwatch.StartNew();
        var synthetic = new SyntheticCommunity(CommunitySpec.Benchmark with { Children = count }).Children;
        var input = synthetic.Select(c => (Key: "child-" + c.Id.ToString(CultureInfo.InvariantCulture), Demographics: new ResolvedChild(c.BirthDate, c.Sex.ToString(),
            c.Races.Length > 1 ? "TwoOrMore" : c.Races.Length == 1 ? c.Races[0].ToString() : null, c.Ethnicity.ToString(), c.Zip.Length >= 3 ? c.Zip[..3] : null, c.Grade,
            c.School))).ToList();
        Console.WriteLine($"{input.Count:N0} synthetic children generated in {watch.ElapsedMilliseconds:N0} ms");
        var pseudonymizer = new Pseudonymizer(new PseudonymKey("bench", RandomNumberGenerator.GetBytes(32)));
        var terms = new DeidentificationTerms { K = k };
        var keys = input.Select(c => c.Key).ToList();

        var idTimes = new List<double>();
        (int Rows, AnonymizationSummary Summary) Export()
        {
            var ids = Stopwatch.StartNew();
            var researchIds = DeidentifiedExportService.ResearchIds(pseudonymizer, "dsa-bench", keys);
            var children = DeidentifiedExportService.InResearchIdOrder(
                input.Select((c, i) => new ExportChild(researchIds[i], c.Key, c.Demographics, ["Tutoring"], ["Academic"])).ToList());
            idTimes.Add(ids.Elapsed.TotalMilliseconds);
            var (table, summary) = DeidentifiedExportService.Anonymize(children, terms, 11, periodStart);
            return (table.Rows.Count, summary);
        }

        int GroupBy()
        {
            var groups = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (_, d) in input)
            {
                var key = string.Join('|', QuasiIdentifierNames.Default.Select(q => QuasiIdentifiers.Generalize(q, 0, d, periodStart, null)));
                groups[key] = groups.GetValueOrDefault(key) + 1;
            }

            return groups.Count;
        }

        Export();
        GroupBy();
        var exportTimes = new List<double>();
        var groupTimes = new List<double>();
        (int Rows, AnonymizationSummary Summary) result = default;
        var classes = 0;
        for (var i = 0; i < repeat; i++)
        {
            watch.Restart();
            classes = GroupBy();
            groupTimes.Add(watch.Elapsed.TotalMilliseconds);
            watch.Restart();
            result = Export();
            exportTimes.Add(watch.Elapsed.TotalMilliseconds);
        }

        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        var s = result.Summary!;
        Console.WriteLine($"group-by over the quasi-identifiers: median {Median(groupTimes):N1} ms ({classes:N0} classes at the most precise level)");
        Console.WriteLine($"export (research ids, search, suppression, rows): median {Median(exportTimes):N1} ms");
        Console.WriteLine($"  of which research ids (HMAC-SHA256 per child, in parallel) and ordering: median {Median(idTimes):N1} ms");
        Console.WriteLine($"ratio export / group-by: {Median(exportTimes) / Median(groupTimes):N2} (goal: within 5)");
        Console.WriteLine($"ratio without research ids (search, suppression, rows) / group-by: {(Median(exportTimes) - Median(idTimes)) / Median(groupTimes):N2}");
        Console.WriteLine($"k {s.K}: achieved {s.KAchieved}, {s.EquivalenceClasses:N0} classes (average {s.AverageClassSize:N1}), suppressed {s.RecordsSuppressed:N0} of {s.Records:N0} (limit {s.SuppressionLimit:N0})");
        Console.WriteLine("levels: " + string.Join(", ", s.Levels.Select(l => $"{l.Key}={l.Value} ({s.LevelDescriptions[l.Key]})")));
        Console.WriteLine($"lattice: {s.LatticeSize} nodes, {s.NodesEvaluated} evaluated");
        Console.WriteLine($"information loss (LM): {s.InformationLoss:N4}; no generalization: 0 by definition; suppression alone to reach k: {s.SuppressionOnlyInformationLoss:N4} of children suppressed");
        return Task.FromResult(0);
    }
}

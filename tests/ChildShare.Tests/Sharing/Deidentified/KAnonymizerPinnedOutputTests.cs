using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ChildShare.Cli.Synthetic;
using ChildShare.Core.Agreements;
using ChildShare.Core.Sharing.Deidentified;

namespace ChildShare.Tests.Sharing.Deidentified;

/// <summary>
/// Pins the anonymizer's exact output on seeded adversarial datasets, taken on main before the
/// anonymizer was split into its parts and made faster (commit 74e5ecc): the generalization chosen,
/// the counts of the summary and a digest of every released row (in input order, a suppressed child
/// as a line of its own). A refactoring or an optimization of the engine must leave every line identical;
/// a deliberate change of the engine's behaviour must say why the pinned values change.
/// </summary>
public sealed class KAnonymizerPinnedOutputTests
{
    private static readonly DateOnly PeriodStart = new(2026, 9, 1);
    private static readonly string[] Races = ["White", "BlackOrAfricanAmerican", "Asian", "NativeHawaiianOrOtherPacificIslander", "AmericanIndianOrAlaskaNative", "TwoOrMore"];
    private static readonly string[] Grades = ["PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"];

    public static TheoryData<string> Cases
    {
        get
        {
            var cases = new TheoryData<string>();
            foreach (var name in Expected.Keys)
            {
                cases.Add(name);
            }

            return cases;
        }
    }

    // case -> the output of the engine on main (commit 74e5ecc).
    private static readonly IReadOnlyDictionary<string, string> Expected = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["skewed-rare-combinations"] =
            "levels age=3,sex=0,race=2,ethnicity=0,zip=0,grade=2,school=2; k 5 True 5; l 1 1; records 800 suppressed 35 limit 40; classes 34 avg 22.5; loss 0.590179 suppressionOnly 1; lattice 864 evaluated 829; rows a9c6174c049a78e2",
        ["lone-pacific-islander-in-a-zip"] =
            "levels age=2,sex=0,race=0,ethnicity=0,zip=0,grade=1,school=0; k 5 True 5; l 1 1; records 401 suppressed 17 limit 20; classes 44 avg 8.727; loss 0.209887 suppressionOnly 1; lattice 864 evaluated 411; rows ffc2c51662a8bc00",
        ["all-suppressed-l-impossible"] =
            "levels age=3,sex=1,race=2,ethnicity=1,zip=1,grade=2,school=2; k 5 False 0; l 2 0; records 120 suppressed 120 limit 6; classes 0 avg 0; loss 1 suppressionOnly 1; lattice 864 evaluated 864; rows 6e01047d8673e1f2",
        ["k-larger-than-the-data"] =
            "levels age=3,sex=1,race=2,ethnicity=1,zip=1,grade=2,school=2; k 60 False 0; l 1 0; records 40 suppressed 40 limit 2; classes 0 avg 0; loss 1 suppressionOnly 1; lattice 864 evaluated 864; rows 0c0fa1c8c1fb91c2",
        ["no-children"] =
            "levels age=3,sex=1,race=2,ethnicity=1,zip=1,grade=2,school=2; k 11 False 0; l 1 0; records 0 suppressed 0 limit 0; classes 0 avg 0; loss 0 suppressionOnly 0; lattice 864 evaluated 864; rows e3b0c44298fc1c14",
        ["school-district-map-three-qis"] =
            "levels age=0,grade=2,school=2; k 7 True 16; l 1 1; records 500 suppressed 0 limit 10; classes 18 avg 27.778; loss 0.666667 suppressionOnly 1; lattice 36 evaluated 31; rows 9b8c643a5783872c",
        ["l-diversity-programs"] =
            "levels age=3,sex=0,race=2,ethnicity=0,zip=0,grade=2,school=2; k 3 True 3; l 3 3; records 600 suppressed 41 limit 60; classes 38 avg 14.711; loss 0.600714 suppressionOnly 1; lattice 864 evaluated 819; rows 96ae689ebda617e1",
        ["many-distinct-values"] =
            "levels age=1,sex=0,race=0,ethnicity=0,zip=1,grade=0,school=1; k 2 True 7; l 1 1; records 300 suppressed 3 limit 150; classes 42 avg 7.071; loss 0.32949 suppressionOnly 1; lattice 864 evaluated 640; rows 8778556645876265",
        ["synthetic-community-3000"] =
            "levels age=1,sex=0,race=2,ethnicity=0,zip=1,grade=1,school=0; k 11 True 11; l 1 1; records 3000 suppressed 134 limit 150; classes 41 avg 69.902; loss 0.376528 suppressionOnly 0.938333; lattice 864 evaluated 610; rows 4173c4f643c2ce7e",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Anonymize_PinnedDataset_OutputUnchanged(string name)
    {
        var (children, settings, sensitive) = Dataset(name);

        var result = KAnonymizer.Anonymize(children, settings, sensitive);

        Assert.Equal(Expected[name], Describe(result));
    }

    private static string Describe(AnonymizationResult result)
    {
        var s = result.Summary;
        var rows = new StringBuilder();
        foreach (var row in result.Values)
        {
            rows.Append(row is null ? "-" : string.Join('\u001f', row)).Append('\n');
        }

        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(rows.ToString())))[..16];
        return string.Create(CultureInfo.InvariantCulture,
            $"levels {string.Join(',', s.Levels.Select(l => $"{l.Key}={l.Value}"))}; k {s.K} {s.KAchievable} {s.KAchieved}; l {s.L} {s.LAchieved}; "
            + $"records {s.Records} suppressed {s.RecordsSuppressed} limit {s.SuppressionLimit}; classes {s.EquivalenceClasses} avg {s.AverageClassSize:R}; "
            + $"loss {s.InformationLoss:R} suppressionOnly {s.SuppressionOnlyInformationLoss:R}; lattice {s.LatticeSize} evaluated {s.NodesEvaluated}; rows {digest}");
    }

    private static (List<ResolvedChild> Children, AnonymizationSettings Settings, List<string>? Sensitive) Dataset(string name)
    {
        var all = QuasiIdentifierNames.Default;
        switch (name)
        {
            case "skewed-rare-combinations":
            {
                var random = new Random(4242);
                var children = Enumerable.Range(0, 800).Select(_ => Skewed(random, 3)).ToList();
                return (children, new AnonymizationSettings(all, 5, 0.05, PeriodStart), null);
            }

            case "lone-pacific-islander-in-a-zip":
            {
                var children = Enumerable.Range(0, 400).Select(Typical).ToList();
                children.Insert(137, new ResolvedChild(new DateOnly(2015, 5, 5), "Female", "NativeHawaiianOrOtherPacificIslander", "NotHispanicOrLatino", "967", "3", "Island School"));
                return (children, new AnonymizationSettings(all, 5, 0.05, PeriodStart), null);
            }

            case "all-suppressed-l-impossible":
            {
                // Every child has the same service type: no class can be 2-diverse, so nothing is released.
                var children = Enumerable.Range(0, 120).Select(Typical).ToList();
                return (children, new AnonymizationSettings(all, 5, 0.05, PeriodStart, L: 2, SensitiveAttribute: "serviceTypes"),
                    children.Select(_ => "Academic").ToList());
            }

            case "k-larger-than-the-data":
            {
                var children = Enumerable.Range(0, 40).Select(Typical).ToList();
                return (children, new AnonymizationSettings(all, 60, 0.05, PeriodStart), null);
            }

            case "no-children":
                return ([], new AnonymizationSettings(all, 11, 0.05, PeriodStart), null);

            case "school-district-map-three-qis":
            {
                var random = new Random(77);
                var children = Enumerable.Range(0, 500).Select(_ => Skewed(random, 2)).ToList();
                var districts = new Dictionary<string, string>(StringComparer.Ordinal) { ["A"] = "North", ["B"] = "North", ["C"] = "South" };
                return (children, new AnonymizationSettings([QuasiIdentifierNames.Age, QuasiIdentifierNames.Grade, QuasiIdentifierNames.School], 7, 0.02, PeriodStart, districts), null);
            }

            case "l-diversity-programs":
            {
                var random = new Random(9001);
                var children = Enumerable.Range(0, 600).Select(_ => Skewed(random, 2)).ToList();
                string[] programs = ["Tutoring", "Tutoring;Meals", "Clinic", "Housing", "Tutoring"];
                var sensitive = children.Select(_ => programs[random.Next(programs.Length)]).ToList();
                return (children, new AnonymizationSettings(all, 3, 0.1, PeriodStart, L: 3, SensitiveAttribute: "programs"), sensitive);
            }

            case "many-distinct-values":
            {
                // Every child a school of its own and an age of its own: the class keys must not overflow.
                var children = Enumerable.Range(0, 300).Select(i => new ResolvedChild(new DateOnly(1930, 1, 1).AddDays(i * 97), i % 2 == 0 ? "Female" : "Male", Races[i % Races.Length],
                    "NotHispanicOrLatino", (100 + (i % 900)).ToString(CultureInfo.InvariantCulture), Grades[i % Grades.Length], "School " + i)).ToList();
                return (children, new AnonymizationSettings(all, 2, 0.5, PeriodStart), null);
            }

            case "synthetic-community-3000":
            {
                var children = new SyntheticCommunity(CommunitySpec.Benchmark with { Children = 3000 }).Children.Select(c => new ResolvedChild(c.BirthDate, c.Sex.ToString(),
                    c.Races.Length > 1 ? "TwoOrMore" : c.Races.Length == 1 ? c.Races[0].ToString() : null, c.Ethnicity.ToString(), c.Zip.Length >= 3 ? c.Zip[..3] : null, c.Grade,
                    c.School)).ToList();
                return (children, new AnonymizationSettings(all, 11, 0.05, PeriodStart), null);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(name));
        }
    }

    private static ResolvedChild Typical(int i) => new(new DateOnly(2012, 1, 1).AddDays(i * 37 % 3000), i % 2 == 0 ? "Female" : "Male",
        i % 3 == 0 ? "BlackOrAfricanAmerican" : "White", i % 4 == 0 ? "HispanicOrLatino" : "NotHispanicOrLatino", "98" + (i % 3), Grades[i % Grades.Length],
        "School " + (i % 4));

    private static ResolvedChild Skewed(Random random, int skew)
    {
        string Pick(string[] values) => values[Math.Min(values.Length - 1, (int)(values.Length * Math.Pow(random.NextDouble(), skew)))];
        return new ResolvedChild(
            random.Next(10) == 0 ? null : new DateOnly(2008, 1, 1).AddDays(random.Next(0, 6000)),
            Pick(["Female", "Male", "NonBinary"]), Pick([.. Races, ""]), Pick(["NotHispanicOrLatino", "HispanicOrLatino", ""]),
            Pick(["981", "982", "036", "983", "970", "x1"]), Pick([.. Grades, "13"]), Pick(["A", "B", "C", "D", "E", "F", "G", " "]));
    }
}

using ChildShare.Core.Agreements;
using ChildShare.Core.Sharing.Deidentified;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ChildShare.Tests.Sharing.Deidentified;

public sealed class KAnonymizerTests
{
    private static readonly DateOnly PeriodStart = new(2026, 9, 1);
    private static readonly string[] Races = ["White", "BlackOrAfricanAmerican", "Asian", "NativeHawaiianOrOtherPacificIslander", "AmericanIndianOrAlaskaNative", "TwoOrMore"];
    private static readonly string[] Grades = ["PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"];

    private static ExportChild Child(int i, ResolvedChild demographics, string serviceType = "Academic") =>
        new($"{i:x32}", "key" + i, demographics, ["Tutoring"], [serviceType]);

    private static ResolvedChild Typical(int i) => new(new DateOnly(2012, 1, 1).AddDays(i * 37 % 3000), i % 2 == 0 ? "Female" : "Male",
        i % 3 == 0 ? "BlackOrAfricanAmerican" : "White", i % 4 == 0 ? "HispanicOrLatino" : "NotHispanicOrLatino", "98" + (i % 3), Grades[i % Grades.Length],
        "School " + (i % 4));

    private static (ExportTable Table, AnonymizationSummary Summary) Run(IReadOnlyList<ExportChild> children, int k = 5, double maxSuppression = 0.05) =>
        DeidentifiedExportService.Anonymize(children, new DeidentificationTerms { K = k, MaxSuppression = maxSuppression }, 11, PeriodStart);

    private static IEnumerable<string> Identifiers(IEnumerable<ExportChild> children) =>
        children.SelectMany(c => new[] { c.ChildKey, c.Demographics.BirthDate?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "" });

    [Fact]
    public void RareRaceInOneZip_IsNotSingledOut()
    {
        var children = Enumerable.Range(0, 200).Select(i => Child(i, Typical(i))).ToList();
        children.Add(Child(999, new ResolvedChild(new DateOnly(2015, 5, 5), "Female", "NativeHawaiianOrOtherPacificIslander", "NotHispanicOrLatino", "967", "3", "Island School")));

        var (table, summary) = Run(children);

        ExportChecker.AssertSafe(table.Columns, table.Rows, 5, Identifiers(children));
        Assert.True(summary.KAchievable);
        Assert.True(summary.KAchieved >= 5);
        Assert.True(summary.RecordsSuppressed <= summary.SuppressionLimit);
        Assert.DoesNotContain(table.Rows, r => r.Contains("Island School"));
    }

    [Fact]
    public void AllChildrenIdentical_ReleasedWithoutGeneralization()
    {
        var same = Typical(3);
        var children = Enumerable.Range(0, 30).Select(i => Child(i, same)).ToList();

        var (table, summary) = Run(children);

        ExportChecker.AssertSafe(table.Columns, table.Rows, 5, Identifiers(children));
        Assert.Equal(30, table.Rows.Count);
        Assert.All(summary.Levels.Values, l => Assert.Equal(0, l));
        Assert.Equal(0, summary.InformationLoss);
        Assert.Equal(30, summary.KAchieved);
    }

    [Fact]
    public void FewerThanKChildren_NothingReleased()
    {
        var children = Enumerable.Range(0, 4).Select(i => Child(i, Typical(i))).ToList();

        var (table, summary) = Run(children);

        Assert.Empty(table.Rows);
        Assert.False(summary.KAchievable);
        Assert.Equal(4, summary.RecordsSuppressed);
    }

    [Fact]
    public void NoChildren_EmptyExport()
    {
        var (table, summary) = Run([]);

        Assert.Empty(table.Rows);
        Assert.Equal(0, summary.Records);
    }

    [Fact]
    public void VeryManyDistinctValues_DoNotOverflowTheClassKeys()
    {
        // Every child unique in five attributes: the product of cardinalities is far beyond 64 bits.
        var children = Enumerable.Range(0, 2000).Select(i => Child(i, new ResolvedChild(new DateOnly(2000, 1, 1).AddDays(i * 11), "S" + i, "R" + i, "E" + i,
            (100 + (i % 900)).ToString(System.Globalization.CultureInfo.InvariantCulture), "G" + i, "School" + i))).ToList();

        var (table, summary) = Run(children);

        ExportChecker.AssertSafe(table.Columns, table.Rows, 5, Identifiers(children));
        Assert.True(summary.KAchievable);
        Assert.True(summary.RecordsSuppressed <= summary.SuppressionLimit);
    }

    [Fact]
    public void RestrictedZip3_ExportedAs000()
    {
        var children = Enumerable.Range(0, 40).Select(i => Child(i, Typical(0) with { Zip3 = i % 2 == 0 ? "036" : "059" })).ToList();

        var (table, summary) = Run(children);

        Assert.Equal(0, summary.Levels["zip"]);
        Assert.All(table.Rows, r => Assert.Equal("000", r[table.Columns.ToList().IndexOf("zip3")]));
    }

    [Fact]
    public void SchoolDistrictMap_GeneralizesSchoolToDistrict()
    {
        var children = Enumerable.Range(0, 60).Select(i => Child(i, Typical(0) with { School = "School " + (i % 6) })).ToList();
        var terms = new DeidentificationTerms
        {
            K = 15,
            QuasiIdentifiers = ["school"],
            SchoolDistricts = Enumerable.Range(0, 6).ToDictionary(i => "School " + i, i => i < 3 ? "North" : "South"),
        };

        var (table, summary) = DeidentifiedExportService.Anonymize(children, terms, 11, PeriodStart);

        Assert.Equal(1, summary.Levels["school"]);
        Assert.Equal(["North", "South"], table.Rows.Select(r => r[1]).Distinct().Order());
    }

    [Fact]
    public void OnlyListedQuasiIdentifiers_AreExported()
    {
        var children = Enumerable.Range(0, 50).Select(i => Child(i, Typical(i))).ToList();

        var (table, _) = DeidentifiedExportService.Anonymize(children, new DeidentificationTerms { K = 5, QuasiIdentifiers = ["sex", "AGE"] }, 11, PeriodStart);

        Assert.Equal(["researchId", "age", "sex", "programs", "serviceTypes"], table.Columns);
    }

    [Fact]
    public void ChosenNode_IsMinimal_NoLowerNodeIsKAnonymousWithinTheLimit()
    {
        var children = Enumerable.Range(0, 300).Select(i => Child(i, Typical(i * 7))).ToList();
        var (_, summary) = Run(children, k: 4);
        var qis = QuasiIdentifierNames.Default;

        foreach (var attribute in qis.Where(q => summary.Levels[q] > 0))
        {
            var lower = summary.Levels.ToDictionary(p => p.Key, p => p.Key == attribute ? p.Value - 1 : p.Value);
            var classes = children.GroupBy(c => string.Join("|", qis.Select(q => QuasiIdentifiers.Generalize(q, lower[q], c.Demographics, PeriodStart, null)))).ToList();
            var suppressed = classes.Where(g => g.Count() < 4).Sum(g => g.Count());
            Assert.True(suppressed > summary.SuppressionLimit, $"lowering {attribute} would still be 4-anonymous ({suppressed} suppressed)");
        }
    }

    [Property(MaxTest = 150)]
    public Property RandomCommunities_AreKAnonymous_WithinTheSuppressionLimit()
    {
        var gen =
            from n in Gen.Choose(0, 250)
            from seed in Gen.Choose(0, int.MaxValue - 1)
            from k in Gen.Elements(2, 3, 5, 11)
            from skew in Gen.Choose(1, 4)
            from l in Gen.Elements(1, 1, 2, 3)
            select (n, seed, k, skew, l);
        return Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var random = new Random(input.seed);
            string Pick(string[] values) => values[Math.Min(values.Length - 1, (int)(values.Length * Math.Pow(random.NextDouble(), input.skew)))];
            var children = Enumerable.Range(0, input.n).Select(i => Child(i, new ResolvedChild(
                random.Next(10) == 0 ? null : new DateOnly(2008, 1, 1).AddDays(random.Next(0, 6000)),
                Pick(["Female", "Male", "NonBinary"]), Pick(Races), Pick(["NotHispanicOrLatino", "HispanicOrLatino", ""]),
                Pick(["981", "982", "036", "983", "970"]), Pick(Grades), Pick(["A", "B", "C", "D", "E", "F", "G"])), Pick(["Academic", "Health", "Recreation", "Housing"]))).ToList();
            var terms = new DeidentificationTerms { K = input.k, L = input.l, SensitiveAttribute = input.l > 1 ? "serviceTypes" : null };
            var (table, summary) = DeidentifiedExportService.Anonymize(children, terms, 11, PeriodStart);
            var problems = ExportChecker.Problems(table.Columns, table.Rows, input.k, Identifiers(children));
            var qi = Enumerable.Range(1, 7).ToArray();
            problems.AddRange(table.Rows.GroupBy(r => string.Join('|', qi.Select(i => r[i])))
                .Where(g => g.Select(r => r[^1]).Distinct().Count() < input.l).Select(g => $"class {g.Key} not {input.l}-diverse"));
            var feasible = input.n >= input.k && children.Select(c => c.ServiceTypes[0]).Distinct().Count() >= input.l;
            var withinLimit = feasible ? summary.KAchievable && summary.RecordsSuppressed <= summary.SuppressionLimit : !summary.KAchievable && table.Rows.Count == 0;
            var consistent = table.Rows.Count + summary.RecordsSuppressed == input.n;
            return (problems.Count == 0 && withinLimit && consistent)
                .Label($"n {input.n}, k {input.k}, l {input.l}: {string.Join("; ", problems.Take(3))}, suppressed {summary.RecordsSuppressed}/{summary.SuppressionLimit}");
        });
    }
}

public sealed class LDiversityTests
{
    private static readonly DateOnly PeriodStart = new(2026, 9, 1);

    [Fact]
    public void HomogeneousClass_IsGeneralizedOrSuppressed_UntilLDiverse()
    {
        // 20 girls all in Health services, 20 boys in three kinds of service: sex alone would reveal the girls' service.
        var children = Enumerable.Range(0, 40).Select(i => new ExportChild($"{i:x32}", "key" + i,
            new ResolvedChild(new DateOnly(2015, 1, 1), i < 20 ? "Female" : "Male", "White", "NotHispanicOrLatino", "981", "3", "A"),
            ["P"], [i < 20 ? "Health" : (i % 3) switch { 0 => "Academic", 1 => "Recreation", _ => "Health" }])).ToList();
        var terms = new DeidentificationTerms { K = 5, QuasiIdentifiers = ["sex"], SensitiveAttribute = "serviceTypes", L = 2 };

        var (table, summary) = DeidentifiedExportService.Anonymize(children, terms, 11, PeriodStart);

        Assert.Equal(2, summary.L);
        Assert.True(summary.LAchieved >= 2);
        foreach (var group in table.Rows.GroupBy(r => r[1]))
        {
            Assert.True(group.Select(r => r[^1]).Distinct().Count() >= 2, $"class {group.Key} is not 2-diverse");
        }

        Assert.Equal(1, summary.Levels["sex"]); // the girls cannot be suppressed within 5%: sex is generalized
    }

    [Fact]
    public void WithoutL_SexIsReleased()
    {
        var children = Enumerable.Range(0, 40).Select(i => new ExportChild($"{i:x32}", "key" + i,
            new ResolvedChild(new DateOnly(2015, 1, 1), i < 20 ? "Female" : "Male", "White", "NotHispanicOrLatino", "981", "3", "A"), ["P"], ["Health"])).ToList();

        var (_, summary) = DeidentifiedExportService.Anonymize(children, new DeidentificationTerms { K = 5, QuasiIdentifiers = ["sex"] }, 11, PeriodStart);

        Assert.Equal(0, summary.Levels["sex"]);
    }
}

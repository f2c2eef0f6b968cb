using System.Globalization;
using ChildShare.Core.Activity;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Core.Storage;

namespace ChildShare.Tests.Sharing.Deidentified;

/// <summary>
/// The export's fold (<see cref="ExportChildFold"/>) gives exactly what the export got from <see cref="ChildAggregator"/> (the
/// aggregate report's class) over rows sorted by provider child, year and read position, as the export did before: the same
/// children, demographics, programs, service types and provider children, on random rows built to hit every tie of the rule
/// (equal update times; provider ids whose order differs from their provider children's, "a" and "ab"; one provider child
/// twice in a year; blank values; activity outside the period; rows without a child key; more than 64 programs).
/// </summary>
public sealed class ExportChildFoldTests
{
    private static readonly DateOnly From = new(2026, 3, 10);
    private static readonly DateOnly To = new(2027, 2, 20);
    private static readonly string[] Demographics = ["BirthDate", "Sex", "Race", "Ethnicity", "Zip3", "Grade", "School"];

    [Theory]
    [InlineData(1, 8)]
    [InlineData(2, 8)]
    [InlineData(3, 70)]
    [InlineData(4, 200)]
    public void Run_RandomRowsWithTies_SameAsChildAggregatorOverSortedRows(int seed, int programCount)
    {
        for (var round = 0; round < 40; round++)
        {
            var random = new Random((seed * 1000) + round);
            var read = Rows(random, programCount);
            string[] included = ["a", "ab", "b"];

            var fold = ExportChildFold.Run(read, included, From, To, providerChildren: true);
            var (programs, serviceTypes) = fold.Values();
            var providerChildren = fold.ProviderChildren();
            var actual = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var c = 0; c < fold.Count; c++)
            {
                var key = fold.ChildKeys[c];
                actual[key] = Describe(fold.Demographics(c), programs[c], serviceTypes[c], providerChildren[key]);
            }

            Assert.Equal(Expected(read, included), actual);
        }
    }

    [Fact]
    public void Run_ProviderChildWithoutProvider_Throws()
    {
        List<(int, ProviderChildYear)> read = [(2026, new ProviderChildYear("no-bar", "child", 1, new string?[7], []))];

        Assert.Throws<InvalidOperationException>(() => ExportChildFold.Run(read, ["a"], From, To, providerChildren: false));
    }

    [Fact]
    public void ProviderChildren_NotAsked_Empty()
    {
        var read = Rows(new Random(9), 4);

        var fold = ExportChildFold.Run(read, ["a", "ab", "b"], From, To, providerChildren: false);

        Assert.True(fold.Count > 0);
        Assert.Empty(fold.ProviderChildren());
    }

    /// <summary>The export's former path: a stable sort by provider child, year and read position, then ChildAggregator.</summary>
    private static Dictionary<string, string> Expected(List<(int Year, ProviderChildYear Child)> read, string[] included)
    {
        var rows = read.Select((r, i) => (r.Year, r.Child, Index: i)).Where(r => included.Contains(r.Child.ProviderId, StringComparer.Ordinal)).ToList();
        rows.Sort((a, b) => string.CompareOrdinal(a.Child.ProviderChild, b.Child.ProviderChild) is var c and not 0 ? c
            : a.Year != b.Year ? a.Year.CompareTo(b.Year) : a.Index.CompareTo(b.Index));
        var aggregator = new ChildAggregator(From, To, needsActivities: true, Demographics);
        var providerChildren = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var (year, child, _) in rows)
        {
            if (aggregator.Add(year, child))
            {
                if (!providerChildren.TryGetValue(child.ChildKey, out var set))
                {
                    set = new SortedSet<string>(StringComparer.Ordinal);
                    providerChildren[child.ChildKey] = set;
                }

                set.Add(child.ProviderChild);
            }
        }

        static List<string> Distinct(IEnumerable<string> values) =>
            values.Where(v => !string.IsNullOrWhiteSpace(v)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return aggregator.Entries.ToDictionary(e => e.Key, e =>
        {
            string? V(int i) => e.Value.Demographics[i].Value;
            var resolved = new ResolvedChild(RecordKeys.ParseIsoDate(V(0)), V(1), V(2), V(3), V(4), V(5), V(6));
            return Describe(resolved, Distinct(e.Value.Activities.Select(a => a.Program)), Distinct(e.Value.Activities.Select(a => a.ServiceType)),
                providerChildren[e.Key].ToList());
        }, StringComparer.Ordinal);
    }

    private static string Describe(ResolvedChild d, IReadOnlyList<string> programs, IReadOnlyList<string> serviceTypes, IReadOnlyList<string> providerChildren) =>
        string.Join('/', d.BirthDate is { } b ? RecordKeys.IsoDate(b) : "~", d.Sex ?? "~", d.Race ?? "~", d.Ethnicity ?? "~", d.Zip3 ?? "~", d.Grade ?? "~", d.School ?? "~")
        + "|" + string.Join(';', programs) + "|" + string.Join(';', serviceTypes) + "|" + string.Join(';', providerChildren);

    private static List<(int Year, ProviderChildYear Child)> Rows(Random random, int programCount)
    {
        string[] providerChildren = ["a|x", "a|y", "ab|x", "ab|a", "b|z", "c|q", "a|"];
        var programs = Enumerable.Range(0, programCount).Select(i => i % 7 == 3 ? " " : i % 11 == 5 ? "" : "P" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        string?[][] values =
        [
            ["2015-04-01", "2016-02-29", "2015-13-01", "", null],
            ["Female", "Male", " ", null],
            ["White", "Asian", null],
            ["HispanicOrLatino", "NotHispanicOrLatino", ""],
            ["123", "036", null],
            ["K", "3", "12", null],
            ["Lincoln", "Roosevelt", "  ", null],
        ];
        var rows = new List<(int, ProviderChildYear)>();
        var count = random.Next(0, 120);
        for (var r = 0; r < count; r++)
        {
            var childKey = random.Next(15) == 0 ? "" : "child-" + random.Next(12).ToString(CultureInfo.InvariantCulture);
            var demographics = values.Select(v => v[random.Next(v.Length)]).ToArray();
            var activities = Enumerable.Range(0, random.Next(0, 4)).Select(_ => new YearActivity(
                programs[random.Next(programs.Length)], "S" + random.Next(3).ToString(CultureInfo.InvariantCulture),
                Enumerable.Range(0, 12).Select(_ => random.Next(4) == 0 ? (uint)random.Next() : 0u).ToArray())).ToList();
            var year = 2025 + random.Next(3);
            rows.Add((year, new ProviderChildYear(providerChildren[random.Next(providerChildren.Length)], childKey, random.Next(3), demographics, activities)));
        }

        return rows;
    }
}

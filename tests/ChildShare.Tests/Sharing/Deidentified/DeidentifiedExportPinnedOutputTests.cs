using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ChildShare.Cli.Synthetic;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Core.Storage;

namespace ChildShare.Tests.Sharing.Deidentified;

/// <summary>
/// Pins the whole child-level export's compute path, from the activity buckets' provider-child years as the store returns
/// them to the table the service delivers: which children are in the period, the resolved demographics, the research ids
/// (a fixed key), the row order, the programs and service types, the generalization and suppression, the summary, and the
/// CSV and JSON bodies. Taken on main (c5df2c2) before the export was made faster; an optimization must leave every line
/// identical. The storage read itself is the activity store's (pinned by its own tests).
/// </summary>
public sealed class DeidentifiedExportPinnedOutputTests
{
    private static readonly DateOnly From = new(2026, 9, 1);
    private static readonly DateOnly To = new(2027, 2, 28);
    private static readonly PseudonymKey Key = new("pin-1", Enumerable.Range(0, 32).Select(i => (byte)(i * 7 + 3)).ToArray());
    private static readonly string[] Programs = ["Tutoring", "Meals", "Clinic", "Housing", "", " ", "=HYPERLINK(\"x\")", "Tutoring"];
    private static readonly string[] ServiceTypes = ["Academic", "Nutrition", "Health", "Shelter", "", "Academic"];

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

    // case -> the export on main (commit c5df2c2).
    private static readonly IReadOnlyDictionary<string, string> Expected = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["community-default-terms"] =
            "children 2312 rows 2221 columns researchId,age,sex,race,ethnicity,zip3,grade,school,programs,serviceTypes; levels age=3,sex=0,race=1,ethnicity=0,zip=1,grade=2,school=2; k 11 True 12; l 1 1; suppressed 91 classes 45 loss 0.592983; evaluated 808; children 3d84783c21b46dc9 csv cc5e8dbca47330e5 json f9608607477ef0e7",
        ["community-l-diversity-programs"] =
            "children 1388 rows 1300 columns researchId,age,sex,race,ethnicity,zip3,grade,school,programs,serviceTypes; levels age=3,sex=0,race=2,ethnicity=0,zip=1,grade=1,school=1; k 5 True 5; l 2 3; suppressed 88 classes 64 loss 0.507506; evaluated 743; children 3422d5f28f38a245 csv 1c08d63ef3e6a4d2 json 80bab7be46097d08",
        ["community-l-diversity-service-types"] =
            "children 1394 rows 1351 columns researchId,age,sex,race,ethnicity,zip3,grade,school,programs,serviceTypes; levels age=3,sex=0,race=2,ethnicity=0,zip=1,grade=1,school=1; k 3 True 3; l 3 3; suppressed 43 classes 71 loss 0.489992; evaluated 742; children 77046f26c68eb05c csv 549be19bcd17361f json 742bd58dc4fc4a0a",
        ["community-three-qis-districts"] =
            "children 1119 rows 1119 columns researchId,age,grade,school,programs,serviceTypes; levels age=3,grade=1,school=0; k 7 True 13; l 1 1; suppressed 0 classes 22 loss 0.386187; evaluated 24; children 83d662fdc29cbfa9 csv 79bf082dce902ad4 json 31c6de21db926ce0",
        ["community-one-provider"] =
            "children 428 rows 420 columns researchId,age,sex,race,ethnicity,zip3,grade,school,programs,serviceTypes; levels age=3,sex=0,race=2,ethnicity=0,zip=1,grade=1,school=2; k 3 True 3; l 1 1; suppressed 8 classes 51 loss 0.599371; evaluated 817; children 5e94e3e1241214c6 csv 25c7869d0e97454f json bf3316e9d26eed35",
        ["k-larger-than-the-data"] =
            "children 56 rows 0 columns researchId,age,sex,race,ethnicity,zip3,grade,school,programs,serviceTypes; levels age=3,sex=1,race=2,ethnicity=1,zip=1,grade=2,school=2; k 500 False 0; l 1 0; suppressed 56 classes 0 loss 1; evaluated 864; children 4982d5758e67c698 csv 916b9d8e9445c593 json 380c6f8536202caa",
        ["no-children"] =
            "children 0 rows 0 columns researchId,age,sex,race,ethnicity,zip3,grade,school,programs,serviceTypes; levels age=3,sex=1,race=2,ethnicity=1,zip=1,grade=2,school=2; k 11 False 0; l 1 0; suppressed 0 classes 0 loss 0; evaluated 864; children e3b0c44298fc1c14 csv 916b9d8e9445c593 json 25ea2371191ea108",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Compose_PinnedDataset_ExportUnchanged(string name)
    {
        var (read, included, terms, agreementId) = Dataset(name);

        var (table, children, summary) = Compose(read, included, terms, agreementId);

        Assert.Equal(Expected[name], Describe(table, children, summary));
    }

    [Fact]
    public void Compose_ServiceRows_SameChildTable_AndEveryExportedChildsProviderChildrenOnce()
    {
        var (read, included, terms, agreementId) = Dataset("community-default-terms");

        var children = DeidentifiedExportService.Compose(read, included, From, To, Key, agreementId, terms, 11, serviceRows: false);
        var services = DeidentifiedExportService.Compose(read, included, From, To, Key, agreementId, terms, 11, serviceRows: true);

        Assert.Equal(children.Table.ToCsv(), services.Table.ToCsv());
        Assert.Empty(children.ProviderChildren);
        Assert.Equal(services.Children.Select(c => c.ChildKey).Order(StringComparer.Ordinal), services.ProviderChildren.Keys.Order(StringComparer.Ordinal));
        Assert.All(services.ProviderChildren.Values, list => Assert.Equal(list.Count, list.Distinct(StringComparer.Ordinal).Count()));
        Assert.All(services.ProviderChildren.Values.SelectMany(l => l), pc => Assert.Contains(RecordKeys.SplitProviderChild(pc).ProviderId, included));
    }

    // The service's compute path between the storage read and the delivery (on main c5df2c2 the same code stood inline in
    // DeidentifiedExportService.BuildAsync and ReadAsync; this test replicated it there, line for line, to take the pinned values).
    private static (ExportTable Table, IReadOnlyList<ExportChild> Children, AnonymizationSummary Summary) Compose(
        IReadOnlyList<(int Year, ProviderChildYear Child)> read, IReadOnlyList<string> included, DeidentificationTerms terms, string agreementId)
    {
        var (table, children, summary, _) = DeidentifiedExportService.Compose(read, included, From, To, Key, agreementId, terms, 11, serviceRows: false);
        return (table, children, summary);
    }

    private static string Describe(ExportTable table, IReadOnlyList<ExportChild> children, AnonymizationSummary s)
    {
        static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
        var everyone = new StringBuilder();
        foreach (var child in children)
        {
            everyone.Append(child.ResearchId).Append('|').Append(child.ChildKey).Append('|').Append(Demographics(child.Demographics)).Append('|')
                .AppendJoin(';', child.Programs).Append('|').AppendJoin(';', child.ServiceTypes).Append('\n');
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"children {children.Count} rows {table.Rows.Count} columns {string.Join(',', table.Columns)}; "
            + $"levels {string.Join(',', s.Levels.Select(l => $"{l.Key}={l.Value}"))}; k {s.K} {s.KAchievable} {s.KAchieved}; l {s.L} {s.LAchieved}; "
            + $"suppressed {s.RecordsSuppressed} classes {s.EquivalenceClasses} loss {s.InformationLoss:R}; evaluated {s.NodesEvaluated}; "
            + $"children {Digest(everyone.ToString())} csv {Digest(table.ToCsv())} json {Digest(table.ToJson(s))}");
    }

    private static string Demographics(ResolvedChild d) =>
        string.Join('/', d.BirthDate is { } b ? RecordKeys.IsoDate(b) : "~", d.Sex ?? "~", d.Race ?? "~", d.Ethnicity ?? "~", d.Zip3 ?? "~", d.Grade ?? "~", d.School ?? "~");

    private static (List<(int Year, ProviderChildYear Child)> Read, IReadOnlyList<string> Included, DeidentificationTerms Terms, string AgreementId) Dataset(string name)
    {
        string[] all = ["district", "afterschool", "clinic"];
        return name switch
        {
            "community-default-terms" => (Community(2500, 20261201), all, new DeidentificationTerms(), "dsa-pin"),
            "community-l-diversity-programs" => (Community(1500, 5), all, new DeidentificationTerms { K = 5, L = 2, SensitiveAttribute = "programs", MaxSuppression = 0.1 }, "dsa-pin"),
            "community-l-diversity-service-types" => (Community(1500, 6), all, new DeidentificationTerms { K = 3, L = 3, SensitiveAttribute = "serviceTypes" }, "dsa-other"),
            "community-three-qis-districts" => (Community(1200, 7), all, new DeidentificationTerms
            {
                K = 7, QuasiIdentifiers = ["grade", "age", "school"], MaxSuppression = 0.02,
                SchoolDistricts = new Dictionary<string, string>(StringComparer.Ordinal) { ["Lincoln Elementary"] = "North", ["Roosevelt Middle"] = "North" },
            }, "dsa-pin"),
            "community-one-provider" => (Community(1500, 8), ["afterschool"], new DeidentificationTerms { K = 3 }, "dsa-pin"),
            "k-larger-than-the-data" => (Community(60, 9), all, new DeidentificationTerms { K = 500 }, "dsa-pin"),
            "no-children" => ([], all, new DeidentificationTerms(), "dsa-pin"),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    /// <summary>
    /// Provider-child years as the activity store returns them, adversarial for the compute path: a child at one to three providers
    /// (and at a provider the agreement does not release) with conflicting demographics, equal update times (the provider id breaks
    /// the tie), blank and missing values, activity outside the period, years on both sides of a year boundary, a provider child
    /// without a community key, blank and duplicate programs, and the rows in no particular order.
    /// </summary>
    private static List<(int Year, ProviderChildYear Child)> Community(int size, int seed)
    {
        var random = new Random(seed);
        string[] providers = ["district", "afterschool", "clinic", "not-released"];
        var rows = new List<(int, ProviderChildYear)>();
        foreach (var c in new SyntheticCommunity(CommunitySpec.Benchmark with { Children = size, Seed = seed }).Children)
        {
            var childKey = random.Next(200) == 0 ? "" : "child-" + c.Id.ToString(CultureInfo.InvariantCulture);
            var race = c.Races.Length > 1 ? "TwoOrMore" : c.Races.Length == 1 ? c.Races[0].ToString() : null;
            foreach (var provider in providers.Where((_, i) => i == 0 || random.Next(3) == 0))
            {
                var local = Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64()));
                var ticks = 638_000_000_000_000_000L + random.Next(3) * 1_000_000_000L;
                string? Vary(string? value, string other) => random.Next(10) switch { 0 => null, 1 => " ", 2 => other, _ => value };
                string?[] demographics =
                [
                    Vary(RecordKeys.IsoDate(c.BirthDate), RecordKeys.IsoDate(c.BirthDate.AddYears(1))), Vary(c.Sex.ToString(), "NonBinary"),
                    Vary(race, "NativeHawaiianOrOtherPacificIslander"), Vary(c.Ethnicity.ToString(), "HispanicOrLatino"),
                    Vary(c.Zip.Length >= 3 ? c.Zip[..3] : null, "036"), Vary(c.Grade, "K"), Vary(c.School, "Island School"),
                ];
                foreach (var year in new[] { 2026, 2027 }.Where(_ => random.Next(4) != 0))
                {
                    var activities = Enumerable.Range(0, random.Next(1, 4)).Select(_ => new YearActivity(
                        Programs[random.Next(Programs.Length)], ServiceTypes[random.Next(ServiceTypes.Length)],
                        Enumerable.Range(0, 12).Select(_ => random.Next(3) == 0 ? (uint)random.Next() : 0u).ToArray())).ToList();
                    rows.Add((year, new ProviderChildYear(RecordKeys.ProviderChild(provider, local), childKey, ticks, demographics, activities)));
                }
            }
        }

        return [.. rows.OrderBy(_ => random.Next())];
    }
}

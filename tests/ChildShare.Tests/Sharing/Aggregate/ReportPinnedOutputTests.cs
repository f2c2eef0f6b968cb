using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Organizations;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Storage;
using ChildShare.Tests.Agreements;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>
/// Pins the aggregate report's whole output (every row and column, the cell order, suppression, the differencing protection,
/// the receipt, the providers included and excluded, the total rows and paging) on a seeded adversarial community written
/// into the activity buckets: children at up to three providers and twice at one provider with tied update times (the
/// demographic tie-break and first-seen order), empty and whitespace programs, service types and demographics, a literal
/// "Unknown", invalid and future birth dates, provider children without a child key, a provider no agreement includes,
/// activity on the period's first and last days only, and two calendar years. Taken on main (a97f6f3) before the report's
/// read path was made faster; the faster path must give every byte again. A second test checks the counts against a naive
/// distinct count of the generated data.
/// </summary>
public sealed class ReportPinnedOutputTests(ReportPinnedOutputTests.Seeded community) : IClassFixture<ReportPinnedOutputTests.Seeded>
{
    private static readonly string[] Providers = ["p-alpha", "p-beta", "p-gamma"];
    private static readonly string[] Programs = ["Tutoring", "Meals", "", " ", "Ümlaut-Club", "Clinic"];
    private static readonly string[] ServiceTypes = ["Academic", "Nutrition", "", "Health"];
    private static readonly string?[] Sexes = ["Female", "Male", "NonBinary", null, "", " ", "Unknown"];
    private static readonly string?[] Races = ["White", "Asian", "BlackOrAfricanAmerican", "TwoOrMore", null, " "];
    private static readonly string?[] Grades = ["PK", "K", "3", "7", "12", null, "Ungraded"];
    private static readonly string?[] Zips = ["981", "980", "992", null];

    // case -> the report on main (a97f6f3).
    private static readonly IReadOnlyDictionary<string, string> Expected = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["span-ethnicity-program-noise"] = "rows 24 page 24 suppressed 0 children 383 inPeriod 659 total 382 digest e14c1847674baded",
        ["month-zip3-none"] = "rows 5 page 5 suppressed 0 children 268 inPeriod 320 total 268 digest 8b52ce7726fcdcb2",
        ["days-across-years-round5"] = "rows 28 page 28 suppressed 4 children 355 inPeriod 666 total 355 digest 7c4895486c4d2485",
        ["month-provider-none-small-cells"] = "rows 120 page 120 suppressed 27 children 302 inPeriod 342 total 302 digest 3f01d188f0099166",
        ["series-provider-sex-none"] = "rows 120 page 120 suppressed 27 children 1452 inPeriod 1671 total 155 digest 374614d8a738f650",
        ["month-provider-ageband-grade-none"] = "rows 224 page 224 suppressed 180 children 259 inPeriod 296 total 259 digest c6f795413d4ea20b",
        ["year-program-servicetype-round5"] = "rows 30 page 30 suppressed 0 children 572 inPeriod 1214 total 570 digest 60a6debfc420b2d7",
        ["page-provider-program-servicetype-round5"] = "rows 120 page 7 suppressed 33 children 525 inPeriod 711 total  digest 3cf31fe8a83abb7d",
        ["year-provider-sex-race-round5"] = "rows 120 page 120 suppressed 38 children 570 inPeriod 1189 total 570 digest 1bb21cd281693bf9",
    };

    public static TheoryData<string> Cases
    {
        get
        {
            var cases = new TheoryData<string>();
            foreach (var name in Queries.Keys)
            {
                cases.Add(name);
            }

            return cases;
        }
    }

    // case -> (caller organization, parameters)
    private static readonly IReadOnlyDictionary<string, (string Org, Dictionary<string, string?> Parameters)> Queries =
        new Dictionary<string, (string, Dictionary<string, string?>)>(StringComparer.Ordinal)
        {
            ["year-provider-sex-race-round5"] = ("pin-round", new() { ["from"] = "2025-10-01", ["to"] = "2026-09-30", ["groupBy"] = "provider,sex,race", ["$top"] = "5000" }),
            ["year-program-servicetype-round5"] = ("pin-round", new() { ["from"] = "2025-07-01", ["to"] = "2026-06-30", ["groupBy"] = "program,serviceType", ["$top"] = "5000" }),
            ["month-provider-ageband-grade-none"] = ("pin-none", new() { ["from"] = "2026-03-01", ["to"] = "2026-03-31", ["groupBy"] = "provider,ageBand,grade", ["$top"] = "5000" }),
            ["month-zip3-none"] = ("pin-none", new() { ["from"] = "2026-02-01", ["to"] = "2026-02-28", ["groupBy"] = "zip3", ["$top"] = "5000" }),
            ["month-provider-none-small-cells"] = ("pin-small", new() { ["from"] = "2025-12-01", ["to"] = "2025-12-31", ["groupBy"] = "provider,program,sex", ["$top"] = "5000" }),
            ["series-provider-sex-none"] = ("pin-none", new() { ["from"] = "2026-01-01", ["to"] = "2026-06-30", ["groupBy"] = "provider,sex", ["interval"] = "month", ["$top"] = "5000" }),
            ["span-ethnicity-program-noise"] = ("pin-noise", new() { ["from"] = "2025-10-15", ["to"] = "2026-04-20", ["groupBy"] = "ethnicity,program", ["$top"] = "5000" }),
            ["page-provider-program-servicetype-round5"] = ("pin-round", new() { ["from"] = "2026-01-01", ["to"] = "2026-08-31", ["groupBy"] = "provider,program,serviceType", ["$skip"] = "5", ["$top"] = "7" }),
            ["days-across-years-round5"] = ("pin-round", new() { ["from"] = "2025-12-31", ["to"] = "2026-01-01", ["groupBy"] = "provider,ageBand", ["$top"] = "5000" }),
        };

    /// <summary>The community, seeded once for the class (every case asks a different query, so no case sees another's snapshot).</summary>
    public sealed class Seeded : IAsyncLifetime
    {
        private readonly TestStorage _storage = new();

        public ServiceProvider Services { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await _storage.InitializeAsync();
            Services = TestApp.Build(_storage);
            await SeedAsync(Services);
        }

        public async Task DisposeAsync()
        {
            await Services.DisposeAsync();
            await _storage.DisposeAsync();
        }
    }

    private ServiceProvider Services => community.Services;

    private static async Task SeedAsync(ServiceProvider Services)
    {
        var registry = Services.GetRequiredService<ProviderRegistry>();
        foreach (var provider in Providers.Append("p-excluded"))
        {
            await registry.RegisterAsync(provider, provider, "Other");
        }

        var agreements = Services.GetRequiredService<AgreementStore>();
        await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-round", "pin-round", Providers) with { Protection = DifferencingProtection.Round5 }, "test");
        await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-none", "pin-none", Providers), "test");
        await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-small", "pin-small", Providers) with { MinimumCellSize = 3 }, "test");
        await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-noise", "pin-noise", "p-alpha", "p-gamma") with { Protection = DifferencingProtection.Noise }, "test");

        var store = Services.GetRequiredService<ActivityStore>();
        var layout = await store.BeginWriteAsync(bucketsIfNew: 8);
        await store.ApplyAsync(layout, Community().Select(pc =>
            new ActivityChange(pc.Key, ActivityStore.Years(pc.Key, pc.ChildKey, pc.Ticks, pc.Demographics, pc.Services), [])).ToList());
        await store.EndWriteAsync();
    }

    /// <summary>The seeded community: provider children with their child key (empty for a few), update ticks, demographics and services.</summary>
    private static List<(string Key, string ChildKey, long Ticks, string?[] Demographics, List<ServiceInterval> Services)> Community()
    {
        var random = new Random(20261202);
        var result = new List<(string, string, long, string?[], List<ServiceInterval>)>();
        var baseTicks = new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;
        T Pick<T>(T[] values) => values[random.Next(values.Length)];
        for (var child = 0; child < 700; child++)
        {
            var childKey = child % 97 == 13 ? "" : $"ck{child:D4}";
            var birth = random.Next(20) switch
            {
                0 => null,
                1 => "2015-13-01",
                2 => "2030-01-01",
                3 => " ",
                _ => RecordKeys.IsoDate(new DateOnly(2004, 1, 1).AddDays(random.Next(0, 8000))),
            };
            var providers = random.Next(10) switch { < 6 => 1, < 9 => 2, _ => 3 };
            foreach (var provider in Providers.Append("p-excluded").OrderBy(_ => random.Next()).Take(providers))
            {
                // A few children are known twice to one provider (two local records linked to one child), with the same update time.
                var copies = random.Next(15) == 0 ? 2 : 1;
                var ticks = baseTicks + (random.Next(4) * TimeSpan.TicksPerHour);
                for (var copy = 0; copy < copies; copy++)
                {
                    string?[] demographics = [birth, Pick(Sexes), Pick(Races), Pick<string?>(["Hispanic", "NotHispanic", null]), Pick(Zips), Pick(Grades), Pick<string?>(["School A", "School B", null])];
                    var services = new List<ServiceInterval>();
                    for (var s = random.Next(1, 4); s > 0; s--)
                    {
                        var start = random.Next(8) switch
                        {
                            0 => new DateOnly(2025, 12, 31),
                            1 => new DateOnly(2026, 1, 1),
                            _ => new DateOnly(2025, 6, 1).AddDays(random.Next(0, 480)),
                        };
                        var length = random.Next(3) == 0 ? 0 : random.Next(1, 120);
                        services.Add(new ServiceInterval(Pick(Programs), Pick(ServiceTypes), start, start.AddDays(length)));
                    }

                    result.Add((RecordKeys.ProviderChild(provider, $"tok{child:D4}x{copy}"), childKey, ticks, demographics, services));
                }
            }
        }

        return result;
    }

    private Task<ReportResult> RunAsync(string org, Dictionary<string, string?> parameters) =>
        Services.GetRequiredService<AggregateReportService>().RunAsync(new Caller(org, CallerRoles.Reader, CallerAuthMethod.ApiKey, "k"), parameters, null);

    private static string Describe(ReportResult result)
    {
        var json = JsonSerializer.Serialize(new { result.Status, result.Page!.Value, result.Page.Metadata, result.Excluded });
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..16];
        var rows = result.Page.Value;
        return string.Create(CultureInfo.InvariantCulture,
            $"rows {result.Page.Metadata.TotalRows} page {rows.Count} suppressed {result.Page.Metadata.Suppression.CellsSuppressed} "
            + $"children {result.Stats!.Children} inPeriod {result.Stats.EntitiesInPeriod} total {rows.LastOrDefault(r => r.RowType == "total")?.Children} digest {digest}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task RunAsync_PinnedCommunity_ReportUnchanged(string name)
    {
        var (org, parameters) = Queries[name];

        var computed = await RunAsync(org, parameters);
        var fromSnapshot = await RunAsync(org, parameters);

        Assert.True(computed.Status == ReportStatus.Ok, string.Join(" ", computed.Errors));
        Assert.False(computed.Stats!.FromSnapshot);
        Assert.True(fromSnapshot.Stats!.FromSnapshot);
        var described = Describe(computed);
        Assert.True(Expected.GetValueOrDefault(name) == described, $"{name}: {described}");
        Assert.Equal(Describe(computed).Split(" digest ")[1], Describe(fromSnapshot).Split(" digest ")[1]);
    }

    [Fact]
    public async Task RunAsync_MonthByProviderAndProgram_EveryShownCountEqualsTheNaiveDistinctCount()
    {
        var from = new DateOnly(2026, 3, 1);
        var to = new DateOnly(2026, 3, 31);
        var active = Community().Where(pc => pc.ChildKey.Length > 0 && !pc.Key.StartsWith("p-excluded|", StringComparison.Ordinal))
            .SelectMany(pc => pc.Services.Where(s => s.Start <= to && s.End >= from)
                .Select(s => (Provider: RecordKeys.SplitProviderChild(pc.Key).ProviderId, Program: string.IsNullOrWhiteSpace(s.Program) ? ReportDimensions.Unknown : s.Program, pc.ChildKey)))
            .ToList();

        var result = await RunAsync("pin-none", new() { ["from"] = "2026-03-01", ["to"] = "2026-03-31", ["groupBy"] = "provider,program", ["$top"] = "5000" });

        var shown = result.Page!.Value.Where(r => !r.Suppressed).ToList();
        Assert.Contains(shown, r => r.RowType == "cell");
        foreach (var row in shown)
        {
            var naive = active.Where(a => (row.Provider == ReportDimensions.AllValues || a.Provider == row.Provider) && (row.Program == ReportDimensions.AllValues || a.Program == row.Program))
                .Select(a => a.ChildKey).Distinct(StringComparer.Ordinal).LongCount();
            Assert.Equal(naive, row.Children);
        }

        Assert.Equal(active.Select(a => a.ChildKey).Distinct(StringComparer.Ordinal).LongCount(), result.Page.Value.Single(r => r.RowType == "total").Children);
    }
}

using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Storage;
using ChildShare.Tests.Agreements;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>
/// The differencing finding of issue 11, end to end through the report service on Azurite: an
/// adversary with an API key asks for September 1-29 and September 1-30 grouped by race and age
/// band, then what it would try next (periods shifted by a day at either end, a period and its two
/// halves, other groupings), and solves everything it got for the suppressed cells
/// (<see cref="DifferencingAttacker"/>). Before this change the default terms (exact counts, hidden
/// cells labelled primary or complementary) gave away the Pacific Islander child's cell in both
/// periods, then its sex and ethnicity. Community: <see cref="AttackCommunity"/> seed 34 (70 children).
/// </summary>
public sealed class CombinedReportsAttackTests : AppTests
{
    private const int Seed = 34;
    private const string Target = "race=" + AttackCommunity.TargetRace;

    private static readonly DateOnly Sep1 = AttackCommunity.September1;

    /// <summary>The attacker's periods: the finding's two, shifted by one day at either end, over the month's edges, and a month with its two halves.</summary>
    private static readonly (DateOnly From, DateOnly To)[] Periods =
    [
        (Sep1, Sep1.AddDays(28)), (Sep1, Sep1.AddDays(29)), (Sep1.AddDays(1), Sep1.AddDays(29)), (Sep1, Sep1.AddDays(27)), (Sep1.AddDays(1), Sep1.AddDays(28)),
        (Sep1.AddDays(-1), Sep1.AddDays(29)), (Sep1, Sep1.AddDays(30)), (Sep1, Sep1.AddDays(14)), (Sep1.AddDays(15), Sep1.AddDays(29)),
    ];

    private static readonly string[][] Groupings = [["race", "ageBand"], ["race"], ["ageBand"], ["race", "sex"], ["race", "ethnicity"], ["sex"], ["ethnicity"]];


    protected override async Task StartAsync()
    {
        await Services.GetRequiredService<ProviderRegistry>().RegisterAsync("p1", "Provider one", "Other");
        var agreements = Services.GetRequiredService<AgreementStore>();

        // The default terms: an agreement that names no protection.
        await agreements.CreateAsync(new DataSharingAgreement
        {
            Id = "dsa-default", Parties = [new AgreementParty("p1")], Recipients = ["default-org"], Modes = [SharingMode.Aggregate], Purpose = "Planning",
            EffectiveFrom = new DateOnly(2025, 1, 1), AllowedDimensions = ReportDimensions.All, DocumentReference = "https://docs.example.org/dsa/default",
        }, "test");
        await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-exact", "exact-org", "p1") with { Protection = DifferencingProtection.None }, "test");
        await AttackCommunity.WriteAsync(Storage.Storage, "p1", AttackCommunity.Generate(Seed), TestApp.Now);
    }

    private Task<ReportResult> AskAsync(string organization, DateOnly from, DateOnly to, string[] groupBy) =>
        Services.GetRequiredService<AggregateReportService>().RunAsync(new Caller(organization, CallerRoles.Reader, CallerAuthMethod.ApiKey, "k"),
            new Dictionary<string, string?> { ["from"] = $"{from:yyyy-MM-dd}", ["to"] = $"{to:yyyy-MM-dd}", ["groupBy"] = string.Join(',', groupBy) }, null);

    private static DifferencingAttacker.Published Published(ReportPage page, DateOnly from, DateOnly to, string[] groupBy) =>
        new(from, to, groupBy, page.Value, page.Metadata.Suppression.MinimumCellSize, page.Metadata.Suppression.DifferencingProtection);

    /// <summary>What the attack recovered that it must not: a hidden count above zero, or anything about the Pacific Islander child's cells.</summary>
    private static List<string> Leaks(DifferencingAttacker attacker) =>
        attacker.Recovered().Where(p => p.Value > 0 || p.Key.Contains(Target, StringComparison.Ordinal)).Select(p => $"{p.Key} = {p.Value}").ToList();

    /// <summary>The attacker cannot tell the child's sex or ethnicity: every value of each is still possible for the Pacific Islander group.</summary>
    private static void AssertSexAndEthnicityUnknown(DifferencingAttacker attacker, DateOnly from, DateOnly to)
    {
        foreach (var cell in new[] { "race=NativeHawaiianOrOtherPacificIslander|sex=Female", "race=NativeHawaiianOrOtherPacificIslander|sex=Male",
                     "ethnicity=NotHispanicOrLatino|race=NativeHawaiianOrOtherPacificIslander", "ethnicity=HispanicOrLatino|race=NativeHawaiianOrOtherPacificIslander" })
        {
            var (lo, hi) = attacker.Interval(DifferencingAttacker.Name(from, to, cell));
            Assert.True(lo == 0 && hi >= 1, $"{cell}: the attacker knows it lies in [{lo}, {hi}]");
        }
    }

    [Fact]
    public async Task Report_DefaultTermsOverlappingShiftedAndRegroupedPeriods_NothingRecovered()
    {
        var attacker = new DifferencingAttacker();
        foreach (var (from, to) in Periods)
        {
            foreach (var groupBy in Groupings)
            {
                var result = await AskAsync("default-org", from, to, groupBy);
                Assert.Equal(ReportStatus.Ok, result.Status);
                Assert.Equal("Round5", result.Page!.Metadata.Suppression.DifferencingProtection);
                attacker.Observe(Published(result.Page, from, to, groupBy));
            }
        }

        Assert.Empty(Leaks(attacker));
        AssertSexAndEthnicityUnknown(attacker, Sep1, Sep1.AddDays(29));
        AssertSexAndEthnicityUnknown(attacker, Sep1, Sep1.AddDays(28));
    }

    [Fact]
    public async Task Report_ExactCountsTerms_OnlyTheCalendarMonthAnswered_AndItGivesNothingAway()
    {
        var attacker = new DifferencingAttacker();
        foreach (var (from, to) in Periods)
        {
            foreach (var groupBy in Groupings)
            {
                var result = await AskAsync("exact-org", from, to, groupBy);
                if ((from, to) != (Sep1, Sep1.AddDays(29)))
                {
                    Assert.Equal(ReportStatus.Forbidden, result.Status);
                    continue;
                }

                Assert.Equal(ReportStatus.Ok, result.Status);
                Assert.Equal("None", result.Page!.Metadata.Suppression.DifferencingProtection);
                attacker.Observe(Published(result.Page, from, to, groupBy));
            }
        }

        Assert.Equal(Groupings.Length, attacker.Reports);
        Assert.Empty(Leaks(attacker));
        AssertSexAndEthnicityUnknown(attacker, Sep1, Sep1.AddDays(29));
    }
}

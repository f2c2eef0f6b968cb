using ChildShare.Core.Agreements;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>
/// The combination attack over many communities (<see cref="AttackCommunity"/>), with the real
/// suppressor and protection (<see cref="MiniReport"/>): what the earlier publication gave away,
/// and that the current one gives nothing to the same attacker.
/// </summary>
public sealed class DifferencingAttackTests
{
    private const string TargetCell = "ageBand=10-14|race=" + AttackCommunity.TargetRace;

    private static readonly DateOnly Sep1 = AttackCommunity.September1;

    private static List<string> Leaks(DifferencingAttacker attacker) =>
        attacker.Recovered().Where(p => p.Value > 0 || p.Key.Contains(AttackCommunity.TargetRace, StringComparison.Ordinal)).Select(p => $"{p.Key} = {p.Value}").ToList();

    [Theory]
    [InlineData(31)]
    [InlineData(34)]
    [InlineData(59)]
    public void Attack_ExactLabelledCountsOfTwoOverlappingPeriods_RecoverTheChild(int seed)
    {
        // As the reports were published before: exact counts, hidden cells labelled primary or complementary.
        var community = AttackCommunity.Generate(seed);
        var attacker = new DifferencingAttacker();
        var alone = new DifferencingAttacker();
        foreach (var to in new[] { Sep1.AddDays(28), Sep1.AddDays(29) })
        {
            attacker.Observe(MiniReport.Publish(community, Sep1, to, ["race", "ageBand"], 11, DifferencingProtection.None, labels: true));
        }

        alone.Observe(MiniReport.Publish(community, Sep1, Sep1.AddDays(29), ["race", "ageBand"], 11, DifferencingProtection.None, labels: true));

        var recovered = attacker.Recovered();
        Assert.Empty(alone.Recovered());
        Assert.Equal(1, recovered[DifferencingAttacker.Name(Sep1, Sep1.AddDays(28), TargetCell)]);
        Assert.Equal(1, recovered[DifferencingAttacker.Name(Sep1, Sep1.AddDays(29), TargetCell)]);
    }

    [Fact]
    public void Attack_OneMonthWithPrimaryAndComplementaryLabels_RecoversSmallCells()
    {
        // The labels alone give bounds that pin cells: "complementary" means at least the minimum.
        var leaking = Enumerable.Range(0, 40).Count(seed =>
        {
            var community = AttackCommunity.Generate(seed);
            var attacker = new DifferencingAttacker();
            foreach (var groupBy in new[] { new[] { "race", "ageBand" }, ["race", "sex"], ["race", "ethnicity"], ["race"] })
            {
                attacker.Observe(MiniReport.Publish(community, Sep1, Sep1.AddDays(29), groupBy, 11, DifferencingProtection.None, labels: true));
            }

            return Leaks(attacker).Count > 0;
        });

        Assert.True(leaking >= 5, $"{leaking} of 40 communities");
    }

    [Fact]
    public void Attack_OneCalendarMonthExactCountsEveryGrouping_NothingRecoveredInAnyCommunity()
    {
        foreach (var seed in Enumerable.Range(0, 100))
        {
            var community = AttackCommunity.Generate(seed);
            var attacker = new DifferencingAttacker();
            foreach (var groupBy in new[] { new[] { "race", "ageBand" }, ["race", "sex"], ["race", "ethnicity"], ["race"], ["ageBand"], ["sex"], ["ethnicity"], ["ageBand", "sex"] })
            {
                attacker.Observe(MiniReport.Publish(community, Sep1, Sep1.AddDays(29), groupBy, 11, DifferencingProtection.None));
            }

            Assert.True(Leaks(attacker).Count == 0, $"seed {seed}: {string.Join("; ", Leaks(attacker))}");
        }
    }

    [Fact]
    public void Attack_DefaultProtectionOverlappingPeriodsEveryGrouping_NothingRecoveredInAnyCommunity()
    {
        (int From, int To)[] periods = [(0, 28), (0, 29), (1, 29), (0, 14), (15, 29)];
        foreach (var seed in Enumerable.Range(0, 12))
        {
            var community = AttackCommunity.Generate(seed);
            var attacker = new DifferencingAttacker();
            foreach (var (from, to) in periods)
            {
                foreach (var groupBy in new[] { new[] { "race", "ageBand" }, ["race", "sex"], ["race"], ["sex"] })
                {
                    attacker.Observe(MiniReport.Publish(community, Sep1.AddDays(from), Sep1.AddDays(to), groupBy, 11, DataSharingAgreement.DefaultProtection));
                }
            }

            Assert.True(Leaks(attacker).Count == 0, $"seed {seed}: {string.Join("; ", Leaks(attacker))}");
        }
    }
}

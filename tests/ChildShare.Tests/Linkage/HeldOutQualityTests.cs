using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Tests.Linkage.Evaluation;
using Xunit.Abstractions;

namespace ChildShare.Tests.Linkage;

/// <summary>
/// Linkage quality through ingestion's normalizer and the in-memory engine with the production model, on data nothing was chosen
/// on: generated rosters of the reporting seeds (<see cref="RosterSeeds"/>) and FEBRL dataset1. Prints the figures and fails below
/// the floors. The goals (pairwise precision 0.995, recall 0.98, the unique-child count within 1% of the truth over every
/// input record, at most 1% of twin pairs joined and none of different sex) are NOT all reached: the floors sit just under what is
/// measured (LINKAGE.md, "Results"), so a change that makes linkage worse fails here. A child whose rows were all rejected counts
/// as missed. FEBRL dataset2 shaped the earlier rule list, so it is a TUNED-ON set: it is printed as such, with floors of its own.
/// The ablation and the other measures are printed by the benchmark (<c>LinkageBenchmarks quality reporting</c>).
/// </summary>
public sealed class HeldOutQualityTests(ITestOutputHelper output)
{
    private static readonly Pseudonymizer Pseudonymizer = new(Febrl.TestKey());

    // set, household resolver, min precision, min recall, max |count error|, max share of twin pairs joined, max different-sex twin
    // pairs joined. Floors just under, ceilings just over, what the default (issue 16's twin guards, XOR-folded filters) measured on
    // seed 20261201: resolver off: two 1.0000 / 0.9243 / +7.56% / 0 of 50; six 0.9996 / 0.9084 / +9.55% / 0 of 20; twins 0.9898 /
    // 0.9230 / +6.00% / 14 of 250; twins-identical 0.9958 / 0.9572 / +3.40% / 6 of 250. Resolver on: two 1.0000 / 0.9381 / +6.18% / 0;
    // six 0.9996 / 0.9305 / +7.40% / 0; twins 0.9900 / 0.9386 / +4.85% / 14; twins-identical 0.9958 / 0.9676 / +2.70% / 6. (Unfolded,
    // before folding was switched on: twins-identical 0.9965 precision and 5 twin pairs, the twins' count +4.70% with the resolver;
    // the rest within 0.003.) Resolver-on floors lowered on 6 Dec 2026, deliberately: the pass runs per chunk of 2,000, undoes a join a
    // later rival challenges, and no longer tolerates a replaced first name between the clusters it joins (adversary 33, which showed
    // twin brothers joined through a record without a first name); measured then: two 1.0000 / 0.9379 / +6.20% / 0; six 0.9996 /
    // 0.9147 / +8.50% / 0; twins 0.9899 / 0.9298 / +5.20% / 14; twins-identical 0.9958 / 0.9602 / +3.10% / 6. No twins of different sex were joined on any set: every row allows none, so a change that joins one fails here.
    public static TheoryData<string, bool, double, double, double, double, int> Sets => new()
    {
        { "two", false, 0.999, 0.92, 0.077, 0.02, 0 },
        { "six", false, 0.999, 0.90, 0.099, 0.05, 0 },
        { "twins", false, 0.989, 0.92, 0.060, 0.06, 0 },
        { "twins-identical", false, 0.995, 0.95, 0.037, 0.024, 0 },
        { "two", true, 0.999, 0.935, 0.064, 0.02, 0 },
        { "six", true, 0.999, 0.91, 0.087, 0.05, 0 },
        { "twins", true, 0.989, 0.925, 0.054, 0.06, 0 },
        { "twins-identical", true, 0.995, 0.955, 0.033, 0.024, 0 },
    };

    private static RosterSpec SpecOf(string set) => set switch
    {
        "two" => RosterSpec.TwoProviders(RosterSeeds.Reporting[0]),
        "six" => RosterSpec.SixProviders(RosterSeeds.Reporting[0]),
        "twins" => RosterSpec.Twins(RosterSeeds.Reporting[0]),
        _ => RosterSpec.Twins(RosterSeeds.Reporting[0], identicalRecords: true),
    };

    [Theory]
    [MemberData(nameof(Sets))]
    public void GeneratedRosters_Linked_MeetTheirFloors(
        string set, bool householdResolver, double minPrecision, double minRecall, double maxCountError, double maxTwinsJoined, int maxDifferentSexTwinsJoined)
    {
        var roster = HeldOutRosters.Generate(SpecOf(set));

        var quality = RosterEvaluation.Measure(roster.Spec.Name + (householdResolver ? " (household resolver)" : ""), roster, RosterEvaluation.Normalize(roster),
            LinkModelOptions.Default with { HouseholdResolver = householdResolver }, Pseudonymizer);
        output.WriteLine(quality.Line());

        AssertGoals(quality, minPrecision, minRecall, maxCountError);
        Assert.True(quality.TwinsJoinedShare <= maxTwinsJoined, $"{quality.TwinsJoined} of {quality.TwinPairs} twin pairs joined");
        Assert.True(quality.DifferentSexTwinsJoined <= maxDifferentSexTwinsJoined, $"{quality.DifferentSexTwinsJoined} twin pairs of different sex joined");
    }

    [Fact]
    public void TuningTwins102_Linked_JoinNoTwinsOfDifferentSex()
    {
        // A tuning set (choices are made on it): before the one-sided sex guard (4 Dec 2026) one twin pair of different sex was joined
        // here, a record sent without its sex and a near-identical first name (LINKAGE.md, "A sex on one side only").
        var roster = HeldOutRosters.Generate(RosterSpec.Twins(RosterSeeds.Tuning[1]));

        var quality = RosterEvaluation.Measure(roster.Spec.Name, roster, RosterEvaluation.Normalize(roster), LinkModelOptions.Default, Pseudonymizer);
        output.WriteLine(quality.Line());

        Assert.Equal(0, quality.DifferentSexTwinsJoined);
    }

    // Measured with issue 16's twin guards and XOR-folded filters: dataset1 (held out) 1.0000 / 0.8580 / +14.20% over every record
    // (0.8720 / +12.80% with the household resolver); dataset2 (TUNED-ON) 1.0000 / 0.9385 / +1.30% (0.9421 / +1.18% with it). Unfolded:
    // dataset1 0.8660 / +13.40% (0.8800 / +12.00%), dataset2 0.9369 / +1.33% (0.9405 / +1.20%).
    [Theory]
    [InlineData("dataset1.csv", false, 0.995, 0.855, 0.145)]
    [InlineData("dataset2.csv", false, 0.995, 0.93, 0.014)]
    [InlineData("dataset1.csv", true, 0.995, 0.87, 0.13)]
    [InlineData("dataset2.csv", true, 0.995, 0.94, 0.013)]
    public void Febrl_Linked_MeetsItsFloors(string file, bool householdResolver, double minPrecision, double minRecall, double maxCountError)
    {
        var roster = Febrl.Load(file);

        var quality = RosterEvaluation.Measure(roster.Spec.Name + (file == "dataset2.csv" ? " (TUNED-ON)" : " (held out)") + (householdResolver ? " (household resolver)" : ""),
            roster, RosterEvaluation.Normalize(roster), LinkModelOptions.Default with { HouseholdResolver = householdResolver }, Pseudonymizer);
        output.WriteLine(quality.Line());

        AssertGoals(quality, minPrecision, minRecall, maxCountError);
    }

    private static void AssertGoals(RosterQuality quality, double minPrecision, double minRecall, double maxCountError)
    {
        Assert.True(quality.Precision >= minPrecision, $"precision {quality.Precision:F4} below {minPrecision}");
        Assert.True(quality.Recall >= minRecall, $"recall {quality.Recall:F4} below {minRecall}");
        Assert.True(Math.Abs(quality.CountError) <= maxCountError, $"count error {quality.CountError:P2} beyond {maxCountError:P0}");
    }
}

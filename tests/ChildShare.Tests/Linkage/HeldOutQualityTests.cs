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
    // pairs joined. The default model (resolver off) keeps its floors. Measured with the resolver (seed 20261201): two 1.0000 /
    // 0.9640 / +3.60% / 0 of 50; six 0.9980 / 0.9406 / +6.10% / 3 of 20; twins 0.9793 / 0.9457 / +2.70% / 29 of 250 (1 of
    // different sex); twins-identical 0.9861 / 0.9771 / +0.65% / 27 of 250 (0). It joins twins of one sex seen at different
    // providers only (LINKAGE.md), which is why it is off by default; different-sex joins did not rise.
    public static TheoryData<string, bool, double, double, double, double, int> Sets => new()
    {
        { "two", false, 0.998, 0.92, 0.08, 0.02, 0 },
        { "six", false, 0.995, 0.90, 0.10, 0.15, 0 },
        { "twins", false, 0.98, 0.91, 0.06, 0.09, 1 },
        { "twins-identical", false, 0.99, 0.95, 0.035, 0.045, 0 },
        { "two", true, 0.998, 0.96, 0.037, 0.02, 0 },
        { "six", true, 0.997, 0.94, 0.062, 0.16, 0 },
        { "twins", true, 0.979, 0.945, 0.028, 0.12, 1 },
        { "twins-identical", true, 0.986, 0.977, 0.007, 0.11, 0 },
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

    // Measured: dataset1 (held out) 1.0000 / 0.8780 / +12.20% over every record (0.8920 / +10.80% with the household resolver);
    // dataset2 (TUNED-ON) 1.0000 / 0.9380 / +1.28% (0.9416 / +1.15% with it).
    [Theory]
    [InlineData("dataset1.csv", false, 0.995, 0.87, 0.13)]
    [InlineData("dataset2.csv", false, 0.995, 0.93, 0.015)]
    [InlineData("dataset1.csv", true, 0.995, 0.89, 0.109)]
    [InlineData("dataset2.csv", true, 0.995, 0.94, 0.012)]
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

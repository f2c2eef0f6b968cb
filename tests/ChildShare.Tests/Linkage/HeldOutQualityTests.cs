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

    // set, min precision, min recall, max |count error|, max share of twin pairs joined, max different-sex twin pairs joined.
    // Measured with the household resolver (seed 20261201): two 1.0000 / 0.9640 / +3.60% / 0 of 50; six 0.9980 / 0.9406 / +6.10% /
    // 3 of 20; twins 0.9793 / 0.9457 / +2.70% / 29 of 250 (1 of different sex); twins-identical 0.9861 / 0.9771 / +0.65% / 27 of 250
    // (0). The twins' ceilings rose with the resolver (it joins twins of one sex seen at different providers only: LINKAGE.md);
    // different-sex joins did not, and twins-identical still fails on any.
    public static TheoryData<string, double, double, double, double, int> Sets => new()
    {
        { "two", 0.998, 0.96, 0.037, 0.02, 0 },
        { "six", 0.997, 0.94, 0.062, 0.16, 0 },
        { "twins", 0.979, 0.945, 0.028, 0.12, 1 },
        { "twins-identical", 0.986, 0.977, 0.007, 0.11, 0 },
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
    public void GeneratedRosters_LinkedWithTheDefaultModel_MeetTheirFloors(
        string set, double minPrecision, double minRecall, double maxCountError, double maxTwinsJoined, int maxDifferentSexTwinsJoined)
    {
        var roster = HeldOutRosters.Generate(SpecOf(set));

        var quality = RosterEvaluation.Measure(roster.Spec.Name, roster, RosterEvaluation.Normalize(roster), LinkModelOptions.Default, Pseudonymizer);
        output.WriteLine(quality.Line());

        AssertGoals(quality, minPrecision, minRecall, maxCountError);
        Assert.True(quality.TwinsJoinedShare <= maxTwinsJoined, $"{quality.TwinsJoined} of {quality.TwinPairs} twin pairs joined");
        Assert.True(quality.DifferentSexTwinsJoined <= maxDifferentSexTwinsJoined, $"{quality.DifferentSexTwinsJoined} twin pairs of different sex joined");
    }

    // Measured with the household resolver: dataset1 (held out) 1.0000 / 0.8920 / +10.80% over every record (0.8780 / +12.20%
    // without); dataset2 (TUNED-ON) 1.0000 / 0.9416 / +1.15% (0.9380 / +1.28% without).
    [Theory]
    [InlineData("dataset1.csv", 0.995, 0.89, 0.109)]
    [InlineData("dataset2.csv", 0.995, 0.94, 0.012)]
    public void Febrl_LinkedWithTheDefaultModel_MeetsItsFloors(string file, double minPrecision, double minRecall, double maxCountError)
    {
        var roster = Febrl.Load(file);

        var quality = RosterEvaluation.Measure(roster.Spec.Name + (file == "dataset2.csv" ? " (TUNED-ON)" : " (held out)"), roster,
            RosterEvaluation.Normalize(roster), LinkModelOptions.Default, Pseudonymizer);
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

using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Tests.Linkage.Evaluation;
using Xunit.Abstractions;

namespace ChildShare.Tests.Linkage;

/// <summary>
/// Linkage quality through ingestion's normalizer and the in-memory engine with the production model, on data nothing was chosen
/// on: generated rosters of the reporting seeds (<see cref="RosterSeeds"/>) and FEBRL dataset1. Prints the figures and fails below
/// the goals: pairwise precision 0.995, recall 0.98, the unique-child count within 1% of the truth over every input record
/// (a child whose rows were all rejected is missed), at most 1% of twin pairs joined and none of different sex. FEBRL dataset2
/// shaped the earlier rule list, so it is a tuned-on set: it is measured and printed as such, with floors of its own.
/// The ablation and the other measures are printed by the benchmark (<c>LinkageBenchmarks quality</c>).
/// </summary>
public sealed class HeldOutQualityTests(ITestOutputHelper output)
{
    private static readonly Pseudonymizer Pseudonymizer = new(Febrl.TestKey());

    public static TheoryData<string> Sets => new() { "two", "six", "twins", "twins-identical" };

    private static RosterSpec SpecOf(string set) => set switch
    {
        "two" => RosterSpec.TwoProviders(RosterSeeds.Reporting[0]),
        "six" => RosterSpec.SixProviders(RosterSeeds.Reporting[0]),
        "twins" => RosterSpec.Twins(RosterSeeds.Reporting[0]),
        _ => RosterSpec.Twins(RosterSeeds.Reporting[0], identicalRecords: true),
    };

    [Theory]
    [MemberData(nameof(Sets))]
    public void GeneratedRosters_LinkedWithTheDefaultModel_MeetTheGoals(string set)
    {
        var roster = HeldOutRosters.Generate(SpecOf(set));

        var quality = RosterEvaluation.Measure(roster.Spec.Name, roster, RosterEvaluation.Normalize(roster), LinkModelOptions.Default, Pseudonymizer);
        output.WriteLine(quality.Line());

        AssertGoals(quality, minPrecision: 0.995, minRecall: 0.98, maxCountError: 0.01);
        Assert.True(quality.TwinsJoinedShare <= 0.01, $"{quality.TwinsJoined} of {quality.TwinPairs} twin pairs joined");
        Assert.Equal(0, quality.DifferentSexTwinsJoined);
    }

    // dataset1 is held out; every one of its duplicates is heavily corrupted (a third replace the whole given name, which for
    // children is what a twin looks like), so its floors sit under the goals, just under what is measured (LINKAGE.md).
    // dataset2 is TUNED-ON (the earlier rules were designed against its missed pairs): its figures are not a held-out measure.
    [Theory]
    [InlineData("dataset1.csv", 0.995, 0.90, 0.08)]
    [InlineData("dataset2.csv", 0.995, 0.95, 0.02)]
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

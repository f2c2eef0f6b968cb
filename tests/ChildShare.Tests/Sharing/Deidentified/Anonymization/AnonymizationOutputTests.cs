using ChildShare.Core.Agreements;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Core.Sharing.Deidentified.Anonymization;

using static ChildShare.Tests.Sharing.Deidentified.Anonymization.AnonymizationTestData;

namespace ChildShare.Tests.Sharing.Deidentified.Anonymization;

public sealed class AnonymizationOutputTests
{
    private static readonly IReadOnlyList<string> AgeAndSex = [QuasiIdentifierNames.Age, QuasiIdentifierNames.Sex];

    private static AnonymizationResult Output(IReadOnlyList<ResolvedChild> children, int k, Candidate? chosen, double maxSuppression = 0.5)
    {
        var settings = Settings(AgeAndSex, k, maxSuppression);
        var encoding = HierarchyEncoding.Encode(children, settings, null);
        var requirement = AnonymityRequirement.Of(settings, children.Count, hasSensitive: false);
        return AnonymizationOutput.Build(encoding, requirement, new SearchResult(chosen is null ? [] : [chosen], 8, 3, BottomSuppressed: children.Count), chosen, null);
    }

    [Fact]
    public void Build_ChosenNode_ValuesAtItsLevels_SmallClassesSuppressed()
    {
        ResolvedChild[] children = [Child(6), Child(7), Child(12), Child(8, "Male")];

        var result = Output(children, k: 2, new Candidate(2, [1, 0], 0.25, 1));

        Assert.Equal(["5-9", "Female"], result.Values[0]!);
        Assert.Equal(["5-9", "Female"], result.Values[1]!);
        Assert.Null(result.Values[2]);
        Assert.Null(result.Values[3]);
        var s = result.Summary;
        Assert.True(s.KAchievable);
        Assert.Equal((2, 2, 1, 2.0), (s.RecordsSuppressed, s.KAchieved, s.EquivalenceClasses, s.AverageClassSize));
        Assert.Equal(1, s.Levels[QuasiIdentifierNames.Age]);
        Assert.Equal(0.25, s.InformationLoss);
        Assert.Equal(1, s.SuppressionOnlyInformationLoss);
        Assert.Equal(QuasiIdentifiers.LevelName(QuasiIdentifierNames.Age, 1), s.LevelDescriptions[QuasiIdentifierNames.Age]);
    }

    [Fact]
    public void Build_NoNode_NothingReleased_TopLevels()
    {
        ResolvedChild[] children = [Child(6), Child(7)];

        var result = Output(children, k: 5, chosen: null);

        Assert.All(result.Values, Assert.Null);
        var s = result.Summary;
        Assert.False(s.KAchievable);
        Assert.Equal((2, 2, 0, 1.0), (s.Records, s.RecordsSuppressed, s.KAchieved, s.InformationLoss));
        Assert.Equal(3, s.Levels[QuasiIdentifierNames.Age]);
        Assert.Equal(1, s.Levels[QuasiIdentifierNames.Sex]);
    }
}

using ChildShare.Core.Agreements;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Core.Sharing.Deidentified.Anonymization;

using static ChildShare.Tests.Sharing.Deidentified.Anonymization.AnonymizationTestData;

namespace ChildShare.Tests.Sharing.Deidentified.Anonymization;

public sealed class LatticeSearchTests
{
    private static readonly IReadOnlyList<string> AgeAndSex = [QuasiIdentifierNames.Age, QuasiIdentifierNames.Sex];

    // Ages 6 and 7 (band 5-9), 12 (10-14); girls and boys.
    private static readonly ResolvedChild[] Children = [Child(6), Child(7), Child(6, "Male"), Child(7, "Male"), Child(12), Child(12, "Male")];

    private static (HierarchyEncoding Encoding, AnonymityRequirement Requirement) Prepare(IReadOnlyList<ResolvedChild> children, int k, double maxSuppression = 0)
    {
        var settings = Settings(AgeAndSex, k, maxSuppression);
        return (HierarchyEncoding.Encode(children, settings, null), AnonymityRequirement.Of(settings, children.Count, hasSensitive: false));
    }

    [Fact]
    public void Run_AllDistinct_CandidatesAreTheMinimalKAnonymousNodes()
    {
        var (encoding, requirement) = Prepare(Children, k: 2);

        var search = LatticeSearch.Run(encoding, requirement);

        // age in years with sex: 6 classes of 1. Sex suppressed: 6, 7, 12 have 2 each. Bands with sex: 5-9 has 2 per sex, 10-14 one per sex.
        // Bands without sex (1,1) is above (0,1): not minimal. Age level 2 (5-17) with sex: 3 per sex.
        Assert.Equal([(0, 1), (2, 0)], search.Candidates.Select(c => (c.Levels[0], c.Levels[1])));
        Assert.Equal(8, search.LatticeSize);
        Assert.Equal(Children.Length, search.BottomSuppressed);
    }

    [Fact]
    public void Run_NodeAboveAnAnonymousNode_NotEvaluated()
    {
        var (encoding, requirement) = Prepare(Children, k: 2);

        var search = LatticeSearch.Run(encoding, requirement);

        // Evaluated: (0,0) (1,0) non-anonymous, (0,1) (2,0) minimal. Tagged: (1,1) (2,1) (3,0) (3,1).
        Assert.Equal(4, search.NodesEvaluated);
    }

    [Fact]
    public void Run_SuppressionWithinTheLimit_BottomIsAnonymous()
    {
        ResolvedChild[] children = [.. Enumerable.Repeat(Child(6), 19), Child(12)];
        var (encoding, requirement) = Prepare(children, k: 2, maxSuppression: 0.05);

        var search = LatticeSearch.Run(encoding, requirement);

        var only = Assert.Single(search.Candidates);
        Assert.Equal([0, 0], only.Levels);
        Assert.Equal(1, search.NodesEvaluated);
        Assert.Equal(1, search.BottomSuppressed);
        Assert.Equal(1 / 20.0, only.Loss, 12); // one child of twenty suppressed, nothing generalized
    }

    [Fact]
    public void Run_FewerThanK_NoCandidate_EveryNodeEvaluated()
    {
        var (encoding, requirement) = Prepare(Children, k: 7);

        var search = LatticeSearch.Run(encoding, requirement);

        Assert.Empty(search.Candidates);
        Assert.Equal(search.LatticeSize, search.NodesEvaluated);
    }

    [Fact]
    public void Evaluate_SmallClassesSuppressed_LossCountsThemAsOne()
    {
        var (encoding, requirement) = Prepare(Children, k: 2);
        var bottom = EquivalenceClasses.OfBottom(encoding, 1);
        var bands = bottom.RollUp(encoding, 0, [1, 0]);

        var (suppressed, loss) = NodeEvaluation.Evaluate(encoding, bands, [1, 0], requirement);

        Assert.Equal(4, bands.Count); // 5-9 girls, 5-9 boys, 10-14 girl, 10-14 boy
        Assert.Equal(2, suppressed);
        // 4 released children lose 1/2 on age (5-9 covers 6 and 7 of 3 leaves) and 0 on sex; 2 suppressed lose 1 on both.
        Assert.Equal(((4 * 0.5) + (2 * 2)) / (6 * 2.0), loss, 12);
    }

    [Fact]
    public void RollUp_MergesClassesInOrderOfFirstAppearance_AndAddsSizes()
    {
        var (encoding, _) = Prepare(Children, k: 2);
        var bottom = EquivalenceClasses.OfBottom(encoding, 1);

        var noSex = bottom.RollUp(encoding, 1, [0, 1]);

        Assert.Equal(6, bottom.Count);
        Assert.Equal(3, noSex.Count);
        Assert.Equal(["6", "7", "12"], Enumerable.Range(0, 3).Select(c => encoding.Display(0, 0, noSex.Code(c, 0))));
        Assert.All(Enumerable.Range(0, 3), c => Assert.Equal(2, noSex.Size(c)));
    }

    [Fact]
    public void RollUp_LDiversity_KeepsUpToLDistinctValues()
    {
        var settings = Settings([QuasiIdentifierNames.Sex], k: 1, l: 2);
        var encoding = HierarchyEncoding.Encode([Child(6), Child(6), Child(6, "Male")], settings, ["Health", "Health", "Academic"]);
        var bottom = EquivalenceClasses.OfBottom(encoding, 2);

        var merged = bottom.RollUp(encoding, 0, [1]);

        Assert.Equal([1, 1], Enumerable.Range(0, 2).Select(bottom.Distinct));
        Assert.Equal(2, merged.Distinct(0));
    }
}

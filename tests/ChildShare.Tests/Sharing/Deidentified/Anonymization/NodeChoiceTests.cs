using ChildShare.Core.Sharing.Deidentified.Anonymization;

namespace ChildShare.Tests.Sharing.Deidentified.Anonymization;

public sealed class NodeChoiceTests
{
    [Fact]
    public void Choose_LeastLossWins()
    {
        var chosen = NodeChoice.Choose([new Candidate(5, [1, 1], 0.4, 2), new Candidate(9, [3, 0], 0.2, 3)]);

        Assert.Equal(9, chosen?.Node);
    }

    [Fact]
    public void Choose_EqualLoss_LowerNodeThenLatticeOrder()
    {
        var chosen = NodeChoice.Choose([new Candidate(7, [2, 1], 0.3, 3), new Candidate(6, [0, 2], 0.3, 2), new Candidate(4, [1, 1], 0.3, 2)]);

        Assert.Equal(4, chosen?.Node);
    }

    [Fact]
    public void Choose_NoCandidate_Null()
    {
        Assert.Null(NodeChoice.Choose([]));
    }
}

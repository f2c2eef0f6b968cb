using ChildShare.Core.Sharing.Deidentified.Anonymization;

namespace ChildShare.Tests.Sharing.Deidentified.Anonymization;

public sealed class GeneralizationLatticeTests
{
    private static readonly GeneralizationLattice Lattice = new([4, 2, 3]);

    [Fact]
    public void Lattice_SizeAndHeight_FromTheLevels()
    {
        Assert.Equal(24, Lattice.Size);
        Assert.Equal(3 + 1 + 2, Lattice.MaxHeight);
        Assert.Equal(Lattice.Size, Enumerable.Range(0, Lattice.MaxHeight + 1).Sum(h => Lattice.NodesOfHeight(h).Count));
    }

    [Fact]
    public void Node_AndLevels_AreInverse()
    {
        for (var node = 0; node < Lattice.Size; node++)
        {
            Assert.Equal(node, Lattice.Node(Lattice.Levels(node)));
        }

        Assert.Equal([0, 0, 0], Lattice.Levels(0));
        Assert.Equal([3, 1, 2], Lattice.Levels(Lattice.Size - 1));
    }

    [Fact]
    public void NodesOfHeight_AreThoseWhoseLevelsSumToIt_InNodeOrder()
    {
        var nodes = Lattice.NodesOfHeight(2);

        Assert.All(nodes, n => Assert.Equal(2, Lattice.Levels(n).Sum()));
        Assert.Equal(nodes.Order(), nodes);
        Assert.Equal(5, nodes.Count); // (2,0,0) (1,1,0) (1,0,1) (0,1,1) (0,0,2)
    }

    [Fact]
    public void Predecessors_OneLevelLowerInOneAttribute_InAttributeOrder()
    {
        var node = Lattice.Node([2, 0, 1]);

        Assert.Equal([(Lattice.Node([1, 0, 1]), 0), (Lattice.Node([2, 0, 0]), 2)], Lattice.Predecessors(node));
        Assert.Empty(Lattice.Predecessors(0));
    }
}

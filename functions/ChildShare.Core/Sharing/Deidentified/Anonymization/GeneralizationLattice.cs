namespace ChildShare.Core.Sharing.Deidentified.Anonymization;

/// <summary>
/// The generalization lattice: a node is one level per attribute, numbered in mixed radix (the
/// first attribute most significant); its height is the sum of its levels. Node 0 is the data as
/// resolved, the last node suppresses every attribute.
/// </summary>
internal sealed class GeneralizationLattice
{
    private readonly int[] _heights;
    private readonly List<int>[] _byHeight;

    public GeneralizationLattice(int[] heights)
    {
        ArgumentNullException.ThrowIfNull(heights);
        _heights = heights;
        Size = heights.Aggregate(1, (x, h) => x * h);
        MaxHeight = heights.Sum(h => h - 1);
        _byHeight = Enumerable.Range(0, MaxHeight + 1).Select(_ => new List<int>()).ToArray();
        for (var node = 0; node < Size; node++)
        {
            _byHeight[Levels(node).Sum()].Add(node);
        }
    }

    public int Size { get; }

    public int MaxHeight { get; }

    /// <summary>The nodes of a height, in increasing node number.</summary>
    public IReadOnlyList<int> NodesOfHeight(int height) => _byHeight[height];

    public int[] Levels(int node)
    {
        var levels = new int[_heights.Length];
        for (var i = _heights.Length - 1; i >= 0; i--)
        {
            levels[i] = node % _heights[i];
            node /= _heights[i];
        }

        return levels;
    }

    public int Node(int[] levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        var node = 0;
        for (var i = 0; i < levels.Length; i++)
        {
            node = (node * _heights[i]) + levels[i];
        }

        return node;
    }

    /// <summary>The nodes one level lower in exactly one attribute, with that attribute, in attribute order.</summary>
    public IEnumerable<(int Node, int Attribute)> Predecessors(int node)
    {
        var levels = Levels(node);
        for (var i = 0; i < levels.Length; i++)
        {
            if (levels[i] > 0)
            {
                levels[i]--;
                yield return (Node(levels), i);
                levels[i]++;
            }
        }
    }
}

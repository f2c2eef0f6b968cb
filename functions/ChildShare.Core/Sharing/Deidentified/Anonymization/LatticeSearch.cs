namespace ChildShare.Core.Sharing.Deidentified.Anonymization;

/// <summary>A minimal k-anonymous node: its number, levels, information loss and height.</summary>
internal sealed record Candidate(int Node, int[] Levels, double Loss, int Height);

/// <summary>What the search found: the minimal k-anonymous nodes (in the order evaluated), the nodes evaluated, and the children the bottom node would suppress.</summary>
internal sealed record SearchResult(IReadOnlyList<Candidate> Candidates, int LatticeSize, int NodesEvaluated, int BottomSuppressed);

/// <summary>
/// The lattice search: bottom-up by height, ARX-style. A node with a k-anonymous predecessor is
/// tagged k-anonymous without evaluation (monotonicity: generalizing merges classes, so suppression
/// can only fall), so only the non-anonymous nodes and the minimal k-anonymous nodes are evaluated.
/// Each evaluated node's classes are rolled up from those of the predecessor with fewest classes;
/// only the bottom node reads the children. Classes are kept for the non-anonymous nodes of the
/// previous height only (the only ones a node of this height can roll up from).
/// </summary>
internal static class LatticeSearch
{
    private enum NodeState : byte
    {
        Unknown,
        Anonymous,
        NotAnonymous,
    }

    public static SearchResult Run(HierarchyEncoding encoding, AnonymityRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        ArgumentNullException.ThrowIfNull(requirement);
        var lattice = new GeneralizationLattice(encoding.Heights);
        var candidates = new List<Candidate>();
        var stored = new Dictionary<int, EquivalenceClasses>();
        var state = new NodeState[lattice.Size];
        var evaluated = 0;
        var bottomSuppressed = 0;
        for (var height = 0; height <= lattice.MaxHeight; height++)
        {
            var next = new Dictionary<int, EquivalenceClasses>();
            foreach (var node in lattice.NodesOfHeight(height))
            {
                var predecessors = lattice.Predecessors(node).ToList();
                if (predecessors.Any(p => state[p.Node] == NodeState.Anonymous))
                {
                    state[node] = NodeState.Anonymous;
                    continue;
                }

                var levels = lattice.Levels(node);
                EquivalenceClasses classes;
                if (height == 0)
                {
                    classes = EquivalenceClasses.OfBottom(encoding, requirement.L);
                }
                else
                {
                    var (from, attribute) = predecessors.MinBy(p => stored[p.Node].Count);
                    classes = stored[from].RollUp(encoding, attribute, levels);
                }

                evaluated++;
                var (suppressed, loss) = NodeEvaluation.Evaluate(encoding, classes, levels, requirement);
                if (height == 0)
                {
                    bottomSuppressed = suppressed;
                }

                if (requirement.Accepts(suppressed))
                {
                    state[node] = NodeState.Anonymous;
                    candidates.Add(new Candidate(node, levels, loss, height));
                }
                else
                {
                    state[node] = NodeState.NotAnonymous;
                    next[node] = classes;
                }
            }

            stored = next;
        }

        return new SearchResult(candidates, lattice.Size, evaluated, bottomSuppressed);
    }
}

/// <summary>One node's verdict: the children it suppresses and its information loss.</summary>
internal static class NodeEvaluation
{
    /// <summary>
    /// Children in classes the requirement does not release, and the loss metric: each released
    /// child's loss per attribute, a suppressed child counting 1 per attribute, averaged.
    /// </summary>
    public static (int Suppressed, double Loss) Evaluate(HierarchyEncoding encoding, EquivalenceClasses classes, int[] levels, AnonymityRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(levels);
        ArgumentNullException.ThrowIfNull(requirement);
        var a = levels.Length;
        var n = requirement.Records;
        var suppressed = 0;
        double total = 0;
        for (var c = 0; c < classes.Count; c++)
        {
            var count = classes.Size(c);
            if (!requirement.Releases(count, classes.Distinct(c)))
            {
                suppressed += count;
                total += count * (double)a;
                continue;
            }

            for (var i = 0; i < a; i++)
            {
                total += count * encoding.Loss(i, levels[i], classes.Code(c, i));
            }
        }

        return (suppressed, n * a == 0 ? 0 : total / (n * (double)a));
    }
}

namespace ChildShare.Core.Sharing.Deidentified.Anonymization;

/// <summary>
/// The choice among the minimal k-anonymous nodes: the least information loss wins; ties go to
/// the lower node, then to the first in lattice order. Deterministic.
/// </summary>
internal static class NodeChoice
{
    /// <returns>The chosen node, or null when no node is k-anonymous (nothing can be released).</returns>
    public static Candidate? Choose(IReadOnlyList<Candidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        return candidates.OrderBy(c => c.Loss).ThenBy(c => c.Height).ThenBy(c => c.Node).FirstOrDefault();
    }
}

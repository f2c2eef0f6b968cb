using ChildShare.Core.Sharing.Deidentified.Anonymization;

namespace ChildShare.Core.Sharing.Deidentified;

/// <summary>What the engine is asked: which quasi-identifiers, which k, how much suppression.</summary>
public sealed record AnonymizationSettings(
    IReadOnlyList<string> QuasiIdentifiers, int K, double MaxSuppression, DateOnly PeriodStart, IReadOnlyDictionary<string, string>? SchoolDistricts = null,
    int L = 1, string? SensitiveAttribute = null);

/// <summary>What was done to make an export k-anonymous; exported with it and audited.</summary>
public sealed record AnonymizationSummary(
    int K,
    bool KAchievable,
    int KAchieved,
    int L,
    int LAchieved,
    string? SensitiveAttribute,
    IReadOnlyDictionary<string, int> Levels,
    IReadOnlyDictionary<string, string> LevelDescriptions,
    int Records,
    int RecordsSuppressed,
    int SuppressionLimit,
    int EquivalenceClasses,
    double InformationLoss,
    double SuppressionOnlyInformationLoss,
    double AverageClassSize,
    int LatticeSize,
    int NodesEvaluated,
    string Metric)
{
    public const string LossMetric =
        "Iyengar's loss metric (LM): for each exported child and quasi-identifier, (leaf values its generalized value covers - 1) / (leaf values of the attribute - 1), "
        + "a suppressed child counting 1; averaged over children and quasi-identifiers. 0 is the data as resolved (no generalization), 1 is nothing released. "
        + "SuppressionOnlyInformationLoss is the same measure for no generalization at all, reaching k by suppression alone (ignoring the suppression limit).";
}

/// <summary>The export's quasi-identifier values per child (null: the child is suppressed) and the summary.</summary>
public sealed record AnonymizationResult(IReadOnlyList<string[]?> Values, AnonymizationSummary Summary);

/// <summary>
/// Full-domain generalization to k-anonymity with record suppression: an ARX-style bottom-up
/// search over the lattice of generalization levels (one level per quasi-identifier). A node is
/// k-anonymous when the children in equivalence classes smaller than k are at most the suppression
/// limit; those children are then suppressed. Among the minimal k-anonymous nodes the one with the
/// least information loss (<see cref="AnonymizationSummary.LossMetric"/>) wins; ties go to the lower
/// node, then the first in lattice order. Deterministic. The steps, each in its own class under
/// <c>Anonymization/</c>: <see cref="HierarchyEncoding"/> (values to integer codes per level),
/// <see cref="LatticeSearch"/> (which nodes are k-anonymous, rolling classes up from the node below),
/// <see cref="NodeChoice"/> (the least lossy minimal node) and <see cref="AnonymizationOutput"/>
/// (rows and summary).
/// </summary>
public static class KAnonymizer
{
    /// <param name="children">The children, demographics resolved.</param>
    /// <param name="settings">Quasi-identifiers, k, suppression limit, l.</param>
    /// <param name="sensitive">Each child's value of the sensitive attribute, when <see cref="AnonymizationSettings.L"/> is above 1:
    /// a class is then released only with at least l distinct values (distinct l-diversity), otherwise suppressed like a small one.</param>
    public static AnonymizationResult Anonymize(IReadOnlyList<ResolvedChild> children, AnonymizationSettings settings, IReadOnlyList<string>? sensitive = null)
    {
        ArgumentNullException.ThrowIfNull(children);
        ArgumentNullException.ThrowIfNull(settings);
        var requirement = AnonymityRequirement.Of(settings, children.Count, hasSensitive: sensitive is not null);
        var encoding = HierarchyEncoding.Encode(children, settings, requirement.L > 1 ? sensitive : null);
        var search = LatticeSearch.Run(encoding, requirement);
        var chosen = NodeChoice.Choose(search.Candidates);
        return AnonymizationOutput.Build(encoding, requirement, search, chosen, settings.SensitiveAttribute);
    }
}

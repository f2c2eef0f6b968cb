namespace ChildShare.Core.Sharing.Deidentified.Anonymization;

/// <summary>
/// The output: every child's values at the chosen node (null when its class is suppressed) and
/// the summary. The chosen node's classes are counted again from the children (one pass), since
/// the search keeps no classes of k-anonymous nodes, and with every distinct sensitive value (the
/// search keeps only l of them), for the l achieved.
/// </summary>
internal static class AnonymizationOutput
{
    public static AnonymizationResult Build(HierarchyEncoding encoding, AnonymityRequirement requirement, SearchResult search, Candidate? chosen, string? sensitiveAttribute)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        ArgumentNullException.ThrowIfNull(requirement);
        ArgumentNullException.ThrowIfNull(search);
        return chosen is null ? NothingReleased(encoding, requirement, search, sensitiveAttribute) : Released(encoding, requirement, search, chosen, sensitiveAttribute);
    }

    /// <summary>Fewer than k children, or none, or no class l-diverse: nothing can be released; every attribute at its top level.</summary>
    private static AnonymizationResult NothingReleased(HierarchyEncoding encoding, AnonymityRequirement requirement, SearchResult search, string? sensitiveAttribute)
    {
        var attributes = encoding.Attributes;
        var n = encoding.Records;
        var levels = attributes.Select((x, i) => (x, i)).ToDictionary(p => p.x, p => encoding.Heights[p.i] - 1, StringComparer.Ordinal);
        var names = levels.ToDictionary(p => p.Key, p => QuasiIdentifiers.LevelName(p.Key, p.Value), StringComparer.Ordinal);
        return new AnonymizationResult(new string[]?[n], new AnonymizationSummary(requirement.K, false, 0, requirement.L, 0, sensitiveAttribute, levels,
            names, n, n, requirement.SuppressionLimit, 0, n == 0 ? 0 : 1, n == 0 ? 0 : 1, 0, search.LatticeSize, search.NodesEvaluated, AnonymizationSummary.LossMetric));
    }

    private static AnonymizationResult Released(HierarchyEncoding encoding, AnonymityRequirement requirement, SearchResult search, Candidate chosen, string? sensitiveAttribute)
    {
        var attributes = encoding.Attributes;
        var a = attributes.Count;
        var n = encoding.Records;
        var levels = chosen.Levels;
        var perRecordClass = new int[n];
        var classes = EquivalenceClasses.OfRecords(encoding, levels, 1, perRecordClass);
        var sizes = Enumerable.Range(0, classes.Count).Select(classes.Size).ToArray();
        var valuesOf = Enumerable.Range(0, classes.Count).Select(_ => new HashSet<int>()).ToArray();
        if (requirement.L > 1)
        {
            for (var r = 0; r < n; r++)
            {
                valuesOf[perRecordClass[r]].Add(encoding.Sensitive[r]);
            }
        }

        bool Released(int c) => requirement.Releases(sizes[c], requirement.L > 1 ? valuesOf[c].Count : int.MaxValue);
        var rows = new string[]?[n];
        var suppressed = 0;
        for (var r = 0; r < n; r++)
        {
            if (!Released(perRecordClass[r]))
            {
                suppressed++;
                continue;
            }

            var row = new string[a];
            for (var i = 0; i < a; i++)
            {
                row[i] = encoding.Display(i, levels[i], encoding.Code(i, levels[i], r));
            }

            rows[r] = row;
        }

        var kept = Enumerable.Range(0, sizes.Length).Where(Released).ToList();
        var keptSizes = kept.Select(c => sizes[c]).ToList();
        var lAchieved = requirement.L <= 1 ? 1 : kept.Count == 0 ? 0 : kept.Min(c => valuesOf[c].Count);
        var suppressionOnly = n == 0 ? 0 : search.BottomSuppressed / (double)n;
        return new AnonymizationResult(rows, new AnonymizationSummary(
            requirement.K, true, keptSizes.Count == 0 ? 0 : keptSizes.Min(), requirement.L, lAchieved, sensitiveAttribute,
            attributes.Select((x, i) => (x, i)).ToDictionary(p => p.x, p => levels[p.i], StringComparer.Ordinal),
            attributes.Select((x, i) => (x, i)).ToDictionary(p => p.x, p => QuasiIdentifiers.LevelName(p.x, levels[p.i]), StringComparer.Ordinal),
            n, suppressed, requirement.SuppressionLimit, keptSizes.Count, Math.Round(chosen.Loss, 6), Math.Round(suppressionOnly, 6),
            keptSizes.Count == 0 ? 0 : Math.Round(keptSizes.Average(), 3), search.LatticeSize, search.NodesEvaluated, AnonymizationSummary.LossMetric));
    }
}

using System.Globalization;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;

namespace ChildShare.Tests.Linkage.Evaluation;

/// <summary>One roster row after ingestion's normalizer: accepted with its linkage input, or rejected (its child is then missed).</summary>
public sealed record EvaluatedRow(RosterRow Row, LinkInput? Input, bool IncompleteIdentity)
{
    public string Key => Row.ProviderId + "|" + Row.LocalId;
}

/// <summary>
/// The figures of one linkage of a roster set: pairwise precision and recall over the accepted records,
/// the unique-child count against the truth of EVERY input record (a child whose rows were all rejected
/// is missed), the rows rejected and accepted incomplete, and the twin pairs joined.
/// </summary>
public sealed record RosterQuality(
    string Label, int Rows, int Rejected, int Incomplete, int TrueChildren, int FoundChildren, long TruePairs, long FoundPairs, long CorrectPairs,
    int TwinPairs, int TwinsJoined, int DifferentSexTwins, int DifferentSexTwinsJoined, int NearTwins, int NearTwinsJoined, double Seconds)
{
    public double Precision => FoundPairs == 0 ? 1 : (double)CorrectPairs / FoundPairs;

    public double Recall => TruePairs == 0 ? 1 : (double)CorrectPairs / TruePairs;

    public double CountError => (double)(FoundChildren - TrueChildren) / TrueChildren;

    public double TwinsJoinedShare => TwinPairs == 0 ? 0 : (double)TwinsJoined / TwinPairs;

    public string Line() => string.Create(CultureInfo.InvariantCulture,
        $"{Label,-46} P={Precision:F4} R={Recall:F4} children={FoundChildren}/{TrueChildren} ({CountError:+0.00%;-0.00%}) rejected={Rejected}/{Rows} ({(double)Rejected / Rows:P1}) incomplete={Incomplete} twins joined={TwinsJoined}/{TwinPairs} (diff. sex {DifferentSexTwinsJoined}/{DifferentSexTwins}, near names {NearTwinsJoined}/{NearTwins}) {Seconds:F1}s");

    public string TableRow() => string.Create(CultureInfo.InvariantCulture,
        $"| {Label} | {Precision:F4} | {Recall:F4} | {FoundChildren:N0} / {TrueChildren:N0} | {CountError:+0.00%;-0.00%} | {(double)Rejected / Rows:P1} | {TwinsJoined} / {TwinPairs} ({DifferentSexTwinsJoined} diff. sex) |");
}

/// <summary>Runs roster sets through ingestion's normalizer and a linkage, and measures them against their truth.</summary>
public static class RosterEvaluation
{
    public static readonly DateOnly Today = new(2026, 10, 15);

    /// <summary>The production linker's chunk (IncrementalLinker.ChunkSize): provider children linked before each resolver pass.</summary>
    public const int ProductionChunkSize = 2000;

    private static readonly MappingProfile Profile = MappingProfile.Parse(HeldOutRosters.ProfileJson);

    /// <summary>Normalizes every row as ingestion would (the production required-field rules decide what is rejected).</summary>
    public static IReadOnlyList<EvaluatedRow> Normalize(RosterSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var normalizer = new RowNormalizer(Profile, new IngestionOptions(), Today);
        var result = new List<EvaluatedRow>(set.Rows.Count);
        var line = 1;
        foreach (var row in set.Rows)
        {
            var cells = new Dictionary<CanonicalField, string>
            {
                [CanonicalField.LocalChildId] = row.LocalId, [CanonicalField.StateStudentId] = row.StateId, [CanonicalField.FirstName] = row.First,
                [CanonicalField.LastName] = row.Last, [CanonicalField.BirthDate] = row.BirthDate, [CanonicalField.Sex] = row.Sex,
                [CanonicalField.Zip] = row.Zip, [CanonicalField.StreetAddress] = row.Address,
            };
            var normalized = normalizer.Normalize(++line, f => cells.TryGetValue(f, out var v) && v.Trim().Length > 0 ? v.Trim() : null);
            result.Add(normalized.Record is { } record
                ? new EvaluatedRow(row, LinkInputs.From(record.Identity, record.Demographics), record.Identity.IsIncomplete)
                : new EvaluatedRow(row, null, false));
        }

        return result;
    }


    /// <summary>Links the accepted rows provider by provider (one upload each) in the in-memory engine and measures.</summary>
    public static RosterQuality Measure(
        string label, RosterSet set, IReadOnlyList<EvaluatedRow> rows, LinkModelOptions options, Pseudonymizer pseudonymizer,
        BloomHardening hardening = LinkEncoder.DefaultHardening) =>
        Measure(label, set, rows, options, Encode(rows, new LinkEncoder(pseudonymizer, hardening)), pseudonymizer);

    /// <summary>The encodings of the accepted rows (null for a rejected row), to link them several times (ablation).</summary>
    public static IReadOnlyList<LinkEncoding?> Encode(IReadOnlyList<EvaluatedRow> rows, LinkEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(encoder);
        return rows.Select(r => r.Input is null ? null : encoder.Encode(r.Input)).ToList();
    }

    public static RosterQuality Measure(
        string label, RosterSet set, IReadOnlyList<EvaluatedRow> rows, LinkModelOptions options, IReadOnlyList<LinkEncoding?> encodings, Pseudonymizer pseudonymizer)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(encodings);
        ArgumentNullException.ThrowIfNull(pseudonymizer);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var engine = new LinkageEngine(options);
        var chunk = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rows.Count; i++)
        {
            if (encodings[i] is { } encoding)
            {
                engine.Add(rows[i].Key, rows[i].Row.ProviderId, pseudonymizer.Token("child-cluster-v1", rows[i].Key), encoding);
                chunk.Add(rows[i].Key);
            }

            // One upload per provider, linked in chunks of provider children as the production linker links them: the second pass
            // runs at the end of each chunk. (Production loads a chunk's neighbourhood from storage; this engine holds every record.)
            var next = i + 1 < rows.Count ? rows[i + 1] : null;
            if (next is null || next.Row.ProviderId != rows[i].Row.ProviderId
                || (chunk.Count == ProductionChunkSize && !chunk.Contains(next.Key)))
            {
                engine.ResolveHouseholds();
                chunk.Clear();
            }
        }

        var clusters = rows.Select(r => r.Input is null ? null : engine.ClusterKeyOf(r.Key)).ToArray();
        return Score(label, set, rows, clusters, stopwatch.Elapsed.TotalSeconds);
    }

    /// <summary>The figures of a linkage given each row's cluster key (null for a rejected row).</summary>
    public static RosterQuality Score(string label, RosterSet set, IReadOnlyList<EvaluatedRow> rows, IReadOnlyList<string?> clusters, double seconds)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(clusters);
        static long Pairs(IEnumerable<int> sizes) => sizes.Sum(n => (long)n * (n - 1) / 2);
        var accepted = rows.Select((r, i) => (r.Row.Child, Cluster: clusters[i])).Where(x => x.Cluster is not null).ToList();
        var truePairs = Pairs(accepted.GroupBy(x => x.Child).Select(g => g.Count()));
        var foundPairs = Pairs(accepted.GroupBy(x => x.Cluster, StringComparer.Ordinal).Select(g => g.Count()));
        var correct = Pairs(accepted.GroupBy(x => (x.Child, x.Cluster)).Select(g => g.Count()));
        var clustersOf = accepted.GroupBy(x => x.Child).ToDictionary(g => g.Key, g => g.Select(x => x.Cluster!).ToHashSet(StringComparer.Ordinal));
        bool Joined(TwinPair t) => clustersOf.TryGetValue(t.A, out var a) && clustersOf.TryGetValue(t.B, out var b) && a.Overlaps(b);
        return new RosterQuality(label, rows.Count, rows.Count(r => r.Input is null), rows.Count(r => r.IncompleteIdentity),
            rows.Select(r => r.Row.Child).Distinct().Count(), accepted.Select(x => x.Cluster).Distinct(StringComparer.Ordinal).Count(),
            truePairs, foundPairs, correct,
            set.Twins.Count, set.Twins.Count(Joined), set.Twins.Count(t => t.DifferentSex), set.Twins.Count(t => t.DifferentSex && Joined(t)),
            set.Twins.Count(t => t.NearIdenticalNames), set.Twins.Count(t => t.NearIdenticalNames && Joined(t)), seconds);
    }
}

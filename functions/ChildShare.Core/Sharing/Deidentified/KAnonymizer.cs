using ChildShare.Core.Activity;

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
/// limit; those children are then suppressed. Equivalence classes of a node are rolled up from
/// those of a node one level below (never from the records again), and a node above a k-anonymous
/// node is tagged k-anonymous without evaluation (monotonicity), so only the non-anonymous nodes
/// and the minimal k-anonymous nodes are evaluated. Among the minimal k-anonymous nodes the one
/// with the least information loss (<see cref="AnonymizationSummary.LossMetric"/>) wins; ties go
/// to the lower node, then the first in lattice order. Deterministic.
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
        var diversity = sensitive is null ? 1 : Math.Max(1, settings.L);
        var sensitiveCodes = new int[children.Count];
        if (diversity > 1)
        {
            var sensitiveIndex = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var r = 0; r < children.Count; r++)
            {
                sensitiveCodes[r] = sensitiveIndex.TryGetValue(sensitive![r], out var code) ? code : sensitiveIndex[sensitive[r]] = sensitiveIndex.Count;
            }
        }

        var attributes = settings.QuasiIdentifiers;
        var a = attributes.Count;
        var n = children.Count;
        var k = Math.Max(1, settings.K);
        var limit = (int)Math.Floor(Math.Clamp(settings.MaxSuppression, 0, 1) * n);
        var heights = attributes.Select(QuasiIdentifiers.Levels).ToArray();

        // Codes of every child at every level, the display value of every code, and the step maps.
        // Only level 0 is computed per child; a higher level is a function of level 0 (the hierarchies
        // are functional), so it is computed once per distinct level-0 value from a representative child.
        var codes = new int[a][][];
        var display = new List<string>[a][];
        var step = new int[a][][];
        for (var i = 0; i < a; i++)
        {
            codes[i] = new int[heights[i]][];
            display[i] = new List<string>[heights[i]];
            step[i] = new int[heights[i]][];
            var index0 = new Dictionary<string, int>(StringComparer.Ordinal);
            var codes0 = new int[n];
            var values0 = new List<string>();
            var representative = new List<int>();
            for (var r = 0; r < n; r++)
            {
                var key = QuasiIdentifiers.Key(attributes[i], 0, children[r], settings.PeriodStart, settings.SchoolDistricts);
                if (!index0.TryGetValue(key, out var code))
                {
                    code = index0.Count;
                    index0[key] = code;
                    values0.Add(QuasiIdentifiers.Display(key));
                    representative.Add(r);
                }

                codes0[r] = code;
            }

            codes[i][0] = codes0;
            display[i][0] = values0;
            var fromLeaf = Enumerable.Range(0, values0.Count).ToArray();
            for (var l = 1; l < heights[i]; l++)
            {
                var index = new Dictionary<string, int>(StringComparer.Ordinal);
                var values = new List<string>();
                var leafToLevel = new int[values0.Count];
                var map = new int[display[i][l - 1].Count];
                for (var leaf = 0; leaf < values0.Count; leaf++)
                {
                    var key = QuasiIdentifiers.Key(attributes[i], l, children[representative[leaf]], settings.PeriodStart, settings.SchoolDistricts);
                    if (!index.TryGetValue(key, out var code))
                    {
                        code = index.Count;
                        index[key] = code;
                        values.Add(QuasiIdentifiers.Display(key));
                    }

                    leafToLevel[leaf] = code;
                    map[fromLeaf[leaf]] = code;
                }

                var levelCodes = new int[n];
                for (var r = 0; r < n; r++)
                {
                    levelCodes[r] = leafToLevel[codes0[r]];
                }

                codes[i][l] = levelCodes;
                display[i][l] = values;
                step[i][l] = map;
                fromLeaf = leafToLevel;
            }
        }

        // Loss of each code: leaf values covered, normalized.
        var loss = new double[a][][];
        for (var i = 0; i < a; i++)
        {
            loss[i] = new double[heights[i]][];
            var leaves = display[i][0].Count;
            for (var l = 0; l < heights[i]; l++)
            {
                var cover = new int[display[i][l].Count];
                for (var leaf = 0; leaf < leaves; leaf++)
                {
                    var c = leaf;
                    for (var up = 1; up <= l; up++)
                    {
                        c = step[i][up][c];
                    }

                    cover[c]++;
                }

                loss[i][l] = cover.Select(x => leaves > 1 ? (x - 1) / (double)(leaves - 1) : l == heights[i] - 1 ? 1.0 : 0.0).ToArray();
            }
        }

        var lattice = new Lattice(heights);
        var evaluatedAnonymous = new List<(int Node, double Loss, int Height)>();
        var stored = new Dictionary<int, Classes>();
        var state = new NodeState[lattice.Size];
        var evaluated = 0;
        Classes? bottomClasses = null;
        foreach (var height in Enumerable.Range(0, lattice.MaxHeight + 1))
        {
            var next = new Dictionary<int, Classes>();
            foreach (var node in lattice.NodesOfHeight(height))
            {
                var levels = lattice.Levels(node);
                var predecessors = lattice.Predecessors(node).ToList();
                if (predecessors.Any(p => state[p] == NodeState.Anonymous))
                {
                    state[node] = NodeState.Anonymous;
                    continue;
                }

                Classes classes;
                if (height == 0)
                {
                    classes = Classes.FromRecords(codes, n, diversity, sensitiveCodes);
                    bottomClasses = classes;
                }
                else
                {
                    var (from, attribute) = predecessors.Select(p => (p, lattice.ChangedAttribute(p, node))).MinBy(p => stored[p.p].Count);
                    classes = stored[from].RollUp(attribute, step[attribute][levels[attribute]], levels, display);
                }

                evaluated++;
                var suppressed = 0;
                double total = 0;
                for (var c = 0; c < classes.Count; c++)
                {
                    var count = classes.Counts[c];
                    if (count < k || classes.Distinct(c) < diversity)
                    {
                        suppressed += count;
                        total += count * (double)a;
                        continue;
                    }

                    for (var i = 0; i < a; i++)
                    {
                        total += count * loss[i][levels[i]][classes.Codes[(c * a) + i]];
                    }
                }

                if (suppressed <= limit && suppressed < n)
                {
                    state[node] = NodeState.Anonymous;
                    evaluatedAnonymous.Add((node, n * a == 0 ? 0 : total / (n * (double)a), height));
                }
                else
                {
                    state[node] = NodeState.NotAnonymous;
                    next[node] = classes;
                }
            }

            stored = next;
        }

        var levelNames = new Dictionary<string, string>(StringComparer.Ordinal);
        if (evaluatedAnonymous.Count == 0)
        {
            // Fewer than k children, or none: nothing can be released.
            var top = attributes.ToDictionary(x => x, QuasiIdentifiers.Levels, StringComparer.Ordinal);
            foreach (var attr in attributes)
            {
                levelNames[attr] = QuasiIdentifiers.LevelName(attr, top[attr] - 1);
            }

            return new AnonymizationResult(new string[]?[n], new AnonymizationSummary(k, false, 0, diversity, 0, settings.SensitiveAttribute, top.ToDictionary(p => p.Key, p => p.Value - 1, StringComparer.Ordinal),
                levelNames, n, n, limit, 0, n == 0 ? 0 : 1, n == 0 ? 0 : 1, 0, lattice.Size, evaluated, AnonymizationSummary.LossMetric));
        }

        var best = evaluatedAnonymous.OrderBy(e => e.Loss).ThenBy(e => e.Height).ThenBy(e => e.Node).First();
        var chosen = lattice.Levels(best.Node);
        var rows = new string[]?[n];
        var classOf = new TupleIndex(chosen.Select((l, i) => (long)display[i][l].Count).ToArray(), 1024);
        var sizes = new List<int>();
        var valuesOf = new List<HashSet<int>>();
        var tuple = new int[a];
        var perRecordClass = new int[n];
        for (var r = 0; r < n; r++)
        {
            for (var i = 0; i < a; i++)
            {
                tuple[i] = codes[i][chosen[i]][r];
            }

            if (!classOf.TryGet(tuple, out var c))
            {
                c = sizes.Count;
                classOf.Add(tuple, c);
                sizes.Add(0);
                valuesOf.Add([]);
            }

            perRecordClass[r] = c;
            sizes[c]++;
            if (diversity > 1)
            {
                valuesOf[c].Add(sensitiveCodes[r]);
            }
        }

        var suppressedRecords = 0;
        for (var r = 0; r < n; r++)
        {
            if (sizes[perRecordClass[r]] < k || (diversity > 1 && valuesOf[perRecordClass[r]].Count < diversity))
            {
                suppressedRecords++;
                continue;
            }

            var row = new string[a];
            for (var i = 0; i < a; i++)
            {
                row[i] = display[i][chosen[i]][codes[i][chosen[i]][r]];
            }

            rows[r] = row;
        }

        var keptKeys = Enumerable.Range(0, sizes.Count).Where(c => sizes[c] >= k && (diversity <= 1 || valuesOf[c].Count >= diversity)).ToList();
        var kept = keptKeys.Select(x => sizes[x]).ToList();
        var lAchieved = diversity <= 1 ? 1 : keptKeys.Count == 0 ? 0 : keptKeys.Min(x => valuesOf[x].Count);
        foreach (var (attr, i) in attributes.Select((x, i) => (x, i)))
        {
            levelNames[attr] = QuasiIdentifiers.LevelName(attr, chosen[i]);
        }

        var suppressionOnly = bottomClasses is null || n == 0 ? 0
            : Enumerable.Range(0, bottomClasses.Count).Where(c => bottomClasses.Counts[c] < k || bottomClasses.Distinct(c) < diversity).Sum(c => bottomClasses.Counts[c]) / (double)n;
        return new AnonymizationResult(rows, new AnonymizationSummary(
            k, true, kept.Count == 0 ? 0 : kept.Min(), diversity, lAchieved, settings.SensitiveAttribute,
            attributes.Select((x, i) => (x, i)).ToDictionary(p => p.x, p => chosen[p.i], StringComparer.Ordinal),
            levelNames, n, suppressedRecords, limit, kept.Count, Math.Round(best.Loss, 6), Math.Round(suppressionOnly, 6),
            kept.Count == 0 ? 0 : Math.Round(kept.Average(), 3), lattice.Size, evaluated, AnonymizationSummary.LossMetric));
    }

    private enum NodeState : byte
    {
        Unknown,
        Anonymous,
        NotAnonymous,
    }

    /// <summary>
    /// Equivalence classes of a node: the codes of each class (flattened), its size and, under
    /// l-diversity, up to l distinct sensitive values (enough to decide; more are not kept).
    /// </summary>
    private sealed class Classes(int attributes, int diversity)
    {
        private readonly List<int> _codes = [];
        private readonly List<int> _counts = [];
        private readonly List<int> _sensitive = [];
        private readonly List<int> _distinct = [];

        public int Count => _counts.Count;

        public List<int> Codes => _codes;

        public List<int> Counts => _counts;

        public int Distinct(int c) => diversity <= 1 ? int.MaxValue : _distinct[c];

        public static Classes FromRecords(int[][][] codes, int n, int diversity, int[] sensitive)
        {
            var a = codes.Length;
            var classes = new Classes(a, diversity);
            var radix = codes.Select((c, i) => (long)(c[0].Length == 0 ? 1 : c[0].Max() + 1)).ToArray();
            var index = new TupleIndex(radix, 1024);
            var tuple = new int[a];
            var one = new int[1];
            for (var r = 0; r < n; r++)
            {
                for (var i = 0; i < a; i++)
                {
                    tuple[i] = codes[i][0][r];
                }

                one[0] = sensitive[r];
                classes.Add(index, tuple, 1, one);
            }

            return classes;
        }

        public Classes RollUp(int attribute, int[] map, int[] levels, List<string>[][] display)
        {
            var result = new Classes(attributes, diversity);
            var radix = levels.Select((l, i) => (long)display[i][l].Count).ToArray();
            var index = new TupleIndex(radix, Math.Min(Count, 1 << 20));
            var tuple = new int[attributes];
            var values = new int[Math.Max(1, diversity)];
            for (var c = 0; c < Count; c++)
            {
                for (var i = 0; i < attributes; i++)
                {
                    tuple[i] = _codes[(c * attributes) + i];
                }

                tuple[attribute] = map[tuple[attribute]];
                var distinct = 0;
                if (diversity > 1)
                {
                    distinct = _distinct[c];
                    _sensitive.CopyTo(c * diversity, values, 0, distinct);
                }

                result.Add(index, tuple, _counts[c], values.AsSpan(0, distinct));
            }

            return result;
        }

        private void Add(TupleIndex index, int[] tuple, int count, ReadOnlySpan<int> sensitive)
        {
            if (!index.TryGet(tuple, out var c))
            {
                c = _counts.Count;
                index.Add(tuple, c);
                _codes.AddRange(tuple);
                _counts.Add(0);
                if (diversity > 1)
                {
                    for (var s = 0; s < diversity; s++)
                    {
                        _sensitive.Add(-1);
                    }

                    _distinct.Add(0);
                }
            }

            _counts[c] += count;
            if (diversity <= 1)
            {
                return;
            }

            foreach (var value in sensitive)
            {
                var distinct = _distinct[c];
                if (distinct >= diversity)
                {
                    break;
                }

                var seen = false;
                for (var s = 0; s < distinct; s++)
                {
                    seen |= _sensitive[(c * diversity) + s] == value;
                }

                if (!seen)
                {
                    _sensitive[(c * diversity) + distinct] = value;
                    _distinct[c] = distinct + 1;
                }
            }
        }
    }

    /// <summary>
    /// Tuples of codes to class numbers: packed into one long (mixed radix) when the product of the
    /// cardinalities fits, otherwise keyed by the tuple itself (very many distinct values).
    /// </summary>
    private sealed class TupleIndex
    {
        private readonly long[]? _radix;
        private readonly Dictionary<long, int>? _packed;
        private readonly Dictionary<int[], int>? _tuples;

        public TupleIndex(long[] radix, int capacity)
        {
            var product = radix.Aggregate(1.0, (x, r) => x * Math.Max(1, r));
            if (product < 4e18)
            {
                _radix = radix;
                _packed = new Dictionary<long, int>(capacity);
            }
            else
            {
                _tuples = new Dictionary<int[], int>(capacity, TupleComparer.Instance);
            }
        }

        public bool TryGet(int[] tuple, out int value) => _packed is not null ? _packed.TryGetValue(Pack(tuple), out value) : _tuples!.TryGetValue(tuple, out value);

        public void Add(int[] tuple, int value)
        {
            if (_packed is not null)
            {
                _packed[Pack(tuple)] = value;
            }
            else
            {
                _tuples![(int[])tuple.Clone()] = value;
            }
        }

        private long Pack(int[] tuple)
        {
            long key = 0;
            for (var i = 0; i < tuple.Length; i++)
            {
                key = (key * _radix![i]) + tuple[i];
            }

            return key;
        }

        private sealed class TupleComparer : IEqualityComparer<int[]>
        {
            public static readonly TupleComparer Instance = new();

            public bool Equals(int[]? x, int[]? y) => x is not null && y is not null && x.AsSpan().SequenceEqual(y);

            public int GetHashCode(int[] obj)
            {
                var hash = new HashCode();
                foreach (var v in obj)
                {
                    hash.Add(v);
                }

                return hash.ToHashCode();
            }
        }
    }

    /// <summary>The generalization lattice: one level per attribute, nodes numbered in mixed radix.</summary>
    private sealed class Lattice
    {
        private readonly int[] _heights;
        private readonly List<int>[] _byHeight;

        public Lattice(int[] heights)
        {
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

        public int Node(int[] levels) => levels.Select((l, i) => (l, i)).Aggregate(0, (x, p) => (x * _heights[p.i]) + p.l);

        public IEnumerable<int> Predecessors(int node)
        {
            var levels = Levels(node);
            for (var i = 0; i < levels.Length; i++)
            {
                if (levels[i] > 0)
                {
                    levels[i]--;
                    yield return Node(levels);
                    levels[i]++;
                }
            }
        }

        public int ChangedAttribute(int lower, int upper)
        {
            var a = Levels(lower);
            var b = Levels(upper);
            return Enumerable.Range(0, a.Length).First(i => a[i] != b[i]);
        }
    }

}

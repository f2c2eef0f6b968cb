namespace ChildShare.Core.Deidentification.Anonymization;

/// <summary>
/// The equivalence classes of one lattice node: the codes of each class (flattened, one per
/// attribute), its size and, under l-diversity, up to l distinct sensitive values (enough to
/// decide; more are not kept). Classes are numbered in order of first appearance.
/// </summary>
internal sealed class EquivalenceClasses
{
    private readonly int _attributes;
    private readonly int _diversity;
    private readonly List<int> _codes = [];
    private readonly List<int> _counts = [];
    private readonly List<int> _sensitive = [];
    private readonly List<int> _distinct = [];

    private EquivalenceClasses(int attributes, int diversity)
    {
        _attributes = attributes;
        _diversity = diversity;
    }

    public int Count => _counts.Count;

    /// <summary>The children in a class.</summary>
    public int Size(int c) => _counts[c];

    /// <summary>A class's code of an attribute.</summary>
    public int Code(int c, int attribute) => _codes[(c * _attributes) + attribute];

    /// <summary>Distinct sensitive values of a class, up to l (int.MaxValue when l-diversity is off).</summary>
    public int Distinct(int c) => _diversity <= 1 ? int.MaxValue : _distinct[c];

    /// <summary>The classes of the bottom node (every attribute at level 0), read from the children.</summary>
    public static EquivalenceClasses OfBottom(HierarchyEncoding encoding, int diversity)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        var a = encoding.Attributes.Count;
        var classes = new EquivalenceClasses(a, diversity);
        var radix = Enumerable.Range(0, a).Select(i => (long)Math.Max(1, encoding.Cardinality(i, 0))).ToArray();
        var index = new TupleIndex(radix, 1024);
        var tuple = new int[a];
        var one = new int[1];
        for (var r = 0; r < encoding.Records; r++)
        {
            for (var i = 0; i < a; i++)
            {
                tuple[i] = encoding.Code(i, 0, r);
            }

            one[0] = encoding.Sensitive[r];
            classes.Add(index, tuple, 1, one);
        }

        return classes;
    }

    /// <summary>
    /// The classes of the node one level higher in <paramref name="attribute"/>: each class's code of
    /// that attribute is mapped up one level and classes that become equal are merged (in order).
    /// <paramref name="levels"/> are the levels of the node rolled up to.
    /// </summary>
    public EquivalenceClasses RollUp(HierarchyEncoding encoding, int attribute, int[] levels)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        ArgumentNullException.ThrowIfNull(levels);
        var map = encoding.Step(attribute, levels[attribute]);
        var result = new EquivalenceClasses(_attributes, _diversity);
        var radix = levels.Select((l, i) => (long)encoding.Cardinality(i, l)).ToArray();
        var index = new TupleIndex(radix, Math.Min(Count, 1 << 20));
        var tuple = new int[_attributes];
        var values = new int[Math.Max(1, _diversity)];
        for (var c = 0; c < Count; c++)
        {
            for (var i = 0; i < _attributes; i++)
            {
                tuple[i] = _codes[(c * _attributes) + i];
            }

            tuple[attribute] = map[tuple[attribute]];
            var distinct = 0;
            if (_diversity > 1)
            {
                distinct = _distinct[c];
                _sensitive.CopyTo(c * _diversity, values, 0, distinct);
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
            if (_diversity > 1)
            {
                for (var s = 0; s < _diversity; s++)
                {
                    _sensitive.Add(-1);
                }

                _distinct.Add(0);
            }
        }

        _counts[c] += count;
        if (_diversity <= 1)
        {
            return;
        }

        foreach (var value in sensitive)
        {
            var distinct = _distinct[c];
            if (distinct >= _diversity)
            {
                break;
            }

            var seen = false;
            for (var s = 0; s < distinct; s++)
            {
                seen |= _sensitive[(c * _diversity) + s] == value;
            }

            if (!seen)
            {
                _sensitive[(c * _diversity) + distinct] = value;
                _distinct[c] = distinct + 1;
            }
        }
    }
}

/// <summary>
/// Tuples of codes to class numbers: packed into one long (mixed radix) when the product of the
/// cardinalities fits, otherwise keyed by the tuple itself (very many distinct values).
/// </summary>
internal sealed class TupleIndex
{
    private readonly long[]? _radix;
    private readonly Dictionary<long, int>? _packed;
    private readonly Dictionary<int[], int>? _tuples;

    public TupleIndex(long[] radix, int capacity)
    {
        ArgumentNullException.ThrowIfNull(radix);
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

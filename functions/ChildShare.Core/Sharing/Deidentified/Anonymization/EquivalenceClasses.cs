namespace ChildShare.Core.Sharing.Deidentified.Anonymization;

/// <summary>
/// The equivalence classes of one lattice node: the codes of each class (flattened, one per
/// attribute), its size and, under l-diversity, up to l distinct sensitive values (enough to
/// decide; more are not kept). Classes are numbered in order of first appearance, so every
/// figure computed over them (the loss, a floating-point sum) is the same whatever the hashing.
/// Grouping uses an open-addressing table of class numbers that compares the codes themselves:
/// no string, no packed key that could overflow, one array allocation per node.
/// </summary>
internal sealed class EquivalenceClasses
{
    private readonly int _attributes;
    private readonly int _diversity;
    private int[] _codes;
    private int[] _counts;
    private int[] _sensitive;
    private int[] _distinct;
    private int[] _slots;
    private int _mask;

    private EquivalenceClasses(int attributes, int diversity, int expected)
    {
        _attributes = attributes;
        _diversity = diversity;
        var capacity = Math.Max(4, expected);
        _codes = new int[capacity * attributes];
        _counts = new int[capacity];
        _sensitive = diversity > 1 ? new int[capacity * diversity] : [];
        _distinct = diversity > 1 ? new int[capacity] : [];
        _slots = new int[(int)Math.Min(1L << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity) * 2L)];
        _mask = _slots.Length - 1;
    }

    public int Count { get; private set; }

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
        return OfRecords(encoding, new int[encoding.Attributes.Count], diversity, null);
    }

    /// <summary>The classes of any node, read from the children; <paramref name="classOfRecord"/>, when given, receives each child's class.</summary>
    public static EquivalenceClasses OfRecords(HierarchyEncoding encoding, int[] levels, int diversity, int[]? classOfRecord)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        ArgumentNullException.ThrowIfNull(levels);
        var a = levels.Length;
        var classes = new EquivalenceClasses(a, diversity, Math.Min(encoding.Records, 1024));
        Span<int> tuple = stackalloc int[a];
        Span<int> one = stackalloc int[1];
        for (var r = 0; r < encoding.Records; r++)
        {
            for (var i = 0; i < a; i++)
            {
                tuple[i] = encoding.Code(i, levels[i], r);
            }

            one[0] = encoding.Sensitive[r];
            var c = classes.Add(tuple, 1, one);
            if (classOfRecord is not null)
            {
                classOfRecord[r] = c;
            }
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
        var result = new EquivalenceClasses(_attributes, _diversity, Count);
        Span<int> tuple = stackalloc int[_attributes];
        for (var c = 0; c < Count; c++)
        {
            _codes.AsSpan(c * _attributes, _attributes).CopyTo(tuple);
            tuple[attribute] = map[tuple[attribute]];
            result.Add(tuple, _counts[c], _diversity > 1 ? _sensitive.AsSpan(c * _diversity, _distinct[c]) : []);
        }

        return result;
    }

    private int Add(ReadOnlySpan<int> tuple, int count, ReadOnlySpan<int> sensitive)
    {
        var c = Find(tuple, out var slot);
        if (c < 0)
        {
            c = Count;
            if (c == _counts.Length)
            {
                Grow();
                Find(tuple, out slot);
            }

            _slots[slot] = c + 1;
            tuple.CopyTo(_codes.AsSpan(c * _attributes));
            if (_diversity > 1)
            {
                _sensitive.AsSpan(c * _diversity, _diversity).Fill(-1);
            }

            Count++;
        }

        _counts[c] += count;
        if (_diversity > 1)
        {
            AddSensitive(c, sensitive);
        }

        return c;
    }

    private void AddSensitive(int c, ReadOnlySpan<int> values)
    {
        var seen = _sensitive.AsSpan(c * _diversity, _diversity);
        foreach (var value in values)
        {
            var distinct = _distinct[c];
            if (distinct >= _diversity)
            {
                break;
            }

            if (!seen[..distinct].Contains(value))
            {
                seen[distinct] = value;
                _distinct[c] = distinct + 1;
            }
        }
    }

    /// <summary>The class with these codes (or -1) and the slot it is in (or would go to).</summary>
    private int Find(ReadOnlySpan<int> tuple, out int slot)
    {
        slot = (int)(Hash(tuple) & (uint)_mask);
        while (true)
        {
            var entry = _slots[slot];
            if (entry == 0)
            {
                return -1;
            }

            if (_codes.AsSpan((entry - 1) * _attributes, _attributes).SequenceEqual(tuple))
            {
                return entry - 1;
            }

            slot = (slot + 1) & _mask;
        }
    }

    private void Grow()
    {
        var capacity = _counts.Length * 2;
        Array.Resize(ref _codes, capacity * _attributes);
        Array.Resize(ref _counts, capacity);
        if (_diversity > 1)
        {
            Array.Resize(ref _sensitive, capacity * _diversity);
            Array.Resize(ref _distinct, capacity);
        }

        _slots = new int[System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity) * 2];
        _mask = _slots.Length - 1;
        for (var c = 0; c < Count; c++)
        {
            Find(_codes.AsSpan(c * _attributes, _attributes), out var slot);
            _slots[slot] = c + 1;
        }
    }

    private static uint Hash(ReadOnlySpan<int> tuple)
    {
        // FNV-1a over the codes, finished with a multiplicative mix: cheap, deterministic, spreads small codes.
        var hash = 2166136261u;
        foreach (var code in tuple)
        {
            hash = (hash ^ (uint)code) * 16777619u;
        }

        return (hash ^ (hash >> 15)) * 0x2C1B3C6Du;
    }
}

namespace ChildShare.Core.Linkage;

/// <summary>
/// What the bound of a candidate pair reads of one encoding variant (<see cref="MatchScorer.ScoreAtLeast"/>): its tokens as small
/// interned ids (0 where missing; equal ids for equal tokens, so every comparison is as exact as on the tokens), which name filters
/// it has, and where its address filter sits in <see cref="VariantTable"/>'s pool (<see cref="AddressBits"/> is -1 without one).
/// </summary>
internal readonly record struct VariantKeys(
    int StateId, int Dob, int DobSwapped, int YearMonth, int YearDay, int MonthDay, int Phonetic, int PhoneticSwapped, int Zip, int Sex,
    int Nickname, bool HasFirst, bool HasLast, int AddressOffset, int AddressLength, int AddressBits);

/// <summary>
/// The encoding variants of an engine, with their comparison inputs computed once (interned token ids, filter popcounts) and kept in
/// flat arrays: scoring a candidate pair reads a few contiguous bytes instead of following the node, its variant list, the encoding
/// and its token array, which is what the engine's time went to (memory reads, not arithmetic). Append-only: a variant dropped from
/// a node stays here (the engine keeps at most <see cref="LinkageEngine.MaxVariants"/> per node, so this grows with the variants
/// added, like the token index).
/// </summary>
internal sealed class VariantTable
{
    private readonly Dictionary<UInt128, int> _ids = [];
    private readonly List<VariantKeys> _keys = [];
    private readonly List<LinkEncoding> _encodings = [];
    private ulong[] _addresses = new ulong[1024];
    private int _addressEnd;

    /// <summary>Adds a variant; returns its slot.</summary>
    public int Add(LinkEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        var offset = -1;
        if (encoding.Address is { } address)
        {
            if (_addressEnd + address.Length > _addresses.Length)
            {
                Array.Resize(ref _addresses, Math.Max(_addresses.Length * 2, _addressEnd + address.Length));
            }

            address.CopyTo(_addresses, _addressEnd);
            offset = _addressEnd;
            _addressEnd += address.Length;
        }

        _keys.Add(KeysOf(encoding, offset));
        _encodings.Add(encoding);
        return _keys.Count - 1;
    }

    public LinkEncoding Encoding(int slot) => _encodings[slot];

    public VariantKeys Keys(int slot) => _keys[slot];

    public ReadOnlySpan<ulong> Address(in VariantKeys keys) => keys.AddressBits < 0 ? default : _addresses.AsSpan(keys.AddressOffset, keys.AddressLength);

    /// <summary>The keys of an encoding that is not (or not yet) in the table: its address is read from the encoding itself.</summary>
    public VariantKeys KeysOf(LinkEncoding encoding) => KeysOf(encoding, -1);

    private VariantKeys KeysOf(LinkEncoding encoding, int addressOffset) => new(
        Id(encoding, LinkTokenKind.StateId), Id(encoding, LinkTokenKind.Dob), Id(encoding, LinkTokenKind.DobDayMonthSwapped),
        Id(encoding, LinkTokenKind.DobYearMonth), Id(encoding, LinkTokenKind.DobYearDay), Id(encoding, LinkTokenKind.DobMonthDay),
        Id(encoding, LinkTokenKind.PhoneticNames), Id(encoding, LinkTokenKind.PhoneticNamesSwapped), Id(encoding, LinkTokenKind.Zip),
        Id(encoding, LinkTokenKind.Sex), Id(encoding, LinkTokenKind.NicknameLast), encoding.First is not null, encoding.Last is not null,
        addressOffset, encoding.Address?.Length ?? 0, encoding.Address is null ? -1 : encoding.AddressBits);

    private int Id(LinkEncoding encoding, LinkTokenKind kind)
    {
        if (!encoding.Has(kind))
        {
            return 0;
        }

        // One id space for every kind: the lookups compare across kinds (a transposed date with dates, exchanged names with names).
        var token = encoding[kind];
        if (!_ids.TryGetValue(token, out var id))
        {
            _ids[token] = id = _ids.Count + 1;
        }

        return id;
    }
}

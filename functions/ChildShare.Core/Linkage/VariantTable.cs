using System.Runtime.InteropServices;

namespace ChildShare.Core.Linkage;

/// <summary>
/// What scoring a candidate pair reads of one encoding variant (<see cref="MatchScorer.ScoreAtLeast"/>): its tokens as small interned
/// ids (0 where missing; equal ids for equal tokens, so every comparison is as exact as on the tokens), and the popcount and length
/// of each filter (bits -1 where the field is missing). The filters themselves lie one after the other (first, last, address) in a
/// span: <see cref="VariantTable"/>'s pool, or the encoding's own arrays for a record not in a table.
/// </summary>
/// <remarks>
/// The fields a candidate's side of the upper bound reads come first (48 bytes, most often one cache line): the bound reads them for
/// every candidate pair, the rest only for the pairs it does not skip.
/// </remarks>
internal readonly record struct VariantKeys(
    int Dob, int YearMonth, int YearDay, int MonthDay, int Zip, int StateId, int Sex, int Nickname, int Phonetic, int FirstBits, int LastBits,
    int AddressBits, int DobSwapped, int PhoneticSwapped, int FilterOffset, byte FirstWords, byte LastWords, byte AddressWords)
{
    public ReadOnlySpan<ulong> FirstOf(ReadOnlySpan<ulong> filters) => filters.Slice(0, FirstWords);

    public ReadOnlySpan<ulong> LastOf(ReadOnlySpan<ulong> filters) => filters.Slice(FirstWords, LastWords);

    public ReadOnlySpan<ulong> AddressOf(ReadOnlySpan<ulong> filters) => filters.Slice(FirstWords + LastWords, AddressWords);

    public int FilterWords => FirstWords + LastWords + AddressWords;
}

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
    private ulong[] _filters = new ulong[4096];
    private int _filterEnd;

    /// <summary>Adds a variant; returns its slot.</summary>
    public int Add(LinkEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        var keys = KeysOf(encoding) with { FilterOffset = _filterEnd };
        if (_filterEnd + keys.FilterWords > _filters.Length)
        {
            Array.Resize(ref _filters, Math.Max(_filters.Length * 2, _filterEnd + keys.FilterWords));
        }

        Filters(encoding, _filters.AsSpan(_filterEnd, keys.FilterWords));
        _filterEnd += keys.FilterWords;
        _keys.Add(keys);
        return _keys.Count - 1;
    }

    /// <summary>The keys of a slot, by reference (a candidate pair reads them without copying); valid until the next <see cref="Add"/>.</summary>
    public ref readonly VariantKeys Keys(int slot) => ref CollectionsMarshal.AsSpan(_keys)[slot];

    /// <summary>The filters of a variant in the table (first, last, address).</summary>
    public ReadOnlySpan<ulong> Filters(in VariantKeys keys) => _filters.AsSpan(keys.FilterOffset, keys.FilterWords);

    /// <summary>The keys of an encoding that is not (or not yet) in the table (its <see cref="VariantKeys.FilterOffset"/> means nothing).</summary>
    public VariantKeys KeysOf(LinkEncoding encoding) => new(
        Dob: Id(encoding, LinkTokenKind.Dob), YearMonth: Id(encoding, LinkTokenKind.DobYearMonth), YearDay: Id(encoding, LinkTokenKind.DobYearDay),
        MonthDay: Id(encoding, LinkTokenKind.DobMonthDay), Zip: Id(encoding, LinkTokenKind.Zip), StateId: Id(encoding, LinkTokenKind.StateId),
        Sex: Id(encoding, LinkTokenKind.Sex), Nickname: Id(encoding, LinkTokenKind.NicknameLast), Phonetic: Id(encoding, LinkTokenKind.PhoneticNames),
        FirstBits: encoding.First is null ? -1 : encoding.FirstBits, LastBits: encoding.Last is null ? -1 : encoding.LastBits,
        AddressBits: encoding.Address is null ? -1 : encoding.AddressBits, DobSwapped: Id(encoding, LinkTokenKind.DobDayMonthSwapped),
        PhoneticSwapped: Id(encoding, LinkTokenKind.PhoneticNamesSwapped), FilterOffset: -1,
        FirstWords: checked((byte)(encoding.First?.Length ?? 0)), LastWords: checked((byte)(encoding.Last?.Length ?? 0)),
        AddressWords: checked((byte)(encoding.Address?.Length ?? 0)));

    /// <summary>Copies an encoding's filters (first, last, address) one after the other into <paramref name="target"/>.</summary>
    public static void Filters(LinkEncoding encoding, Span<ulong> target)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        var at = 0;
        foreach (var filter in new[] { encoding.First, encoding.Last, encoding.Address })
        {
            filter?.CopyTo(target[at..]);
            at += filter?.Length ?? 0;
        }
    }

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

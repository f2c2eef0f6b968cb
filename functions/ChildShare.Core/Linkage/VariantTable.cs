using System.Runtime.CompilerServices;

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
/// <remarks>
/// Equal filter words are stored once (<see cref="Add"/>): a variant's keys point at them, so sharing them changes no comparison.
/// Keys and filters are kept in chunks of a fixed size, allocated as the table grows: a single array doubled as it grew was allocated
/// about twice over and copied at each doubling (some 100 MB for the benchmark community's 239,000 variants, in the large object
/// heap, whose growth sets off full collections).
/// </remarks>
internal sealed class VariantTable
{
    // 8,192 keys of 64 bytes and 65,536 filter words: 512 KB a chunk. A variant's filters (three of at most 255 words) always fit one.
    private const int KeyChunkShift = 13;
    private const int FilterChunkShift = 16;
    private const int FilterChunkWords = 1 << FilterChunkShift;

    private readonly Dictionary<UInt128, int> _ids = [];
    private readonly List<VariantKeys[]> _keyChunks = [];
    private readonly List<ulong[]> _filterChunks = [];
    // Where each distinct run of filter words (a variant's first, last and address filters) lies in the pool, by ContentKey.
    private readonly Dictionary<UInt128, int> _filterOffsets = [];
    private int _count;
    // Where the next variant's filters go: chunk number times FilterChunkWords plus the offset in that chunk.
    private int _filterEnd;

    /// <summary>Adds a variant; returns its slot.</summary>
    public int Add(LinkEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        var keys = KeysOf(encoding);
        // Variants with equal filters (the same names and address: a child's records at several providers, and common names) share
        // one copy in the pool: it is then a fraction of its size and mostly in the caches when candidates' filters are read.
        Span<ulong> filters = stackalloc ulong[keys.FilterWords];
        Filters(encoding, filters);
        var content = ContentKey(filters, keys);
        if (_filterOffsets.TryGetValue(content, out var offset) && Filters(keys with { FilterOffset = offset }).SequenceEqual(filters))
        {
            keys = keys with { FilterOffset = offset };
        }
        else
        {
            if ((_filterEnd & (FilterChunkWords - 1)) + keys.FilterWords > FilterChunkWords || _filterEnd >> FilterChunkShift == _filterChunks.Count)
            {
                // The variant's filters start a new chunk (they are never split between two).
                _filterEnd = _filterChunks.Count << FilterChunkShift;
                _filterChunks.Add(new ulong[FilterChunkWords]);
            }

            keys = keys with { FilterOffset = _filterEnd };
            filters.CopyTo(_filterChunks[_filterEnd >> FilterChunkShift].AsSpan(_filterEnd & (FilterChunkWords - 1), keys.FilterWords));
            _filterEnd += keys.FilterWords;
            _filterOffsets.TryAdd(content, keys.FilterOffset);
        }
        if (_count >> KeyChunkShift == _keyChunks.Count)
        {
            _keyChunks.Add(new VariantKeys[1 << KeyChunkShift]);
        }

        _keyChunks[_count >> KeyChunkShift][_count & ((1 << KeyChunkShift) - 1)] = keys;
        return _count++;
    }

    /// <summary>The keys of a slot, by reference (a candidate pair reads them without copying).</summary>
    public ref readonly VariantKeys Keys(int slot) => ref _keyChunks[slot >> KeyChunkShift][slot & ((1 << KeyChunkShift) - 1)];

    /// <summary>The filters of a variant in the table (first, last, address).</summary>
    public ReadOnlySpan<ulong> Filters(in VariantKeys keys) =>
        _filterChunks[keys.FilterOffset >> FilterChunkShift].AsSpan(keys.FilterOffset & (FilterChunkWords - 1), keys.FilterWords);

    /// <summary>
    /// Prefetches a variant's filters (<see cref="CachePrefetch"/>): the engine asks for those of every candidate pair it will score
    /// before it scores the first, where it copied them before (loading and storing every word).
    /// </summary>
    public void Prefetch(in VariantKeys keys)
    {
        if (keys.FilterWords > 0)
        {
            var filters = Filters(keys);
            CachePrefetch.Read(in filters[0], filters.Length * sizeof(ulong));
        }
    }

    /// <summary>Prefetches a slot's keys (<see cref="CachePrefetch"/>), before the engine copies them.</summary>
    public void PrefetchKeys(int slot) => CachePrefetch.Read(in Keys(slot), Unsafe.SizeOf<VariantKeys>());

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
        // Each in turn, without an array of the three (one per variant added).
        var at = 0;
        encoding.First.AsSpan().CopyTo(target);
        at += encoding.First?.Length ?? 0;
        encoding.Last.AsSpan().CopyTo(target[at..]);
        at += encoding.Last?.Length ?? 0;
        encoding.Address.AsSpan().CopyTo(target[at..]);
    }

    /// <summary>
    /// A 128-bit digest of a variant's filter words and their split, to find filters already in the pool (then compared word by word:
    /// a digest is never trusted alone). Not a keyed hash: it only decides where equal words are stored, never a comparison.
    /// </summary>
    private static UInt128 ContentKey(ReadOnlySpan<ulong> filters, in VariantKeys keys)
    {
        ulong a = (ulong)keys.FirstWords | (ulong)keys.LastWords << 8 | (ulong)keys.AddressWords << 16, b = a ^ 0x9E3779B97F4A7C15UL;
        foreach (var word in filters)
        {
            a = (a ^ word) * 0x100000001B3UL;
            a ^= a >> 29;
            b = System.Numerics.BitOperations.RotateLeft(b + word * 0xC2B2AE3D27D4EB4FUL, 31) * 0x9E3779B97F4A7C15UL;
        }

        return new UInt128(a, b);
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

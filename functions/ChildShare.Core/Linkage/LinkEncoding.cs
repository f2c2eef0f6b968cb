using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using System.Text;
using ChildShare.Core.Pseudonymization;
using System.Text.Json.Serialization;

namespace ChildShare.Core.Linkage;

/// <summary>
/// The normalized fields one record offers to linkage, built by ingestion from what a row has (names in their matching form,
/// birth date, sex, zip, state student id, street address: <see cref="Ingestion.LinkInputs.From"/>). The birth date is kept as its
/// three parts so an evaluation can carry an invalid date (a typo such as 31 February) without losing it; the sex is its code value
/// (null when unknown); the street address is optional (only where the provider maps one) and is its
/// <see cref="Ingestion.AddressNormalizer.MatchForm"/>.
/// </summary>
public sealed record LinkInput(
    string? First, string? Last, string? Year, string? Month, string? Day, string? Sex, string? Zip, string? StateId, string? Address = null)
{
    /// <summary>Upper case, letters and digits only; null when nothing is left.</summary>
    public static string? NormalizeStateId(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        Span<char> buffer = value.Length <= 128 ? stackalloc char[value.Length] : new char[value.Length];
        var length = 0;
        foreach (var c in value)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                buffer[length++] = char.ToUpperInvariant(c);
            }
        }

        return length == 0 ? null : new string(buffer[..length]);
    }

    public bool HasFullDate => Year is not null && Month is not null && Day is not null;
}

/// <summary>The keyed tokens of a record. Tokens marked "lookup" are never indexed: they are looked up in another kind's space.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LinkTokenKind>))]
public enum LinkTokenKind
{
    /// <summary>State student id (indexed, a blocking key; compared).</summary>
    StateId,

    /// <summary>Birth date (indexed, the main blocking key; compared).</summary>
    Dob,

    /// <summary>Lookup: day and month transposed, in the <see cref="Dob"/> space.</summary>
    DobDayMonthSwapped,

    /// <summary>Birth year + month.</summary>
    DobYearMonth,

    /// <summary>Birth year + day.</summary>
    DobYearDay,

    /// <summary>Birth month + day.</summary>
    DobMonthDay,

    /// <summary>Soundex of first and last name (indexed, the blocking key for altered dates).</summary>
    PhoneticNames,

    /// <summary>Lookup: Soundex of last and first name exchanged, in the <see cref="PhoneticNames"/> space.</summary>
    PhoneticNamesSwapped,

    /// <summary>Zip code.</summary>
    Zip,

    /// <summary>Sex, where reported.</summary>
    Sex,

    /// <summary>The canonical form of a given name that has nicknames (<see cref="Nicknames"/>) + the last name.</summary>
    NicknameLast,

    /// <summary>
    /// The street address's match form (indexed: the blocking key of a household, for a record whose birth date and names are both
    /// altered). It says no more than the address filter, which is equal for equal addresses too.
    /// </summary>
    Address,
}

/// <summary>
/// How the name and address Bloom filters are hardened against pattern-mining attacks, which need no key
/// (see LINKAGE.md, "Hardening"). Each costs linkage quality; the benchmark measures each.
/// </summary>
public enum BloomHardening
{
    /// <summary>Plain keyed filters.</summary>
    None,

    /// <summary>Every bigram is hashed with the record's birth year as a salt: filters of different birth years are unrelated.</summary>
    BirthYearSalt,

    /// <summary>The 1,024-bit filter is folded in half by XOR (Schnell, Borgs and Encarnação, 2016): 512 bits, each the parity of two.</summary>
    XorFold,

    /// <summary>The filter and its complement, permuted by a keyed permutation (Berger et al.): every filter has exactly half its bits set.</summary>
    Balanced,
}

/// <summary>
/// One record's linkage encoding: 128-bit keyed tokens by kind (zero where a field is missing) and keyed
/// Bloom filters of the first name, the last name and the street address (null where missing). No cleartext.
/// </summary>
public sealed class LinkEncoding
{
    public const int KindCount = (int)LinkTokenKind.Address + 1;

    /// <summary>The format version written first in <see cref="Serialize"/>; an encoding of another version is not read.</summary>
    public const string FormatVersion = "v2";

    /// <summary>The kinds written to the token index.</summary>
    public static readonly LinkTokenKind[] IndexedKinds = [LinkTokenKind.StateId, LinkTokenKind.Dob, LinkTokenKind.PhoneticNames, LinkTokenKind.Address];

    /// <summary>The kinds looked up in the token index to find candidates.</summary>
    public static readonly LinkTokenKind[] LookupKinds =
        [LinkTokenKind.StateId, LinkTokenKind.Dob, LinkTokenKind.DobDayMonthSwapped, LinkTokenKind.PhoneticNames, LinkTokenKind.PhoneticNamesSwapped, LinkTokenKind.Address];

    public LinkEncoding(UInt128[] tokens, ulong[]? first, ulong[]? last, ulong[]? address)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        Tokens = tokens;
        First = first;
        Last = last;
        Address = address;
        FirstBits = Count(first);
        LastBits = Count(last);
        AddressBits = Count(address);
    }

    public UInt128[] Tokens { get; }

    /// <summary>The first-name filter, or null when the record has no first name (empty or a placeholder).</summary>
    public ulong[]? First { get; }

    public ulong[]? Last { get; }

    public ulong[]? Address { get; }

    internal int FirstBits { get; }

    internal int LastBits { get; }

    internal int AddressBits { get; }

    /// <summary>
    /// Read from a row written before XOR folding and folded as it was read (<see cref="Deserialize"/>): the node it belongs to is
    /// written again, so the hardening reaches the stored row.
    /// </summary>
    public bool FoldedOnRead { get; private init; }

    /// <summary>Both the first and the last name are present (not empty, not a placeholder).</summary>
    public bool FullName => First is not null && Last is not null;

    public UInt128 this[LinkTokenKind kind] => Tokens[(int)kind];

    public bool Has(LinkTokenKind kind) => Tokens[(int)kind] != UInt128.Zero;

    public bool Same(LinkEncoding other, LinkTokenKind kind) => Has(kind) && Tokens[(int)kind] == other.Tokens[(int)kind];

    public IEnumerable<UInt128> Indexed() => IndexedKinds.Where(Has).Select(k => this[k]);

    public IEnumerable<UInt128> Lookups() => LookupKinds.Where(Has).Select(k => this[k]).Distinct();

    public bool SameContent(LinkEncoding other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Tokens.AsSpan().SequenceEqual(other.Tokens) && Equal(First, other.First) && Equal(Last, other.Last) && Equal(Address, other.Address);
    }

    /// <summary>Compact text for storage: the format version, hex tokens (empty when missing), then the filters in base64 (empty when missing).</summary>
    public string Serialize()
    {
        var builder = new StringBuilder(KindCount * 33 + 600).Append(FormatVersion).Append(',');
        foreach (var token in Tokens)
        {
            if (token != UInt128.Zero)
            {
                builder.Append(token.ToString("x32", CultureInfo.InvariantCulture));
            }

            builder.Append(',');
        }

        return builder.Append(ToBase64(First)).Append(',').Append(ToBase64(Last)).Append(',').Append(ToBase64(Address)).ToString();
    }

    /// <summary>
    /// Reads <see cref="Serialize"/>'s form; null for an encoding of an earlier format (it needs the record again: see LINKAGE.md).
    /// Full-width filters (written before XOR folding was the production hardening) are folded as they are read when
    /// <paramref name="hardening"/> folds: folding is a function of the full filter, so they compare exactly as the record encoded now.
    /// </summary>
    public static LinkEncoding? Deserialize(string text, BloomHardening hardening = LinkEncoder.DefaultHardening)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',');
        if (parts.Length != KindCount + 4 || parts[0] != FormatVersion)
        {
            return null;
        }

        var tokens = new UInt128[KindCount];
        for (var i = 0; i < KindCount; i++)
        {
            var part = parts[i + 1];
            tokens[i] = part.Length == 0 ? UInt128.Zero : UInt128.Parse(part, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        }

        ulong[]? first = FromBase64(parts[^3]), last = FromBase64(parts[^2]), address = FromBase64(parts[^1]);
        var fold = hardening == BloomHardening.XorFold && new[] { first, last, address }.Any(f => f is { Length: LinkEncoder.BloomBits / 64 });
        return fold
            ? new LinkEncoding(tokens, FoldIfFull(first), FoldIfFull(last), FoldIfFull(address)) { FoldedOnRead = true }
            : new LinkEncoding(tokens, first, last, address);
    }

    private static ulong[]? FoldIfFull(ulong[]? filter) => filter is { Length: LinkEncoder.BloomBits / 64 } full ? LinkEncoder.Fold(full) : filter;

    /// <summary>Dice coefficient of two Bloom filters: 2|A∩B| / (|A| + |B|); 0 when either is missing or both are empty.</summary>
    public static double Dice(ulong[]? a, ulong[]? b) => a is null || b is null ? 0 : Dice(a, Count(a), b, Count(b));

    internal static double Dice(ulong[] a, int aBits, ulong[] b, int bBits) => Dice(a.AsSpan(), aBits, b.AsSpan(), bBits);

    internal static double Dice(ReadOnlySpan<ulong> a, int aBits, ReadOnlySpan<ulong> b, int bBits)
    {
        var ones = aBits + bBits;
        if (ones == 0)
        {
            return 0;
        }

        // Both sliced to the shorter length, so the loop runs without bounds checks (it runs for every scored candidate pair).
        var length = Math.Min(a.Length, b.Length);
        a = a[..length];
        b = b[..length];
        var both = 0;
        for (var i = 0; i < a.Length; i++)
        {
            both += BitOperations.PopCount(a[i] & b[i]);
        }

        return 2.0 * both / ones;
    }

    private static int Count(ulong[]? bits)
    {
        var count = 0;
        foreach (var word in bits ?? [])
        {
            count += BitOperations.PopCount(word);
        }

        return count;
    }

    private static bool Equal(ulong[]? a, ulong[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    private static string ToBase64(ulong[]? bits)
    {
        if (bits is null)
        {
            return "";
        }

        var bytes = new byte[bits.Length * 8];
        for (var i = 0; i < bits.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), bits[i]);
        }

        return Convert.ToBase64String(bytes);
    }

    private static ulong[]? FromBase64(string text)
    {
        if (text.Length == 0)
        {
            return null;
        }

        var bytes = Convert.FromBase64String(text);
        var bits = new ulong[bytes.Length / 8];
        for (var i = 0; i < bits.Length; i++)
        {
            bits[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(i * 8));
        }

        return bits;
    }
}

/// <summary>
/// Computes <see cref="LinkEncoding"/>s: every token is HMAC-SHA256 under the pseudonymization key with its
/// own purpose label; Bloom filter bit positions come from the same key under the separate purpose
/// <c>link-bloom-v2</c>, so no token and no bit position can be derived from another. Tokens of values that
/// repeat (birth dates, zips, Soundex pairs, sex) are computed once per pseudonymizer (it keeps them) and bigram
/// positions once per encoder, kept in process memory, like the key itself: an encoder is meant to live as long as its key version.
/// </summary>
public sealed class LinkEncoder(Pseudonymizer pseudonymizer, BloomHardening hardening = LinkEncoder.DefaultHardening)
{
    /// <summary>Bits in a name or address filter before hardening.</summary>
    public const int BloomBits = 1024;

    /// <summary>Bit positions set per name bigram.</summary>
    public const int NameHashes = 20;

    /// <summary>Bit positions set per address bigram.</summary>
    public const int AddressHashes = 15;

    /// <summary>The production hardening (see LINKAGE.md, "Hardening": what each option costs).</summary>
    public const BloomHardening DefaultHardening = BloomHardening.XorFold;

    private const string BloomPurpose = "link-bloom-v2";
    private const int CacheLimit = 200_000;

    // The bits of each bigram, by field space: computed once per encoder (they depend only on the key).
    private readonly ConcurrentDictionary<(string Field, int Hashes), BigramMasks> _masks = new();

    // Tokens of low-cardinality values, kept here so a row costs a lookup in a small table with a number or a short key, not a
    // string built and looked up among the pseudonymizer's hundreds of thousands of per-child tokens. Same values as computed.
    private readonly ConcurrentDictionary<int, DateTokens> _dates = new();
    private readonly ConcurrentDictionary<ulong, (UInt128 Pair, UInt128 Swapped)> _phonetics = new();
    private readonly ConcurrentDictionary<string, UInt128> _zips = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, UInt128> _sexes = new(StringComparer.Ordinal);
    private int[]? _permutation;

    private readonly record struct DateTokens(UInt128 Dob, UInt128 Swapped, UInt128 YearMonth, UInt128 YearDay, UInt128 MonthDay);

    public Pseudonymizer Pseudonymizer => pseudonymizer;

    public BloomHardening Hardening => hardening;

    public LinkEncoding Encode(LinkInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var tokens = new UInt128[LinkEncoding.KindCount];
        var first = Blank(input.First);
        var last = Blank(input.Last);
        string? year = Blank(input.Year), month = Blank(input.Month), day = Blank(input.Day);
        var zip = Blank(input.Zip);
        var stateId = Blank(input.StateId);

        if (stateId is not null)
        {
            tokens[(int)LinkTokenKind.StateId] = pseudonymizer.TokenValue("link-ssid-v2", stateId);
        }

        if (DateKey(year, month, day) is { } dateKey)
        {
            // The usual shape (yyyy, MM, dd): every date token at once, from a table keyed by the date as a number.
            var dates = _dates.TryGetValue(dateKey, out var known) ? known : Remember(_dates, dateKey, DateTokensOf(year!, month!, day!));
            tokens[(int)LinkTokenKind.Dob] = dates.Dob;
            tokens[(int)LinkTokenKind.DobDayMonthSwapped] = dates.Swapped;
            tokens[(int)LinkTokenKind.DobYearMonth] = dates.YearMonth;
            tokens[(int)LinkTokenKind.DobYearDay] = dates.YearDay;
            tokens[(int)LinkTokenKind.DobMonthDay] = dates.MonthDay;
        }
        else
        {
            SetDateTokens(tokens, year, month, day);
        }

        if (first is not null && last is not null)
        {
            // The codes on the stack: a string of each is made only where their tokens are not known yet.
            Span<char> firstSound = stackalloc char[4], lastSound = stackalloc char[4];
            firstSound = firstSound[..Phonetic.Soundex(first, firstSound)];
            lastSound = lastSound[..Phonetic.Soundex(last, lastSound)];
            if (SoundexKey(firstSound, lastSound) is { } soundKey)
            {
                var (pair, swapped) = _phonetics.TryGetValue(soundKey, out var sounds) ? sounds
                    : Remember(_phonetics, soundKey, PhoneticTokensOf(new string(firstSound), new string(lastSound)));
                tokens[(int)LinkTokenKind.PhoneticNames] = pair;
                tokens[(int)LinkTokenKind.PhoneticNamesSwapped] = swapped;
            }
            else
            {
                (tokens[(int)LinkTokenKind.PhoneticNames], tokens[(int)LinkTokenKind.PhoneticNamesSwapped]) =
                    PhoneticTokensOf(new string(firstSound), new string(lastSound));
            }

            if (Nicknames.CanonicalOf(first) is { } canonical)
            {
                tokens[(int)LinkTokenKind.NicknameLast] = pseudonymizer.TokenValue("link-nickname-last-v2", canonical, last);
            }
        }

        if (zip is not null)
        {
            tokens[(int)LinkTokenKind.Zip] = _zips.TryGetValue(zip, out var zipToken) ? zipToken : Remember(_zips, zip, Cached("link-zip-v2", zip));
        }

        if (input.Sex is { Length: > 0 } sex)
        {
            tokens[(int)LinkTokenKind.Sex] = _sexes.TryGetValue(sex, out var sexToken) ? sexToken : Remember(_sexes, sex, Cached("link-sex-v2", sex));
        }

        if (Blank(input.Address) is { } street)
        {
            tokens[(int)LinkTokenKind.Address] = Cached("link-address-v2", street);
        }

        // The salt of BirthYearSalt: filters of records without a birth year share the empty salt.
        var salt = hardening == BloomHardening.BirthYearSalt ? year ?? "" : "";
        // Both name parts share one field space, so a first name can be compared with a last name (exchanged names).
        return new LinkEncoding(tokens, Filter("name", first, NameHashes, salt), Filter("name", last, NameHashes, salt),
            Filter("address", Blank(input.Address), AddressHashes, salt));
    }

    // The pseudonymizer keeps the tokens it has computed: a repeated value (a birth date, a zip, a Soundex pair) costs a lookup.
    private UInt128 Cached(string purpose, string value) => pseudonymizer.TokenValue(purpose, value);

    /// <summary>The date tokens of any year, month and day (each possibly missing), as MACed: "year-month-day" and its parts.</summary>
    private void SetDateTokens(UInt128[] tokens, string? year, string? month, string? day)
    {
        if (year is not null && month is not null && day is not null)
        {
            tokens[(int)LinkTokenKind.Dob] = Cached("link-dob-v2", $"{year}-{month}-{day}");
            if (month != day)
            {
                tokens[(int)LinkTokenKind.DobDayMonthSwapped] = Cached("link-dob-v2", $"{year}-{day}-{month}");
            }
        }

        if (year is not null && month is not null)
        {
            tokens[(int)LinkTokenKind.DobYearMonth] = Cached("link-dob-ym-v2", $"{year}-{month}");
        }

        if (year is not null && day is not null)
        {
            tokens[(int)LinkTokenKind.DobYearDay] = Cached("link-dob-yd-v2", $"{year}-{day}");
        }

        if (month is not null && day is not null)
        {
            tokens[(int)LinkTokenKind.DobMonthDay] = Cached("link-dob-md-v2", $"{month}-{day}");
        }
    }

    private DateTokens DateTokensOf(string year, string month, string day)
    {
        var tokens = new UInt128[LinkEncoding.KindCount];
        SetDateTokens(tokens, year, month, day);
        return new DateTokens(tokens[(int)LinkTokenKind.Dob], tokens[(int)LinkTokenKind.DobDayMonthSwapped],
            tokens[(int)LinkTokenKind.DobYearMonth], tokens[(int)LinkTokenKind.DobYearDay], tokens[(int)LinkTokenKind.DobMonthDay]);
    }

    /// <summary>
    /// The date as one number when its parts have the shape ingestion gives them (four, two and two ASCII digits), so that the
    /// number stands for exactly one text; null for any other shape (a missing part, "3" for March), which is MACed as it is.
    /// </summary>
    private static int? DateKey(string? year, string? month, string? day) =>
        year is { Length: 4 } && month is { Length: 2 } && day is { Length: 2 }
        && int.TryParse(year, NumberStyles.None, CultureInfo.InvariantCulture, out var y)
        && int.TryParse(month, NumberStyles.None, CultureInfo.InvariantCulture, out var m)
        && int.TryParse(day, NumberStyles.None, CultureInfo.InvariantCulture, out var d)
            ? (y * 100 + m) * 100 + d
            : null;

    private (UInt128 Pair, UInt128 Swapped) PhoneticTokensOf(string firstSound, string lastSound) =>
        (Cached("link-phonetic-v2", firstSound + "|" + lastSound),
            firstSound != lastSound ? Cached("link-phonetic-v2", lastSound + "|" + firstSound) : UInt128.Zero);

    /// <summary>Both Soundex codes in one number (each is empty or four characters below U+0100: the number stands for one pair).</summary>
    private static ulong? SoundexKey(ReadOnlySpan<char> first, ReadOnlySpan<char> last) => Pack(first) is { } a && Pack(last) is { } b ? (a << 32) | b : null;

    private static ulong? Pack(ReadOnlySpan<char> code)
    {
        if (code.Length == 0)
        {
            return 0;
        }

        if (code.Length != 4 || code[0] > 0xFF || code[1] > 0xFF || code[2] > 0xFF || code[3] > 0xFF || code[0] == 0)
        {
            return null;
        }

        return (ulong)code[0] << 24 | (ulong)code[1] << 16 | (ulong)code[2] << 8 | code[3];
    }

    private static TValue Remember<TKey, TValue>(ConcurrentDictionary<TKey, TValue> cache, TKey key, TValue value, int limit = CacheLimit)
        where TKey : notnull
    {
        if (cache.Count >= limit)
        {
            cache.Clear();
        }

        cache[key] = value;
        return value;
    }

    private ulong[]? Filter(string field, string? value, int hashes, string salt)
    {
        if (value is null)
        {
            return null;
        }

        var space = salt.Length == 0 ? field : field + "@" + salt;
        if (!_masks.TryGetValue((space, hashes), out var masks))
        {
            // A field space per birth year under BirthYearSalt: bounded like the other caches.
            masks = Remember(_masks, (space, hashes), new BigramMasks(space, hashes), limit: 1_000);
        }

        if (hardening == BloomHardening.XorFold)
        {
            // The full filter is only an intermediate here: on the stack, and the folded half the one array made.
            Span<ulong> full = stackalloc ulong[BloomBits / 64];
            full.Clear();
            AddBigrams(full, masks, value);
            return Fold(full);
        }

        var filter = new ulong[BloomBits / 64];
        AddBigrams(filter, masks, value);
        return hardening == BloomHardening.Balanced ? Balance(filter) : filter;
    }

    /// <summary>The filter folded in half by XOR: each bit of the half the parity of two of the whole.</summary>
    internal static ulong[] Fold(ReadOnlySpan<ulong> filter)
    {
        var half = filter.Length / 2;
        var folded = new ulong[half];
        for (var i = 0; i < half; i++)
        {
            folded[i] = filter[i] ^ filter[i + half];
        }

        return folded;
    }

    /// <summary>The filter followed by its complement, permuted by a permutation that only the key decides.</summary>
    private ulong[] Balance(ulong[] filter)
    {
        var permutation = _permutation ??= KeyedPermutation(2 * BloomBits);
        var balanced = new ulong[2 * filter.Length];
        for (var bit = 0; bit < 2 * BloomBits; bit++)
        {
            var source = bit < BloomBits ? (filter[bit / 64] >> (bit % 64) & 1) : ~(filter[(bit - BloomBits) / 64] >> ((bit - BloomBits) % 64)) & 1;
            if (source != 0)
            {
                var to = permutation[bit];
                balanced[to / 64] |= 1UL << (to % 64);
            }
        }

        return balanced;
    }

    private int[] KeyedPermutation(int size)
    {
        var permutation = Enumerable.Range(0, size).ToArray();
        Span<byte> mac = stackalloc byte[32];
        for (var i = size - 1; i > 0; i--)
        {
            pseudonymizer.Mac(Encoding.UTF8.GetBytes($"{BloomPurpose}\u001fbalance\u001f{i}"), mac);
            var j = (int)(BinaryPrimitives.ReadUInt32LittleEndian(mac) % (uint)(i + 1));
            (permutation[i], permutation[j]) = (permutation[j], permutation[i]);
        }

        return permutation;
    }

    /// <summary>
    /// Sets the bits of each distinct bigram of a field (no padding). Positions are random hashing,
    /// not double hashing: HMAC(key, purpose|field|bigram|round) gives 16 independent 16-bit values
    /// per round, each taken modulo the filter length.
    /// </summary>
    private void AddBigrams(Span<ulong> filter, BigramMasks masks, string value)
    {
        if (value.Length < 2)
        {
            Or(filter, masks.Of(pseudonymizer, value, 0));
            return;
        }

        for (var i = 0; i + 1 < value.Length; i++)
        {
            // A repeated bigram sets the same bits again: no set of distinct bigrams is needed.
            Or(filter, masks.Of(pseudonymizer, value, i));
        }
    }

    private static void Or(Span<ulong> filter, ulong[] mask)
    {
        // Both of BloomBits / 64 words.
        ReadOnlySpan<ulong> bits = mask.AsSpan(0, filter.Length);
        for (var i = 0; i < filter.Length; i++)
        {
            filter[i] |= bits[i];
        }
    }

    /// <summary>
    /// The filter bits of each bigram of one field space, as a whole filter's words to OR in: bigrams of A-Z and 0-9 (what folded
    /// names and addresses are made of) in a flat table indexed by the two characters, any other in a dictionary.
    /// </summary>
    private sealed class BigramMasks(string field, int hashes)
    {
        private const int Alphabet = 36;

        // Pairs first, then the one-character values.
        private readonly ulong[]?[] _common = new ulong[]?[Alphabet * Alphabet + Alphabet];
        private readonly ConcurrentDictionary<long, ulong[]> _other = new();

        /// <summary>The bits of the bigram of <paramref name="value"/> at <paramref name="start"/> (the whole value when it has one character).</summary>
        public ulong[] Of(Pseudonymizer pseudonymizer, string value, int start)
        {
            var single = value.Length < 2;
            int a = IndexOf(value[start]), b = single ? 0 : IndexOf(value[start + 1]);
            if (a >= 0 && b >= 0)
            {
                var slot = single ? Alphabet * Alphabet + a : a * Alphabet + b;

                // Two threads may both compute a missing mask: they compute the same bits.
                var known = Volatile.Read(ref _common[slot]);
                if (known is null)
                {
                    known = Mask(pseudonymizer, value, start, single);
                    Volatile.Write(ref _common[slot], known);
                }

                return known;
            }

            var gram = single ? (1L << 40) | value[0] : ((long)value[start] << 16) | value[start + 1];
            if (!_other.TryGetValue(gram, out var mask))
            {
                mask = Remember(_other, gram, Mask(pseudonymizer, value, start, single));
            }

            return mask;
        }

        private ulong[] Mask(Pseudonymizer pseudonymizer, string value, int start, bool single)
        {
            var mask = new ulong[BloomBits / 64];
            foreach (var position in Positions(pseudonymizer, field, single ? value : value.Substring(start, 2), hashes))
            {
                mask[position / 64] |= 1UL << (position % 64);
            }

            return mask;
        }

        private static int IndexOf(char c) => c switch
        {
            >= 'A' and <= 'Z' => c - 'A',
            >= '0' and <= '9' => 26 + c - '0',
            _ => -1,
        };
    }

    private static ushort[] Positions(Pseudonymizer pseudonymizer, string field, string gram, int hashes)
    {
        var positions = new ushort[hashes];
        Span<byte> mac = stackalloc byte[32];
        var set = 0;
        for (var round = 0; set < hashes; round++)
        {
            var data = Encoding.UTF8.GetBytes($"{BloomPurpose}\u001f{field}\u001f{gram}\u001f{round}");
            pseudonymizer.Mac(data, mac);
            for (var j = 0; j < 16 && set < hashes; j++, set++)
            {
                positions[set] = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(mac[(j * 2)..]) % BloomBits);
            }
        }

        return positions;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>American Soundex of a folded (A-Z) name.</summary>
public static class Phonetic
{
    public static string Soundex(string name)
    {
        Span<char> code = stackalloc char[4];
        return new string(code[..Soundex(name, code)]);
    }

    /// <summary>Writes the code of <paramref name="name"/> into <paramref name="code"/> (four characters); returns 4, or 0 for no code.</summary>
    internal static int Soundex(string name, Span<char> code)
    {
        code = code[..4];
        code.Fill('0');
        var length = 0;
        var previous = '\0';
        foreach (var raw in name)
        {
            var c = char.ToUpperInvariant(raw);
            if (c is < 'A' or > 'Z')
            {
                continue;
            }

            var digit = c switch
            {
                'B' or 'F' or 'P' or 'V' => '1',
                'C' or 'G' or 'J' or 'K' or 'Q' or 'S' or 'X' or 'Z' => '2',
                'D' or 'T' => '3',
                'L' => '4',
                'M' or 'N' => '5',
                'R' => '6',
                'H' or 'W' => '-',
                _ => '\0',
            };
            if (length == 0)
            {
                code[length++] = c;
                previous = digit;
                continue;
            }

            if (digit == '-')
            {
                continue;
            }

            if (digit != '\0' && digit != previous)
            {
                code[length++] = digit;
                if (length == 4)
                {
                    break;
                }
            }

            previous = digit;
        }

        return length == 0 ? 0 : 4;
    }
}

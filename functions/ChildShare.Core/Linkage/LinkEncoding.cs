using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Pseudonymization;
using System.Text.Json.Serialization;

namespace ChildShare.Core.Linkage;

/// <summary>
/// The normalized fields one record offers to linkage. Built from what ingestion has (names,
/// birth date, sex, zip, state student id, street address). The birth date is kept as its three
/// parts so an evaluation can carry an invalid date (a typo such as 31 February) without losing it;
/// the street address is optional (only where the provider maps one) and is its
/// <see cref="AddressNormalizer.MatchForm"/>.
/// </summary>
public sealed record LinkInput(
    string? First, string? Last, string? Year, string? Month, string? Day, Sex Sex, string? Zip, string? StateId, string? Address = null)
{
    public static LinkInput From(ChildIdentity identity, Demographics demographics) => new(
        identity.FirstName.Match, identity.LastName.Match,
        identity.BirthDate.Year.ToString("D4", CultureInfo.InvariantCulture),
        identity.BirthDate.Month.ToString("D2", CultureInfo.InvariantCulture),
        identity.BirthDate.Day.ToString("D2", CultureInfo.InvariantCulture),
        demographics.Sex, demographics.Zip, NormalizeStateId(identity.StateStudentId), AddressNormalizer.MatchForm(identity.StreetAddress));

    /// <summary>Upper case, letters and digits only; null when nothing is left.</summary>
    public static string? NormalizeStateId(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var kept = new string(value.Where(char.IsAsciiLetterOrDigit).Select(char.ToUpperInvariant).ToArray());
        return kept.Length == 0 ? null : kept;
    }

    public bool HasFullDate => Year is not null && Month is not null && Day is not null;
}

/// <summary>The keyed tokens of a record. Tokens marked "lookup" are never indexed: they are looked up in another kind's space.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LinkTokenKind>))]
public enum LinkTokenKind
{
    /// <summary>State student id + birth date.</summary>
    StateIdDob,

    /// <summary>State student id alone (indexed, a blocking key).</summary>
    StateId,

    /// <summary>Last + first + birth date + zip3.</summary>
    NameDobZip3,

    /// <summary>Last + first + birth date.</summary>
    NameDob,

    /// <summary>Last + first initial + sex + birth date (only when sex is known).</summary>
    LastInitialSexDob,

    /// <summary>Soundex of first and last name + birth date.</summary>
    PhoneticDob,

    /// <summary>Lookup: first and last swapped, in the <see cref="NameDob"/> space.</summary>
    SwappedNameDob,

    /// <summary>Birth date alone (indexed, the main blocking key).</summary>
    Dob,

    /// <summary>Soundex of first and last name, no date (indexed, blocking key for altered dates).</summary>
    PhoneticNames,

    /// <summary>Birth year + month.</summary>
    DobYearMonth,

    /// <summary>Birth year + day.</summary>
    DobYearDay,

    /// <summary>Birth month + day.</summary>
    DobMonthDay,

    /// <summary>Lookup: day and month transposed, in the <see cref="Dob"/> space.</summary>
    DobDayMonthSwapped,

    /// <summary>Last name + birth date + zip (compared only when one record has no first name).</summary>
    LastDobZip,

    /// <summary>First name + birth date + zip (L8 when one record has no last name; L12 when the last names differ).</summary>
    FirstDobZip,

    /// <summary>Zip code (5 digits in production).</summary>
    Zip,

    /// <summary>First + last name + zip (compared with a street address when the birth dates disagree).</summary>
    NameZip,

    /// <summary>Sex, where reported (a guard: two records that both report it and disagree are not L12's surname change).</summary>
    Sex,

    /// <summary>Lookup: Soundex of last and first name exchanged, in the <see cref="PhoneticNames"/> space.</summary>
    PhoneticNamesSwapped,
}

/// <summary>
/// One record's linkage encoding: 128-bit keyed tokens by kind (zero where a field is missing)
/// and keyed Bloom filters of name and address bigrams. No cleartext.
/// </summary>
public sealed class LinkEncoding(UInt128[] tokens, ulong[] nameBloom, ulong[] swappedNameBloom, ulong[]? addressBloom, bool fullName)
{
    public const int KindCount = (int)LinkTokenKind.PhoneticNamesSwapped + 1;

    /// <summary>The kinds written to the token index.</summary>
    public static readonly LinkTokenKind[] IndexedKinds = [LinkTokenKind.StateId, LinkTokenKind.Dob, LinkTokenKind.PhoneticNames];

    /// <summary>The kinds looked up in the token index to find candidates.</summary>
    public static readonly LinkTokenKind[] LookupKinds =
        [LinkTokenKind.StateId, LinkTokenKind.Dob, LinkTokenKind.DobDayMonthSwapped, LinkTokenKind.PhoneticNames, LinkTokenKind.PhoneticNamesSwapped];

    public UInt128[] Tokens { get; } = tokens;

    /// <summary>Both the first and the last name are present (not empty, not a placeholder).</summary>
    public bool FullName { get; } = fullName;

    public ulong[] NameBloom { get; } = nameBloom;

    /// <summary>The name filter with first and last name exchanged, to compare against another record's <see cref="NameBloom"/>.</summary>
    public ulong[] SwappedNameBloom { get; } = swappedNameBloom;

    public ulong[]? AddressBloom { get; } = addressBloom;

    public UInt128 this[LinkTokenKind kind] => Tokens[(int)kind];

    public bool Has(LinkTokenKind kind) => Tokens[(int)kind] != UInt128.Zero;

    public bool Same(LinkEncoding other, LinkTokenKind kind) => Has(kind) && Tokens[(int)kind] == other.Tokens[(int)kind];

    public IEnumerable<UInt128> Indexed() => IndexedKinds.Where(Has).Select(k => this[k]);

    public IEnumerable<UInt128> Lookups() => LookupKinds.Where(Has).Select(k => this[k]).Distinct();

    /// <summary>
    /// True when <paramref name="other"/> says everything this encoding says and perhaps more: every token
    /// here is missing or equal there, and the filters are equal. An encoding stored before a token kind
    /// existed is superseded by the same record encoded today, instead of counting as another variant.
    /// </summary>
    public bool IsSupersededBy(LinkEncoding other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < Tokens.Length; i++)
        {
            if (Tokens[i] != UInt128.Zero && Tokens[i] != other.Tokens[i])
            {
                return false;
            }
        }

        return NameBloom.AsSpan().SequenceEqual(other.NameBloom) && SwappedNameBloom.AsSpan().SequenceEqual(other.SwappedNameBloom)
            && (AddressBloom is null || AddressBloom.AsSpan().SequenceEqual(other.AddressBloom ?? [])) && FullName == other.FullName;
    }

    public bool SameContent(LinkEncoding other) =>
        Tokens.AsSpan().SequenceEqual(other.Tokens) && NameBloom.AsSpan().SequenceEqual(other.NameBloom)
        && (AddressBloom ?? []).AsSpan().SequenceEqual(other.AddressBloom ?? []) && FullName == other.FullName;

    /// <summary>Compact text for storage: hex tokens (empty when missing), then the filters in base64.</summary>
    public string Serialize()
    {
        var builder = new StringBuilder(KindCount * 33 + 400);
        foreach (var token in Tokens)
        {
            if (token != UInt128.Zero)
            {
                builder.Append(token.ToString("x32", CultureInfo.InvariantCulture));
            }

            builder.Append(',');
        }

        builder.Append(ToBase64(NameBloom)).Append(',').Append(ToBase64(SwappedNameBloom)).Append(',');
        if (AddressBloom is not null)
        {
            builder.Append(ToBase64(AddressBloom));
        }

        return builder.Append(',').Append(FullName ? '1' : '0').ToString();
    }

    public static LinkEncoding Deserialize(string text)
    {
        var parts = text.Split(',');
        var tokens = new UInt128[KindCount];
        for (var i = 0; i < KindCount && i < parts.Length - 4; i++)
        {
            tokens[i] = parts[i].Length == 0 ? UInt128.Zero : UInt128.Parse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        }

        var address = parts[^2];
        return new LinkEncoding(tokens, FromBase64(parts[^4]), FromBase64(parts[^3]), address.Length == 0 ? null : FromBase64(address), parts[^1] == "1");
    }

    private static string ToBase64(ulong[] bits)
    {
        var bytes = new byte[bits.Length * 8];
        for (var i = 0; i < bits.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), bits[i]);
        }

        return Convert.ToBase64String(bytes);
    }

    private static ulong[] FromBase64(string text)
    {
        var bytes = Convert.FromBase64String(text);
        var bits = new ulong[bytes.Length / 8];
        for (var i = 0; i < bits.Length; i++)
        {
            bits[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(i * 8));
        }

        return bits;
    }

    /// <summary>Dice coefficient of two Bloom filters: 2|A∩B| / (|A| + |B|); 0 when both are empty.</summary>
    public static double Dice(ulong[]? a, ulong[]? b)
    {
        if (a is null || b is null)
        {
            return 0;
        }

        int both = 0, ones = 0;
        for (var i = 0; i < a.Length; i++)
        {
            both += BitOperations.PopCount(a[i] & b[i]);
            ones += BitOperations.PopCount(a[i]) + BitOperations.PopCount(b[i]);
        }

        return ones == 0 ? 0 : 2.0 * both / ones;
    }
}

/// <summary>
/// Computes <see cref="LinkEncoding"/>s: every token is HMAC-SHA256 under the pseudonymization
/// key with its own purpose label; Bloom filter bit positions come from the same key under the
/// separate purpose <c>link-bloom-v1</c>, so no token and no bit position can be derived from another.
/// </summary>
public sealed class LinkEncoder(Pseudonymizer pseudonymizer)
{
    /// <summary>Bits in a name or address filter.</summary>
    public const int BloomBits = 1024;

    /// <summary>Bit positions set per name bigram.</summary>
    public const int NameHashes = 30;

    /// <summary>Bit positions set per address bigram.</summary>
    public const int AddressHashes = 15;

    private const string BloomPurpose = "link-bloom-v1";

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Field, string Gram, int Hashes), ushort[]> _positions = new();

    public Pseudonymizer Pseudonymizer => pseudonymizer;

    public LinkEncoding Encode(LinkInput input)
    {
        var tokens = new UInt128[LinkEncoding.KindCount];
        var first = Blank(input.First);
        var last = Blank(input.Last);
        var dob = input.HasFullDate ? $"{input.Year}-{input.Month}-{input.Day}" : null;
        var zip = Blank(input.Zip);
        var zip3 = zip is { Length: >= 3 } ? zip[..3] : null;
        var stateId = Blank(input.StateId);

        void Set(LinkTokenKind kind, string purpose, params string?[] parts)
        {
            if (parts.All(p => p is not null))
            {
                tokens[(int)kind] = Parse(pseudonymizer.Token(purpose, parts!));
            }
        }

        Set(LinkTokenKind.StateIdDob, "link-ssid-dob-v1", stateId, dob);
        Set(LinkTokenKind.StateId, "link-ssid-v1", stateId);
        Set(LinkTokenKind.NameDobZip3, "link-name-dob-zip3-v1", last, first, dob, zip3);
        Set(LinkTokenKind.NameDob, "link-name-dob-v1", last, first, dob);
        if (input.Sex != Sex.Unknown)
        {
            Set(LinkTokenKind.LastInitialSexDob, "link-last-init-sex-dob-v1", last, first?[..1], input.Sex.ToString(), dob);
        }

        var firstSound = first is null ? null : Phonetic.Soundex(first);
        var lastSound = last is null ? null : Phonetic.Soundex(last);
        Set(LinkTokenKind.PhoneticDob, "link-phonetic-dob-v1", firstSound, lastSound, dob);
        Set(LinkTokenKind.SwappedNameDob, "link-name-dob-v1", first, last, dob);
        Set(LinkTokenKind.Dob, "link-dob-v1", dob);
        Set(LinkTokenKind.PhoneticNames, "link-phonetic-v1", firstSound, lastSound);
        if (firstSound != lastSound)
        {
            Set(LinkTokenKind.PhoneticNamesSwapped, "link-phonetic-v1", lastSound, firstSound);
        }

        Set(LinkTokenKind.DobYearMonth, "link-dob-ym-v1", Blank(input.Year), Blank(input.Month));
        Set(LinkTokenKind.DobYearDay, "link-dob-yd-v1", Blank(input.Year), Blank(input.Day));
        Set(LinkTokenKind.DobMonthDay, "link-dob-md-v1", Blank(input.Month), Blank(input.Day));
        if (input.HasFullDate && input.Month != input.Day)
        {
            Set(LinkTokenKind.DobDayMonthSwapped, "link-dob-v1", $"{input.Year}-{input.Day}-{input.Month}");
        }

        Set(LinkTokenKind.LastDobZip, "link-last-dob-zip-v1", last, dob, zip);
        Set(LinkTokenKind.FirstDobZip, "link-first-dob-zip-v1", first, dob, zip);
        Set(LinkTokenKind.Zip, "link-zip-v1", zip);
        Set(LinkTokenKind.NameZip, "link-name-zip-v1", last, first, zip);
        if (input.Sex != Sex.Unknown)
        {
            Set(LinkTokenKind.Sex, "link-sex-v1", input.Sex.ToString());
        }

        var name = new ulong[BloomBits / 64];
        AddBigrams(name, "first", first, NameHashes);
        AddBigrams(name, "last", last, NameHashes);
        var swapped = new ulong[BloomBits / 64];
        AddBigrams(swapped, "first", last, NameHashes);
        AddBigrams(swapped, "last", first, NameHashes);
        ulong[]? address = null;
        if (Blank(input.Address) is { } street)
        {
            address = new ulong[BloomBits / 64];
            AddBigrams(address, "address", street, AddressHashes);
        }

        return new LinkEncoding(tokens, name, swapped, address, first is not null && last is not null);
    }

    /// <summary>
    /// Sets the bits of each distinct bigram of a field (no padding). Positions are random hashing,
    /// not double hashing: HMAC(key, purpose|field|bigram|round) gives 16 independent 16-bit values
    /// per round, each taken modulo the filter length.
    /// </summary>
    private void AddBigrams(ulong[] filter, string field, string? value, int hashes)
    {
        if (value is null || value.Length < 2)
        {
            if (value is { Length: 1 })
            {
                SetPositions(filter, field, value, hashes);
            }

            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < value.Length; i++)
        {
            var bigram = value.Substring(i, 2);
            if (seen.Add(bigram))
            {
                SetPositions(filter, field, bigram, hashes);
            }
        }
    }

    private void SetPositions(ulong[] filter, string field, string gram, int hashes)
    {
        // The positions of a (field, bigram) depend only on the key: computed once per encoder.
        var positions = _positions.GetOrAdd((field, gram, hashes), static (k, p) => Positions(p, k.Field, k.Gram, k.Hashes), pseudonymizer);
        foreach (var position in positions)
        {
            filter[position / 64] |= 1UL << (position % 64);
        }
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

    private static UInt128 Parse(string hex) => UInt128.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
}

/// <summary>American Soundex of a folded (A-Z) name.</summary>
public static class Phonetic
{
    public static string Soundex(string name)
    {
        Span<char> code = ['0', '0', '0', '0'];
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

        return length == 0 ? "" : new string(code);
    }
}

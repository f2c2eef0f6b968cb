using System.Globalization;
using System.Text;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// The match form of a street address, for linkage: Unicode compatibility decomposition,
/// diacritics and case folded as in <see cref="NameNormalizer.Fold"/>, but digits kept; common USPS
/// street suffix and directional abbreviations expanded (table below); a unit designator (APT,
/// APARTMENT, UNIT, STE, SUITE or "#") dropped in front of its unit number, which is kept as written
/// ("Apt E" stays E, not EAST); then everything but letters and digits removed, spaces too. So
/// "123 N. Main St., Apt #4B", "123 north main street 4b" and "123 N Main Street Unit 4B" all become
/// "123NORTHMAINSTREET4B".
/// <list type="table">
/// <item><term>street suffixes</term><description>ST, STR: STREET; AVE, AV: AVENUE; RD: ROAD; DR: DRIVE; LN: LANE;
/// BLVD: BOULEVARD; CT: COURT; PL: PLACE; CIR: CIRCLE; TER: TERRACE; HWY: HIGHWAY; PKWY: PARKWAY;
/// SQ: SQUARE; TRL: TRAIL; CRES: CRESCENT.</description></item>
/// <item><term>directionals</term><description>N, S, E, W: NORTH, SOUTH, EAST, WEST; NE, NW, SE, SW: NORTHEAST,
/// NORTHWEST, SOUTHEAST, SOUTHWEST; only where a directional stands: first, after the house number,
/// a street suffix or another directional ("123 N Main St N.W."), so a letter split off a mistyped word
/// ("Gibso n Circuit") stays a letter.</description></item>
/// </list>
/// Suffixes are expanded wherever they stand ("St James Pl" becomes STREETJAMESPLACE): what matters
/// is that two providers writing the same address the usual ways get the same form. Placeholders
/// ("Unknown", "N/A", "Homeless", "Same as above"...) and forms without a letter (a zip code in the
/// wrong column) have no match form: many children share them, so they must never count as the
/// same address.
/// </summary>
public static class AddressNormalizer
{
    /// <summary>The longest street address accepted, in characters: one line, with room for a unit and a city.</summary>
    public const int MaxLength = 200;

    private static readonly Dictionary<string, string> Suffixes = new(StringComparer.Ordinal)
    {
        ["ST"] = "STREET", ["STR"] = "STREET", ["AVE"] = "AVENUE", ["AV"] = "AVENUE", ["RD"] = "ROAD", ["DR"] = "DRIVE",
        ["LN"] = "LANE", ["BLVD"] = "BOULEVARD", ["CT"] = "COURT", ["PL"] = "PLACE", ["CIR"] = "CIRCLE", ["TER"] = "TERRACE",
        ["HWY"] = "HIGHWAY", ["PKWY"] = "PARKWAY", ["SQ"] = "SQUARE", ["TRL"] = "TRAIL", ["CRES"] = "CRESCENT",
    };

    private static readonly HashSet<string> SuffixWords = [.. Suffixes.Values, "WAY"];

    private static readonly Dictionary<string, string> Directionals = new(StringComparer.Ordinal)
    {
        ["N"] = "NORTH", ["S"] = "SOUTH", ["E"] = "EAST", ["W"] = "WEST",
        ["NE"] = "NORTHEAST", ["NW"] = "NORTHWEST", ["SE"] = "SOUTHEAST", ["SW"] = "SOUTHWEST",
    };

    private static readonly HashSet<string> DirectionWords = [.. Directionals.Values];

    private static readonly HashSet<string> UnitDesignators = new(StringComparer.Ordinal) { "APT", "APARTMENT", "UNIT", "STE", "SUITE" };

    /// <summary>Folded words, joined, that are not addresses.</summary>
    private static readonly HashSet<string> Placeholders = new(StringComparer.Ordinal)
    {
        "UNKNOWN", "UNK", "NA", "NONE", "NULL", "HOMELESS", "REFUSED", "DECLINED", "TBD", "PENDING", "TEST", "X", "XX", "XXX",
        "NOADDRESS", "NOTGIVEN", "NOTPROVIDED", "GENERALDELIVERY", "SAME", "SAMEASABOVE",
    };

    /// <summary>The match form of a street address; null when the address is missing, a placeholder or has no letter.</summary>
    public static string? MatchForm(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return null;
        }

        var words = Words(address);
        if (Placeholders.Contains(string.Concat(words.Select(w => w.Word))))
        {
            return null;
        }

        var builder = new StringBuilder(address.Length + 16);
        var unitNext = false;
        var directionalMayFollow = true;
        for (var i = 0; i < words.Count; i++)
        {
            var (word, afterNumberSign) = words[i];
            if (afterNumberSign || unitNext)
            {
                builder.Append(word);
                unitNext = false;
                directionalMayFollow = false;
            }
            else if (UnitDesignators.Contains(word) && i + 1 < words.Count)
            {
                unitNext = true;
            }
            else
            {
                var expanded = Suffixes.GetValueOrDefault(word)
                    ?? (directionalMayFollow ? Directionals.GetValueOrDefault(word) : null)
                    ?? word;
                builder.Append(expanded);
                directionalMayFollow = char.IsAsciiDigit(expanded[0]) || SuffixWords.Contains(expanded) || DirectionWords.Contains(expanded);
            }
        }

        var form = builder.ToString();
        return form.Any(char.IsAsciiLetter) ? form : null;
    }

    /// <summary>
    /// The folded words of an address: letters and ASCII digits; apostrophes join ("John's" is JOHNS);
    /// any other character separates words; a word after "#" is marked as a unit number.
    /// </summary>
    private static List<(string Word, bool AfterNumberSign)> Words(string address)
    {
        var words = new List<(string Word, bool AfterNumberSign)>();
        var current = new StringBuilder();
        var numberSign = false;
        foreach (var c in address.Normalize(NormalizationForm.FormKD))
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                || c is '\'' or '\u2019' or '\u02BC' or '`')
            {
                continue;
            }

            if (char.IsLetter(c))
            {
                current.Append(char.ToUpperInvariant(NameNormalizer.FoldLetter(c)));
            }
            else if (char.IsAsciiDigit(c))
            {
                current.Append(c);
            }
            else
            {
                if (current.Length > 0)
                {
                    words.Add((current.ToString(), numberSign));
                    current.Clear();
                    numberSign = false;
                }

                numberSign |= c == '#';
            }
        }

        if (current.Length > 0)
        {
            words.Add((current.ToString(), numberSign));
        }

        return words;
    }
}

using System.Globalization;
using System.Text;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// Folds names for matching: Unicode compatibility decomposition, diacritics removed, upper case,
/// letters only (so "O'Brien", "OBrien" and "O Brien" agree). Titles and generational suffixes
/// are dropped, and placeholders never match anyone.
/// </summary>
public static class NameNormalizer
{
    private static readonly HashSet<string> Titles = new(StringComparer.Ordinal) { "MR", "MRS", "MS", "MISS", "DR", "MSTR", "MASTER" };

    private static readonly HashSet<string> Suffixes = new(StringComparer.Ordinal) { "JR", "SR", "II", "III", "IV", "V", "JNR", "SNR" };

    /// <summary>Folded forms that are not names: "Unknown", "Test", "N/A", "Baby Boy"...</summary>
    private static readonly HashSet<string> Placeholders = new(StringComparer.Ordinal)
    {
        "UNKNOWN", "UNK", "TEST", "TESTING", "NA", "NONE", "NULL", "NAME", "NONAME", "NOFIRSTNAME", "NOLASTNAME", "FNU", "LNU",
        "BABY", "BABYBOY", "BABYGIRL", "BOY", "GIRL", "INFANT", "NEWBORN", "CHILD", "STUDENT", "ANONYMOUS", "DOE", "JOHNDOE",
        "JANEDOE", "X", "XX", "XXX", "TBD", "PENDING", "REFUSED",
    };

    /// <summary>Folds diacritics and case and keeps letters only; empty when nothing is left.</summary>
    public static string Fold(string value)
    {
        if (IsPlainAsciiWord(value))
        {
            return value.Trim().ToUpperInvariant();
        }

        var decomposed = value.Normalize(NormalizationForm.FormKD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark)
            {
                continue;
            }

            if (char.IsLetter(c))
            {
                builder.Append(char.ToUpperInvariant(FoldLetter(c)));
            }
            else if (char.IsWhiteSpace(c) && builder.Length > 0 && builder[^1] != ' ')
            {
                builder.Append(' ');
            }
        }

        return builder.ToString().Trim();
    }

    /// <summary>
    /// The matching form of one name part: folded, titles and suffixes dropped, inner spaces
    /// removed; null for a placeholder or an empty name.
    /// </summary>
    public static string? MatchForm(string value)
    {
        if (IsPlainAsciiWord(value))
        {
            var upper = value.Trim().ToUpperInvariant();
            return upper.Length == 0 || Placeholders.Contains(upper) || Titles.Contains(upper) || Suffixes.Contains(upper) ? null : upper;
        }

        var words = Fold(value).Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(w => !Titles.Contains(w) && !Suffixes.Contains(w))
            .ToArray();
        var joined = string.Concat(words);
        if (joined.Length == 0 || Placeholders.Contains(joined) || words.All(Placeholders.Contains))
        {
            return null;
        }

        return joined;
    }

    /// <summary>The generational suffix in a name, such as "JR" or "III", if any.</summary>
    public static string? SuffixOf(string value) =>
        Fold(value).Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(Suffixes.Contains);

    public static PersonName Name(string display) => new(display.Trim(), MatchForm(display));

    /// <summary>
    /// Splits a whole name: "Last, First Middle" when it has a comma, otherwise "First Middle Last".
    /// Titles and suffixes are set aside from the parts.
    /// </summary>
    public static (string First, string? Middle, string Last, string? Suffix) SplitFullName(string fullName)
    {
        var text = fullName.Trim();
        string last;
        string[] givenWords;
        string? suffix = null;
        var comma = text.IndexOf(',', StringComparison.Ordinal);
        if (comma >= 0)
        {
            last = text[..comma].Trim();
            var rest = text[(comma + 1)..].Split([' ', ','], StringSplitOptions.RemoveEmptyEntries).ToList();
            suffix = TakeSuffix(rest);
            givenWords = rest.Where(w => !Titles.Contains(Fold(w))).ToArray();
            var lastWords = last.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
            suffix ??= TakeSuffix(lastWords);
            last = string.Join(' ', lastWords);
        }
        else
        {
            var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !Titles.Contains(Fold(w))).ToList();
            suffix = TakeSuffix(words);
            last = words.Count > 0 ? words[^1] : "";
            givenWords = words.Count > 1 ? words[..^1].ToArray() : [];
        }

        var first = givenWords.Length > 0 ? givenWords[0] : "";
        var middle = givenWords.Length > 1 ? string.Join(' ', givenWords[1..]) : null;
        return (first, middle, last, suffix);
    }

    private static string? TakeSuffix(List<string> words)
    {
        if (words.Count > 1 && Suffixes.Contains(Fold(words[^1])))
        {
            var suffix = Fold(words[^1]);
            words.RemoveAt(words.Count - 1);
            return suffix;
        }

        return null;
    }

    /// <summary>The common case, folded without decomposition: one word of ASCII letters, maybe padded with spaces.</summary>
    private static bool IsPlainAsciiWord(string value)
    {
        var span = value.AsSpan().Trim(' ');
        if (span.IsEmpty)
        {
            return false;
        }

        foreach (var c in span)
        {
            if (!char.IsAsciiLetter(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Letters that compatibility decomposition leaves whole, folded to their base letter.</summary>
    internal static char FoldLetter(char c) => c switch
    {
        'ß' => 's',
        'ø' or 'Ø' => 'o',
        'đ' or 'Đ' => 'd',
        'ł' or 'Ł' => 'l',
        'æ' or 'Æ' => 'a',
        'œ' or 'Œ' => 'o',
        'þ' or 'Þ' => 't',
        'ı' => 'i',
        _ => c,
    };
}

using System.Buffers;
using System.Text;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// The rule for control characters in a cell. Layout characters a quoted cell may legitimately hold
/// (tab, line feed, carriage return, vertical tab, form feed, next line, line and paragraph
/// separators) are removed: each run of them, with the spaces around it, becomes one space, so a
/// value stays on one line. Every other control character (U+0000 to U+001F and U+007F to U+009F,
/// NUL included) is refused: the row is rejected, because such a character is corruption or an
/// attack on whatever later displays the value, and removing it could silently change who a name is.
/// </summary>
public static class ControlCharacters
{
    private static readonly SearchValues<char> Any = SearchValues.Create(
        Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7F, 0x21)).Select(c => (char)c).Append('\u2028').Append('\u2029').ToArray());

    /// <summary>The reason a cell with a refused control character is rejected; it never quotes the value.</summary>
    public const string RefusedReason = "contains a control character (U+0000 to U+001F or U+007F to U+009F) other than a tab or line break";

    /// <summary>Whether the character may stand in a cell where it becomes a space.</summary>
    public static bool IsLayout(char c) => c is '\t' or '\n' or '\r' or '\v' or '\f' or '\u0085' or '\u2028' or '\u2029';

    /// <summary>
    /// The cell with layout characters turned into single spaces, or null when it holds a refused
    /// control character. A cell without any comes back as it is.
    /// </summary>
    public static string? Clean(string value)
    {
        var first = value.AsSpan().IndexOfAny(Any);
        if (first < 0)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        builder.Append(value, 0, first);
        for (var i = first; i < value.Length; i++)
        {
            var c = value[i];
            if (IsLayout(c))
            {
                while (builder.Length > 0 && builder[^1] == ' ')
                {
                    builder.Length--;
                }

                builder.Append(' ');
                while (i + 1 < value.Length && (value[i + 1] == ' ' || IsLayout(value[i + 1])))
                {
                    i++;
                }
            }
            else if (char.IsControl(c))
            {
                return null;
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString().Trim();
    }
}

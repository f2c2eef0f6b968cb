using System.Text.RegularExpressions;

namespace ChildShare.Tests.Support;

/// <summary>
/// Whether an identifier appears in a text, as a privacy assertion. A short identifier ("A056") is
/// looked for as a whole word, case-insensitively: as a substring it turns up by chance inside the
/// hexadecimal ids and tokens that logs, audits and exports rightly carry. Longer ones anywhere.
/// </summary>
public static partial class IdentifierSearch
{
    public const int SubstringMinimumLength = 8;

    public static bool AppearsIn(string text, string identifier)
    {
        if (identifier.Length == 0)
        {
            return false;
        }

        return identifier.Length >= SubstringMinimumLength
            ? text.Contains(identifier, StringComparison.OrdinalIgnoreCase)
            : Words().Split(text).Contains(identifier, StringComparer.OrdinalIgnoreCase);
    }

    [GeneratedRegex("[^A-Za-z0-9]+")]
    private static partial Regex Words();
}

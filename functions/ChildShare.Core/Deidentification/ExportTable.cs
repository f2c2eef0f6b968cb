using System.Text;
using System.Text.Json;

namespace ChildShare.Core.Deidentification;

/// <summary>An export's rows as columns of strings (empty: no value), and their JSON and CSV forms.</summary>
public sealed record ExportTable(IReadOnlyList<string> Columns, IReadOnlyList<string[]> Rows)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>RFC 4180 CSV with a header row, UTF-8; Power BI reads it as is.</summary>
    public string ToCsv()
    {
        var text = new StringBuilder();
        text.AppendJoin(',', Columns.Select(Quote)).Append("\r\n");
        foreach (var row in Rows)
        {
            text.AppendJoin(',', row.Select(Quote)).Append("\r\n");
        }

        return text.ToString();
    }

    /// <summary>The rows as JSON objects (column name to value).</summary>
    public List<Dictionary<string, string>> ToObjects() =>
        Rows.Select(r => Columns.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => r[p.i], StringComparer.Ordinal)).ToList();

    public string ToJson(object metadata) => JsonSerializer.Serialize(new Dictionary<string, object> { ["value"] = ToObjects(), ["metadata"] = metadata }, Json);

    private static string Quote(string value)
    {
        // A leading =, +, - or @ would be a formula in a spreadsheet.
        var safe = value.Length > 0 && "=+-@".Contains(value[0], StringComparison.Ordinal) ? "'" + value : value;
        return safe.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + safe.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : safe;
    }
}

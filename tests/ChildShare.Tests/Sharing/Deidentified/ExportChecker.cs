using System.Text.RegularExpressions;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Sharing.Deidentified;

/// <summary>
/// An independent check of an export, written without the engine's code: it regroups the exported
/// rows by their quasi-identifier columns (exactly as a recipient could) and fails if any
/// equivalence class has fewer than k rows or if any identifier of the input appears anywhere in
/// the output: names, local ids, child keys, local tokens, provider ids, exact dates, five-digit zips.
/// </summary>
internal static partial class ExportChecker
{
    public static readonly string[] QuasiIdentifierColumns = ["age", "sex", "race", "ethnicity", "zip3", "grade", "school"];

    /// <summary>The problems found; empty when the export is k-anonymous and free of identifiers.</summary>
    public static List<string> Problems(IReadOnlyList<string> columns, IReadOnlyList<string[]> rows, int k, IEnumerable<string> identifiers, bool childRows = true)
    {
        var problems = new List<string>();
        if (childRows)
        {
            var qi = columns.Select((c, i) => (c, i)).Where(p => QuasiIdentifierColumns.Contains(p.c)).Select(p => p.i).ToArray();
            var classes = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var row in rows)
            {
                var key = string.Join("\u0001", qi.Select(i => row[i]));
                classes[key] = classes.GetValueOrDefault(key) + 1;
            }

            foreach (var (key, count) in classes.Where(c => c.Value < k))
            {
                problems.Add($"equivalence class of {count} < k={k}: {key.Replace('\u0001', '|')}");
            }

            var ids = columns.ToList().IndexOf("researchId");
            if (ids >= 0 && rows.Select(r => r[ids]).Distinct().Count() != rows.Count)
            {
                problems.Add("a research id appears on two child rows");
            }
        }

        var forbidden = identifiers.Where(s => !string.IsNullOrWhiteSpace(s) && s.Length >= 3).Select(s => s.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                var value = row[i];
                var column = columns[i];
                if (column != "researchId" && ExactDate().IsMatch(value))
                {
                    problems.Add($"exact date in {column}: {value}");
                }

                if (column != "researchId" && FiveDigits().IsMatch(value))
                {
                    problems.Add($"five digits (a zip or id) in {column}: {value}");
                }

                foreach (var id in forbidden)
                {
                    if (IdentifierSearch.AppearsIn(value, id))
                    {
                        problems.Add($"identifier in {column}: {value} (matches \"{id}\")");
                    }
                }
            }
        }

        foreach (var column in columns)
        {
            if (Regex.IsMatch(column, "name|phone|email|address|guardian|ssn|street|birth|dob|child.?key|provider|localid|stateid", RegexOptions.IgnoreCase))
            {
                problems.Add($"identifying column {column}");
            }
        }

        return problems.Distinct().Take(50).ToList();
    }

    public static void AssertSafe(IReadOnlyList<string> columns, IReadOnlyList<string[]> rows, int k, IEnumerable<string> identifiers, bool childRows = true)
    {
        var problems = Problems(columns, rows, k, identifiers, childRows);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>Parses the CSV the export writes (RFC 4180).</summary>
    public static (List<string> Columns, List<string[]> Rows) ParseCsv(string csv)
    {
        var records = new List<string[]>();
        var field = new System.Text.StringBuilder();
        var record = new List<string>();
        var quoted = false;
        for (var i = 0; i < csv.Length; i++)
        {
            var c = csv[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < csv.Length && csv[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') { quoted = false; }
                else { field.Append(c); }
            }
            else if (c == '"') { quoted = true; }
            else if (c == ',') { record.Add(field.ToString()); field.Clear(); }
            else if (c == '\n') { record.Add(field.ToString()); field.Clear(); records.Add([.. record]); record.Clear(); }
            else if (c != '\r') { field.Append(c); }
        }

        return (records[0].ToList(), records.Skip(1).ToList());
    }

    [GeneratedRegex(@"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b")]
    private static partial Regex ExactDate();

    [GeneratedRegex(@"\d{5}")]
    private static partial Regex FiveDigits();
}

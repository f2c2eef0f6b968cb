using System.Globalization;
using System.Text;

namespace ChildShare.Core.Reporting;

/// <summary>Report rows as CSV (RFC 4180): a header of <see cref="ReportRow.Columns"/> always, then one line per row.</summary>
public static class ReportCsv
{
    public static string Write(IEnumerable<ReportRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder();
        text.Append(string.Join(',', ReportRow.Columns)).Append("\r\n");
        foreach (var row in rows)
        {
            string[] cells =
            [
                row.PeriodStart, row.PeriodEnd, row.RowType, row.Provider, row.Program, row.ServiceType, row.Sex, row.Race, row.Ethnicity,
                row.AgeBand, row.Grade, row.Zip3, row.Children?.ToString(CultureInfo.InvariantCulture) ?? "", row.Suppressed ? "true" : "false", row.SuppressionReason,
            ];
            text.Append(string.Join(',', cells.Select(Quote))).Append("\r\n");
        }

        return text.ToString();
    }

    /// <summary>Reads rows written by <see cref="Write"/> (for tests and clients).</summary>
    public static List<ReportRow> Read(string csv)
    {
        ArgumentNullException.ThrowIfNull(csv);
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        return lines.Skip(1).Select(line =>
        {
            var c = Split(line);
            return new ReportRow(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11],
                c[12].Length == 0 ? null : long.Parse(c[12], CultureInfo.InvariantCulture), c[13] == "true", c[14]);
        }).ToList();
    }

    private static string Quote(string value) =>
        value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    private static List<string> Split(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (ch == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(ch);
                }
            }
            else if (ch == '"')
            {
                quoted = true;
            }
            else if (ch == ',')
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(ch);
            }
        }

        cells.Add(cell.ToString());
        return cells;
    }
}

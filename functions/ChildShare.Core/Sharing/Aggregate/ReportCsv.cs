using System.Globalization;
using ChildShare.Core.Activity;
using ChildShare.Core.Csv;

namespace ChildShare.Core.Sharing.Aggregate;

/// <summary>Report rows as CSV in the <see cref="SafeCsv"/> dialect: a header of <see cref="ReportRow.Columns"/> always, then one line per row.</summary>
public static class ReportCsv
{
    public static string Write(IEnumerable<ReportRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return SafeCsv.ToText(ReportRow.Columns, rows.Select(row => (IReadOnlyList<string>)
        [
            row.PeriodStart, row.PeriodEnd, row.RowType, row.Provider, row.Program, row.ServiceType, row.Sex, row.Race, row.Ethnicity,
            row.AgeBand, row.Grade, row.Zip3, row.Children?.ToString(CultureInfo.InvariantCulture) ?? "", row.Suppressed ? "true" : "false", row.SuppressionReason,
        ]));
    }

    /// <summary>Reads rows written by <see cref="Write"/> (for tests and clients); guarded labels keep their leading apostrophe.</summary>
    public static List<ReportRow> Read(string csv)
    {
        ArgumentNullException.ThrowIfNull(csv);
        return SafeCsv.Read(csv).Skip(1).Select(c =>
            new ReportRow(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11],
                c[12].Length == 0 ? null : long.Parse(c[12], CultureInfo.InvariantCulture), c[13] == "true", c[14])).ToList();
    }
}

using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Sharing.Aggregate;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>
/// The report's counting, suppression (the real <see cref="CellSuppressor"/>) and protection (the
/// real <see cref="DifferencingGuard"/>) over an in-memory community, to try many communities
/// quickly; <see cref="CombinedReportsAttackTests"/> runs the real service on Azurite.
/// </summary>
internal static class MiniReport
{
    /// <summary>One report; <paramref name="labels"/> labels hidden cells primary or complementary, as an earlier version published them.</summary>
    public static DifferencingAttacker.Published Publish(IReadOnlyList<MiniChild> children, DateOnly from, DateOnly to, string[] groupBy, int minimum, DifferencingProtection protection, bool labels = false)
    {
        var active = children.Where(c => c.First <= to && c.Last >= from).ToList();
        string V(MiniChild c, string d) => d switch { "race" => c.Race, "ageBand" => c.AgeBand, "sex" => c.Sex, "ethnicity" => c.Ethnicity, _ => throw new ArgumentException(d) };
        var values = groupBy.Select(d => (IReadOnlyList<string>)active.Select(c => V(c, d)).Distinct().Order(StringComparer.Ordinal).ToList()).ToList();
        var table = new CellTable(values);
        var counts = table.Keys.ToDictionary(k => k, _ => 0L);
        foreach (var child in active)
        {
            for (var mask = 0; mask < 1 << groupBy.Length; mask++)
            {
                var c = new int[groupBy.Length];
                for (var i = 0; i < groupBy.Length; i++)
                {
                    c[i] = (mask & (1 << i)) != 0 ? CellTable.All : values[i].ToList().IndexOf(V(child, groupBy[i]));
                }

                counts[CellTable.Encode(c)]++;
            }
        }

        var hidden = CellSuppressor.Suppress(table, counts, minimum);
        var rows = new List<ReportRow>();
        foreach (var key in table.Keys)
        {
            string Column(string d)
            {
                var i = Array.IndexOf(groupBy, d);
                if (i < 0)
                {
                    return ReportDimensions.AllValues;
                }

                var c = table.Coordinate(key, i);
                return c == CellTable.All ? ReportDimensions.AllValues : values[i][c];
            }

            var isHidden = hidden.TryGetValue(key, out var reason);
            rows.Add(new ReportRow($"{from:yyyy-MM-dd}", $"{to:yyyy-MM-dd}", "cell", "(all)", "(all)", "(all)", Column("sex"), Column("race"), Column("ethnicity"), Column("ageBand"),
                "(all)", "(all)", isHidden ? null : DifferencingGuard.Protect(counts[key], protection, new byte[32], key.ToString(System.Globalization.CultureInfo.InvariantCulture)), isHidden,
                isHidden ? (!labels ? ReportRow.Suppression : reason switch { SuppressionReason.Primary => "primary", SuppressionReason.Complementary => "complementary", _ => "inside" }) : ""));
        }

        return new DifferencingAttacker.Published(from, to, groupBy, rows, minimum, protection.ToString());
    }
}

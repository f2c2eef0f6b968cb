using System.Text.Json.Serialization;
using ChildShare.Core.Activity;

namespace ChildShare.Core.Sharing.Aggregate;

/// <summary>Why a cell is not shown.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SuppressionReason>))]
public enum SuppressionReason
{
    /// <summary>Its count is between 1 and the agreement's minimum cell size less one.</summary>
    Primary,

    /// <summary>Its count is safe, but it is hidden so that no primary cell can be recomputed from it.</summary>
    Complementary,

    /// <summary>
    /// A zero inside a primary cell (the same values on the primary cell's dimensions, spelled out on
    /// others). Shown, it would tell that every child of the small group shares the remaining values
    /// (no Male Pacific Islander child: the one or few there are all Female).
    /// </summary>
    InsideSmallCell,
}

/// <summary>
/// Small-cell suppression with complementary suppression over a <see cref="CellTable"/>.
/// <list type="number">
/// <item>Primary: every cell (interior or margin) with 1 to minimum-1 children. Zero is shown as zero,
/// except inside a primary cell: there a zero would give away a value the whole small group shares, so
/// it is hidden too (the cells inside a small cell are all small or zero, so the whole small group is hidden).</item>
/// <item>Line rule: every line (a margin and the cells that add up to it) holds either no hidden cell or at
/// least two, so no hidden cell is one subtraction away from known numbers. Where a line holds exactly one,
/// the smallest non-zero shown member of that line is hidden too (the margin only when no member
/// qualifies); repeated until no line changes.</item>
/// <item>System check: the hidden cells are the unknowns of the linear system of every line; a hidden cell
/// whose value the whole system determines (a combination of several lines, as in 2- and 3-way tables)
/// gets one more complementary cell from one of its lines, and the check repeats.</item>
/// </list>
/// The result never lets a hidden count be recomputed exactly by adding and subtracting published
/// cells. It does not hide bounds (a hidden cell is known to lie between 0 and its margin).
/// </summary>
public static class CellSuppressor
{
    /// <summary>The largest number of hidden cells the system check solves exactly; above it the line rule stands alone.</summary>
    public const int SystemCheckLimit = 300;

    public static Dictionary<long, SuppressionReason> Suppress(CellTable table, IReadOnlyDictionary<long, long> counts, int minimumCellSize)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(counts);
        var hidden = new Dictionary<long, SuppressionReason>();
        foreach (var key in table.Keys)
        {
            var count = counts.GetValueOrDefault(key);
            if (count > 0 && count < minimumCellSize)
            {
                hidden[key] = SuppressionReason.Primary;
            }
        }

        if (hidden.Count == 0)
        {
            return hidden;
        }

        HideZerosInsideSmallCells(table, counts, hidden);

        var lines = table.Lines().ToList();
        for (var round = 0; round < table.Keys.Count; round++)
        {
            if (ApplyLineRule(lines, counts, hidden))
            {
                continue;
            }

            // Hidden zeros count as unknowns while the whole system fits the limit; beyond it they are
            // left out (taken as known, as when zeros were shown), so they never switch the check off
            // for the small cells it protected before.
            var unknowns = hidden.Count <= SystemCheckLimit ? hidden.Keys.ToList() : hidden.Where(h => h.Value != SuppressionReason.InsideSmallCell).Select(h => h.Key).ToList();
            var determined = unknowns.Count <= SystemCheckLimit ? DeterminedCells(lines, unknowns).FirstOrDefault(-1) : -1;
            if (determined == -1)
            {
                break;
            }

            var candidate = NearestCandidate(lines, counts, hidden, determined);
            if (candidate == -1)
            {
                break;
            }

            hidden[candidate] = SuppressionReason.Complementary;
        }

        return hidden;
    }

    /// <summary>
    /// Hides every zero cell one of whose margins (the cell with some of its values summed over) is
    /// primary, unless a margin of it is a zero that stays shown: then every child's absence from it
    /// is public already. Coarser cells are decided first, so a hidden zero hides the zeros inside it
    /// too (shown, they would add up to it). A cell has at most 3 values, so at most 7 margins.
    /// </summary>
    private static void HideZerosInsideSmallCells(CellTable table, IReadOnlyDictionary<long, long> counts, Dictionary<long, SuppressionReason> hidden)
    {
        foreach (var key in table.Keys.Where(k => counts.GetValueOrDefault(k) == 0 && !hidden.ContainsKey(k)).OrderByDescending(table.Level))
        {
            var valued = Enumerable.Range(0, table.Dimensions).Where(d => table.Coordinate(key, d) != CellTable.All).ToArray();
            var insideSmall = false;
            var publicZero = false;
            for (var mask = 1; mask < 1 << valued.Length; mask++)
            {
                var margin = key;
                for (var i = 0; i < valued.Length; i++)
                {
                    if ((mask & (1 << i)) != 0)
                    {
                        margin = table.With(margin, valued[i], CellTable.All);
                    }
                }

                hidden.TryGetValue(margin, out var reason);
                insideSmall |= hidden.ContainsKey(margin) && reason == SuppressionReason.Primary;
                publicZero |= counts.GetValueOrDefault(margin) == 0 && !hidden.ContainsKey(margin);
            }

            if (insideSmall && !publicZero)
            {
                hidden[key] = SuppressionReason.InsideSmallCell;
            }
        }
    }

    /// <summary>
    /// The smallest non-zero shown cell in the lines of <paramref name="determined"/>; if those lines
    /// have none, in the lines of the hidden cells it is tied to, and so on outward.
    /// </summary>
    private static long NearestCandidate(List<(long Total, long[] Members)> lines, IReadOnlyDictionary<long, long> counts, Dictionary<long, SuppressionReason> hidden, long determined)
    {
        var visited = new HashSet<long> { determined };
        var frontier = new List<long> { determined };
        while (frontier.Count > 0)
        {
            var touching = lines.Where(l => frontier.Contains(l.Total) || l.Members.Any(frontier.Contains)).SelectMany(l => l.Members.Append(l.Total)).Distinct().ToList();
            var candidate = touching.Where(k => !hidden.ContainsKey(k) && counts.GetValueOrDefault(k) > 0)
                .OrderBy(k => counts.GetValueOrDefault(k)).ThenBy(k => k).FirstOrDefault(-1);
            if (candidate != -1)
            {
                return candidate;
            }

            frontier = touching.Where(k => hidden.ContainsKey(k) && visited.Add(k)).ToList();
        }

        return -1;
    }

    private static bool ApplyLineRule(List<(long Total, long[] Members)> lines, IReadOnlyDictionary<long, long> counts, Dictionary<long, SuppressionReason> hidden)
    {
        var changed = false;
        var pass = true;
        while (pass)
        {
            pass = false;
            foreach (var (total, members) in lines)
            {
                var unknown = (hidden.ContainsKey(total) ? 1 : 0) + members.Count(hidden.ContainsKey);
                if (unknown != 1)
                {
                    continue;
                }

                var candidate = members.Where(m => !hidden.ContainsKey(m) && counts.GetValueOrDefault(m) > 0)
                    .OrderBy(m => counts.GetValueOrDefault(m)).ThenBy(m => m).FirstOrDefault(-1);
                if (candidate == -1 && !hidden.ContainsKey(total) && counts.GetValueOrDefault(total) > 0)
                {
                    candidate = total;
                }

                if (candidate != -1)
                {
                    hidden[candidate] = SuppressionReason.Complementary;
                    changed = pass = true;
                }
            }
        }

        return changed;
    }

    /// <summary>
    /// The hidden cells whose value the system of all lines determines: reduced row echelon form of
    /// the lines' coefficients over the hidden cells; a hidden cell is determined when its pivot row
    /// has no other unknown left in it.
    /// </summary>
    public static IEnumerable<long> DeterminedCells(IReadOnlyList<(long Total, long[] Members)> lines, IReadOnlyList<long> hiddenCells)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(hiddenCells);
        var column = new Dictionary<long, int>();
        for (var i = 0; i < hiddenCells.Count; i++)
        {
            column[hiddenCells[i]] = i;
        }

        var n = hiddenCells.Count;
        var rows = new List<double[]>();
        foreach (var (total, members) in lines)
        {
            double[]? row = null;
            foreach (var member in members)
            {
                if (column.TryGetValue(member, out var c))
                {
                    row ??= new double[n];
                    row[c] += 1;
                }
            }

            if (column.TryGetValue(total, out var t))
            {
                row ??= new double[n];
                row[t] -= 1;
            }

            if (row is not null)
            {
                rows.Add(row);
            }
        }

        var pivots = Reduce(rows, n);
        foreach (var (pivotColumn, row) in pivots)
        {
            var alone = true;
            for (var c = 0; c < n && alone; c++)
            {
                alone = c == pivotColumn || Math.Abs(row[c]) < 1e-9;
            }

            if (alone)
            {
                yield return hiddenCells[pivotColumn];
            }
        }
    }

    private static List<(int Column, double[] Row)> Reduce(List<double[]> rows, int n)
    {
        var pivots = new List<(int, double[])>();
        var r = 0;
        for (var c = 0; c < n && r < rows.Count; c++)
        {
            var best = -1;
            for (var i = r; i < rows.Count; i++)
            {
                if (Math.Abs(rows[i][c]) > 1e-9 && (best == -1 || Math.Abs(rows[i][c]) > Math.Abs(rows[best][c])))
                {
                    best = i;
                }
            }

            if (best == -1)
            {
                continue;
            }

            (rows[r], rows[best]) = (rows[best], rows[r]);
            var pivot = rows[r];
            var scale = pivot[c];
            for (var j = 0; j < n; j++)
            {
                pivot[j] /= scale;
            }

            for (var i = 0; i < rows.Count; i++)
            {
                if (i == r || Math.Abs(rows[i][c]) < 1e-12)
                {
                    continue;
                }

                var factor = rows[i][c];
                var other = rows[i];
                for (var j = 0; j < n; j++)
                {
                    other[j] -= factor * pivot[j];
                }
            }

            pivots.Add((c, pivot));
            r++;
        }

        return pivots;
    }
}

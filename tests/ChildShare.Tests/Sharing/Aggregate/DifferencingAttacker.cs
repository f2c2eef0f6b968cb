using ChildShare.Core.Activity;
using ChildShare.Core.Sharing.Aggregate;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>
/// An adversary who holds an API key and combines every report it asked for, written independently
/// of the suppressor. Each published count becomes what the documentation lets a reader infer:
/// <list type="bullet">
/// <item>a shown count: exact under <c>None</c>; under <c>Round5</c> the five values that round to it
/// (0 is exact, 5 means 1 to 7); under <c>Noise</c> the value plus or minus 2 (never below 1). A shown
/// count other than 0 is at least the minimum cell size (smaller counts are always hidden).</item>
/// <item>a hidden count: 1 to minimum-1 when labelled <c>primary</c>, at least the minimum when
/// labelled <c>complementary</c> (labels an earlier version published); otherwise zero or more (zeros
/// inside a small cell are hidden).</item>
/// </list>
/// Relations: every line of every table (a margin is the sum of its cells, for one-value-per-child
/// dimensions); the same cell in reports of different groupings over the same period is one
/// unknown; a period inside another counts no more children in any cell, and the difference of the
/// two periods obeys the same lines (every child is counted once); a period covered by two others
/// counts no more than both together. Solved by interval propagation and exact elimination to a
/// fixed point; what is left is the attacker's knowledge: a hidden cell whose interval is a single
/// value is recovered.
/// </summary>
internal sealed class DifferencingAttacker
{
    private const long Infinity = long.MaxValue / 8;

    private readonly List<Published> _reports = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly List<long> _lo = [];
    private readonly List<long> _hi = [];
    private readonly HashSet<int> _hidden = [];
    private readonly HashSet<int> _shown = [];
    private readonly List<Constraint> _constraints = [];

    /// <summary>One report the attacker received: its period, grouping, rows and the receipt's minimum cell size and protection.</summary>
    public sealed record Published(DateOnly From, DateOnly To, IReadOnlyList<string> GroupBy, IReadOnlyList<ReportRow> Rows, int MinimumCellSize, string Protection);

    private sealed record Constraint(int[] Variables, long[] Coefficients, bool Equality);

    public int Reports => _reports.Count;

    public void Observe(Published report)
    {
        ArgumentNullException.ThrowIfNull(report);
        _reports.Add(report);
        var rows = report.Rows.ToDictionary(r => CellOf(report.GroupBy, r), StringComparer.Ordinal);
        foreach (var (cell, row) in rows)
        {
            var v = Variable(Name(report.From, report.To, cell));
            var (lo, hi) = Bounds(row, report);
            Tighten(v, lo, hi);
            (row.Suppressed ? _hidden : _shown).Add(v);
        }

        // Lines: a cell with a one-value-per-child dimension summed over is the sum of the cells that spell it out.
        var exact = report.GroupBy.Select(d => !ReportDimensions.MultiValued.Contains(d)).ToArray();
        var values = report.GroupBy.Select(d => report.Rows.Select(r => Value(r, d)).Where(v => v != ReportDimensions.AllValues).Distinct().ToList()).ToList();
        foreach (var row in report.Rows)
        {
            for (var d = 0; d < report.GroupBy.Count; d++)
            {
                if (!exact[d] || Value(row, report.GroupBy[d]) != ReportDimensions.AllValues)
                {
                    continue;
                }

                var members = values[d].Select(value => Name(report.From, report.To, CellOf(report.GroupBy, row, report.GroupBy[d], value))).ToList();
                Add([Variable(Name(report.From, report.To, CellOf(report.GroupBy, row))), .. members.Select(Variable)], [-1, .. members.Select(_ => 1L)], equality: true);
            }
        }
    }

    /// <summary>The cells hidden in every report that showed them whose exact count the reports together give away.</summary>
    public Dictionary<string, long> Recovered()
    {
        LinkPeriods();
        Solve();
        return _hidden.Where(v => !_shown.Contains(v) && _lo[v] == _hi[v]).ToDictionary(v => _names[v], v => _lo[v], StringComparer.Ordinal);
    }

    /// <summary>What the attacker knows of a cell (after <see cref="Recovered"/>), e.g. <c>2026-09-01..2026-09-30|race=Asian</c>.</summary>
    public (long Lo, long Hi) Interval(string name) => _index.TryGetValue(name, out var v) ? (_lo[v], _hi[v]) : (0, Infinity);

    public static string Name(DateOnly from, DateOnly to, string cell) => $"{from:yyyy-MM-dd}..{to:yyyy-MM-dd}|{cell}";

    private static (long Lo, long Hi) Bounds(ReportRow row, Published report)
    {
        var m = report.MinimumCellSize;
        if (row.Suppressed)
        {
            // Labels a reader could use (main published them): primary 1 to minimum-1, complementary at least the minimum.
            // A hidden cell without such a label may be a zero inside a small cell.
            return row.SuppressionReason switch { "primary" => (1, m - 1), "complementary" => (m, Infinity), _ => (0, Infinity) };
        }

        var v = row.Children!.Value;
        if (v == 0)
        {
            return (0, 0);
        }

        var (lo, hi) = report.Protection switch
        {
            "None" => (v, v),
            "Round5" => v == 5 ? (1L, 7L) : (v - 2, v + 2),
            "Noise" => (Math.Max(1, v - 2), v + 2),
            _ => throw new InvalidOperationException("Unknown protection " + report.Protection),
        };
        return (Math.Max(lo, m), hi);
    }

    /// <summary>Relations between reports of the same grouping over nested periods, and over a period covered by two others.</summary>
    private void LinkPeriods()
    {
        var groupings = _reports.GroupBy(r => string.Join(',', r.GroupBy.Order(StringComparer.Ordinal)), StringComparer.Ordinal);
        foreach (var same in groupings)
        {
            var reports = same.DistinctBy(r => (r.From, r.To)).ToList();
            foreach (var outer in reports)
            {
                foreach (var inner in reports.Where(r => r != outer && r.From >= outer.From && r.To <= outer.To))
                {
                    Nested(inner, outer);
                }

                foreach (var a in reports.Where(r => r != outer && r.From == outer.From && r.To < outer.To))
                {
                    foreach (var b in reports.Where(r => r != outer && r.To == outer.To && r.From > outer.From && r.From <= a.To.AddDays(1)))
                    {
                        Covered(outer, a, b);
                    }
                }
            }
        }
    }

    private IEnumerable<string> Cells(Published report) => report.Rows.Select(r => CellOf(report.GroupBy, r));

    /// <summary>
    /// A cell can be compared across periods only when every child keeps its value: age bands are
    /// taken on the first day of the period, so they compare only between periods that start together.
    /// </summary>
    private static bool Comparable(string cell, params Published[] reports) =>
        !cell.Contains(ReportDimensions.AgeBand + "=", StringComparison.Ordinal) || reports.All(r => r.From == reports[0].From);

    private void Nested(Published inner, Published outer)
    {
        // delta = outer - inner >= 0 for every cell, and deltas obey the outer table's lines.
        var deltas = new Dictionary<string, int>(StringComparer.Ordinal);
        var innerCells = Cells(inner).ToHashSet(StringComparer.Ordinal);
        foreach (var cell in Cells(outer).Where(c => Comparable(c, inner, outer)))
        {
            var delta = Variable($"delta {Name(inner.From, inner.To, cell)} in {outer.From:yyyy-MM-dd}..{outer.To:yyyy-MM-dd}");
            Tighten(delta, 0, Infinity);
            deltas[cell] = delta;
            var o = Variable(Name(outer.From, outer.To, cell));
            if (innerCells.Contains(cell))
            {
                Add([delta, o, Variable(Name(inner.From, inner.To, cell))], [1, -1, 1], equality: true);
            }
            else
            {
                // A value the inner period never saw: no child of the inner period has it.
                Add([delta, o], [1, -1], equality: true);
            }
        }

        var values = outer.GroupBy.Select(d => outer.Rows.Select(r => Value(r, d)).Where(v => v != ReportDimensions.AllValues).Distinct().ToList()).ToList();
        foreach (var row in outer.Rows)
        {
            var cell = CellOf(outer.GroupBy, row);
            for (var d = 0; d < outer.GroupBy.Count; d++)
            {
                if (ReportDimensions.MultiValued.Contains(outer.GroupBy[d]) || Value(row, outer.GroupBy[d]) != ReportDimensions.AllValues || !deltas.ContainsKey(cell))
                {
                    continue;
                }

                var members = values[d].Select(v => CellOf(outer.GroupBy, row, outer.GroupBy[d], v)).ToList();
                if (members.All(deltas.ContainsKey))
                {
                    Add([deltas[cell], .. members.Select(m => deltas[m])], [-1, .. members.Select(_ => 1L)], equality: true);
                }
            }
        }
    }

    private void Covered(Published union, Published a, Published b)
    {
        var inA = Cells(a).ToHashSet(StringComparer.Ordinal);
        var inB = Cells(b).ToHashSet(StringComparer.Ordinal);
        foreach (var cell in Cells(union).Where(c => Comparable(c, union, a, b)))
        {
            var terms = new List<(int, long)> { (Variable(Name(union.From, union.To, cell)), 1) };
            if (inA.Contains(cell))
            {
                terms.Add((Variable(Name(a.From, a.To, cell)), -1));
            }

            if (inB.Contains(cell))
            {
                terms.Add((Variable(Name(b.From, b.To, cell)), -1));
            }

            Add(terms.Select(t => t.Item1).ToArray(), terms.Select(t => t.Item2).ToArray(), equality: false);
        }
    }

    private void Solve()
    {
        for (var round = 0; round < 200; round++)
        {
            var changed = Propagate();
            changed |= Eliminate();
            if (!changed)
            {
                return;
            }
        }
    }

    /// <summary>Interval propagation: each constraint bounds each of its variables by the others' intervals.</summary>
    private bool Propagate()
    {
        var any = false;
        for (var pass = 0; pass < 100; pass++)
        {
            var changed = false;
            foreach (var c in _constraints)
            {
                for (var j = 0; j < c.Variables.Length; j++)
                {
                    // sum_i a_i x_i (= or <=) 0, so a_j x_j (= or <=) -(rest); rest lies in [restLo, restHi].
                    long restLo = 0, restHi = 0;
                    for (var i = 0; i < c.Variables.Length; i++)
                    {
                        if (i == j)
                        {
                            continue;
                        }

                        var (lo, hi) = (_lo[c.Variables[i]], _hi[c.Variables[i]]);
                        restLo = Add(restLo, c.Coefficients[i] > 0 ? lo * c.Coefficients[i] : Multiply(hi, c.Coefficients[i]));
                        restHi = Add(restHi, c.Coefficients[i] > 0 ? Multiply(hi, c.Coefficients[i]) : lo * c.Coefficients[i]);
                    }

                    var a = c.Coefficients[j];
                    var v = c.Variables[j];
                    if (a == 1)
                    {
                        changed |= Tighten(v, c.Equality ? Negate(restHi) : -Infinity, Negate(restLo));
                    }
                    else if (a == -1)
                    {
                        changed |= Tighten(v, restLo, c.Equality ? restHi : Infinity);
                    }
                }
            }

            any |= changed;
            if (!changed)
            {
                break;
            }
        }

        return any;
    }

    /// <summary>
    /// Elimination over the equalities (known values substituted): a row left with one unknown fixes
    /// it; a row left with unit coefficients joins the propagation (e.g. x + y = 2 with x, y at least 1).
    /// Double precision with a tolerance: every coefficient and value here is a small integer.
    /// </summary>
    private bool Eliminate()
    {
        const double Tolerance = 1e-7;
        var unknown = new Dictionary<int, int>();
        var equalities = _constraints.Where(c => c.Equality).ToList();
        foreach (var c in equalities)
        {
            foreach (var v in c.Variables.Where(v => _lo[v] != _hi[v]))
            {
                unknown.TryAdd(v, unknown.Count);
            }
        }

        if (unknown.Count == 0)
        {
            return false;
        }

        var n = unknown.Count;
        var rows = new List<double[]>();
        foreach (var c in equalities)
        {
            var row = new double[n + 1];
            var any = false;
            for (var i = 0; i < c.Variables.Length; i++)
            {
                var v = c.Variables[i];
                if (unknown.TryGetValue(v, out var col))
                {
                    row[col] += c.Coefficients[i];
                    any = true;
                }
                else
                {
                    row[n] -= c.Coefficients[i] * (double)_lo[v];
                }
            }

            if (any)
            {
                rows.Add(row);
            }
        }

        var r = 0;
        for (var col = 0; col < n && r < rows.Count; col++)
        {
            var pivot = -1;
            for (var i = r; i < rows.Count; i++)
            {
                if (Math.Abs(rows[i][col]) > Tolerance && (pivot == -1 || Math.Abs(rows[i][col]) > Math.Abs(rows[pivot][col])))
                {
                    pivot = i;
                }
            }

            if (pivot < 0)
            {
                continue;
            }

            (rows[r], rows[pivot]) = (rows[pivot], rows[r]);
            var top = rows[r];
            var p = top[col];
            for (var j = col; j <= n; j++)
            {
                top[j] /= p;
            }

            for (var i = 0; i < rows.Count; i++)
            {
                var other = rows[i];
                if (i != r && Math.Abs(other[col]) > Tolerance)
                {
                    var f = other[col];
                    for (var j = col; j <= n; j++)
                    {
                        other[j] -= f * top[j];
                    }

                    other[col] = 0;
                }
            }

            r++;
        }

        var variables = unknown.OrderBy(p => p.Value).Select(p => p.Key).ToArray();
        var changed = false;
        static bool Near(double x, double target) => Math.Abs(x - target) < 1e-6;
        foreach (var row in rows.Take(r))
        {
            var nonZero = Enumerable.Range(0, n).Where(c => Math.Abs(row[c]) > Tolerance).ToList();
            var rhs = row[n];
            if (nonZero.Count == 1 && Near(rhs / row[nonZero[0]], Math.Round(rhs / row[nonZero[0]])))
            {
                var exact = (long)Math.Round(rhs / row[nonZero[0]]);
                changed |= Tighten(variables[nonZero[0]], exact, exact);
            }
            else if (nonZero.Count > 1 && nonZero.All(c => Near(Math.Abs(row[c]), 1)) && Near(rhs, Math.Round(rhs)))
            {
                var signature = string.Join(',', nonZero.Select(c => $"{variables[c]}:{Math.Sign(row[c])}")) + "=" + Math.Round(rhs);
                if (_derived.Add(signature))
                {
                    var constant = Constant((long)Math.Round(rhs));
                    Add([.. nonZero.Select(c => variables[c]), constant], [.. nonZero.Select(c => (long)Math.Sign(row[c])), -1], equality: true);
                    changed = true;
                }
            }
        }

        return changed;
    }

    private readonly HashSet<string> _derived = new(StringComparer.Ordinal);

    private int Variable(string name)
    {
        if (!_index.TryGetValue(name, out var v))
        {
            v = _names.Count;
            _index[name] = v;
            _names.Add(name);
            _lo.Add(0);
            _hi.Add(Infinity);
        }

        return v;
    }

    private int Constant(long value)
    {
        var v = Variable("constant " + value);
        (_lo[v], _hi[v]) = (value, value);
        return v;
    }

    private bool Tighten(int v, long lo, long hi)
    {
        var changed = false;
        if (lo > _lo[v])
        {
            _lo[v] = lo;
            changed = true;
        }

        if (hi < _hi[v])
        {
            _hi[v] = hi;
            changed = true;
        }

        if (_lo[v] > _hi[v])
        {
            throw new InvalidOperationException($"The attacker's model is inconsistent at {_names[v]}: [{_lo[v]}, {_hi[v]}].");
        }

        return changed;
    }

    private void Add(int[] variables, long[] coefficients, bool equality) => _constraints.Add(new Constraint(variables, coefficients, equality));

    private static long Add(long a, long b) => Math.Clamp(a + b, -Infinity, Infinity);

    private static long Multiply(long a, long coefficient) => Math.Clamp(a * coefficient, -Infinity, Infinity);

    private static long Negate(long a) => -a;

    /// <summary>The cell a row stands for: its grouped dimensions with a value (not <c>(all)</c>), in grouping order.</summary>
    public static string CellOf(IReadOnlyList<string> groupBy, ReportRow row, string? replaced = null, string? with = null) =>
        string.Join('|', groupBy.Order(StringComparer.Ordinal)
            .Select(d => (d, v: d == replaced ? with! : Value(row, d)))
            .Where(p => p.v != ReportDimensions.AllValues)
            .Select(p => $"{p.d}={p.v}"));

    private static string Value(ReportRow row, string dimension) => dimension switch
    {
        ReportDimensions.Provider => row.Provider,
        ReportDimensions.Program => row.Program,
        ReportDimensions.ServiceType => row.ServiceType,
        ReportDimensions.Sex => row.Sex,
        ReportDimensions.Race => row.Race,
        ReportDimensions.Ethnicity => row.Ethnicity,
        ReportDimensions.AgeBand => row.AgeBand,
        ReportDimensions.Grade => row.Grade,
        ReportDimensions.Zip3 => row.Zip3,
        _ => throw new ArgumentException("Unknown dimension " + dimension),
    };
}

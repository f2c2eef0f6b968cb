using System.Globalization;
using System.Numerics;
using ChildShare.Core.Activity;
using ChildShare.Core.Sharing.Aggregate;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>
/// An attacker's view of a published table, written independently of the suppressor: every line
/// is an equation (margin = sum of its cells); published cells are known numbers, hidden cells
/// unknowns. It recovers what subtraction can: first line by line (one unknown in a line), then
/// by exact Gaussian elimination over all lines at once (rational arithmetic).
/// </summary>
internal static class LineSolver
{
    /// <summary>The hidden cells whose exact value the published table gives away, with that value.</summary>
    public static Dictionary<long, BigRational> Recoverable(CellTable table, IReadOnlyDictionary<long, long> truth, ISet<long> hidden)
    {
        var lines = table.Lines().ToList();
        var known = table.Keys.Where(k => !hidden.Contains(k)).ToDictionary(k => k, k => new BigRational(truth.GetValueOrDefault(k)));
        var recovered = new Dictionary<long, BigRational>();

        // Line by line: a line with exactly one unknown gives it away; repeat with what was learned.
        var progress = true;
        while (progress)
        {
            progress = false;
            foreach (var (total, members) in lines)
            {
                var unknown = members.Append(total).Where(k => !known.ContainsKey(k)).ToList();
                if (unknown.Count != 1)
                {
                    continue;
                }

                var sum = members.Where(known.ContainsKey).Aggregate(BigRational.Zero, (s, k) => s + known[k]);
                var value = unknown[0] == total ? sum : known[total] - sum;
                known[unknown[0]] = value;
                recovered[unknown[0]] = value;
                progress = true;
            }
        }

        // All lines at once: exact reduced row echelon form over the unknowns.
        var unknowns = hidden.Where(h => !known.ContainsKey(h)).ToList();
        var column = unknowns.Select((k, i) => (k, i)).ToDictionary(p => p.k, p => p.i);
        var rows = new List<BigRational[]>();
        foreach (var (total, members) in lines)
        {
            var row = new BigRational[unknowns.Count + 1];
            Array.Fill(row, BigRational.Zero);
            var any = false;
            foreach (var (cell, sign) in members.Select(m => (m, 1)).Append((total, -1)))
            {
                if (column.TryGetValue(cell, out var c))
                {
                    row[c] += new BigRational(sign);
                    any = true;
                }
                else
                {
                    row[^1] -= new BigRational(sign) * known[cell];
                }
            }

            if (any)
            {
                rows.Add(row);
            }
        }

        var r = 0;
        for (var c = 0; c < unknowns.Count && r < rows.Count; c++)
        {
            var pivot = rows.FindIndex(r, x => !x[c].IsZero);
            if (pivot < 0)
            {
                continue;
            }

            (rows[r], rows[pivot]) = (rows[pivot], rows[r]);
            var p = rows[r][c];
            for (var j = 0; j <= unknowns.Count; j++)
            {
                rows[r][j] /= p;
            }

            for (var i = 0; i < rows.Count; i++)
            {
                if (i != r && !rows[i][c].IsZero)
                {
                    var f = rows[i][c];
                    for (var j = 0; j <= unknowns.Count; j++)
                    {
                        rows[i][j] -= f * rows[r][j];
                    }
                }
            }

            r++;
        }

        foreach (var row in rows)
        {
            var nonZero = Enumerable.Range(0, unknowns.Count).Where(c => !row[c].IsZero).ToList();
            if (nonZero.Count == 1)
            {
                recovered[unknowns[nonZero[0]]] = row[^1] / row[nonZero[0]];
            }
        }

        return recovered;
    }
}

/// <summary>A minimal exact fraction.</summary>
internal readonly record struct BigRational
{
    public BigRational(BigInteger numerator, BigInteger? denominator = null)
    {
        var d = denominator ?? BigInteger.One;
        if (d.Sign < 0)
        {
            numerator = -numerator;
            d = -d;
        }

        var g = BigInteger.GreatestCommonDivisor(numerator, d);
        if (g.IsZero)
        {
            g = BigInteger.One;
        }

        Numerator = numerator / g;
        Denominator = d / g;
    }

    public static BigRational Zero => new(0);

    public BigInteger Numerator { get; }

    public BigInteger Denominator { get; }

    public bool IsZero => Numerator.IsZero;

    public static BigRational operator +(BigRational a, BigRational b) => new(a.Numerator * b.Denominator + b.Numerator * a.Denominator, a.Denominator * b.Denominator);

    public static BigRational operator -(BigRational a, BigRational b) => new(a.Numerator * b.Denominator - b.Numerator * a.Denominator, a.Denominator * b.Denominator);

    public static BigRational operator *(BigRational a, BigRational b) => new(a.Numerator * b.Numerator, a.Denominator * b.Denominator);

    public static BigRational operator /(BigRational a, BigRational b) => new(a.Numerator * b.Denominator, a.Denominator * b.Numerator);

    public override string ToString() => Denominator.IsOne ? Numerator.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{Numerator}/{Denominator}");
}

using ChildShare.Core.Activity;

namespace ChildShare.Core.Sharing.Aggregate;

/// <summary>
/// A table of 1 to 3 dimensions with every margin: the interior cells (one value per dimension),
/// every subtotal (some dimensions summed over) and the grand total. A cell's coordinates hold a
/// value index per dimension, or <see cref="All"/> for a dimension summed over. The table's
/// "lines" are the relations a reader could subtract along: a marginal cell and the cells that
/// make it up when one of its summed-over dimensions is spelled out.
/// </summary>
public sealed class CellTable
{
    public const int All = -1;
    private const int Bits = 20;
    private const long Mask = (1L << Bits) - 1;

    public CellTable(IReadOnlyList<IReadOnlyList<string>> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count is < 0 or > 3)
        {
            throw new ArgumentException("A table has at most three dimensions.", nameof(values));
        }

        Values = values;
        Keys = Enumerate(0, new int[values.Count]).ToList();
    }

    /// <summary>The values of each dimension, in order.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Values { get; }

    public int Dimensions => Values.Count;

    /// <summary>Every cell of the table, interior and marginal, in a stable order (interior cells first, grand total last).</summary>
    public IReadOnlyList<long> Keys { get; }

    public static long Encode(ReadOnlySpan<int> coordinates)
    {
        long key = 0;
        for (var i = 0; i < coordinates.Length; i++)
        {
            key |= (coordinates[i] + 1L) << (Bits * i);
        }

        return key;
    }

    public int Coordinate(long key, int dimension) => (int)((key >> (Bits * dimension)) & Mask) - 1;

    public int[] Decode(long key)
    {
        var coordinates = new int[Dimensions];
        for (var i = 0; i < Dimensions; i++)
        {
            coordinates[i] = Coordinate(key, i);
        }

        return coordinates;
    }

    public long With(long key, int dimension, int value) => (key & ~(Mask << (Bits * dimension))) | ((value + 1L) << (Bits * dimension));

    /// <summary>How many dimensions of the cell are summed over: 0 interior, <see cref="Dimensions"/> for the grand total.</summary>
    public int Level(long key) => Enumerable.Range(0, Dimensions).Count(i => Coordinate(key, i) == All);

    /// <summary>Each line: a marginal cell (the total) and the cells that add up to it along one dimension.</summary>
    public IEnumerable<(long Total, long[] Members)> Lines()
    {
        foreach (var total in Keys)
        {
            for (var d = 0; d < Dimensions; d++)
            {
                if (Coordinate(total, d) != All)
                {
                    continue;
                }

                var members = new long[Values[d].Count];
                for (var v = 0; v < members.Length; v++)
                {
                    members[v] = With(total, d, v);
                }

                yield return (total, members);
            }
        }
    }

    private IEnumerable<long> Enumerate(int dimension, int[] coordinates)
    {
        if (dimension == Dimensions)
        {
            yield return Encode(coordinates);
            yield break;
        }

        // Interior values first, the summed-over value last, so interior cells precede margins.
        for (var v = 0; v <= Values[dimension].Count; v++)
        {
            coordinates[dimension] = v == Values[dimension].Count ? All : v;
            foreach (var key in Enumerate(dimension + 1, coordinates))
            {
                yield return key;
            }
        }
    }
}

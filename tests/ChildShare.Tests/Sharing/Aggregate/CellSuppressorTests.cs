using ChildShare.Core.Activity;
using ChildShare.Core.Sharing.Aggregate;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ChildShare.Tests.Sharing.Aggregate;

public sealed class CellSuppressorTests
{
    /// <summary>An additive table (margins are sums of interior cells) from interior counts.</summary>
    private static (CellTable Table, Dictionary<long, long> Counts) Additive(int[] sizes, Func<int[], long> interior)
    {
        var table = new CellTable(sizes.Select((n, d) => (IReadOnlyList<string>)Enumerable.Range(0, n).Select(v => $"d{d}v{v}").ToList()).ToList());
        var counts = table.Keys.ToDictionary(k => k, _ => 0L);
        foreach (var key in table.Keys.Where(k => table.Level(k) == 0))
        {
            var value = interior(table.Decode(key));
            for (var mask = 0; mask < 1 << sizes.Length; mask++)
            {
                var c = table.Decode(key);
                for (var d = 0; d < sizes.Length; d++)
                {
                    if ((mask & (1 << d)) != 0)
                    {
                        c[d] = CellTable.All;
                    }
                }

                counts[CellTable.Encode(c)] += value;
            }
        }

        return (table, counts);
    }

    [Fact]
    public void Suppress_GroupOfOneChild_HiddenWithAComplement()
    {
        var (table, counts) = Additive([3], c => c[0] switch { 0 => 1, 1 => 40, _ => 25 });

        var hidden = CellSuppressor.Suppress(table, counts, 11);

        Assert.Equal(SuppressionReason.Primary, hidden[CellTable.Encode([0])]);
        Assert.Equal(SuppressionReason.Complementary, hidden[CellTable.Encode([2])]);
        Assert.Equal(2, hidden.Count);
        Assert.Empty(LineSolver.Recoverable(table, counts, hidden.Keys.ToHashSet()));
    }

    [Fact]
    public void Suppress_CellRecoverableFromTotal_NotRecoverable()
    {
        // Without complementary suppression 3 = 53 - 20 - 30: the classic total attack.
        var (table, counts) = Additive([3], c => c[0] switch { 0 => 3, 1 => 20, _ => 30 });

        var hidden = CellSuppressor.Suppress(table, counts, 11).Keys.ToHashSet();

        Assert.Contains(CellTable.Encode([1]), hidden);
        Assert.Empty(LineSolver.Recoverable(table, counts, hidden));
        Assert.NotEmpty(LineSolver.Recoverable(table, counts, new HashSet<long> { CellTable.Encode([0]) }));
    }

    [Fact]
    public void Suppress_ZeroCell_ShownAsZeroAndNeverAComplement()
    {
        var (table, counts) = Additive([3], c => c[0] switch { 0 => 0, 1 => 4, _ => 30 });

        var hidden = CellSuppressor.Suppress(table, counts, 11);

        Assert.DoesNotContain(CellTable.Encode([0]), hidden.Keys);
        Assert.Empty(LineSolver.Recoverable(table, counts, hidden.Keys.ToHashSet()));
    }

    [Fact]
    public void Suppress_OnlySmallCellInItsLine_MarginHidden()
    {
        // Row d0v0 has one non-zero cell (5): its row total equals it, so the total must go too.
        var (table, counts) = Additive([2, 2], c => (c[0], c[1]) switch { (0, 0) => 5, (0, 1) => 0, (1, 0) => 30, _ => 40 });

        var hidden = CellSuppressor.Suppress(table, counts, 11);

        Assert.Empty(LineSolver.Recoverable(table, counts, hidden.Keys.ToHashSet()));
        Assert.Equal(SuppressionReason.Primary, hidden[CellTable.Encode([0, CellTable.All])]);
        Assert.Equal(SuppressionReason.InsideSmallCell, hidden[CellTable.Encode([0, 1])]);
    }

    [Fact]
    public void Suppress_ZeroInsideSmallGroup_HiddenAndNotRecoverable()
    {
        // One Pacific Islander child, Female: a shown 0 for Pacific Islander Male would give her sex away.
        var (table, counts) = Additive([4, 2], c => (c[0], c[1]) switch { (0, 0) => 1, (0, 1) => 0, (1, _) => 20, (2, _) => 14, _ => 31 });

        var hidden = CellSuppressor.Suppress(table, counts, 11);

        Assert.Equal(SuppressionReason.InsideSmallCell, hidden[CellTable.Encode([0, 1])]);
        Assert.Empty(LineSolver.Recoverable(table, counts, hidden.Keys.ToHashSet()));
    }

    [Fact]
    public void Suppress_ZeroOutsideSmallCells_Shown()
    {
        var (table, counts) = Additive([2, 2], c => (c[0], c[1]) switch { (0, 0) => 30, (0, 1) => 0, _ => 20 });

        Assert.Empty(CellSuppressor.Suppress(table, counts, 11));
    }

    [Fact]
    public void Suppress_NoSmallCell_NothingHidden()
    {
        var (table, counts) = Additive([2, 3], _ => 12);

        Assert.Empty(CellSuppressor.Suppress(table, counts, 11));
    }

    [Property(MaxTest = 300)]
    public Property Suppress_RandomAdditiveTables_NoHiddenCellRecoverable()
    {
        var gen =
            from dims in Gen.Choose(1, 3)
            from sizes in Gen.ArrayOf(Gen.Choose(1, 4), dims)
            from seed in Gen.Choose(0, int.MaxValue - 1)
            from minimum in Gen.Elements(3, 5, 11)
            select (sizes, seed, minimum);
        return Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var random = new Random(input.seed);
            var values = new Dictionary<string, long>();
            var (table, counts) = Additive(input.sizes, c =>
            {
                var roll = random.NextDouble();
                return roll < 0.2 ? 0 : roll < 0.5 ? random.Next(1, input.minimum) : random.Next(input.minimum, 60);
            });
            var hidden = CellSuppressor.Suppress(table, counts, input.minimum);
            var recovered = LineSolver.Recoverable(table, counts, hidden.Keys.ToHashSet());
            var primaryShown = table.Keys.Any(k => counts[k] > 0 && counts[k] < input.minimum && !hidden.ContainsKey(k));
            var zerosHiddenOnlyInsideSmallCells = hidden.All(h => counts[h.Key] == 0 == (h.Value == SuppressionReason.InsideSmallCell));
            return (recovered.Count == 0 && !primaryShown && zerosHiddenOnlyInsideSmallCells)
                .Label($"sizes {string.Join('x', input.sizes)}, min {input.minimum}: recovered {recovered.Count}, primary shown {primaryShown}");
        });
    }
}

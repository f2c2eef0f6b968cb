using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Sharing.Aggregate;

namespace ChildShare.Tests.Sharing.Aggregate;

public sealed class DifferencingTests
{
    private static readonly byte[] Key = new byte[32];

    [Fact]
    public void Protect_NoProtectionOverlappingPeriods_DifferenceRevealsOneChild()
    {
        // September 1-29 counts 11 children in a cell, September 1-30 counts 12: both safe alone,
        // but their difference says exactly one child in that group started on 30 September.
        var first = DifferencingGuard.Protect(11, DifferencingProtection.None, Key, "a");
        var second = DifferencingGuard.Protect(12, DifferencingProtection.None, Key, "b");

        Assert.Equal(1, second - first);
    }

    [Theory]
    [InlineData(11, 12)]
    [InlineData(20, 21)]
    [InlineData(30, 32)]
    public void Protect_Round5_HidesSmallDifferences(long first, long second)
    {
        var a = DifferencingGuard.Protect(first, DifferencingProtection.Round5, Key, "a");
        var b = DifferencingGuard.Protect(second, DifferencingProtection.Round5, Key, "b");

        Assert.Equal(0, a % 5);
        Assert.Equal(0, b - a);
    }

    [Fact]
    public void Protect_Round5_NeverShowsZeroForSomeone() =>
        Assert.Equal([0L, 5, 5, 5, 5, 5, 10], new long[] { 0, 1, 2, 3, 6, 7, 8 }.Select(v => DifferencingGuard.Protect(v, DifferencingProtection.Round5, Key, "")));

    [Fact]
    public void Protect_Noise_SameQuerySameAnswerWithinTwo()
    {
        var values = Enumerable.Range(0, 200).Select(i => DifferencingGuard.Protect(50, DifferencingProtection.Noise, Key, $"2026-09-01|2026-09-{i}|cell")).ToList();

        Assert.All(values, v => Assert.InRange(v, 48, 52));
        Assert.True(values.Distinct().Count() > 1);
        Assert.Equal(DifferencingGuard.Protect(50, DifferencingProtection.Noise, Key, "q"), DifferencingGuard.Protect(50, DifferencingProtection.Noise, Key, "q"));
        Assert.Equal(0, DifferencingGuard.Protect(0, DifferencingProtection.Noise, Key, "q"));
    }
}

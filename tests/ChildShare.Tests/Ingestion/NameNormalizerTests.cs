using ChildShare.Core.Ingestion;

namespace ChildShare.Tests.Ingestion;

public sealed class NameNormalizerTests
{
    [Theory]
    [InlineData("José", "JOSE")]
    [InlineData("  Zoë ", "ZOE")]
    [InlineData("O'Brien", "OBRIEN")]
    [InlineData("Van der Berg", "VANDERBERG")]
    [InlineData("Núñez", "NUNEZ")]
    [InlineData("ＭＡＲＹ", "MARY")]
    [InlineData("Łukasz", "LUKASZ")]
    public void MatchForm_FoldsDiacriticsCaseAndPunctuation(string input, string expected) =>
        Assert.Equal(expected, NameNormalizer.MatchForm(input));

    [Theory]
    [InlineData("Unknown")]
    [InlineData("TEST")]
    [InlineData("N/A")]
    [InlineData("Baby Boy")]
    [InlineData("baby girl")]
    [InlineData("FNU")]
    [InlineData("   ")]
    [InlineData("-")]
    public void MatchForm_Placeholder_IsNeverUsedForMatching(string input) => Assert.Null(NameNormalizer.MatchForm(input));

    [Theory]
    [InlineData("Smith Jr", "SMITH")]
    [InlineData("Smith III", "SMITH")]
    [InlineData("Dr. Smith", "SMITH")]
    public void MatchForm_DropsTitlesAndSuffixes(string input, string expected) => Assert.Equal(expected, NameNormalizer.MatchForm(input));

    [Fact]
    public void Name_KeepsTheOriginalForDisplay()
    {
        var name = NameNormalizer.Name("  Zoë ");

        Assert.Equal("Zoë", name.Display);
        Assert.Equal("ZOE", name.Match);
    }

    [Theory]
    [InlineData("Lopez, Ana Maria", "Ana", "Maria", "Lopez", null)]
    [InlineData("Lopez Jr., Ana", "Ana", null, "Lopez", "JR")]
    [InlineData("Ana Maria Lopez", "Ana", "Maria", "Lopez", null)]
    [InlineData("Mr. Ben Okafor III", "Ben", null, "Okafor", "III")]
    public void SplitFullName_ParsesLastFirstAndFirstLast(string full, string first, string? middle, string last, string? suffix)
    {
        var split = NameNormalizer.SplitFullName(full);

        Assert.Equal((first, middle, last, suffix), split);
    }

    [Fact]
    public void SuffixOf_FindsGenerationalSuffix() => Assert.Equal("JR", NameNormalizer.SuffixOf("Smith Jr."));
}

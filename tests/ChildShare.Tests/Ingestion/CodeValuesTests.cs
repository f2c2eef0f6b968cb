using ChildShare.Core.Ingestion;

namespace ChildShare.Tests.Ingestion;

public sealed class CodeValuesTests
{
    [Theory]
    [InlineData("K", "K")]
    [InlineData("KG", "K")]
    [InlineData("Pre-K", "PK")]
    [InlineData("03", "3")]
    [InlineData("3rd", "3")]
    [InlineData("Grade 12", "12")]
    public void TryParseGrade_KnownSpellings_Normalize(string input, string expected)
    {
        Assert.True(CodeValues.TryParseGrade(input, out var grade));
        Assert.Equal(expected, grade);
    }

    [Theory]
    [InlineData("13")]
    [InlineData("college")]
    [InlineData("-1")]
    public void TryParseGrade_Unknown_Fails(string input) => Assert.False(CodeValues.TryParseGrade(input, out _));

    [Theory]
    [InlineData("Pacific Islander", Race.NativeHawaiianOrOtherPacificIslander)]
    [InlineData("native hawaiian or other pacific islander", Race.NativeHawaiianOrOtherPacificIslander)]
    [InlineData("Two or more", Race.TwoOrMore)]
    [InlineData("Black", Race.BlackOrAfricanAmerican)]
    public void TryParseRace_FederalCategories(string input, Race expected)
    {
        Assert.True(CodeValues.TryParseRace(input, out var race));
        Assert.Equal(expected, race);
    }

    [Theory]
    [InlineData("F", Sex.Female)]
    [InlineData("male", Sex.Male)]
    [InlineData("X", Sex.NonBinary)]
    public void TryParseSex_CommonCodes(string input, Sex expected)
    {
        Assert.True(CodeValues.TryParseSex(input, out var sex));
        Assert.Equal(expected, sex);
    }

    [Theory]
    [InlineData("12345", "12345")]
    [InlineData("12345-6789", "12345")]
    [InlineData("123456789", "12345")]
    [InlineData("2134", "02134")]
    [InlineData(" 501 ", "00501")]
    public void ZipCodes_TryNormalize_FiveDigits(string input, string expected)
    {
        Assert.True(ZipCodes.TryNormalize(input, out var zip));
        Assert.Equal(expected, zip);
    }

    [Theory]
    [InlineData("ABCDE")]
    [InlineData("12")]
    [InlineData("12345-67")]
    [InlineData("00000")]
    public void ZipCodes_TryNormalize_Invalid_Fails(string input) => Assert.False(ZipCodes.TryNormalize(input, out _));
}

using ChildShare.Core.Ingestion;

namespace ChildShare.Tests.Ingestion;

public sealed class MappingProfileTests
{
    [Fact]
    public void Parse_ValidProfile_RoundTrips()
    {
        var profile = MappingProfile.Parse(IngestionHarness.DefaultProfile);

        var again = MappingProfile.Parse(profile.ToJson());

        Assert.Equal(profile.Columns, again.Columns);
        Assert.Equal(CanonicalField.LocalChildId, again.Columns["Id"]);
    }

    [Fact]
    public void Parse_StreetAddressColumn_IsAnOptionalField()
    {
        var profile = MappingProfile.Parse("""
            { "columns": { "Id": "LocalChildId", "Name": "FullName", "DOB": "BirthDate", "Home Address": "StreetAddress" } }
            """);

        Assert.Equal(CanonicalField.StreetAddress, MappingProfile.Parse(profile.ToJson()).Columns["Home Address"]);
    }

    [Fact]
    public void Parse_CodeMapForStreetAddress_IsRejected()
    {
        var error = Assert.Throws<ProfileValidationException>(() => MappingProfile.Parse("""
            { "columns": { "Id": "LocalChildId", "Name": "FullName", "DOB": "BirthDate", "Addr": "StreetAddress" },
              "codeMaps": { "StreetAddress": { "x": "y" } } }
            """));

        Assert.Contains(error.Errors, e => e.Contains("StreetAddress takes no code map", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_MissingRequiredFields_ListsEveryProblem()
    {
        var error = Assert.Throws<ProfileValidationException>(() => MappingProfile.Parse("""{ "columns": { "First": "FirstName" } }"""));

        Assert.Contains(error.Errors, e => e.Contains("LocalChildId", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("BirthDate", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("FullName", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_CodeMapToUnknownCategory_IsRejected()
    {
        var error = Assert.Throws<ProfileValidationException>(() => MappingProfile.Parse("""
            { "columns": { "Id": "LocalChildId", "Name": "FullName", "DOB": "BirthDate" }, "codeMaps": { "Race": { "9": "Purple" } } }
            """));

        Assert.Contains(error.Errors, e => e.Contains("Purple", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{ "columns": { "Id": "LocalChildId", "Name": "FullName", "DOB": "BirthDate" }, "dateFormats": ["HH:mm"] }""", "dateFormats")]
    [InlineData("""{ "columns": { "Id": "LocalChildId", "Name": "FullName", "DOB": "BirthDate" }, "encoding": "ebcdic" }""", "encoding")]
    [InlineData("""{ "columns": { "Id": "LocalChildId", "Name": "FullName", "DOB": "BirthDate", "D2": "BirthDate" } }""", "BirthDate")]
    [InlineData("""{ "columns": { "Id": "LocalChildId", "Name": "FullName", "DOB": "BirthDate", "P": "Program" } }""", "ServiceStart")]
    [InlineData("""{ "columns": { "Id": "LocalChildId", "Name": "FullName", "DOB": "BirthDate" }, "colums": {} }""", "JSON")]
    [InlineData("""{ "columns": { "Id": "NotAField" } }""", "JSON")]
    public void Parse_InvalidProfile_SaysWhy(string json, string mentioned)
    {
        var error = Assert.Throws<ProfileValidationException>(() => MappingProfile.Parse(json));

        Assert.Contains(mentioned, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("roster.tsv", '\t')]
    [InlineData("roster.csv", ',')]
    public void DelimiterFor_NoDelimiterInProfile_FollowsExtension(string name, char expected) =>
        Assert.Equal(expected, MappingProfile.Parse(IngestionHarness.DefaultProfile).DelimiterFor(name));
}

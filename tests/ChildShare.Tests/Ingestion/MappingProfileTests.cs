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
    [InlineData("""{ "columns": { "Id": "LocalChildId", "Name": "FullName", "DOB": "BirthDate" }, "colums": {} }""", "\"colums\" is not a profile setting")]
    [InlineData("""{ "columns": { "Id": "NotAField" } }""", "\"Id\" maps to \"NotAField\", which is not a canonical field")]
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

    [Fact]
    public void Parse_SeveralBadValues_ListsEveryProblem()
    {
        // Each of these alone stopped the JSON reader, so only the first was ever reported.
        var error = Assert.Throws<ProfileValidationException>(() => MappingProfile.Parse("""
            { "columns": { "Id": "LocalChildId", "Born": "Birthday", "Name": "FullName", "Nick": "Nickname", "DOB": "BirthDate" },
              "dateFormat": "MM/dd/yyyy",
              "reuploadPolicy": "Sometimes",
              "encoding": "latin-9",
              "codeMaps": { "Shoe": { "1": "x" } } }
            """));

        Assert.Contains(error.Errors, e => e.Contains("\"Born\" maps to \"Birthday\"", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("\"Nick\" maps to \"Nickname\"", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("\"dateFormat\" is not a profile setting", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("reuploadPolicy: give one of Upsert, ReplaceChildServices", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("encoding must be one of", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("\"Shoe\" is not a canonical field", StringComparison.Ordinal));
        Assert.Equal(6, error.Errors.Count);
    }

    [Fact]
    public void Parse_NotJson_OneProblemWithThePosition()
    {
        var error = Assert.Throws<ProfileValidationException>(() => MappingProfile.Parse("{ \"columns\": { \"Id\": LocalChildId } }"));

        Assert.StartsWith("The profile is not valid JSON (line 1", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FieldNamesInAnyCase_Accepted()
    {
        var profile = MappingProfile.Parse("""{ "columns": { "Id": "localchildid", "Name": "FULLNAME", "DOB": "birthDate" }, "reuploadPolicy": "replacechildservices" }""");

        Assert.Equal(CanonicalField.FullName, profile.Columns["Name"]);
        Assert.Equal(ReuploadPolicy.ReplaceChildServices, profile.ReuploadPolicy);
    }
}

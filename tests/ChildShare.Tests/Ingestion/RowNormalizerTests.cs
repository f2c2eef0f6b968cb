using ChildShare.Core.Ingestion;

namespace ChildShare.Tests.Ingestion;

public sealed class RowNormalizerTests
{
    private static readonly DateOnly Today = new(2026, 10, 15);

    private static readonly MappingProfile Profile = MappingProfile.Parse("""
        {
          "dateFormats": ["MM/dd/yyyy", "yyyy-MM-dd"],
          "columns": { "id": "LocalChildId", "name": "FullName", "dob": "BirthDate", "race": "Race", "eth": "Ethnicity",
                       "program": "Program", "start": "ServiceStart", "end": "ServiceEnd", "hours": "Hours", "grade": "Grade" },
          "codeMaps": { "Race": { "7": "NativeHawaiianOrOtherPacificIslander", "W": "White" }, "Ethnicity": { "1": "HispanicOrLatino" } }
        }
        """);

    private static NormalizationResult Normalize(Dictionary<CanonicalField, string> cells) =>
        new RowNormalizer(Profile, new IngestionOptions(), Today).Normalize(7, field => cells.GetValueOrDefault(field));

    private static Dictionary<CanonicalField, string> ValidRow() => new()
    {
        [CanonicalField.LocalChildId] = "A-1",
        [CanonicalField.FullName] = "García, José Luis",
        [CanonicalField.BirthDate] = "03/02/2015",
    };

    [Fact]
    public void Normalize_LastCommaFirst_SplitsAndKeepsDisplay()
    {
        var record = Normalize(ValidRow()).Record!;

        Assert.Equal("José", record.Identity.FirstName.Display);
        Assert.Equal("JOSE", record.Identity.FirstName.Match);
        Assert.Equal("GARCIA", record.Identity.LastName.Match);
        Assert.Equal("Luis", record.Identity.MiddleName!.Display);
        Assert.Equal(new DateOnly(2015, 3, 2), record.Identity.BirthDate);
        Assert.Null(record.Service);
    }

    [Fact]
    public void Normalize_CodeMapsAndSeveralRaces_ResolveToTwoOrMore()
    {
        var row = ValidRow();
        row[CanonicalField.Race] = "7; W";
        row[CanonicalField.Ethnicity] = "1";

        var demographics = Normalize(row).Record!.Demographics;

        Assert.Equal(Race.TwoOrMore, demographics.Race);
        Assert.Equal([Race.NativeHawaiianOrOtherPacificIslander, Race.White], demographics.Races);
        Assert.Equal(Ethnicity.HispanicOrLatino, demographics.Ethnicity);
    }

    [Fact]
    public void Normalize_DatesInEitherProfileFormat_BecomeTheSameDate()
    {
        var row = ValidRow();
        row[CanonicalField.BirthDate] = "2015-03-02";

        Assert.Equal(new DateOnly(2015, 3, 2), Normalize(row).Record!.Identity.BirthDate);
    }

    [Theory]
    [InlineData("02/30/2015", "is not a date")]
    [InlineData("01/01/1950", "not plausible")]
    [InlineData("01/01/2027", "in the future")]
    public void Normalize_UnusableBirthDate_KeepsTheRowWithoutItAndNotesFieldAndReason(string birthDate, string reason)
    {
        var row = ValidRow();
        row[CanonicalField.BirthDate] = birthDate;

        var result = Normalize(row);

        Assert.Empty(result.Rejections);
        Assert.Null(result.Record!.Identity.BirthDate);
        Assert.True(result.Record.Identity.IsIncomplete);
        var note = Assert.Single(result.Record.Notes);
        Assert.Equal(7, note.LineNumber);
        Assert.Equal("BirthDate", note.Field);
        Assert.Contains(reason, note.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(birthDate, note.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Normalize_NoBirthDateOrNoFirstName_IsAcceptedWithAnIncompleteIdentity()
    {
        var row = ValidRow();
        row.Remove(CanonicalField.BirthDate);
        var noDate = Normalize(row).Record!;
        row[CanonicalField.FullName] = "Lopez";
        var noFirst = Normalize(row).Record!;

        Assert.Null(noDate.Identity.BirthDate);
        Assert.Empty(noDate.Notes);
        Assert.True(noDate.Identity.IsIncomplete);
        Assert.Equal("LOPEZ", noFirst.Identity.LastName.Match);
        Assert.Null(noFirst.Identity.FirstName.Match);
        Assert.True(noFirst.Identity.IsIncomplete);
        Assert.False(Normalize(ValidRow()).Record!.Identity.IsIncomplete);
    }

    [Fact]
    public void Normalize_NoNameAtAll_IsRejected()
    {
        var row = ValidRow();
        row.Remove(CanonicalField.FullName);

        var rejection = Assert.Single(Normalize(row).Rejections);

        Assert.Equal("FirstName", rejection.Field);
        Assert.Contains("one of them is required", rejection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Normalize_EndBeforeStart_IsRejected()
    {
        var row = ValidRow();
        row[CanonicalField.Program] = "Tutoring";
        row[CanonicalField.ServiceStart] = "2026-09-10";
        row[CanonicalField.ServiceEnd] = "2026-09-01";

        var rejection = Assert.Single(Normalize(row).Rejections);

        Assert.Equal("ServiceEnd", rejection.Field);
    }

    [Theory]
    [InlineData("9999-12-31")]
    [InlineData("9998-12-31")]
    [InlineData("2051-10-16")]
    public void Normalize_AnEndPastTheOldestAgeFromNow_KeepsTheServiceOpenWithANote(string end)
    {
        // 9999-12-31 is a common "no end" marker; as a date it made the service active in every year to 9999.
        var row = ValidRow();
        row[CanonicalField.Program] = "Tutoring";
        row[CanonicalField.ServiceStart] = "2026-09-10";
        row[CanonicalField.ServiceEnd] = end;

        var result = Normalize(row);

        Assert.Empty(result.Rejections);
        Assert.Null(result.Record!.Service!.End);
        Assert.Equal("ServiceEnd", Assert.Single(result.Record.Notes).Field);
    }

    [Fact]
    public void Normalize_AnEndAtTheOldestAgeFromNow_IsKept()
    {
        var row = ValidRow();
        row[CanonicalField.Program] = "Tutoring";
        row[CanonicalField.ServiceStart] = "2026-09-10";
        row[CanonicalField.ServiceEnd] = "2051-10-15";

        Assert.Equal(new DateOnly(2051, 10, 15), Normalize(row).Record!.Service!.End);
    }

    [Fact]
    public void Normalize_AStartPastTheOldestAgeFromNow_IsRejected()
    {
        var row = ValidRow();
        row[CanonicalField.Program] = "Tutoring";
        row[CanonicalField.ServiceStart] = "9999-12-05";

        Assert.Equal("ServiceStart", Assert.Single(Normalize(row).Rejections).Field);
    }

    [Fact]
    public void Normalize_OpenService_HasNoEnd()
    {
        var row = ValidRow();
        row[CanonicalField.Program] = "Tutoring";
        row[CanonicalField.ServiceStart] = "2026-09-10";
        row[CanonicalField.Hours] = "12.5";

        var service = Normalize(row).Record!.Service!;

        Assert.Null(service.End);
        Assert.Equal(12.5, service.Hours);
        Assert.Equal("Tutoring", service.Program);
    }

    [Fact]
    public void Normalize_UnknownRaceCode_IsRejectedWithoutTheValue()
    {
        var row = ValidRow();
        row[CanonicalField.Race] = "Martian";

        var rejection = Assert.Single(Normalize(row).Rejections);

        Assert.Equal("Race", rejection.Field);
        Assert.DoesNotContain("Martian", rejection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Normalize_StreetAddress_IsKeptAsWritten()
    {
        var row = ValidRow();
        row[CanonicalField.StreetAddress] = "123 N. Main St., Apt #4B";

        var identity = Normalize(row).Record!.Identity;

        Assert.Equal("123 N. Main St., Apt #4B", identity.StreetAddress);
    }

    [Fact]
    public void Normalize_NoStreetAddress_IsAcceptedWithNone()
    {
        var result = Normalize(ValidRow());

        Assert.Empty(result.Rejections);
        Assert.Null(result.Record!.Identity.StreetAddress);
    }

    [Fact]
    public void Normalize_OverlongStreetAddress_IsRejectedWithoutTheValue()
    {
        var row = ValidRow();
        row[CanonicalField.StreetAddress] = "123 Main Street " + new string('x', AddressNormalizer.MaxLength);

        var rejection = Assert.Single(Normalize(row).Rejections);

        Assert.Equal((7, "StreetAddress"), (rejection.LineNumber, rejection.Field));
        Assert.DoesNotContain("Main", rejection.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("xxx", rejection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Normalize_SeveralProblems_AreAllReported()
    {
        var row = new Dictionary<CanonicalField, string> { [CanonicalField.FullName] = "Lopez, Ana", [CanonicalField.Grade] = "14" };

        var fields = Normalize(row).Rejections.Select(r => r.Field).ToList();

        Assert.Equal(["LocalChildId", "Grade"], fields);
    }

    [Fact]
    public void Normalize_PlaceholderName_IsAcceptedButNotMatchable()
    {
        var row = ValidRow();
        row[CanonicalField.FullName] = "Unknown, Baby Boy";

        var identity = Normalize(row).Record!.Identity;

        Assert.Null(identity.FirstName.Match);
        Assert.Null(identity.LastName.Match);
    }

    [Fact]
    public void Normalize_PlausibleAgesAreConfigurable()
    {
        var row = ValidRow();
        row[CanonicalField.BirthDate] = "2015-03-02";
        var strict = new RowNormalizer(Profile, new IngestionOptions { MaxChildAgeYears = 10 }, Today);

        var record = strict.Normalize(2, field => row.GetValueOrDefault(field)).Record!;

        Assert.Null(record.Identity.BirthDate);
        Assert.Equal("BirthDate", Assert.Single(record.Notes).Field);
    }
}

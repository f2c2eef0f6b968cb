using ChildShare.Core.Activity;
using ChildShare.Core.Sharing.Aggregate;

namespace ChildShare.Tests.Sharing.Aggregate;

public sealed class AggregateReportQueryTests
{
    private static (AggregateReportQuery? Query, IReadOnlyList<string> Errors) Parse(string? accept = null, params (string Key, string Value)[] parameters) =>
        AggregateReportQuery.Parse(parameters.ToDictionary(p => p.Key, p => (string?)p.Value), accept);

    [Fact]
    public void Parse_FromToAndGroupBy_Parsed()
    {
        var (query, errors) = Parse(null, ("from", "2026-09-01"), ("to", "2026-09-30"), ("groupBy", "Provider, ageband"));

        Assert.Empty(errors);
        Assert.Equal(new DateOnly(2026, 9, 30), query!.To);
        Assert.Equal(["provider", "ageBand"], query.GroupBy);
        Assert.Equal(ReportFormat.Json, query.Format);
    }

    [Fact]
    public void Parse_PowerBiRange_EndIsExclusive()
    {
        var (query, _) = Parse(null, ("RangeStart", "2026-09-01T00:00:00"), ("RangeEnd", "2026-10-01T00:00:00"));

        Assert.Equal(new DateOnly(2026, 9, 1), query!.From);
        Assert.Equal(new DateOnly(2026, 9, 30), query.To);
    }

    [Theory]
    [InlineData("from", "2026-13-01")]
    [InlineData("groupBy", "name")]
    [InlineData("groupBy", "sex,race,grade,zip3")]
    [InlineData("groupBy", "sex,sex")]
    [InlineData("format", "xml")]
    [InlineData("$top", "0")]
    [InlineData("childId", "123")]
    public void Parse_BadParameter_Error(string name, string value)
    {
        var parameters = new Dictionary<string, string> { ["from"] = "2026-09-01", ["to"] = "2026-09-30", [name] = value };

        var (query, errors) = AggregateReportQuery.Parse(parameters.ToDictionary(p => p.Key, p => (string?)p.Value), null);

        Assert.Null(query);
        Assert.NotEmpty(errors);
    }

    [Fact]
    public void Parse_EndBeforeStartOrMissing_Error()
    {
        Assert.Contains("ends before", Parse(null, ("from", "2026-09-30"), ("to", "2026-09-01")).Errors[0], StringComparison.Ordinal);
        Assert.Equal(2, Parse().Errors.Count);
    }

    [Fact]
    public void Parse_AcceptCsv_Csv() => Assert.Equal(ReportFormat.Csv, Parse("text/csv", ("from", "2026-09-01"), ("to", "2026-09-30")).Query!.Format);

    [Fact]
    public void ForAudit_ApiKeyAndFreeText_NotRecorded()
    {
        var audit = AggregateReportQuery.ForAudit(new Dictionary<string, string?>
        {
            ["api-key"] = "csk_secret", ["from"] = "2026-09-01", ["groupBy"] = "sex,Ana Lopez", ["name"] = "Ana Lopez",
        });

        Assert.DoesNotContain(audit, p => p.Value.Contains("secret", StringComparison.Ordinal) || p.Value.Contains("Ana", StringComparison.Ordinal) || p.Key == "name");
        Assert.Equal("sex,?", audit["groupBy"]);
        Assert.Equal("1", audit["unknownParameters"]);
    }
}

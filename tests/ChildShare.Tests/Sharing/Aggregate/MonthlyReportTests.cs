using Azure.Data.Tables;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Callers;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>
/// <c>interval=month</c>: a time series for Power BI's trend visuals, one row-set per calendar month,
/// each month a report of its own (its unique children, its suppression, its protection). The
/// community: 14 girls and 2 boys active all August; the same 14 girls, 6 more and 12 boys all
/// September; nobody in October. Activity summaries are written directly, the clearest way to
/// place children in months.
/// </summary>
public sealed class MonthlyReportTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        _services = await ProtectionCommunity.BuildAsync(_storage);

        // Month rows in the shape tests state them, written into the activity buckets in one go.
        var months = new List<TableEntity>();
        void Active(string month, int days, string child, string sex) => months.Add(ProtectionCommunity.Month(month, child, child, (1u << days) - 1, sex));

        for (var i = 0; i < 20; i++)
        {
            if (i < 14)
            {
                Active("2026-08", 31, $"girl{i:D2}", "Female");
            }

            Active("2026-09", 30, $"girl{i:D2}", "Female");
        }

        for (var i = 0; i < 12; i++)
        {
            if (i < 2)
            {
                Active("2026-08", 31, $"boy{i:D2}", "Male");
            }

            Active("2026-09", 30, $"boy{i:D2}", "Male");
        }

        await ActivityTestData.AddAllAsync(_storage.Storage, months);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _storage.DisposeAsync();
    }

    private Task<ReportResult> RunAsync(DifferencingProtection protection, string from, string to, string? interval = "month")
    {
        var parameters = new Dictionary<string, string?> { ["from"] = from, ["to"] = to, ["groupBy"] = "sex" };
        if (interval is not null)
        {
            parameters["interval"] = interval;
        }

        return ProtectionCommunity.RunAsync(_services, protection, parameters);
    }

    private static ReportRow Row(ReportResult result, string month, string sex) =>
        result.Page!.Value.Single(r => r.PeriodStart == $"{month}-01" && r.Sex == sex && r.RowType == (sex == ReportDimensions.AllValues ? "total" : "cell"));

    [Fact]
    public async Task Report_IntervalMonth_OneRowSetPerCalendarMonthWithItsOwnUniqueCount()
    {
        var result = await RunAsync(DifferencingProtection.None, "2026-08-01", "2026-10-31");

        Assert.Equal(ReportStatus.Ok, result.Status);
        Assert.Equal(["2026-08-01", "2026-09-01", "2026-10-01"], result.Page!.Value.Select(r => r.PeriodStart).Distinct());
        Assert.All(result.Page.Value, r => Assert.Equal(DateOnly.Parse(r.PeriodStart, System.Globalization.CultureInfo.InvariantCulture).AddMonths(1).AddDays(-1),
            DateOnly.Parse(r.PeriodEnd, System.Globalization.CultureInfo.InvariantCulture)));
        // Exact counts under None: each month is one whole calendar month, which the period rule allows.
        Assert.Equal(16, Row(result, "2026-08", ReportDimensions.AllValues).Children);
        Assert.Equal(32, Row(result, "2026-09", ReportDimensions.AllValues).Children);
        Assert.Equal(0, Row(result, "2026-10", ReportDimensions.AllValues).Children);
        Assert.Equal(20, Row(result, "2026-09", "Female").Children);
        Assert.Equal(("2026-08-01", "2026-10-31"), (result.Page.Metadata.PeriodStart, result.Page.Metadata.PeriodEnd));
        Assert.Equal(result.Page.Value.Count, result.Page.Metadata.TotalRows);
    }

    [Fact]
    public async Task Report_IntervalMonth_EachMonthSuppressedOnItsOwn()
    {
        var result = await RunAsync(DifferencingProtection.None, "2026-08-01", "2026-09-30");

        // August: 2 boys are a small cell, and the girls are hidden with them (else total minus girls gives the boys).
        Assert.True(Row(result, "2026-08", "Male").Suppressed);
        Assert.Null(Row(result, "2026-08", "Male").Children);
        Assert.True(Row(result, "2026-08", "Female").Suppressed);
        Assert.Equal(16, Row(result, "2026-08", ReportDimensions.AllValues).Children);
        // September: every cell is large enough.
        Assert.Equal(12, Row(result, "2026-09", "Male").Children);
        Assert.Equal(2, result.Page!.Metadata.Suppression.CellsSuppressed);
        Assert.Contains(result.Page.Metadata.Suppression.Explanation, e => e.StartsWith("interval: month", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Report_IntervalMonthUnderTheDefaultRound5_EachMonthsCountsRounded()
    {
        var result = await RunAsync(DifferencingProtection.Round5, "2026-08-01", "2026-09-30");

        Assert.Equal("Round5", result.Page!.Metadata.Suppression.DifferencingProtection);
        Assert.Equal(15, Row(result, "2026-08", ReportDimensions.AllValues).Children);
        Assert.Equal(30, Row(result, "2026-09", ReportDimensions.AllValues).Children);
        Assert.Equal(20, Row(result, "2026-09", "Female").Children);
        Assert.Equal(10, Row(result, "2026-09", "Male").Children);
        Assert.True(Row(result, "2026-08", "Male").Suppressed);
    }

    [Fact]
    public async Task Report_ExactCountsOverTwoMonthsWithoutInterval_StillRefused()
    {
        // The series is not a way around the period rule: the two months as one period stay refused under None.
        var result = await RunAsync(DifferencingProtection.None, "2026-08-01", "2026-09-30", interval: null);

        Assert.Equal(ReportStatus.Forbidden, result.Status);
    }

    [Theory]
    [InlineData("2026-08-02", "2026-09-30", "first day")]
    [InlineData("2026-08-01", "2026-09-29", "last day")]
    public async Task Report_IntervalMonthWithAPartialMonth_BadRequest(string from, string to, string message)
    {
        var result = await RunAsync(DifferencingProtection.Round5, from, to);

        Assert.Equal(ReportStatus.BadRequest, result.Status);
        Assert.Contains(result.Errors, e => e.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Report_UnknownInterval_BadRequest()
    {
        var result = await RunAsync(DifferencingProtection.Round5, "2026-08-01", "2026-09-30", interval: "week");

        Assert.Equal(ReportStatus.BadRequest, result.Status);
        Assert.Contains(result.Errors, e => e.StartsWith("interval is month", StringComparison.Ordinal));
    }
}

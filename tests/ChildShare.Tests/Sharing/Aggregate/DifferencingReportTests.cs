using Azure.Data.Tables;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>
/// What a caller learns by differencing two overlapping periods, and what the per-agreement
/// protections leave of it (exact counts are refused for anything but one calendar month). Eleven children are active all September; a twelfth only on the 30th.
/// September 1-29 counts 11 and September 1-30 counts 12: both pass a minimum of 11, and their
/// difference says one child (in that group) was served only on the 30th. Activity summaries are
/// written directly here, the clearest way to place one child on one day.
/// </summary>
public sealed class DifferencingReportTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        _services = await ProtectionCommunity.BuildAsync(_storage);
        for (var i = 0; i < 12; i++)
        {
            var mask = i < 11 ? (1u << 30) - 1 : 1u << 29;
            await ActivityTestData.AddAsync(_storage.Storage, ProtectionCommunity.Month("2026-09", $"token{i:D2}", $"child{i:D2}", mask, "Female"));
        }
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _storage.DisposeAsync();
    }

    private Task<ReportResult> RunAsync(DifferencingProtection protection, string from, string to) =>
        ProtectionCommunity.RunAsync(_services, protection, new Dictionary<string, string?> { ["from"] = from, ["to"] = to, ["groupBy"] = "sex" });

    private async Task<long?> TotalAsync(DifferencingProtection protection, string to)
    {
        var result = await RunAsync(protection, "2026-09-01", to);
        Assert.Equal(protection.ToString(), result.Page!.Metadata.Suppression.DifferencingProtection);
        return result.Page.Value.Single(r => r.RowType == "total").Children;
    }

    [Fact]
    public async Task Report_TooManyCells_BadRequestWithReason()
    {
        // 48 children in August, each with its own zip3, program and service type: 49^3 cells.
        for (var i = 0; i < 48; i++)
        {
            await ActivityTestData.AddAsync(_storage.Storage, new TableEntity("2026-08", $"p1|wide{i:D2}")
            {
                ["ChildKey"] = $"wide{i:D2}", ["ProviderId"] = "p1", ["DayMask"] = 1L, ["UpdatedAt"] = TestApp.Now, ["Zip3"] = $"{100 + i}",
                ["Activities"] = ActivityMonths.Serialize([new ActivityEntry($"Program{i}", $"Type{i}", 1)]),
            });
        }

        var caller = new Caller("none-org", CallerRoles.Reader, CallerAuthMethod.ApiKey, "k");
        var result = await _services.GetRequiredService<AggregateReportService>().RunAsync(caller,
            new Dictionary<string, string?> { ["from"] = "2026-08-01", ["to"] = "2026-08-31", ["groupBy"] = "zip3,program,serviceType" }, null);

        Assert.Equal(ReportStatus.BadRequest, result.Status);
        Assert.Contains("117,649 cells", result.Errors[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2026-09-01", "2026-09-29")]
    [InlineData("2026-09-02", "2026-09-30")]
    [InlineData("2026-08-31", "2026-09-30")]
    [InlineData("2026-09-01", "2026-10-01")]
    [InlineData("2026-08-01", "2026-09-30")]
    public async Task Report_ExactCountsOtherThanOneCalendarMonth_RefusedWithReason(string from, string to)
    {
        // Exact counts of September 1-29 (11) and September 1-30 (12) would tell one child was served only on the 30th.
        var result = await RunAsync(DifferencingProtection.None, from, to);

        Assert.Equal(ReportStatus.Forbidden, result.Status);
        Assert.Contains("one whole calendar month at a time", Assert.Single(result.Excluded).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_ExactCountsOneCalendarMonth_ServedAndTheReceiptSaysSo()
    {
        var result = await RunAsync(DifferencingProtection.None, "2026-09-01", "2026-09-30");

        Assert.Equal(12, result.Page!.Value.Single(r => r.RowType == "total").Children);
        Assert.Equal("None", result.Page.Metadata.Suppression.DifferencingProtection);
        Assert.Contains(result.Page.Metadata.Suppression.Explanation, e => e.Contains("one whole calendar month at a time", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Report_OverlappingPeriodsRounded_DifferenceHidden()
    {
        var shorter = await TotalAsync(DifferencingProtection.Round5, "2026-09-29");
        var longer = await TotalAsync(DifferencingProtection.Round5, "2026-09-30");

        Assert.Equal((10L, 10L), (shorter!.Value, longer!.Value));
    }

    [Fact]
    public async Task Report_OverlappingPeriodsWithNoise_RepeatableAndWithinTwo()
    {
        var shorter = await TotalAsync(DifferencingProtection.Noise, "2026-09-29");
        var again = await TotalAsync(DifferencingProtection.Noise, "2026-09-29");
        var longer = await TotalAsync(DifferencingProtection.Noise, "2026-09-30");

        Assert.Equal(shorter, again);
        Assert.InRange(shorter!.Value, 9, 13);
        Assert.InRange(longer!.Value, 10, 14);
    }
}

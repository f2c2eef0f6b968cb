using System.Text.Json;
using Azure.Data.Tables;
using ChildShare.Core.Activity;
using ChildShare.Core.Audit;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Storage;
using ChildShare.Functions.Reports;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace ChildShare.Tests.Sharing.Aggregate;

public sealed class AggregateReportTests(ReportHarnessFixture fixture) : IClassFixture<ReportHarnessFixture>
{
    private const string September = "from=2026-09-01&to=2026-09-30";
    private readonly ReportHarness _h = fixture.Harness;

    private static List<ReportRow> Rows(string json) =>
        JsonDocument.Parse(json).RootElement.GetProperty("value").Deserialize<List<ReportRow>>(GetAggregateReport.Json)!;

    private static JsonElement Metadata(string json) => JsonDocument.Parse(json).RootElement.GetProperty("metadata");

    private async Task<List<ReportRow>> ReportAsync(string query, string? key = null)
    {
        var (status, _, body, _) = await _h.GetAsync($"?{query}&api-key={key ?? _h.CountyKey}");
        Assert.Equal(200, status);
        return Rows(body);
    }

    [Fact]
    public async Task Report_NoCredentials_401Problem()
    {
        var (status, contentType, body, _) = await _h.GetAsync("?" + September);

        Assert.Equal(401, status);
        Assert.Equal("application/problem+json", contentType);
        Assert.Contains("Authentication is required", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_ChildServedByThreeProviders_CountsOnceInTotalAndOncePerProvider()
    {
        // county-planning's agreement covers the clinic too; child 0 is at all three providers.
        var rows = await ReportAsync($"{September}&groupBy=provider", _h.PlanningKey);

        Assert.Equal(40, rows.Single(r => r.Provider == "district").Children);
        Assert.Equal(21, rows.Single(r => r.Provider == "afterschool").Children);
        Assert.Equal(13, rows.Single(r => r.Provider == "clinic").Children);
        Assert.Equal(40 + 20 + 12, rows.Single(r => r.RowType == "total").Children);
    }

    [Fact]
    public async Task Report_ProviderJoinedMidPeriod_LeftOutWithReason()
    {
        var (status, _, body, _) = await _h.GetAsync($"?{September}&groupBy=provider&api-key={_h.CountyKey}");

        Assert.Equal(200, status);
        var metadata = Metadata(body);
        var excluded = metadata.GetProperty("providersExcluded").EnumerateArray().Single();
        Assert.Equal("clinic", excluded.GetProperty("providerId").GetString());
        Assert.Contains("from 2026-09-15", excluded.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(["afterschool", "district"], metadata.GetProperty("providersIncluded").EnumerateArray().Select(p => p.GetProperty("providerId").GetString()));
        Assert.Equal(60, Rows(body).Single(r => r.RowType == "total").Children);
        Assert.Contains("once in the total", metadata.GetProperty("countedUnit").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_GroupOfOneChild_SuppressedWithComplement()
    {
        var (status, _, body, _) = await _h.GetAsync($"?{September}&groupBy=sex&api-key={_h.CountyKey}");

        Assert.Equal(200, status);
        var rows = Rows(body);
        var nonBinary = rows.Single(r => r.Sex == "NonBinary");
        Assert.True(nonBinary.Suppressed);
        Assert.Null(nonBinary.Children);
        Assert.Equal(ReportRow.Suppression, nonBinary.SuppressionReason);
        Assert.True(rows.Count(r => r.Suppressed) >= 2);
        Assert.All(rows.Where(r => r.Suppressed), r => Assert.Equal(ReportRow.Suppression, r.SuppressionReason));
        var receipt = Metadata(body).GetProperty("suppression");
        Assert.Equal(rows.Count(r => r.Suppressed), receipt.GetProperty("cellsSuppressed").GetInt32());
        Assert.False(receipt.TryGetProperty("primarySuppressed", out _));
        Assert.Equal(rows.Count(r => r.Suppressed), receipt.GetProperty("cellsSuppressed").GetInt32());
        Assert.Equal(11, receipt.GetProperty("minimumCellSize").GetInt32());
    }

    [Fact]
    public async Task Report_CellRecoverableFromTotal_NoHiddenValueRecomputable()
    {
        foreach (var groupBy in new[] { "sex", "sex,race", "provider,sex", "race,grade,program" })
        {
            var rows = await ReportAsync($"{September}&groupBy={groupBy}");

            // An attacker's subtraction along every line of the published table (cells of one dimension
            // against their margin, all other coordinates fixed).
            var dims = groupBy.Split(',');
            string Value(ReportRow r, string d) => d switch
            {
                "sex" => r.Sex, "race" => r.Race, "grade" => r.Grade, "program" => r.Program, "provider" => r.Provider, _ => throw new ArgumentException(d),
            };
            foreach (var total in rows)
            {
                foreach (var d in dims.Where(d => Value(total, d) == ReportDimensions.AllValues))
                {
                    var members = rows.Where(r => Value(r, d) != ReportDimensions.AllValues && dims.Where(o => o != d).All(o => Value(r, o) == Value(total, o))).ToList();
                    var unknown = members.Count(m => m.Suppressed) + (total.Suppressed ? 1 : 0);
                    Assert.True(unknown != 1, $"{groupBy}: a line along {d} has exactly one hidden cell: total {total} members {string.Join(" / ", members)}");
                }
            }

            Assert.DoesNotContain(rows, r => !r.Suppressed && r.Children is > 0 and < 11);
        }
    }

    [Fact]
    public async Task Report_ZeroCell_ShownAsZero()
    {
        var rows = await ReportAsync($"{September}&groupBy=provider,program");

        var zero = rows.Single(r => r.Provider == "afterschool" && r.Program == "Tutoring");
        Assert.Equal(0, zero.Children);
        Assert.False(zero.Suppressed);
    }

    [Fact]
    public async Task Report_CallerNotRecipient_403WithReasons()
    {
        var (status, contentType, body, _) = await _h.GetAsync($"?{September}&api-key={_h.OutsiderKey}");

        Assert.Equal(403, status);
        Assert.Equal("application/problem+json", contentType);
        Assert.Contains("not a recipient", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_ExpiredAgreement_403WithReason()
    {
        var (status, _, body, _) = await _h.GetAsync($"?{September}&api-key={_h.ExpiredKey}");

        Assert.Equal(403, status);
        Assert.Contains("expired on 2026-09-30", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("from=2026-09-01")]
    [InlineData("from=2026-09-01&to=2026-09-30&groupBy=name")]
    [InlineData("from=yesterday&to=2026-09-30")]
    public async Task Report_BadParameters_400Problem(string query)
    {
        var (status, contentType, body, _) = await _h.GetAsync($"?{query}&api-key={_h.CountyKey}");

        Assert.Equal(400, status);
        Assert.Equal("application/problem+json", contentType);
        Assert.Contains("errors", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_JsonAndCsv_IdenticalRows()
    {
        var query = $"?{September}&groupBy=provider,sex,race&api-key={_h.CountyKey}";
        var (_, _, json, _) = await _h.GetAsync(query);
        var (_, csvType, csv, csvContext) = await _h.GetAsync(query + "&format=csv");
        var (_, _, accepted, _) = await _h.GetAsync(query, accept: "text/csv");

        Assert.StartsWith("text/csv", csvType, StringComparison.Ordinal);
        Assert.Equal(Rows(json), ReportCsv.Read(csv));
        Assert.Equal(csv, accepted);
        Assert.StartsWith(string.Join(',', ReportRow.Columns), csv, StringComparison.Ordinal);
        Assert.Equal("None", csvContext.Response.Headers[GetAggregateReport.ProtectionHeader].ToString());
    }

    [Fact]
    public async Task Report_EmptyRange_SameSchemaOneZeroTotal()
    {
        var (status, _, csv, _) = await _h.GetAsync($"?from=2025-03-01&to=2025-03-31&groupBy=sex&format=csv&api-key={_h.CountyKey}");

        Assert.Equal(200, status);
        var row = Assert.Single(ReportCsv.Read(csv));
        Assert.Equal(("total", 0L), (row.RowType, row.Children!.Value));
        Assert.StartsWith(string.Join(',', ReportRow.Columns), csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_PowerBiRangeParameters_SameAsFromTo()
    {
        var fromTo = await ReportAsync($"{September}&groupBy=race");
        var range = await ReportAsync("RangeStart=2026-09-01T00:00:00&RangeEnd=2026-10-01T00:00:00&groupBy=race");

        Assert.Equal(fromTo, range);
    }

    [Fact]
    public async Task Report_Paged_NextLinkWithoutApiKey()
    {
        var all = await ReportAsync($"{September}&groupBy=race,sex");
        var (_, _, body, _) = await _h.GetAsync($"?{September}&groupBy=race,sex&$top=3&api-key={_h.CountyKey}");

        var next = JsonDocument.Parse(body).RootElement.GetProperty("@odata.nextLink").GetString()!;
        Assert.Contains("%24skip=3", next.Replace("$skip", "%24skip", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain(_h.CountyKey, next, StringComparison.Ordinal);
        Assert.DoesNotContain("api-key", next, StringComparison.Ordinal);
        var (_, _, second, _) = await _h.GetAsync(new Uri(next).Query + $"&api-key={_h.CountyKey}");
        Assert.Equal(all.Skip(3).Take(3), Rows(second));
    }

    [Fact]
    public async Task Report_Counts_EqualNaiveDistinctCountOfServices()
    {
        var rows = await ReportAsync($"{September}&groupBy=provider");

        // Naive: every service of the included providers overlapping September, by the child key on its record.
        var records = await _h.Storage.ReadAllAsync(TableNames.Records);
        var active = records
            .SelectMany(r => StoredService.Deserialize(r.GetString("Services")).Select(s => (Record: r, Service: s)))
            .Where(x => string.CompareOrdinal(x.Service.Start, "2026-09-30") <= 0
                && string.CompareOrdinal(x.Service.End.Length > 0 ? x.Service.End : x.Service.AsOf, "2026-09-01") >= 0)
            .Select(x => (Provider: x.Record.PartitionKey, Child: x.Record.GetString("ChildKey")))
            .Where(s => s.Provider is "district" or "afterschool").ToList();

        Assert.Equal(active.Select(a => a.Child).Distinct().Count(), rows.Single(r => r.RowType == "total").Children);
        Assert.Equal(active.Where(a => a.Provider == "district").Select(a => a.Child).Distinct().Count(), rows.Single(r => r.Provider == "district").Children);
    }

    [Fact]
    public async Task Report_DemographicConflict_MostRecentProviderWins()
    {
        // Child 0 is Female at every provider; children are grouped once: Female + Male + NonBinary = total.
        var rows = await ReportAsync($"{September}&groupBy=sex", _h.PlanningKey);

        var total = rows.Single(r => r.RowType == "total").Children;
        var female = rows.Single(r => r.Sex == "Female").Children;
        Assert.Equal(72, total);
        Assert.True(female is null or > 0);
        Assert.Contains("most recently updated", AggregateReportService.DemographicRule, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_EveryRequest_AuditedWithoutKeyOrIdentifiers()
    {
        var (_, _, body, _) = await _h.GetAsync($"?{September}&groupBy=sex&api-key={_h.CountyKey}");
        await _h.GetAsync($"?{September}&api-key={_h.OutsiderKey}");

        var audit = (await _h.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10")).Where(e => e.GetString("Event") == AuditEvents.AggregateReport).ToList();
        var served = audit.Last(e => e.GetString("Outcome") == "Succeeded" && e.GetString("Parameters")!.Contains("\"sex\"", StringComparison.Ordinal));
        Assert.Equal("county-health", served.GetString("OrganizationId"));
        Assert.Equal("dsa-county@1", served.GetString("Agreements"));
        Assert.Equal(Rows(body).Count, served.GetInt64("RowsReturned"));
        Assert.Equal(Metadata(body).GetProperty("suppression").GetProperty("cellsSuppressed").GetInt32(), served.GetInt64("CellsSuppressed"));
        Assert.Contains(audit, e => e.GetString("Outcome") == "Forbidden" && e.GetString("OrganizationId") == "school-board");
        var childKeys = (await _h.Storage.ReadActivityMonthsAsync()).Select(a => a.GetString("ChildKey")!).ToList();
        foreach (var entry in audit)
        {
            var text = string.Join("|", entry.Select(p => p.Value?.ToString()));
            Assert.DoesNotContain(_h.CountyKey, text, StringComparison.Ordinal);
            Assert.DoesNotContain(childKeys, k => text.Contains(k, StringComparison.Ordinal));
            Assert.DoesNotContain(_h.Identifiers, i => text.Contains(i, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Report_AuditWriteFails_RequestFails()
    {
        var broken = new AuditLog(new AuditOutageStorage(_h.Storage), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<AuditLog>.Instance);
        var service = ActivatorUtilities.CreateInstance<AggregateReportService>(_h.Services, broken);
        var function = ActivatorUtilities.CreateInstance<GetAggregateReport>(_h.Services, service);

        var (status, _, body, _) = await _h.GetAsync($"?{September}&api-key={_h.CountyKey}", function: function);

        Assert.Equal(503, status);
        Assert.DoesNotContain("\"value\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_NoResponse_CarriesAStreetAddress()
    {
        var addresses = Enumerable.Range(0, 72).Select(ReportHarness.StreetAddress).ToList();
        var secrets = addresses.Concat(addresses.Select(a => AddressNormalizer.MatchForm(a)!)).ToList();
        foreach (var groupBy in new[] { "", "provider", "sex,race,ageBand", "program,serviceType,zip3", "grade,ethnicity" })
        {
            foreach (var format in new[] { "", "&format=csv" })
            {
                var (status, _, body, _) = await _h.GetAsync($"?{September}&groupBy={groupBy}{format}&api-key={_h.CountyKey}");

                Assert.Equal(200, status);
                Assert.DoesNotContain(secrets, a => body.Contains(a, StringComparison.OrdinalIgnoreCase));
            }
        }
    }

    [Fact]
    public async Task Report_EveryLogLine_FreeOfIdentifiers()
    {
        _h.Logs.Clear();
        foreach (var groupBy in new[] { "", "provider", "sex,race,ageBand", "program,serviceType,zip3", "grade,ethnicity" })
        {
            await _h.GetAsync($"?{September}&groupBy={groupBy}&api-key={_h.CountyKey}");
            await _h.GetAsync($"?{September}&groupBy={groupBy}&format=csv&api-key={_h.CountyKey}");
        }

        await _h.GetAsync($"?{September}&api-key={_h.OutsiderKey}");
        await _h.GetAsync($"?from=bad&api-key={_h.CountyKey}");

        var lines = _h.Logs.GetSnapshot().Select(r => r.Message + " " + string.Join(",", r.StructuredState?.Select(s => s.Value) ?? [])).ToList();
        Assert.NotEmpty(lines);
        var activity = await _h.Storage.ReadActivityMonthsAsync();
        var secrets = activity.Select(a => a.GetString("ChildKey")!).Concat(activity.Select(a => a.RowKey.Split('|')[1])).Concat(_h.Identifiers)
            .Append(_h.CountyKey).Append(_h.OutsiderKey).ToList();
        foreach (var line in lines)
        {
            Assert.DoesNotContain(secrets, s => line.Contains(s, StringComparison.Ordinal));
        }
    }
}

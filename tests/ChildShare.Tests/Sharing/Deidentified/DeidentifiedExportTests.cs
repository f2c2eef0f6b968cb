using System.Text.Json;
using ChildShare.Core.Audit;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Core.Storage;
using ChildShare.Tests.Activity;
using ChildShare.Tests.Sharing.Aggregate;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Deidentified;

/// <summary>The export end to end on Azurite, through the HTTP function, over the adversarial community.</summary>
public sealed class DeidentifiedExportTests(ExportHarnessFixture fixture) : IClassFixture<ExportHarnessFixture>
{
    private const string September = "from=2026-09-01&to=2026-09-30";
    private readonly ExportHarness _h = fixture.Harness;

    private string Query(string agreement, string extra = "") => $"?agreement={agreement}&{September}&api-key={_h.ResearchKey}{extra}";

    [Fact]
    public async Task ChildRows_Json_AreKAnonymous_AndCarryNoIdentifier()
    {
        var (status, contentType, body) = await _h.GetAsync(Query("dsa-research"));

        Assert.Equal(200, status);
        Assert.StartsWith("application/json", contentType, StringComparison.Ordinal);
        var (columns, rows, metadata) = ExportHarness.ParseJson(body);
        ExportChecker.AssertSafe(columns, rows, 5, _h.Identifiers);
        var summary = metadata.GetProperty("anonymization");
        Assert.True(summary.GetProperty("kAchieved").GetInt32() >= 5);
        Assert.Equal(60, metadata.GetProperty("children").GetInt32()); // clinic joined mid-period: its 12 children are not covered
        Assert.Equal(60, rows.Count + summary.GetProperty("recordsSuppressed").GetInt32());
        Assert.True(summary.GetProperty("recordsSuppressed").GetInt32() <= summary.GetProperty("suppressionLimit").GetInt32());
        Assert.Equal(["district", "afterschool"], metadata.GetProperty("providersIncluded").EnumerateArray().Select(e => e.GetString()).Order().Reverse());
        Assert.DoesNotContain(rows, r => r.Contains("X") || r.Contains("NonBinary")); // the single non-binary child is never shown as such
    }

    [Fact]
    public async Task ChildRows_Csv_SameRowsAsJson()
    {
        var json = ExportHarness.ParseJson((await _h.GetAsync(Query("dsa-research"))).Body);
        var (status, contentType, body) = await _h.GetAsync(Query("dsa-research"), accept: "text/csv");

        Assert.Equal(200, status);
        Assert.StartsWith("text/csv", contentType, StringComparison.Ordinal);
        var (columns, rows) = ExportChecker.ParseCsv(body);
        ExportChecker.AssertSafe(columns, rows, 5, _h.Identifiers);
        Assert.Equal(json.Columns, columns);
        Assert.Equal(json.Rows.Select(r => string.Join('|', r)), rows.Select(r => string.Join('|', r)));
    }

    [Fact]
    public async Task ChildRows_Parquet_SameRowsAsJson_WithTheSummaryInTheFileMetadata()
    {
        var json = ExportHarness.ParseJson((await _h.GetAsync(Query("dsa-research"))).Body);
        var (status, contentType, body) = await _h.GetAsync(Query("dsa-research", "&format=parquet"));

        Assert.Equal(200, status);
        Assert.Equal("application/vnd.apache.parquet", contentType);
        var (columns, rows, metadata) = await ExportHarness.ParseParquetAsync(Convert.FromBase64String(body));
        ExportChecker.AssertSafe(columns, rows, 5, _h.Identifiers);
        Assert.Equal(json.Columns, columns);
        Assert.Equal(json.Rows.Select(r => string.Join('|', r)), rows.Select(r => string.Join('|', r)));
        Assert.Contains("kAchieved", metadata["childshare.metadata"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResearchIds_StableWithinAnAgreement_UnrelatedAcrossAgreements()
    {
        var first = ExportHarness.ParseJson((await _h.GetAsync(Query("dsa-research"))).Body).Rows.Select(r => r[0]).ToHashSet();
        var again = ExportHarness.ParseJson((await _h.GetAsync(Query("dsa-research"))).Body).Rows.Select(r => r[0]).ToHashSet();
        var other = ExportHarness.ParseJson((await _h.GetAsync(Query("dsa-research-b"))).Body).Rows.Select(r => r[0]).ToHashSet();

        Assert.NotEmpty(first);
        Assert.Equal(first, again);
        Assert.Equal(first.Count, other.Count);
        Assert.Empty(first.Intersect(other));
        Assert.All(first, id => Assert.Matches("^[0-9a-f]{32}$", id));
    }

    [Fact]
    public async Task OneProviderOnly_IsKAnonymous()
    {
        var (status, _, body) = await _h.GetAsync(Query("dsa-district-only"));

        Assert.Equal(200, status);
        var (columns, rows, metadata) = ExportHarness.ParseJson(body);
        ExportChecker.AssertSafe(columns, rows, 3, _h.Identifiers);
        Assert.Equal(40, metadata.GetProperty("children").GetInt32());
    }

    [Fact]
    public async Task ServiceRows_OnlyReleasedChildren_NoExactDates()
    {
        var children = ExportHarness.ParseJson((await _h.GetAsync(Query("dsa-research"))).Body).Rows.Select(r => r[0]).ToHashSet();
        var (status, _, body) = await _h.GetAsync(Query("dsa-research", "&rows=services&format=csv"));

        Assert.Equal(200, status);
        var (columns, rows) = ExportChecker.ParseCsv(body);
        ExportChecker.AssertSafe(columns, rows, 5, _h.Identifiers, childRows: false);
        Assert.Equal(["researchId", "program", "serviceType", "startYear", "endYear", "hours", "daysAttended"], columns);
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.Contains(r[0], children));
        Assert.All(rows, r => Assert.Equal("2026", r[3]));
    }

    [Fact]
    public async Task ServiceRows_RefusedWhereTheAgreementDoesNotAllowThem()
    {
        var (status, _, _) = await _h.GetAsync(Query("dsa-research-b", "&rows=services"));

        Assert.Equal(403, status);
    }

    [Fact]
    public async Task LinkDelivery_WritesTheExport_AndTheLinkDownloadsIt()
    {
        // Azurite checks the link's expiry against the real clock: this export runs on it.
        var now = TimeProvider.System.GetUtcNow();
        var service = ActivatorUtilities.CreateInstance<DeidentifiedExportService>(_h.Reports.Services, TimeProvider.System);
        var function = ActivatorUtilities.CreateInstance<Functions.Exports.GetDeidentifiedExport>(_h.Reports.Services, service);
        var (status, _, body) = await _h.GetAsync(Query("dsa-research", "&delivery=link&format=csv"), function: function);

        Assert.Equal(200, status);
        using var document = JsonDocument.Parse(body);
        var link = new Uri(document.RootElement.GetProperty("link").GetString()!);
        Assert.Contains("sig=", link.Query, StringComparison.Ordinal);
        Assert.Contains("sp=r", link.Query, StringComparison.Ordinal);
        var expires = document.RootElement.GetProperty("expiresOn").GetDateTimeOffset();
        Assert.True(expires <= now.AddMinutes(16));
        using var http = new HttpClient();
        var csv = await http.GetStringAsync(link);
        var (columns, rows) = ExportChecker.ParseCsv(csv);
        ExportChecker.AssertSafe(columns, rows, 5, _h.Identifiers);
        Assert.Equal(document.RootElement.GetProperty("rows").GetInt32(), rows.Count);
    }

    [Theory]
    [InlineData("?agreement=dsa-research&from=2026-09-01&to=2026-09-30", 401)]
    [InlineData("?agreement=dsa-county&from=2026-09-01&to=2026-09-30&api-key=RESEARCH", 403)] // aggregate-only agreement, and not its recipient
    [InlineData("?agreement=no-such-dsa&from=2026-09-01&to=2026-09-30&api-key=RESEARCH", 403)]
    [InlineData("?agreement=dsa-research&from=2026-09-01&to=2026-09-30&api-key=COUNTY", 403)] // not a recipient
    [InlineData("?agreement=dsa-research&from=2026-08-01&to=2026-09-30&api-key=RESEARCH", 200)] // clinic not covered from August: excluded, not refused
    [InlineData("?agreement=dsa-research&from=2026-09-30&to=2026-09-01&api-key=RESEARCH", 400)]
    [InlineData("?agreement=dsa-research&api-key=RESEARCH", 400)]
    [InlineData("?from=2026-09-01&to=2026-09-30&api-key=RESEARCH", 400)]
    [InlineData("?agreement=dsa-research&from=2026-09-01&to=2026-09-30&format=xml&api-key=RESEARCH", 400)]
    [InlineData("?agreement=dsa-research&from=2026-09-01&to=2026-09-30&groupBy=sex&api-key=RESEARCH", 400)]
    public async Task Refusals(string query, int expected)
    {
        var (status, _, body) = await _h.GetAsync(query.Replace("RESEARCH", _h.ResearchKey, StringComparison.Ordinal)
            .Replace("COUNTY", _h.Reports.CountyKey, StringComparison.Ordinal));

        Assert.Equal(expected, status);
        if (expected != 200)
        {
            Assert.Contains("\"status\":" + expected, body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task StreetAddresses_KeptWithTheIdentities_AppearInNoExport()
    {
        var identities = await _h.Reports.Storage.ReadAllAsync(TableNames.Identities);
        var addresses = Enumerable.Range(0, 72).Select(ReportHarness.StreetAddress).ToList();
        var forms = addresses.Select(a => AddressNormalizer.MatchForm(a)!).ToList();

        var bodies = new List<string>();
        foreach (var extra in new[] { "", "&format=csv", "&rows=services&format=csv" })
        {
            var (status, _, body) = await _h.GetAsync(Query("dsa-research", extra));
            Assert.Equal(200, status);
            bodies.Add(body);
        }

        Assert.All(identities, i => Assert.Contains(i.GetString("StreetAddress"), addresses));
        foreach (var body in bodies)
        {
            Assert.DoesNotContain(addresses.Concat(forms), a => IdentifierSearch.AppearsIn(body, a));
            Assert.DoesNotContain("Juniper", body, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task EveryExport_IsAudited_WithItsSummary_AndNoIdentifier()
    {
        await _h.GetAsync(Query("dsa-research"));
        await _h.GetAsync("?agreement=dsa-research&" + September + "&api-key=" + _h.Reports.CountyKey);

        var audit = (await _h.Reports.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10"))
            .Where(e => e.GetString("Event") == AuditEvents.DeidentifiedExport).ToList();
        var served = audit.Last(e => e.GetString("Outcome") == "Succeeded");
        Assert.Equal("dsa-research@1", served.GetString("Agreements"));
        Assert.Contains("\"kAchieved\"", served.GetString("Detail"), StringComparison.Ordinal);
        Assert.Contains("\"levels\"", served.GetString("Detail"), StringComparison.Ordinal);
        Assert.Contains(audit, e => e.GetString("Outcome") == "Forbidden" && e.GetString("OrganizationId") == "county-health");
        // Provider ids are audited (which providers' data was relied on), as for reports; nothing about a child is.
        var childIdentifiers = _h.Identifiers.Where(i => i.Length >= 5 && i is not ("district" or "clinic" or "afterschool")).ToList();
        var text = string.Join("\n", audit.SelectMany(e => e.Select(p => p.Value?.ToString() ?? "")));
        Assert.DoesNotContain(childIdentifiers, i => IdentifierSearch.AppearsIn(text, i));
        var logs = string.Join("\n", _h.Reports.Logs.GetSnapshot().Select(l => l.Message));
        Assert.DoesNotContain(childIdentifiers, i => IdentifierSearch.AppearsIn(logs, i));
    }
}

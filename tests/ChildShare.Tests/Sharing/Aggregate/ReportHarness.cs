using System.Text;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Callers;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Functions.Reports;
using ChildShare.Tests.Agreements;
using ChildShare.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>
/// An adversarial community ingested through the real ingestion path, for September 2026:
/// <list type="bullet">
/// <item>district: children 0-39 (Tutoring 0-29, Mentoring 30-39); child 5 is the only non-binary child (a group of one).</item>
/// <item>afterschool: children 0 and 40-59 (Sports).</item>
/// <item>clinic: children 0 and 60-71 (Checkup); it joins the county agreement on 2026-09-15.</item>
/// </list>
/// Child 0 is served by all three providers. Agreements: <c>dsa-county</c> (recipient county-health),
/// <c>dsa-expired</c> (recipient old-partner, ended 2026-09-30), <c>dsa-planning</c> (recipient
/// county-planning, all three providers from the start). Exact counts (protection None), so periods
/// are calendar months. Today is 2026-10-15.
/// </summary>
public sealed class ReportHarness : IAsyncLifetime
{
    public const string Profile = """
        {
          "dateFormats": ["yyyy-MM-dd"],
          "columns": {
            "Id": "LocalChildId", "First": "FirstName", "Last": "LastName", "DOB": "BirthDate", "Sex": "Sex", "Race": "Race",
            "Zip": "Zip", "Grade": "Grade", "Program": "Program", "Type": "ServiceType", "Start": "ServiceStart", "End": "ServiceEnd",
            "Address": "StreetAddress"
          },
          "codeMaps": { "Race": { "4": "NativeHawaiianOrOtherPacificIslander", "5": "White", "3": "BlackOrAfricanAmerican" } }
        }
        """;

    private static readonly string[] FirstNames = ["Ana", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hiro", "Imani", "Jose", "Kai", "Lucia"];
    private static readonly string[] LastNames = ["Lopez", "Okafor", "Nguyen", "Smith", "Tupou", "Begay", "Chen"];
    private static readonly string[] Streets = ["Juniper Hollow Rd", "Quarry Ridge Ave", "Tamarack Ln", "Wickersham Blvd", "Pelham Ct", "Oriole Ter"];

    public TestStorage Storage { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 10, 1, 8, 0, 0, TimeSpan.Zero));

    public FakeLogCollector Logs { get; } = new();

    public ServiceProvider Services { get; private set; } = null!;

    public string CountyKey { get; private set; } = "";

    public string OutsiderKey { get; private set; } = "";

    public string ExpiredKey { get; private set; } = "";

    /// <summary>county-planning's key: every provider, the clinic included, for all of September.</summary>
    public string PlanningKey { get; private set; } = "";

    /// <summary>Every name, local id, birth date and street address (and its match form) the providers sent: none may appear in a log, response or audit.</summary>
    public List<string> Identifiers { get; } = [];

    public static (string First, string Last, string Dob) Child(int i) =>
        (FirstNames[i % FirstNames.Length], LastNames[i / FirstNames.Length % LastNames.Length] + (i >= FirstNames.Length * LastNames.Length ? "x" : ""),
            new DateOnly(2012, 1, 1).AddDays(i * 37).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The street address every provider sends for child <paramref name="i"/>.</summary>
    public static string StreetAddress(int i) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{1000 + i * 37} {Streets[i % Streets.Length]} Apt {1 + i % 9}");

    public async Task InitializeAsync()
    {
        await Storage.InitializeAsync();
        Services = TestApp.Build(Storage, Time, configure: services => services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(Logs))));
        var registry = Services.GetRequiredService<ProviderRegistry>();
        foreach (var provider in new[] { "district", "afterschool", "clinic" })
        {
            await registry.RegisterAsync(provider, provider, "Other");
            await registry.SaveProfileAsync(provider, Profile);
        }

        await IngestAsync("district", Enumerable.Range(0, 40).Select(i => Row("D", i, i < 30 ? "Tutoring" : "Mentoring", "Academic", "2026-09-01", "2026-09-30")));
        Time.Advance(TimeSpan.FromHours(1));
        await IngestAsync("afterschool", new[] { 0 }.Concat(Enumerable.Range(40, 20)).Select(i => Row("A", i, "Sports", "Recreation", "2026-09-02", "2026-09-25")));
        Time.Advance(TimeSpan.FromHours(1));
        await IngestAsync("clinic", new[] { 0 }.Concat(Enumerable.Range(60, 12)).Select(i => Row("C", i, "Checkup", "Health", "2026-09-16", "2026-09-16")));
        Time.SetUtcNow(TestApp.Now);

        var agreements = Services.GetRequiredService<AgreementStore>();
        await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-county", "county-health", "district", "afterschool") with
        {
            Parties = [new AgreementParty("district"), new AgreementParty("afterschool"), new AgreementParty("clinic", new DateOnly(2026, 9, 15))],
        }, "test");
        await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-expired", "old-partner", "district") with { EndsOn = new DateOnly(2026, 9, 30) }, "test");
        await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-planning", "county-planning", "district", "afterschool", "clinic"), "test");
        var keys = Services.GetRequiredService<ApiKeyStore>();
        CountyKey = (await keys.IssueAsync("county-health", CallerRoles.Reader, "power-bi", TimeSpan.FromDays(90), "test")).Key;
        OutsiderKey = (await keys.IssueAsync("school-board", CallerRoles.Reader, "power-bi", TimeSpan.FromDays(90), "test")).Key;
        ExpiredKey = (await keys.IssueAsync("old-partner", CallerRoles.Reader, "power-bi", TimeSpan.FromDays(90), "test")).Key;
        PlanningKey = (await keys.IssueAsync("county-planning", CallerRoles.Reader, "power-bi", TimeSpan.FromDays(90), "test")).Key;
    }

    private string Row(string prefix, int i, string program, string type, string start, string end)
    {
        var (first, last, dob) = Child(i);
        var sex = i == 5 ? "X" : i % 2 == 0 ? "F" : "M";
        var race = i == 7 ? "4" : i % 3 == 0 ? "3" : "5";
        var id = $"{prefix}{i:D3}";
        var address = StreetAddress(i);
        Identifiers.AddRange([id, first + " " + last, last, dob, address, AddressNormalizer.MatchForm(address)!]);
        return $"{id},{first},{last},{dob},{sex},{race},1234{i % 10},{1 + (i % 12)},{program},{type},{start},{end},{address}";
    }

    private async Task IngestAsync(string provider, IEnumerable<string> rows)
    {
        var csv = "Id,First,Last,DOB,Sex,Race,Zip,Grade,Program,Type,Start,End,Address\n" + string.Join("\n", rows) + "\n";
        var blob = await Storage.UploadAsync($"{provider}/september.csv", Encoding.UTF8.GetBytes(csv));
        var manifest = await Services.GetRequiredService<IngestionService>().IngestAsync(blob);
        if (manifest.Status != UploadStatus.Completed || manifest.RowsRejected > 0)
        {
            throw new InvalidOperationException($"Test data for {provider} did not ingest cleanly: {manifest.Status}, {manifest.RowsRejected} rejected.");
        }
    }

    public GetAggregateReport Function => ActivatorUtilities.CreateInstance<GetAggregateReport>(Services);

    /// <summary>Calls the HTTP function as the Functions host would; returns the status, content type and body.</summary>
    public async Task<(int Status, string ContentType, string Body, HttpContext Context)> GetAsync(string query, string? accept = null, GetAggregateReport? function = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("childshare.example.org");
        context.Request.Path = "/api/reports/aggregate";
        context.Request.QueryString = new QueryString(query);
        if (accept is not null)
        {
            context.Request.Headers.Accept = accept;
        }

        var result = await TestHttp.RunAsync(Services, context.Request, r => (function ?? Function).RunAsync(r, CancellationToken.None));
        return result switch
        {
            ContentResult content => (content.StatusCode ?? 200, content.ContentType ?? "", content.Content ?? "", context),
            ObjectResult obj => (obj.StatusCode ?? 200, obj.ContentTypes.FirstOrDefault() ?? "", System.Text.Json.JsonSerializer.Serialize(obj.Value, GetAggregateReport.Json), context),
            _ => throw new InvalidOperationException("Unexpected result " + result.GetType().Name),
        };
    }

    public async Task DisposeAsync()
    {
        await Services.DisposeAsync();
        await Storage.DisposeAsync();
    }
}

public sealed class ReportHarnessFixture : IAsyncLifetime
{
    public ReportHarness Harness { get; } = new();

    public Task InitializeAsync() => Harness.InitializeAsync();

    public Task DisposeAsync() => Harness.DisposeAsync();
}

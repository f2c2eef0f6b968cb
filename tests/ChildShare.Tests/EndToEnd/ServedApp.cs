using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ChildShare.Cli.Serve;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Callers;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Functions.Hosting;
using ChildShare.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.EndToEnd;

/// <summary>
/// The function app served by <see cref="LocalFunctionHost"/> (what <c>childshare serve</c> runs) on
/// Kestrel at a free port of 127.0.0.1, against a private corner of Azurite, called over real HTTP.
/// The community (September 2026): children 0-11 at <c>district</c> (ids D000..., Tutoring) and at
/// <c>clinic</c> (C000..., Checkup), the same children, so each is one community child. Agreements:
/// <c>dsa-aggregate</c> (district and clinic to county-health), <c>dsa-deid</c> (de-identified to
/// research-lab), <c>dsa-identifiable</c> (district to clinic). Callers: an API key for each
/// organization, an Admin key, one revoked, one expired, and an Entra principal of county-health
/// (the principal header is trusted here, as behind App Service Authentication). Today is 2026-10-15.
/// </summary>
public sealed class ServedApp : TestCommunity
{
    private const string Header = "Id,First,Last,DOB,Sex,Grade,Program,Type,Start,End";

    public const int ChildCount = 12;

    private const string Profile = """
        {
          "dateFormats": ["yyyy-MM-dd"],
          "columns": {
            "Id": "LocalChildId", "First": "FirstName", "Last": "LastName", "DOB": "BirthDate", "Sex": "Sex", "Grade": "Grade",
            "Program": "Program", "Type": "ServiceType", "Start": "ServiceStart", "End": "ServiceEnd"
          }
        }
        """;

    private static readonly string[] FirstNames = ["Anneliese", "Bartholomew", "Cordelia", "Desmond", "Evangeline", "Florian", "Gwendolyn", "Horatio", "Isadora", "Jasper", "Kalliope", "Leander"];

    public const string PrincipalTenant = "3f0c8d2e-1111-4a4a-9b9b-000000000001";
    public const string PrincipalObject = "7a1e5c9d-2222-4b4b-8c8c-000000000002";

    public WebApplication App { get; private set; } = null!;

    public IServiceProvider Services => App.Services;

    public HttpClient Client { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);

    public string RevokedKey { get; private set; } = "";

    public string ExpiredKey { get; private set; } = "";

    public string DistrictUpload { get; private set; } = "";

    public string ClinicUpload { get; private set; } = "";

    public string Key(string organization) => Keys[organization];

    public override async Task InitializeAsync()
    {
        await Storage.InitializeAsync();
        App = LocalFunctionHost.Create(
            new LocalHostOptions { Port = 0, PollInterval = TimeSpan.FromMilliseconds(200) },
            // Entra callers as App Service Authentication delivers them: trusted only where the platform says it runs.
            Storage.Settings.Append(new("Callers:TrustClientPrincipalHeader", "true")).Append(new(AppServiceAuthentication.EnabledVariable, "true")),
            AddTo);
        await RegisterProvidersAsync(Services, Profile, "district", "clinic");

        // Ingested before the host starts, so its poller finds nothing pending; a test drives the poller with its own upload.
        DistrictUpload = await IngestAsync("district", Enumerable.Range(0, ChildCount).Select(i => Row("D", i, "Tutoring", "Academic", "2026-09-01", "2026-09-30"))
            .Append("D999,,,not-a-date,,,Tutoring,Academic,2026-09-01,2026-09-30"));
        Time.Advance(TimeSpan.FromHours(1));
        ClinicUpload = await IngestAsync("clinic", Enumerable.Range(0, ChildCount).Select(i => Row("C", i, "Checkup", "Health", "2026-09-16", "2026-09-16")));
        Time.SetUtcNow(TestApp.Now - TimeSpan.FromDays(10));

        var agreements = Services.GetRequiredService<AgreementStore>();
        DataSharingAgreement Agreement(string id, string recipient, SharingMode mode) => new()
        {
            Id = id,
            Parties = [new AgreementParty("district"), new AgreementParty("clinic")],
            Recipients = [recipient],
            Modes = [mode],
            Purpose = "End-to-end tests",
            EffectiveFrom = new DateOnly(2025, 1, 1),
            EndsOn = new DateOnly(2027, 12, 31),
            MinimumCellSize = 3,
            AllowedDimensions = ReportDimensions.All,
            DocumentReference = "https://docs.example.org/dsa/" + id,
            DeIdentification = mode == SharingMode.DeIdentified ? new DeidentificationTerms { K = 2, MaxSuppression = 0.5 } : null,
        };
        await agreements.CreateAsync(Agreement("dsa-aggregate", "county-health", SharingMode.Aggregate), "test");
        await agreements.CreateAsync(Agreement("dsa-deid", "research-lab", SharingMode.DeIdentified), "test");
        await agreements.CreateAsync(Agreement("dsa-identifiable", "clinic", SharingMode.Identifiable) with { Parties = [new AgreementParty("district"), new AgreementParty("clinic")] }, "test");

        ExpiredKey = await IssueKeyAsync(Services, "county-health", "old", lifetime: TimeSpan.FromDays(1));
        Time.SetUtcNow(TestApp.Now);
        Keys["ops"] = await IssueKeyAsync(Services, "ops", "ops", CallerRoles.Admin, TimeSpan.FromDays(30));
        foreach (var organization in new[] { "county-health", "research-lab", "district", "clinic", "school-board" })
        {
            Keys[organization] = await IssueKeyAsync(Services, organization, "e2e", lifetime: TimeSpan.FromDays(30));
        }

        var keys = Services.GetRequiredService<ApiKeyStore>();
        var revoked = await keys.IssueAsync("county-health", CallerRoles.Reader, "revoked", TimeSpan.FromDays(30), "test");
        await keys.RevokeAsync(revoked.Info.KeyId, "test");
        RevokedKey = revoked.Key;
        await Services.GetRequiredService<PrincipalDirectory>().MapAsync(PrincipalTenant, PrincipalObject, "county-health", CallerRoles.Reader, "test");

        await App.StartAsync();
        BaseAddress = LocalFunctionHost.BaseAddress(App);
        Client = new HttpClient { BaseAddress = BaseAddress };
    }

    public override async Task DisposeAsync()
    {
        Client?.Dispose();
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }

        await Storage.DisposeAsync();
    }

    /// <summary>A request with an API key header (or none), and a JSON body for anything but GET.</summary>
    public static HttpRequestMessage Request(HttpMethod method, string path, string? apiKey = null, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (apiKey is not null)
        {
            request.Headers.Add(CallerResolver.ApiKeyHeaderName, apiKey);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body as string ?? JsonSerializer.Serialize(body, JsonSerializerOptions.Web), Encoding.UTF8, "application/json");
        }

        return request;
    }

    public async Task<Response> SendAsync(HttpRequestMessage request)
    {
        using var response = await Client.SendAsync(request);
        return new Response((int)response.StatusCode, response.Content.Headers.ContentType, await response.Content.ReadAsStringAsync(),
            response.Headers.Concat(response.Content.Headers).ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase));
    }

    public Task<Response> GetAsync(string path, string? apiKey) => SendAsync(Request(HttpMethod.Get, path, apiKey));

    public Task<Response> PostAsync(string path, string? apiKey, object body) => SendAsync(Request(HttpMethod.Post, path, apiKey, body));

    /// <summary>A valid consent recorded by district (the owner) for child <paramref name="child"/>, shared with clinic.</summary>
    public object ConsentDraft(int child) => new
    {
        localChildId = $"D{child:D3}",
        givenBy = new { name = "Parent Of-Child", relationship = "mother" },
        sources = new[] { "district" },
        recipients = new[] { "clinic" },
        purpose = "Coordinate tutoring and health follow-up",
        categories = new[] { "identity", "enrollment" },
        disclosure = new { documentId = "disclosure-coordinated-care", version = "2026.1", sha256 = new string('a', 64) },
        signature = new { method = "SignedForm", blobReference = "consent-forms/2026/form-0001.pdf" },
        expiresAt = Time.GetUtcNow() + TimeSpan.FromDays(90),
    };

    /// <summary>A valid renewal: a new signature on the same disclosure, running <paramref name="days"/> days from now.</summary>
    public object RenewalBody(int days) => new
    {
        expiresAt = Time.GetUtcNow() + TimeSpan.FromDays(days),
        disclosure = new { documentId = "disclosure-coordinated-care", version = "2026.1", sha256 = new string('a', 64) },
        signature = new { method = "Electronic", evidence = "esign envelope 7" },
    };

    /// <summary>A path for a route with every parameter filled: an id of 32 hex digits, which every id constraint accepts.</summary>
    public static string SamplePath(HttpFunction function, string id = "0123456789abcdef0123456789abcdef") =>
        string.Join('/', function.Path.Split('/').Select(s => s.StartsWith('{') ? id : s));

    private string Row(string prefix, int i, string program, string type, string start, string end)
    {
        var first = FirstNames[i % FirstNames.Length];
        const string last = "Vanterpool";
        var dob = new DateOnly(2013, 2, 1).AddDays(i * 41).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var id = $"{prefix}{i:D3}";
        Identifiers.AddRange([id, first, last, dob]);
        return $"{id},{first},{last},{dob},{(i % 2 == 0 ? "F" : "M")},{1 + (i % 12)},{program},{type},{start},{end}";
    }

    private async Task<string> IngestAsync(string provider, IEnumerable<string> rows) =>
        (await IngestAsync(Services, provider, Header, rows, rejectsExpected: true)).UploadId;
}

/// <summary>One response as it came over the wire.</summary>
public sealed record Response(int Status, MediaTypeHeaderValue? ContentType, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public string MediaType => ContentType?.MediaType ?? "";

    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

[CollectionDefinition(Name)]
public sealed class ServedAppCollection : ICollectionFixture<ServedApp>
{
    public const string Name = "served app";
}

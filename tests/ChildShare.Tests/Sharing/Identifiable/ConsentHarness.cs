using System.Text.Json;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Callers;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Sharing.Identifiable.Parent;
using ChildShare.Functions.Consent;
using ChildShare.Functions.Reports;
using ChildShare.Tests.Sharing.Identifiable.Parent;
using ChildShare.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Identifiable;

/// <summary>
/// A small community ingested through the real ingestion path (September 2026): children 0-15 at
/// <c>district</c> (ids D000..., Tutoring, Academic, with hours and days attended, grade and school),
/// at <c>clinic</c> (C000..., Checkup, Health, on 16 September) and at <c>afterschool</c>
/// (A000..., Sports, Recreation). The same child is one community child at all three.
/// Agreement <c>dsa-identifiable</c> lets district and clinic share identifiable data with
/// afterschool; <c>school-board</c> has no agreement. Each test uses its own child so tests do not
/// see each other's consents. Today is 2026-10-15 12:00 UTC and moves only when a test moves it.
/// </summary>
public sealed class ConsentHarness : TestCommunity
{
    private const string Header = "Id,First,Last,DOB,Sex,Grade,School,Program,Type,Start,End,Hours,Days,Address";

    public const int ChildCount = 16;

    private const string Profile = """
        {
          "dateFormats": ["yyyy-MM-dd"],
          "columns": {
            "Id": "LocalChildId", "First": "FirstName", "Last": "LastName", "DOB": "BirthDate", "Sex": "Sex", "Grade": "Grade", "School": "School",
            "Program": "Program", "Type": "ServiceType", "Start": "ServiceStart", "End": "ServiceEnd", "Hours": "Hours", "Days": "DaysAttended",
            "Address": "StreetAddress"
          }
        }
        """;

    private static readonly string[] FirstNames = ["Amara", "Bodhi", "Cyrus", "Dalia", "Esme", "Fintan", "Galen", "Halima", "Ines", "Jovan", "Kenji", "Liora", "Maren", "Nnamdi", "Oriel", "Priya"];

    private int _nextChild;

    public ServiceProvider Services { get; private set; } = null!;

    public string AfterschoolKey { get; private set; } = "";

    public string DistrictKey { get; private set; } = "";

    public string ClinicKey { get; private set; } = "";

    public string SchoolBoardKey { get; private set; } = "";

    public static readonly Caller District = new("district", CallerRoles.Reader, CallerAuthMethod.ApiKey, "k-district");
    public static readonly Caller Clinic = new("clinic", CallerRoles.Reader, CallerAuthMethod.ApiKey, "k-clinic");
    public static readonly Caller Afterschool = new("afterschool", CallerRoles.Reader, CallerAuthMethod.ApiKey, "k-afterschool");
    public static readonly Caller SchoolBoard = new("school-board", CallerRoles.Reader, CallerAuthMethod.ApiKey, "k-school-board");

    public ConsentService Consents => Services.GetRequiredService<ConsentService>();

    public ConsentStore Store => Services.GetRequiredService<ConsentStore>();

    public IdentifiableReportService Reports => Services.GetRequiredService<IdentifiableReportService>();

    public OwnerAuthorizationService Authorizations => Services.GetRequiredService<OwnerAuthorizationService>();

    public static (string First, string Last, string Dob) Child(int i) =>
        (FirstNames[i % FirstNames.Length], "Okonkwo-Ruiz", new DateOnly(2013, 2, 1).AddDays(i * 41).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The street address every provider sends for child <paramref name="i"/>.</summary>
    public static string StreetAddress(int i) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{2200 + i * 41} Halloran Crest Dr Unit {1 + i}");

    /// <summary>A child no other test of this harness uses.</summary>
    public int NextChild()
    {
        var child = Interlocked.Increment(ref _nextChild) - 1;
        return child < ChildCount ? child : throw new InvalidOperationException("The harness has no more unused children; raise ChildCount.");
    }

    public override async Task InitializeAsync()
    {
        await Storage.InitializeAsync();
        Services = BuildApp();
        await RegisterProvidersAsync(Services, Profile, "district", "clinic", "afterschool");

        await IngestAsync("district", Enumerable.Range(0, ChildCount).Select(i => Row("D", i, "Tutoring", "Academic", "2026-09-01", "2026-09-30", "12.5", "18")));
        Time.Advance(TimeSpan.FromHours(1));
        await IngestAsync("clinic", Enumerable.Range(0, ChildCount).Select(i => Row("C", i, "Checkup", "Health", "2026-09-16", "2026-09-16", "", "")));
        Time.Advance(TimeSpan.FromHours(1));
        await IngestAsync("afterschool", Enumerable.Range(0, ChildCount).Select(i => Row("A", i, "Sports", "Recreation", "2026-09-02", "2026-09-25", "", "")));
        Time.SetUtcNow(TestApp.Now);

        await Services.GetRequiredService<AgreementStore>().CreateAsync(new DataSharingAgreement
        {
            Id = "dsa-identifiable",
            Parties = [new AgreementParty("district"), new AgreementParty("clinic"), new AgreementParty("afterschool")],
            Recipients = ["afterschool"],
            Modes = [SharingMode.Identifiable],
            Purpose = "Coordinated care with parent consent",
            EffectiveFrom = new DateOnly(2025, 1, 1),
            EndsOn = new DateOnly(2027, 12, 31),
            AllowedDimensions = ReportDimensions.All,
            DocumentReference = "https://docs.example.org/dsa/identifiable",
        }, "test");
        AfterschoolKey = await IssueKeyAsync(Services, "afterschool", "case-system");
        DistrictKey = await IssueKeyAsync(Services, "district", "case-system");
        ClinicKey = await IssueKeyAsync(Services, "clinic", "case-system");
        SchoolBoardKey = await IssueKeyAsync(Services, "school-board", "case-system");
    }

    /// <summary>
    /// Uploads child <paramref name="i"/>'s district row again (same service) as <paramref name="blobName"/>, with the street address and
    /// state student id given ("" for a blank cell), under the district profile extended with a <c>StateId</c> column.
    /// </summary>
    public async Task ReuploadDistrictChildAsync(int i, string blobName, string address, string stateId)
    {
        if (stateId.Length > 0)
        {
            Identifiers.Add(stateId);
        }

        var profile = Profile.Replace("\"Address\": \"StreetAddress\"", "\"Address\": \"StreetAddress\", \"StateId\": \"StateStudentId\"", StringComparison.Ordinal);
        await Services.GetRequiredService<ProviderRegistry>().SaveProfileAsync("district", profile);
        await IngestAsync("district", [Row("D", i, "Tutoring", "Academic", "2026-09-01", "2026-09-30", "12.5", "18", address) + "," + stateId], blobName, ",StateId");
    }

    /// <summary>
    /// Uploads, as <paramref name="provider"/>, one made-up row that copies child <paramref name="i"/>'s name,
    /// birth date and address under a local id of the uploader's choosing: what an organization that never
    /// served the child could send. It links to the community child like any other record.
    /// </summary>
    public async Task IngestClaimedChildAsync(string provider, string localId, int i, string blobName)
    {
        var registry = Services.GetRequiredService<ProviderRegistry>();
        if (await registry.GetAsync(provider) is null)
        {
            await registry.RegisterAsync(provider, provider, "Other");
            await registry.SaveProfileAsync(provider, Profile);
        }

        var (first, last, dob) = Child(i);
        Identifiers.Add(localId);
        await IngestAsync(provider, [$"{localId},{first},{last},{dob},{(i % 2 == 0 ? "F" : "M")},3,Lincoln Elementary,Sports,Recreation,2026-09-02,2026-09-25,,,{StreetAddress(i)}"],
            blobName);
    }

    /// <summary>Uploads, as district, one more child under <paramref name="localId"/> with the given names (which may hold anything a file can).</summary>
    public async Task IngestDistrictChildAsync(string localId, string first, string last, string dob, string blobName)
    {
        Identifiers.AddRange([localId, first, last, dob]);
        await IngestAsync("district", [$"{localId},{first},{last},{dob},F,3,Lincoln Elementary,Tutoring,Academic,2026-09-01,2026-09-30,12.5,18,"], blobName);
    }

    private string Row(string prefix, int i, string program, string type, string start, string end, string hours, string days, string? address = null)
    {
        var (first, last, dob) = Child(i);
        var id = $"{prefix}{i:D3}";
        address ??= StreetAddress(i);
        Identifiers.AddRange([id, first + " " + last, first, last, dob]);
        if (address.Length > 0)
        {
            Identifiers.AddRange([address, AddressNormalizer.MatchForm(address)!]);
        }

        return $"{id},{first},{last},{dob},{(i % 2 == 0 ? "F" : "M")},{1 + (i % 12)},Lincoln Elementary,{program},{type},{start},{end},{hours},{days},{address}";
    }

    private Task IngestAsync(string provider, IEnumerable<string> rows, string blobName = "september.csv", string extraColumns = "") =>
        IngestAsync(Services, provider, Header + extraColumns, rows, blobName);

    /// <summary>A valid consent: district (the owner, by its local id) and clinic share with afterschool.</summary>
    public ConsentDraft Draft(int child, TimeSpan? runs = null, IReadOnlyList<string>? categories = null, IReadOnlyList<string>? recipients = null,
        IReadOnlyList<string>? sources = null) => new()
    {
        LocalChildId = $"D{child:D3}",
        GivenBy = new ConsentGrantor("Parent Of-Child", "mother"),
        Sources = sources ?? ["district", "clinic"],
        Recipients = recipients ?? ["afterschool"],
        Purpose = "Coordinate tutoring and health follow-up",
        Categories = categories ?? ["identity", "enrollment", "attendance", "academic"],
        Disclosure = new ConsentDisclosure("disclosure-coordinated-care", "2026.1", new string('a', 64)),
        Signature = new ConsentSignature(SignatureMethod.SignedForm, BlobReference: "consent-forms/2026/form-0001.pdf"),
        ExpiresAt = Time.GetUtcNow() + (runs ?? TimeSpan.FromDays(180)),
    };

    /// <summary>
    /// District records a consent (authorizing its own data by recording it) and every other source it
    /// names that the harness knows (clinic) approves it: the consent the parent gave, with each data
    /// owner's say. Use <see cref="RecordOnlyAsync"/> for a consent the other sources have not answered.
    /// </summary>
    public async Task<VersionedConsent> GrantAsync(int child, TimeSpan? runs = null, IReadOnlyList<string>? categories = null, IReadOnlyList<string>? recipients = null,
        IReadOnlyList<string>? sources = null)
    {
        var recorded = await RecordOnlyAsync(child, runs, categories, recipients, sources);
        foreach (var owner in new[] { Clinic, Afterschool }.Where(o => recorded.Consent.IsSource(o.OrganizationId)))
        {
            recorded = await ApproveAsync(owner, recorded.Consent.Id);
        }

        return recorded;
    }

    /// <summary>A consent in force for <paramref name="child"/> and the token of the parent link the district issues for it.</summary>
    public async Task<(VersionedConsent Consent, string Token)> GrantWithParentLinkAsync(int child, IReadOnlyList<string>? categories = null)
    {
        var consent = await GrantAsync(child, categories: categories);
        var link = (await Services.GetRequiredService<ParentLinkService>().IssueAsync(District, consent.Consent.Id))!;
        return (consent, ParentPageCalls.TokenOf(link.Url));
    }

    /// <summary>The source <paramref name="owner"/> approves releasing its data under the consent.</summary>
    public async Task<VersionedConsent> ApproveAsync(Caller owner, string consentId) =>
        (await Authorizations.DecideAsync(owner, consentId, new OwnerAuthorizationRequest { Decision = "approve" }))!;

    /// <summary>District records a consent; no other source has answered it.</summary>
    public Task<VersionedConsent> RecordOnlyAsync(int child, TimeSpan? runs = null, IReadOnlyList<string>? categories = null, IReadOnlyList<string>? recipients = null,
        IReadOnlyList<string>? sources = null) =>
        Consents.RecordAsync(District, Draft(child, runs, categories, recipients, sources));

    public static IdentifiableReportRequest Ask(int child, params string[] categories) =>
        new() { Child = $"A{child:D3}", Categories = categories.Length == 0 ? null : categories };

    /// <summary>Calls an HTTP function as the host would, with a JSON body and an API key header.</summary>
    public static async Task<(int Status, string Body, HttpContext Context)> CallAsync(IServiceProvider services, Func<HttpRequest, Task<IActionResult>> function, string method, string path,
        object? body, string? apiKey, string? ifMatch = null, string? query = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("childshare.example.org");
        context.Request.Path = path;
        if (query is not null)
        {
            context.Request.QueryString = new QueryString(query);
        }

        if (apiKey is not null)
        {
            context.Request.Headers[CallerResolver.ApiKeyHeaderName] = apiKey;
        }

        if (ifMatch is not null)
        {
            context.Request.Headers.IfMatch = ifMatch;
        }

        context.Request.Body = new MemoryStream(body is null ? [] : JsonSerializer.SerializeToUtf8Bytes(body, ConsentFunctions.Json));
        var result = await TestHttp.RunAsync(services, context, () => function(context.Request));

        // The result is not executed (no MVC pipeline here): the response's content type is the one the result declares.
        switch (result)
        {
            case ContentResult content:
                context.Response.ContentType = content.ContentType;
                return (content.StatusCode ?? 200, content.Content ?? "", context);
            case ObjectResult obj:
                context.Response.ContentType = string.Join(", ", obj.ContentTypes);
                return (obj.StatusCode ?? 200, JsonSerializer.Serialize(obj.Value, ConsentFunctions.Json), context);
            default:
                throw new InvalidOperationException("Unexpected result " + result.GetType().Name);
        }
    }

    public ConsentFunctions ConsentApi => ActivatorUtilities.CreateInstance<ConsentFunctions>(Services);

    public GetIdentifiableReport ReportApi => ActivatorUtilities.CreateInstance<GetIdentifiableReport>(Services);

    public override async Task DisposeAsync()
    {
        await Services.DisposeAsync();
        await Storage.DisposeAsync();
    }
}

public sealed class ConsentHarnessFixture : IAsyncLifetime
{
    public ConsentHarness Harness { get; } = new();

    public Task InitializeAsync() => Harness.InitializeAsync();

    public Task DisposeAsync() => Harness.DisposeAsync();
}

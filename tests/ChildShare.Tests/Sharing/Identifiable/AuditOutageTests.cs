using System.Reflection;
using System.Text.Json;
using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Callers;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Sharing.Identifiable.Parent;
using ChildShare.Core.Storage;
using ChildShare.Functions.Admin;
using ChildShare.Functions.Consent;
using ChildShare.Functions.Exports;
using ChildShare.Functions.Ingestion;
using ChildShare.Functions.Reports;
using ChildShare.Tests.Sharing.Identifiable.Parent;
using ChildShare.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Identifiable;

/// <summary>
/// Issue 11, finding 2: every read and every change of consent, agreement and upload data fails
/// closed when the audit cannot be written. The same community and storage as the other consent tests,
/// served by a second set of the application's services whose audit table does not exist (the table
/// service's real 404). Each route answers a 503 problem, releases nothing, and changes nothing.
/// </summary>
public sealed class AuditOutageTests(AuditOutageTests.Fixture fixture) : IClassFixture<AuditOutageTests.Fixture>
{
    private readonly ConsentHarness _h = fixture.Harness;

    /// <summary>
    /// Routes whose functions read or change no shared data, listed here so a new route has to say which it
    /// is: the OpenAPI document (the route table) and the health check (reachable or not, nothing else).
    /// </summary>
    private static readonly string[] Unaudited = ["GetOpenApiDocument", "GetHealth"];

    public static TheoryData<string> Routes() => [.. HttpFunctionNames().Except(Unaudited)];

    [Fact]
    public void Routes_CoverEveryHttpFunction()
    {
        var covered = typeof(AuditOutageTests).GetMethod(nameof(CallDuringOutageAsync), BindingFlags.NonPublic | BindingFlags.Instance)!;
        Assert.NotNull(covered);
        Assert.Equal(HttpFunctionNames().Except(Unaudited).Order(), Cases.Keys.Concat(PageCases.Keys).Order());
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Route_AuditTableUnavailable_503ProblemAndNothingReleasedOrChanged(string function)
    {
        var before = await SnapshotAsync();

        var (status, body, contentType) = await CallDuringOutageAsync(function);

        Assert.Equal(503, status);
        if (PageCases.ContainsKey(function))
        {
            // The parent's page answers a browser: the same refusal as a plain HTML page.
            Assert.Contains("text/html", contentType, StringComparison.Ordinal);
            Assert.Contains("Temporarily unavailable", body, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("application/problem+json", contentType, StringComparison.Ordinal);
            Assert.Equal("Audit unavailable", JsonDocument.Parse(body).RootElement.GetProperty("title").GetString());
        }

        foreach (var secret in _h.Identifiers.Append("Parent Of-Child").Append(fixture.Consent.Consent.Id).Append(fixture.UploadId))
        {
            Assert.False(IdentifierSearch.AppearsIn(body, secret), $"{function}'s refusal releases data.");
        }

        Assert.Equal(before, await SnapshotAsync());
    }

    private static Dictionary<string, Func<Fixture, Task<(int, string, string)>>> Cases { get; } = new()
    {
        ["RecordConsent"] = f => f.Call<ConsentFunctions>((c, r) => c.RecordAsync(r, default), "POST", "/api/consents", f.Harness.Draft(f.Child), f.Harness.DistrictKey),
        ["GetConsent"] = f => f.Call<ConsentFunctions>((c, r) => c.GetAsync(r, f.Consent.Consent.Id, default), "GET", "/api/consents/x", null, f.Harness.AfterschoolKey),
        ["RevokeConsent"] = f => f.Call<ConsentFunctions>((c, r) => c.RevokeAsync(r, f.Consent.Consent.Id, default), "POST", "/api/consents/x/revoke",
            new { reason = "Parent withdrew" }, f.Harness.DistrictKey),
        ["RenewConsent"] = f => f.Call<ConsentFunctions>((c, r) => c.RenewAsync(r, f.Consent.Consent.Id, default), "POST", "/api/consents/x/renew",
            new ConsentRenewal
            {
                ExpiresAt = f.Harness.Time.GetUtcNow().AddDays(200),
                Signature = new ConsentSignature(SignatureMethod.SignedForm, BlobReference: "consent-forms/renewal.pdf"),
            }, f.Harness.DistrictKey),
        ["ReviewConsentAuthorization"] = f => f.Call<ConsentFunctions>((c, r) => c.ReviewAuthorizationAsync(r, f.Consent.Consent.Id, default), "GET",
            "/api/consents/x/authorizations", null, f.Harness.ClinicKey),
        ["DecideConsentAuthorization"] = f => f.Call<ConsentFunctions>((c, r) => c.DecideAuthorizationAsync(r, f.Consent.Consent.Id, default), "POST",
            "/api/consents/x/authorizations", new { decision = "approve" }, f.Harness.ClinicKey),
        ["ListConsentsAwaitingAuthorization"] = f => f.Call<ConsentFunctions>((c, r) => c.AwaitingAuthorizationAsync(r, default), "GET",
            "/api/consents/awaiting-authorization", null, f.Harness.ClinicKey),
        ["SearchConsents"] = f => f.Call<ConsentFunctions>((c, r) => c.SearchAsync(r, default), "POST", "/api/consents/search",
            new { child = $"A{f.Child:D3}" }, f.Harness.AfterschoolKey),
        ["ListExpiringConsents"] = f => f.Call<ConsentFunctions>((c, r) => c.ExpiringAsync(r, default), "GET", "/api/consents/expiring", null, f.Harness.AfterschoolKey),
        ["GetIdentifiableReport"] = f => f.Call<GetIdentifiableReport>((c, r) => c.RunAsync(r, default), "POST", "/api/reports/identifiable",
            new { child = $"A{f.Child:D3}" }, f.Harness.AfterschoolKey),
        ["GetUploadManifest"] = f => f.Call<GetUploadManifest>((c, r) => c.RunAsync(r, f.UploadId, default), "GET", "/api/uploads/x", null, f.Harness.DistrictKey),
        ["ListUploads"] = f => f.Call<ListUploads>((c, r) => c.RunAsync(r, default), "GET", "/api/uploads", null, f.Harness.DistrictKey),
        ["GetUploadRejects"] = f => f.Call<GetUploadRejects>((c, r) => c.RunAsync(r, f.UploadId, default), "GET", "/api/uploads/x/rejects", null, f.Harness.DistrictKey),
        ["ListAgreements"] = f => f.Call<AgreementsAdmin>((c, r) => c.ListAsync(r, default), "GET", "/api/manage/agreements", null, f.AdminKey),
        ["GetAgreement"] = f => f.Call<AgreementsAdmin>((c, r) => c.GetAsync(r, "dsa-identifiable", default), "GET", "/api/manage/agreements/x", null, f.AdminKey),
        ["CreateAgreement"] = f => f.Call<AgreementsAdmin>((c, r) => c.CreateAsync(r, default), "POST", "/api/manage/agreements",
            f.Agreement with { Id = "dsa-during-outage" }, f.AdminKey),
        ["AmendAgreement"] = f => f.Call<AgreementsAdmin>((c, r) => c.AmendAsync(r, "dsa-identifiable", default), "PUT", "/api/manage/agreements/x",
            f.Agreement with { Purpose = "Amended during an audit outage" }, f.AdminKey),
        ["TerminateAgreement"] = f => f.Call<AgreementsAdmin>((c, r) => c.TerminateAsync(r, "dsa-identifiable", default), "POST", "/api/manage/agreements/x/terminate",
            new { reason = "Terminated during an audit outage" }, f.AdminKey),
        ["GetAggregateReport"] = f => f.Call<GetAggregateReport>((c, r) => c.RunAsync(r, default), "GET", "/api/reports/aggregate", null, f.Harness.AfterschoolKey,
            "?from=2026-09-01&to=2026-09-30"),
        ["IssueParentLink"] = f => f.Call<ParentLinkFunctions>((c, r) => c.IssueAsync(r, f.Consent.Consent.Id, default), "POST", "/api/consents/x/links", null,
            f.Harness.DistrictKey),
        ["RevokeParentLink"] = f => f.Call<ParentLinkFunctions>((c, r) => c.RevokeAsync(r, f.Consent.Consent.Id, f.ParentLinkId, default), "POST",
            "/api/consents/x/links/y/revoke", null, f.Harness.DistrictKey),
        ["GetDeidentifiedExport"] = f => f.Call<GetDeidentifiedExport>((c, r) => c.RunAsync(r, default), "GET", "/api/exports/deidentified", null,
            f.Harness.AfterschoolKey, "?agreement=dsa-identifiable&from=2026-09-01&to=2026-09-30"),
    };

    /// <summary>The parent page's routes (HTML), through the parent's link to the fixture's consent.</summary>
    private static Dictionary<string, Func<Fixture, Task<(int, string, string)>>> PageCases { get; } = new()
    {
        ["ParentPage"] = f => f.Page(p => p.GetAsync(f.ParentToken)),
        ["ParentPageRevoke"] = f => f.Page(p => p.PostAsync(f.ParentToken, "revoke", f.Form(ParentTokenPurpose.RevokeForm))),
        ["ParentPageConfirm"] = f => f.Page(p => p.PostAsync(f.ParentToken, "confirm", f.Form(ParentTokenPurpose.ConfirmForm))),
    };

    private Task<(int Status, string Body, string ContentType)> CallDuringOutageAsync(string function) =>
        (Cases.TryGetValue(function, out var call) ? call : PageCases[function])(fixture);

    private static IEnumerable<string> HttpFunctionNames() =>
        typeof(ConsentFunctions).Assembly.GetTypes().SelectMany(t => t.GetMethods())
            .Where(m => m.GetParameters().Any(p => p.GetCustomAttribute<HttpTriggerAttribute>() is not null))
            .Select(m => m.GetCustomAttribute<FunctionAttribute>()!.Name);

    /// <summary>Every consent (current and history rows) and agreement row, and the consent and agreement counts: what a route must not change.</summary>
    private async Task<string> SnapshotAsync()
    {
        var rows = new List<string>();
        foreach (var table in new[] { TableNames.Consents, TableNames.Agreements, TableNames.ConsentChildren, TableNames.ParentLinks, TableNames.ConsentDisclosures })
        {
            rows.AddRange((await _h.Storage.ReadAllAsync(table)).Select(e => $"{table}/{e.PartitionKey}/{e.RowKey}/{e.ETag}"));
        }

        return string.Join('\n', rows.Order(StringComparer.Ordinal));
    }

    public sealed class Fixture : IAsyncLifetime
    {
        private ServiceProvider _outage = null!;

        public ConsentHarness Harness { get; } = new();

        public int Child { get; private set; }

        public VersionedConsent Consent { get; private set; } = null!;

        public string UploadId { get; private set; } = "";

        public string AdminKey { get; private set; } = "";

        public DataSharingAgreement Agreement { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Harness.InitializeAsync();
            Child = Harness.NextChild();
            Consent = await Harness.RecordOnlyAsync(Child);
            UploadId = (await Harness.Storage.ReadAllAsync(TableNames.Manifests)).First(m => m.GetString("ProviderId") == "district" && m.GetString("Json") is not null)
                .PartitionKey;
            AdminKey = (await Harness.Services.GetRequiredService<ApiKeyStore>().IssueAsync("community-office", CallerRoles.Admin, "admin", TimeSpan.FromDays(1), "test")).Key;
            Agreement = (await Harness.Services.GetRequiredService<AgreementStore>().GetAsync("dsa-identifiable"))!;
            _outage = AuditOutage.Build(Harness.Storage, Harness.Time);
            var link = (await Harness.Services.GetRequiredService<ParentLinkService>().IssueAsync(ConsentHarness.District, Consent.Consent.Id))!;
            ParentLinkId = link.LinkId;
            ParentToken = ParentPageCalls.TokenOf(link.Url);
            _linkKey = await Harness.Services.GetRequiredService<ParentLinkKeys>().GetKeyAsync();
        }

        private byte[] _linkKey = [];

        public string ParentLinkId { get; private set; } = "";

        public string ParentToken { get; private set; } = "";

        /// <summary>A valid form token of the fixture's link: the post reaches the change, which the audit outage stops.</summary>
        public string Form(ParentTokenPurpose purpose) => ParentLinkToken.Create(_linkKey, purpose, ParentLinkId, Harness.Time.GetUtcNow().AddMinutes(30));

        /// <summary>Calls the parent page built from the services whose audit is down.</summary>
        public async Task<(int, string, string)> Page(Func<ParentPageCalls, Task<PageAnswer>> call)
        {
            var answer = await call(new ParentPageCalls(_outage));
            return (answer.Status, answer.Html, answer.Header("Content-Type"));
        }

        /// <summary>Calls a function class built from the services whose audit is down.</summary>
        public async Task<(int, string, string)> Call<T>(Func<T, HttpRequest, Task<IActionResult>> run, string method, string path, object? body, string key,
            string? query = null)
            where T : class
        {
            var function = ActivatorUtilities.CreateInstance<T>(_outage);
            var (status, text, context) = await ConsentHarness.CallAsync(_outage, r => run(function, r), method, path, body, key, query: query);
            return (status, text, context.Response.ContentType ?? "");
        }

        public async Task DisposeAsync()
        {
            await _outage.DisposeAsync();
            await Harness.DisposeAsync();
        }
    }
}

using System.Text.Json;
using ChildShare.Core.Callers;
using ChildShare.Core.Organizations;
using ChildShare.Functions.Hosting;

namespace ChildShare.Tests.EndToEnd;

/// <summary>
/// Who may call what, over the wire, for every route of the route table: a request without a
/// caller (no credential, a malformed or unmapped principal, a malformed, unknown, wrong, revoked or
/// expired key) is a 401 problem on every route; an organization without an agreement, a recipient
/// outside its agreement and a non-admin on an admin route get a 403 (or a 404 that does not say
/// whether the thing exists); every refusal is <c>application/problem+json</c> and reveals nothing:
/// no data, no child identifier, no key.
/// </summary>
[Collection(ServedAppCollection.Name)]
public sealed class AuthorizationMatrixTests(ServedApp app)
{
    public static TheoryData<string, string> RoutesAndCallersWithoutACaller()
    {
        var data = new TheoryData<string, string>();
        foreach (var function in FunctionCatalog.Http.Where(f => !FunctionCatalog.NeedsNoCaller(f.Name)))
        {
            foreach (var credential in NoCaller.Keys)
            {
                data.Add(function.Name, credential);
            }
        }

        return data;
    }

    /// <summary>Credentials that do not make a caller: how each is presented.</summary>
    private static readonly Dictionary<string, Action<HttpRequestMessage, ServedApp>> NoCaller = new(StringComparer.Ordinal)
    {
        ["none"] = (_, _) => { },
        ["malformed principal"] = (r, _) => r.Headers.Add(ClientPrincipal.HeaderName, "not%base64{json"),
        ["principal without ids"] = (r, _) => r.Headers.Add(ClientPrincipal.HeaderName, Convert.ToBase64String("{\"auth_typ\":\"aad\",\"claims\":[]}"u8.ToArray())),
        ["unmapped principal"] = (r, _) => r.Headers.Add(ClientPrincipal.HeaderName, ClientPrincipal.Encode(Guid.NewGuid().ToString(), Guid.NewGuid().ToString())),
        ["malformed key"] = (r, _) => r.Headers.Add(CallerResolver.ApiKeyHeaderName, "let-me-in"),
        ["unknown key"] = (r, _) => r.Headers.Add(CallerResolver.ApiKeyHeaderName, "csk_0123456789abcdef_" + new string('x', 43)),
        ["wrong secret"] = (r, a) => r.Headers.Add(CallerResolver.ApiKeyHeaderName, a.Key("ops")[..21] + new string('x', 43)),
        ["revoked key"] = (r, a) => r.Headers.Add(CallerResolver.ApiKeyHeaderName, a.RevokedKey),
        ["expired key"] = (r, a) => r.Headers.Add(CallerResolver.ApiKeyHeaderName, a.ExpiredKey),
        ["revoked key in the query"] = (r, a) => r.RequestUri = new Uri(r.RequestUri!.OriginalString + (r.RequestUri.OriginalString.Contains('?') ? "&" : "?") + "api-key=" + Uri.EscapeDataString(a.RevokedKey), UriKind.Relative),
    };

    [Theory]
    [MemberData(nameof(RoutesAndCallersWithoutACaller))]
    public async Task Route_WithoutACaller_401ProblemRevealingNothing(string functionName, string credential)
    {
        var function = FunctionCatalog.Http.Single(f => f.Name == functionName);
        var request = ServedApp.Request(new HttpMethod(function.Methods[0]), ServedApp.SamplePath(function) + Query(function),
            body: function.Methods[0] == "GET" ? null : Body(function));
        NoCaller[credential](request, app);
        var presented = string.Join(" ", request.Headers.SelectMany(h => h.Value)) + request.RequestUri;

        var response = await app.SendAsync(request);

        Assert.Equal(401, response.Status);
        AssertRevealsNothing(response, presented);
    }

    [Fact]
    public async Task AnonymousRoutes_WithoutCredentials_Answer200()
    {
        foreach (var function in FunctionCatalog.Http.Where(f => FunctionCatalog.Anonymous.Contains(f.Name)))
        {
            Assert.Equal(200, (await app.GetAsync(ServedApp.SamplePath(function), null)).Status);
        }
    }

    [Fact]
    public void RefusalCases_CoverEveryRouteThatNeedsACaller()
    {
        var covered = RefusalCases().Select(c => c.Function).ToHashSet(StringComparer.Ordinal);
        var missing = FunctionCatalog.Http.Select(f => f.Name).Where(n => !FunctionCatalog.NeedsNoCaller(n) && !OwnDataOnly.Contains(n) && !covered.Contains(n)).ToList();

        Assert.True(missing.Count == 0, "Add refusal cases (organization without agreement, recipient outside its agreement) for: " + string.Join(", ", missing));
    }

    /// <summary>
    /// Routes that answer every caller with only its own organization's data, so there is no one to refuse:
    /// the consents awaiting the caller's own authorization (tested below: another organization's do not show).
    /// </summary>
    private static readonly string[] OwnDataOnly = ["ListConsentsAwaitingAuthorization"];

    [Fact]
    public async Task AwaitingAuthorization_AnotherOrganization_SeesNoneOfTheSourcesConsents()
    {
        var created = await app.PostAsync("/api/consents", app.Key("district"), Merge(app.ConsentDraft(10), new { sources = new[] { "district", "clinic" } }));
        Assert.Equal(201, created.Status);
        var id = created.Json.GetProperty("id").GetString()!;

        var mine = await app.GetAsync("/api/consents/awaiting-authorization", app.Key("clinic"));
        var theirs = await app.GetAsync("/api/consents/awaiting-authorization", app.Key("school-board"));

        Assert.Equal(200, mine.Status);
        Assert.Contains(id, mine.Body, StringComparison.Ordinal);
        Assert.Equal(200, theirs.Status);
        Assert.DoesNotContain(id, theirs.Body, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, int> Refusals()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var (function, caller, status, _) in RefusalCases())
        {
            data.Add(function, caller, status);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Route_CallerWithoutTheRight_RefusedWithAProblemRevealingNothing(string functionName, string caller, int status)
    {
        var function = FunctionCatalog.Http.Single(f => f.Name == functionName);
        var (_, _, _, build) = RefusalCases().First(c => c.Function == functionName && c.Caller == caller);
        var (path, body) = await build(app);
        var request = ServedApp.Request(new HttpMethod(function.Methods[0]), path, caller == "entra reader" ? null : app.Key(caller), body);
        if (caller == "entra reader")
        {
            request.Headers.Add(ClientPrincipal.HeaderName, ClientPrincipal.Encode(ServedApp.PrincipalTenant, ServedApp.PrincipalObject));
        }

        var response = await app.SendAsync(request);

        Assert.True(response.Status == status || (status == 403 && response.Status == 404), $"{functionName} as {caller}: {response.Status} {response.Body}");
        AssertRevealsNothing(response, app.Keys.Values.Aggregate("", (a, k) => a + " " + k));
    }

    /// <summary>
    /// Per route: who must be refused, and the request. 403 also accepts a 404 (a route may decline
    /// to say whether the thing exists). Admin routes are refused to every non-admin automatically.
    /// </summary>
    private static IEnumerable<(string Function, string Caller, int Status, Func<ServedApp, Task<(string Path, object? Body)>> Build)> RefusalCases()
    {
        static Func<ServedApp, Task<(string, object?)>> Fixed(string path, object? body = null) => _ => Task.FromResult((path, body));

        foreach (var admin in FunctionCatalog.Http.Where(f => f.Route.StartsWith("manage/", StringComparison.Ordinal)))
        {
            foreach (var reader in new[] { "county-health", "district", "entra reader" })
            {
                yield return (admin.Name, reader, 403, Fixed(ServedApp.SamplePath(admin, "dsa-aggregate"), admin.Methods[0] == "GET" ? null : Body(admin)));
            }
        }

        const string period = "from=2026-09-01&to=2026-09-30";
        yield return ("GetAggregateReport", "school-board", 403, Fixed($"/api/reports/aggregate?{period}&groupBy=provider"));
        yield return ("GetAggregateReport", "research-lab", 403, Fixed($"/api/reports/aggregate?{period}&groupBy=provider"));
        yield return ("GetDeidentifiedExport", "school-board", 403, Fixed($"/api/exports/deidentified?agreement=dsa-deid&{period}"));
        yield return ("GetDeidentifiedExport", "county-health", 403, Fixed($"/api/exports/deidentified?agreement=dsa-deid&{period}"));
        yield return ("GetDeidentifiedExport", "research-lab", 403, Fixed($"/api/exports/deidentified?agreement=dsa-aggregate&{period}"));
        yield return ("GetIdentifiableReport", "school-board", 404, Fixed("/api/reports/identifiable", new { child = "D001" }));
        yield return ("GetIdentifiableReport", "district", 403, Fixed("/api/reports/identifiable", new { child = "D001" }));
        yield return ("GetUploadManifest", "clinic", 403, a => Task.FromResult(($"/api/uploads/{a.DistrictUpload}", (object?)null)));
        yield return ("GetUploadManifest", "school-board", 403, a => Task.FromResult(($"/api/uploads/{a.DistrictUpload}", (object?)null)));
        yield return ("RecordConsent", "school-board", 403, a => Task.FromResult(("/api/consents", (object?)(Merge(a.ConsentDraft(1), new { providerId = "district" })))));
        yield return ("GetConsent", "school-board", 404, async a => ($"/api/consents/{await ConsentIdAsync(a)}", null));
        yield return ("RevokeConsent", "school-board", 403, async a => ($"/api/consents/{await ConsentIdAsync(a)}/revoke", new { reason = "not mine" }));
        yield return ("RenewConsent", "school-board", 403, async a => ($"/api/consents/{await ConsentIdAsync(a)}/renew", a.RenewalBody(60)));
        yield return ("SearchConsents", "school-board", 403, Fixed("/api/consents/search", new { child = "D001", provider = "district" }));
        yield return ("ListExpiringConsents", "school-board", 403, Fixed("/api/consents/expiring?organization=district"));
        yield return ("ListUploads", "school-board", 403, Fixed("/api/uploads?provider=district"));
        yield return ("GetUploadRejects", "clinic", 403, a => Task.FromResult(($"/api/uploads/{a.DistrictUpload}/rejects", (object?)null)));
        yield return ("ReviewConsentAuthorization", "school-board", 404, async a => ($"/api/consents/{await ConsentIdAsync(a)}/authorizations", null));
        yield return ("ReviewConsentAuthorization", "clinic", 404, async a => ($"/api/consents/{await ConsentIdAsync(a)}/authorizations", null));
        yield return ("DecideConsentAuthorization", "school-board", 404, async a => ($"/api/consents/{await ConsentIdAsync(a)}/authorizations", new { decision = "approve" }));
        yield return ("DecideConsentAuthorization", "clinic", 403, async a => ($"/api/consents/{await ConsentIdAsync(a)}/authorizations", new { decision = "approve" }));
        yield return ("IssueParentLink", "school-board", 404, async a => ($"/api/consents/{await ConsentIdAsync(a)}/links", null));
        yield return ("RevokeParentLink", "school-board", 404, async a => ($"/api/consents/{await ConsentIdAsync(a)}/links/{new string('0', 22)}/revoke", null));
    }

    private static readonly SemaphoreSlim ConsentGate = new(1, 1);
    private static string? _consentId;

    /// <summary>One consent district recorded (child 11), for the refusals that need an existing consent.</summary>
    private static async Task<string> ConsentIdAsync(ServedApp app)
    {
        await ConsentGate.WaitAsync();
        try
        {
            if (_consentId is null)
            {
                var created = await app.PostAsync("/api/consents", app.Key("district"), app.ConsentDraft(11));
                Assert.Equal(201, created.Status);
                _consentId = created.Json.GetProperty("id").GetString()!;
            }

            return _consentId;
        }
        finally
        {
            ConsentGate.Release();
        }
    }

    private static object Merge(object a, object b)
    {
        var merged = JsonSerializer.SerializeToNode(a, JsonSerializerOptions.Web)!.AsObject();
        foreach (var (key, value) in JsonSerializer.SerializeToNode(b, JsonSerializerOptions.Web)!.AsObject())
        {
            merged[key] = value?.DeepClone();
        }

        return merged;
    }

    /// <summary>A body that would be valid in shape, so a refusal is not a 400 for the body.</summary>
    private static string Body(HttpFunction function) => function.Name switch
    {
        "TerminateAgreement" => """{"reason":"ended"}""",
        "RevokeConsent" => """{"reason":"parent asked"}""",
        "GetIdentifiableReport" or "SearchConsents" => """{"child":"D001"}""",
        _ => "{}",
    };

    private static string Query(HttpFunction function) => function.Name switch
    {
        "GetAggregateReport" => "?from=2026-09-01&to=2026-09-30&groupBy=provider",
        "GetDeidentifiedExport" => "?agreement=dsa-deid&from=2026-09-01&to=2026-09-30",
        _ => "",
    };

    /// <summary>A problem document and nothing else: no data, no child identifier, none of the presented credentials.</summary>
    private void AssertRevealsNothing(Response response, string presented)
    {
        Assert.Equal("application/problem+json", response.MediaType);
        var problem = response.Json;
        Assert.Equal(response.Status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        Assert.False(problem.TryGetProperty("value", out _));
        foreach (var identifier in app.Identifiers)
        {
            Assert.DoesNotContain(identifier, response.Body, StringComparison.OrdinalIgnoreCase);
        }

        foreach (var secret in presented.Split(' ', '=', '&', '?').Where(s => s.StartsWith(ApiKeyStore.Prefix, StringComparison.Ordinal) || s.Length > 40))
        {
            Assert.DoesNotContain(secret, response.Body, StringComparison.Ordinal);
        }
    }
}

using System.Text;
using System.Text.Json;
using ChildShare.Core.Callers;
using ChildShare.Core.Organizations;
using ChildShare.Functions.Admin;
using ChildShare.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.Callers;

/// <summary>
/// <c>X-MS-CLIENT-PRINCIPAL</c> over HTTP, through an admin function (<c>GET /api/manage/agreements</c>):
/// a forged principal never acts as an administrator, and every malformed principal is a 401 problem
/// that echoes nothing of the header.
/// </summary>
public sealed class PrincipalHttpTests : IAsyncLifetime
{
    private const string Tenant = "11111111-2222-3333-4444-555555555555";
    private const string AdminObjectId = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    private const string Authority = "https://login.microsoftonline.com/" + Tenant;
    private readonly TestStorage _storage = new();
    private readonly FakeTimeProvider _time = new(TestApp.Now);
    private ServiceProvider _easyAuthOn = null!;
    private ServiceProvider _trustedByHandOnly = null!;

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        _easyAuthOn = TestApp.Build(_storage, _time, [
            new("Callers:TrustClientPrincipalHeader", "true"), new("Callers:EntraAuthority", Authority), new(AppServiceAuthentication.EnabledVariable, "True")]);
        _trustedByHandOnly = TestApp.Build(_storage, _time, [new("Callers:TrustClientPrincipalHeader", "true"), new("Callers:EntraAuthority", Authority)]);
        await _easyAuthOn.GetRequiredService<PrincipalDirectory>().MapAsync(Tenant, AdminObjectId, "childshare-ops", CallerRoles.Admin, "test");
    }

    public async Task DisposeAsync()
    {
        await _easyAuthOn.DisposeAsync();
        await _trustedByHandOnly.DisposeAsync();
        await _storage.DisposeAsync();
    }

    private static HttpRequest Request(params string[] principalHeaders)
    {
        var context = new DefaultHttpContext();
        if (principalHeaders.Length > 0)
        {
            context.Request.Headers[ClientPrincipal.HeaderName] = principalHeaders;
        }

        return context.Request;
    }

    private static async Task<(int Status, string Body, HttpResponse Response)> ListAsync(ServiceProvider services, HttpRequest request)
    {
        var result = await TestHttp.RunAsync(services, request, r => ActivatorUtilities.CreateInstance<AgreementsAdmin>(services).ListAsync(r, CancellationToken.None));
        var objectResult = Assert.IsAssignableFrom<ObjectResult>(result);
        return (objectResult.StatusCode ?? 200, JsonSerializer.Serialize(objectResult.Value), request.HttpContext.Response);
    }

    private static void AssertUnauthorizedProblem(int status, string body)
    {
        Assert.Equal(401, status);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(401, problem.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task ListAsync_MappedAdminBehindAppServiceAuthentication_200()
    {
        var (status, _, _) = await ListAsync(_easyAuthOn, Request(ClientPrincipal.Encode(Tenant, AdminObjectId)));

        Assert.Equal(200, status);
    }

    [Fact]
    public async Task ListAsync_ForgedAdminPrincipalWithoutAppServiceAuthentication_401()
    {
        // Callers__TrustClientPrincipalHeader=true set through app settings, App Service Authentication off:
        // the header below is one anybody can type.
        var (status, body, response) = await ListAsync(_trustedByHandOnly, Request(ClientPrincipal.Encode(Tenant, AdminObjectId)));

        AssertUnauthorizedProblem(status, body);
        Assert.Contains("App Service Authentication is not enabled", body, StringComparison.Ordinal);
        Assert.False(response.Headers.ContainsKey("WWW-Authenticate")); // no Entra sign-in to point at
    }

    public static TheoryData<string, string> MalformedPrincipals => new()
    {
        // header, a fragment of it that must not come back
        { ClientPrincipal.Encode(Tenant + "/evil", AdminObjectId), "/evil" },
        { ClientPrincipal.Encode("tenant/with/slashes", AdminObjectId), "slashes" },
        { ClientPrincipal.Encode(Tenant, AdminObjectId + "/../x"), "/../x" },
        { ClientPrincipal.Encode(Tenant, "<script>alert(1)</script>"), "<script>" },
        { ClientPrincipal.Encode(Tenant, AdminObjectId, authType: "google"), "google" },
        { "%%%not-base64%%%", "not-base64" },
        { Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"claims\":[{\"typ\":\"tid\",\"val\":\"SECRET-MARKER\"}")), "SECRET-MARKER" },
        { Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"auth_typ\":\"aad\",\"claims\":[null]}")), "null" },
        { Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"auth_typ\":\"aad\",\"claims\":[]}")), "claims\":[" },
        { new string('Q', 200_000), "QQQQ" },
    };

    [Theory]
    [MemberData(nameof(MalformedPrincipals))]
    public async Task ListAsync_MalformedPrincipal_401ProblemEchoingNothing(string header, string fragment)
    {
        var (status, body, response) = await ListAsync(_easyAuthOn, Request(header));

        AssertUnauthorizedProblem(status, body);
        Assert.DoesNotContain(fragment, body, StringComparison.Ordinal);
        Assert.DoesNotContain(header[..Math.Min(header.Length, 40)], body, StringComparison.Ordinal);
        Assert.StartsWith("Bearer ", response.Headers.WWWAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListAsync_PrincipalHeaderTwice_401()
    {
        var (status, body, _) = await ListAsync(_easyAuthOn, Request(ClientPrincipal.Encode(Tenant, AdminObjectId), ClientPrincipal.Encode(Tenant, AdminObjectId)));

        AssertUnauthorizedProblem(status, body);
    }

    [Fact]
    public async Task ListAsync_NoCredentialsWithEntraSignInOn_401WithBearerChallenge()
    {
        // Power BI's organizational account sign-in reads the authority from this header of the first 401.
        var (status, body, response) = await ListAsync(_easyAuthOn, Request());

        AssertUnauthorizedProblem(status, body);
        Assert.Equal($"Bearer realm=\"{Authority}\", authorization_uri=\"{Authority}/oauth2/authorize\"", response.Headers.WWWAuthenticate.ToString());
    }
}

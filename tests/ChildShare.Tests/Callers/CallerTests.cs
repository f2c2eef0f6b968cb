using ChildShare.Core.Audit;
using ChildShare.Core.Callers;
using ChildShare.Core.Organizations;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.Callers;

public sealed class CallerTests : IAsyncLifetime
{
    private const string Tenant = "11111111-2222-3333-4444-555555555555";
    private const string ObjectId = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    private readonly TestStorage _storage = new();
    private readonly FakeTimeProvider _time = new(TestApp.Now);
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        // Entra ID sign-in as Azure runs it: the setting trusts the header and the platform says App Service Authentication is on.
        _services = TestApp.Build(_storage, _time, [new("Callers:TrustClientPrincipalHeader", "true"), new(AppServiceAuthentication.EnabledVariable, "True")]);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _storage.DisposeAsync();
    }

    private CallerResolver Resolver => _services.GetRequiredService<CallerResolver>();

    private ApiKeyStore Keys => _services.GetRequiredService<ApiKeyStore>();

    [Fact]
    public void Decode_EasyAuthHeader_ReadsTenantAndObjectId()
    {
        var principal = ClientPrincipal.Decode(ClientPrincipal.Encode(Tenant, ObjectId.ToUpperInvariant()));

        Assert.NotNull(principal);
        Assert.Equal(Tenant, principal.TenantId);
        Assert.Equal(ObjectId, principal.ObjectId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("eyJub3QiOiJjbGFpbXMifQ==")]
    public void Decode_MalformedHeader_ReturnsNull(string? header) => Assert.Null(ClientPrincipal.Decode(header));

    [Fact]
    public async Task ResolveAsync_NoCredentials_Fails()
    {
        var result = await Resolver.ResolveAsync(new PresentedCredentials(null, null, null));

        Assert.Null(result.Caller);
        Assert.Contains("Authentication is required", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_MappedPrincipal_ReturnsOrganizationAndRole()
    {
        await _services.GetRequiredService<PrincipalDirectory>().MapAsync(Tenant, ObjectId, "county-health", CallerRoles.Reader, "test");

        var result = await Resolver.ResolveAsync(new PresentedCredentials(ClientPrincipal.Encode(Tenant, ObjectId), null, null));

        Assert.Equal(new Caller("county-health", CallerRoles.Reader, CallerAuthMethod.EntraId, ObjectId), result.Caller);
    }

    [Fact]
    public async Task ResolveAsync_UnmappedPrincipal_Fails()
    {
        var result = await Resolver.ResolveAsync(new PresentedCredentials(ClientPrincipal.Encode(Tenant, Guid.NewGuid().ToString()), null, null));

        Assert.Null(result.Caller);
        Assert.Contains("not mapped", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_PrincipalHeaderNotTrusted_Fails()
    {
        await using var services = TestApp.Build(_storage, _time);
        await services.GetRequiredService<PrincipalDirectory>().MapAsync(Tenant, ObjectId, "county-health", CallerRoles.Reader, "test");

        var result = await services.GetRequiredService<CallerResolver>().ResolveAsync(new PresentedCredentials(ClientPrincipal.Encode(Tenant, ObjectId), null, null));

        Assert.Null(result.Caller);
    }

    [Fact]
    public async Task ResolveAsync_TrustedHeaderWithoutAppServiceAuthentication_ForgedAdminRefused()
    {
        // An operator set Callers__TrustClientPrincipalHeader=true by hand, but App Service Authentication
        // is off: nothing strips the header, so anyone can write it. The platform's word decides.
        await using var services = TestApp.Build(_storage, _time, [new("Callers:TrustClientPrincipalHeader", "true")]);
        await services.GetRequiredService<PrincipalDirectory>().MapAsync(Tenant, ObjectId, "childshare-ops", CallerRoles.Admin, "test");

        var result = await services.GetRequiredService<CallerResolver>().ResolveAsync(new PresentedCredentials(ClientPrincipal.Encode(Tenant, ObjectId), null, null));

        Assert.Null(result.Caller);
        Assert.Contains("App Service Authentication is not enabled", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_PlatformSaysFalse_ForgedAdminRefused()
    {
        await using var services = TestApp.Build(_storage, _time, [new("Callers:TrustClientPrincipalHeader", "true"), new(AppServiceAuthentication.EnabledVariable, "False")]);
        await services.GetRequiredService<PrincipalDirectory>().MapAsync(Tenant, ObjectId, "childshare-ops", CallerRoles.Admin, "test");

        var result = await services.GetRequiredService<CallerResolver>().ResolveAsync(new PresentedCredentials(ClientPrincipal.Encode(Tenant, ObjectId), null, null));

        Assert.Null(result.Caller);
    }

    [Theory]
    [InlineData("11111111-2222-3333-4444-555555555555/x", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")]
    [InlineData("../principals", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")]
    [InlineData("11111111-2222-3333-4444-555555555555", "a/b")]
    [InlineData("11111111-2222-3333-4444-555555555555", "x' or PartitionKey ne '")]
    public async Task ResolveAsync_IdsThatAreNotGuids_FailWithoutEchoOrStorageError(string tenant, string objectId)
    {
        var result = await Resolver.ResolveAsync(new PresentedCredentials(ClientPrincipal.Encode(tenant, objectId), null, null));

        Assert.Null(result.Caller);
        Assert.Contains("is not a GUID", result.Failure, StringComparison.Ordinal);
        Assert.DoesNotContain(tenant == Tenant ? objectId : tenant, result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindAsync_IdsThatAreNotGuids_NullWithoutStorageError()
    {
        var directory = _services.GetRequiredService<PrincipalDirectory>();

        Assert.Null(await directory.FindAsync("a/b", ObjectId));
        Assert.Null(await directory.FindAsync(Tenant, "a#b"));
        await Assert.ThrowsAsync<ArgumentException>(() => directory.UnmapAsync("a/b", ObjectId, "test"));
    }

    [Fact]
    public void Challenge_EntraAuthoritySet_NamesTheAuthorizationEndpoint()
    {
        using var services = TestApp.Build(_storage, _time, [
            new("Callers:TrustClientPrincipalHeader", "true"), new(AppServiceAuthentication.EnabledVariable, "True"),
            new("Callers:EntraAuthority", "https://login.microsoftonline.com/" + Tenant)]);

        Assert.Equal($"Bearer realm=\"https://login.microsoftonline.com/{Tenant}\", authorization_uri=\"https://login.microsoftonline.com/{Tenant}/oauth2/authorize\"",
            services.GetRequiredService<CallerResolver>().Challenge);
        Assert.Null(Resolver.Challenge); // no authority configured
    }

    [Theory]
    [InlineData("http://login.example.org/tenant")]
    [InlineData("not a uri\r\nSet-Cookie: x")]
    public void Challenge_AuthorityNotHttps_NoChallenge(string authority)
    {
        using var services = TestApp.Build(_storage, _time, [
            new("Callers:TrustClientPrincipalHeader", "true"), new(AppServiceAuthentication.EnabledVariable, "True"), new("Callers:EntraAuthority", authority)]);

        Assert.Null(services.GetRequiredService<CallerResolver>().Challenge);
    }

    [Fact]
    public void Challenge_AppServiceAuthenticationOff_NoChallenge()
    {
        using var services = TestApp.Build(_storage, _time, [
            new("Callers:TrustClientPrincipalHeader", "true"), new("Callers:EntraAuthority", "https://login.microsoftonline.com/" + Tenant)]);

        Assert.Null(services.GetRequiredService<CallerResolver>().Challenge);
    }

    [Fact]
    public async Task ResolveAsync_IssuedKeyInQueryOrHeader_ReturnsCaller()
    {
        var issued = await Keys.IssueAsync("county-health", CallerRoles.Reader, "power-bi", TimeSpan.FromDays(30), "test");

        var fromQuery = await Resolver.ResolveAsync(new PresentedCredentials(null, null, issued.Key));
        var fromHeader = await Resolver.ResolveAsync(new PresentedCredentials(null, issued.Key, null));

        Assert.Equal("county-health", fromQuery.Caller?.OrganizationId);
        Assert.Equal(issued.Info.KeyId, fromHeader.Caller?.CredentialId);
    }

    [Fact]
    public async Task IssueAsync_Always_StoresOnlyTheHash()
    {
        var issued = await Keys.IssueAsync("county-health", CallerRoles.Reader, "power-bi", TimeSpan.FromDays(30), "test");

        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.ApiKeys), e => e.RowKey == issued.Info.KeyId);
        // The secret is base64url and may itself hold '_': it is everything after the key id, not the third '_'-separated part
        // (a fragment of one or two characters of it turned up by chance in the row's ETag).
        var secret = issued.Key.Split('_', 3)[2];
        Assert.True(secret.Length >= 43, "the secret is 32 random bytes in base64url");
        Assert.DoesNotContain(stored, p => p.Value is string s && s.Contains(secret, StringComparison.Ordinal));
        Assert.Equal(ApiKeyStore.Hash(issued.Key), stored.GetString("Hash"));
    }

    [Fact]
    public async Task AuthenticateAsync_RevokedExpiredOrTamperedKey_Fails()
    {
        var revoked = await Keys.IssueAsync("county-health", CallerRoles.Reader, "old", TimeSpan.FromDays(30), "test");
        var rotated = await Keys.IssueAsync("county-health", CallerRoles.Reader, "new", TimeSpan.FromDays(30), "test");
        var shortLived = await Keys.IssueAsync("county-health", CallerRoles.Reader, "short", TimeSpan.FromDays(1), "test");
        await Keys.RevokeAsync(revoked.Info.KeyId, "test");
        _time.Advance(TimeSpan.FromDays(2));

        Assert.Contains("revoked", (await Keys.AuthenticateAsync(revoked.Key)).Failure, StringComparison.Ordinal);
        Assert.Contains("expired", (await Keys.AuthenticateAsync(shortLived.Key)).Failure, StringComparison.Ordinal);
        Assert.Contains("not known", (await Keys.AuthenticateAsync(rotated.Key[..^2] + "xx")).Failure, StringComparison.Ordinal);
        Assert.NotNull((await Keys.AuthenticateAsync(rotated.Key)).Caller);
        Assert.NotNull((await Keys.AuthenticateAsync("garbage")).Failure);
    }

    [Fact]
    public async Task IssueAndRevoke_Always_Audited()
    {
        var issued = await Keys.IssueAsync("audited-org", CallerRoles.Admin, "ops", TimeSpan.FromDays(30), "operator");
        await Keys.RevokeAsync(issued.Info.KeyId, "operator");

        var audit = await _services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10");
        Assert.Contains(audit, e => e.GetString("Event") == AuditEvents.ApiKeyIssued && e.GetString("Parameters")!.Contains(issued.Info.KeyId, StringComparison.Ordinal));
        Assert.Contains(audit, e => e.GetString("Event") == AuditEvents.ApiKeyRevoked);
        Assert.DoesNotContain(audit, e => e.GetString("Parameters")!.Contains(issued.Key, StringComparison.Ordinal));
    }
}

using ChildShare.Core.Audit;
using ChildShare.Core.Callers;
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
        _services = TestApp.Build(_storage, _time, [new("Callers:TrustClientPrincipalHeader", "true")]);
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
        Assert.DoesNotContain(stored, p => p.Value is string s && s.Contains(issued.Key.Split('_')[2], StringComparison.Ordinal));
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

using System.Collections.Concurrent;
using System.Text.Json;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Infrastructure;

/// <summary>
/// App Service Authentication and the app's trust in <c>X-MS-CLIENT-PRINCIPAL</c>, read from what the
/// templates would deploy: <c>bicep snapshot</c> (the pinned Bicep CLI of infra/check-bicep.sh)
/// compiles main.bicep with a parameter file and evaluates it into the resources ARM would receive.
/// Each parameter file is compiled with Entra ID sign-in on (CHILDSHARE_ENTRA_CLIENT_ID set, as
/// infra/DEPLOY.md says) and off.
/// </summary>
public sealed class EntraTemplateTests(EntraTemplateTests.Snapshots snapshots) : IClassFixture<EntraTemplateTests.Snapshots>
{
    private const string ClientId = "0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9";
    private const string TenantId = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9";
    private const string Audience = "https://childshare.contoso.example";

    public static TheoryData<string, bool> ParameterFilesBothWays => new()
    {
        { "main.dev.bicepparam", true },
        { "main.dev.bicepparam", false },
        { "main.prod.bicepparam", true },
        { "main.prod.bicepparam", false },
    };

    [Theory]
    [MemberData(nameof(ParameterFilesBothWays))]
    public async Task Snapshot_EntraOnOrOff_AuthenticationEnabledExactlyWhenHeaderTrusted(string parameterFile, bool entraOn)
    {
        var deployment = await snapshots.OfParameterFileAsync(parameterFile, entraOn ? ClientId : null);

        var trusted = deployment.AppSetting("Callers__TrustClientPrincipalHeader");
        var auth = deployment.AuthSettings();
        var platformEnabled = auth.GetProperty("platform").GetProperty("enabled").GetBoolean();

        Assert.Equal(entraOn ? "true" : "false", trusted);
        Assert.Equal(trusted == "true", platformEnabled);
        // API-key callers must still reach the app, which refuses requests without credentials itself.
        var validation = auth.GetProperty("globalValidation");
        Assert.False(validation.GetProperty("requireAuthentication").GetBoolean());
        Assert.Equal("AllowAnonymous", validation.GetProperty("unauthenticatedClientAction").GetString());
        Assert.False(auth.GetProperty("login").GetProperty("tokenStore").GetProperty("enabled").GetBoolean());
    }

    [Theory]
    [InlineData("main.dev.bicepparam")]
    [InlineData("main.prod.bicepparam")]
    public async Task Snapshot_EntraOn_EntraProviderForTheTenantAndClient(string parameterFile)
    {
        var deployment = await snapshots.OfParameterFileAsync(parameterFile, ClientId);

        var entra = deployment.AuthSettings().GetProperty("identityProviders").GetProperty("azureActiveDirectory");
        Assert.True(entra.GetProperty("enabled").GetBoolean());
        Assert.Equal(ClientId, entra.GetProperty("registration").GetProperty("clientId").GetString());
        Assert.Contains(TenantId, entra.GetProperty("registration").GetProperty("openIdIssuer").GetString(), StringComparison.Ordinal);
        var audiences = entra.GetProperty("validation").GetProperty("allowedAudiences").EnumerateArray().Select(a => a.GetString()).ToList();
        Assert.Contains($"api://{ClientId}", audiences);
        Assert.Contains(Audience, audiences);
        Assert.Contains(TenantId, deployment.AppSetting("Callers__EntraAuthority"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("main.dev.bicepparam")]
    [InlineData("main.prod.bicepparam")]
    public async Task Snapshot_EntraOff_NoProviderAndNoChallenge(string parameterFile)
    {
        var deployment = await snapshots.OfParameterFileAsync(parameterFile, null);

        Assert.False(deployment.AuthSettings().GetProperty("identityProviders").TryGetProperty("azureActiveDirectory", out _));
        Assert.Equal("", deployment.AppSetting("Callers__EntraAuthority"));
    }

    [Fact]
    public async Task Snapshot_OverrideTrustsHeaderWithoutEntra_OverrideIgnored()
    {
        var deployment = await snapshots.OfSourceAsync("""
            using 'main.bicep'

            param environmentName = 'dev'
            param appSettingOverrides = {
              Callers__TrustClientPrincipalHeader: 'true'
              Callers__EntraAuthority: 'https://login.example.org/attacker'
            }
            """);

        Assert.Equal("false", deployment.AppSetting("Callers__TrustClientPrincipalHeader"));
        Assert.Equal("", deployment.AppSetting("Callers__EntraAuthority"));
        Assert.False(deployment.AuthSettings().GetProperty("platform").GetProperty("enabled").GetBoolean());
    }

    [Theory]
    [MemberData(nameof(ParameterFilesBothWays))]
    public async Task Snapshot_AppSettings_NeverSetThePlatformsAuthenticationVariables(string parameterFile, bool entraOn)
    {
        // WEBSITE_AUTH_ENABLED is the platform's word that App Service Authentication is on; the app
        // believes X-MS-CLIENT-PRINCIPAL only with it, so no template may set it (or any WEBSITE_AUTH_*).
        var deployment = await snapshots.OfParameterFileAsync(parameterFile, entraOn ? ClientId : null);

        Assert.DoesNotContain(deployment.AppSettingNames(), n => n.StartsWith("WEBSITE_AUTH_", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("main.dev.bicepparam")]
    [InlineData("main.prod.bicepparam")]
    public async Task Snapshot_FunctionAppDiagnostics_OnlyFunctionAppLogsAndNoHttpLogs(string parameterFile)
    {
        // App Service HTTP logs (AppServiceHTTPLogs) record each request's query string, so an api-key
        // parameter would land in Log Analytics: the site sends FunctionAppLogs only.
        var deployment = await snapshots.OfParameterFileAsync(parameterFile, ClientId);

        var logs = deployment.SiteDiagnosticLogs();
        Assert.Equal(["FunctionAppLogs"], logs.Select(l => l.TryGetProperty("category", out var c) ? c.GetString() : "group:" + l.GetProperty("categoryGroup").GetString()));
    }

    /// <summary>
    /// Snapshots of a copy of infra/ in a temporary folder (the CLI writes each snapshot beside its
    /// parameter file), each compiled once per class and shared by the tests.
    /// </summary>
    public sealed class Snapshots : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("childshare-bicep-").FullName;
        private readonly ConcurrentDictionary<string, Lazy<Task<Deployment>>> _cache = new(StringComparer.Ordinal);
        private int _variant;

        public Snapshots()
        {
            var infra = BicepCli.InfraFolder;
            foreach (var file in Directory.EnumerateFiles(infra).Where(f => Path.GetExtension(f) is ".bicep" or ".bicepparam" or ".json"))
            {
                File.Copy(file, Path.Combine(_folder, Path.GetFileName(file)));
            }

            Directory.CreateDirectory(Path.Combine(_folder, "modules"));
            foreach (var module in Directory.EnumerateFiles(Path.Combine(infra, "modules"), "*.bicep"))
            {
                File.Copy(module, Path.Combine(_folder, "modules", Path.GetFileName(module)));
            }
        }

        /// <summary>A checked-in parameter file, with CHILDSHARE_ENTRA_CLIENT_ID and _TENANT_ID set (on) or empty (off).</summary>
        public Task<Deployment> OfParameterFileAsync(string parameterFile, string? clientId) =>
            _cache.GetOrAdd($"{parameterFile}|{clientId}", _ => new Lazy<Task<Deployment>>(() => SnapshotAsync(
                File.ReadAllText(Path.Combine(_folder, parameterFile)),
                new Dictionary<string, string?>
                {
                    ["CHILDSHARE_ENTRA_CLIENT_ID"] = clientId ?? "",
                    ["CHILDSHARE_ENTRA_TENANT_ID"] = clientId is null ? "" : TenantId,
                    ["CHILDSHARE_ENTRA_AUDIENCE"] = clientId is null ? "" : Audience,
                    ["CHILDSHARE_ADMIN_ID"] = "",
                    ["CHILDSHARE_ADMIN_GROUP_ID"] = "",
                }))).Value;

        /// <summary>A parameter file written by the test.</summary>
        public Task<Deployment> OfSourceAsync(string source) =>
            _cache.GetOrAdd(source, _ => new Lazy<Task<Deployment>>(() => SnapshotAsync(source, new Dictionary<string, string?>()))).Value;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        private async Task<Deployment> SnapshotAsync(string parameterSource, Dictionary<string, string?> environment)
        {
            var name = $"variant{Interlocked.Increment(ref _variant)}";
            await File.WriteAllTextAsync(Path.Combine(_folder, name + ".bicepparam"), parameterSource);
            var (exitCode, output) = await BicepCli.RunAsync(
                [
                    "snapshot", name + ".bicepparam", "--mode", "overwrite",
                    "--subscription-id", "3c4d5e6f-7081-4293-a4b5-c6d7e8f9a0b1", "--resource-group", "rg-childshare-test",
                    "--location", "eastus2", "--tenant-id", TenantId,
                ],
                _folder, environment);
            Assert.True(exitCode == 0, $"bicep snapshot failed ({exitCode}): {output}");
            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_folder, name + ".snapshot.json")));
            return new Deployment(document.RootElement.GetProperty("predictedResources").EnumerateArray().Select(r => r.Clone()).ToList());
        }
    }

    /// <summary>The resources of one snapshot.</summary>
    public sealed record Deployment(List<JsonElement> Resources)
    {
        public JsonElement Site() => Assert.Single(Resources, r => r.GetProperty("type").GetString() == "Microsoft.Web/sites");

        public IEnumerable<string> AppSettingNames() => AppSettings().Select(s => s.GetProperty("name").GetString()!);

        public string? AppSetting(string name) =>
            Assert.Single(AppSettings(), s => s.GetProperty("name").GetString() == name).GetProperty("value").GetString();

        public JsonElement AuthSettings() =>
            Assert.Single(Resources, r => r.GetProperty("type").GetString() == "Microsoft.Web/sites/config"
                && r.GetProperty("name").GetString()!.EndsWith("/authsettingsV2", StringComparison.Ordinal)).GetProperty("properties");

        public List<JsonElement> SiteDiagnosticLogs() =>
            Assert.Single(Resources, r => r.GetProperty("type").GetString() == "Microsoft.Insights/diagnosticSettings"
                    && r.GetProperty("id").GetString()!.Contains("/providers/Microsoft.Web/sites/", StringComparison.Ordinal))
                .GetProperty("properties").GetProperty("logs").EnumerateArray().ToList();

        private IEnumerable<JsonElement> AppSettings() =>
            Site().GetProperty("properties").GetProperty("siteConfig").GetProperty("appSettings").EnumerateArray();
    }
}

using System.Text.Json;
using ChildShare.Functions.Http;
using ChildShare.Tests.Support;
using Microsoft.ApplicationInsights;
using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Infrastructure;

/// <summary>
/// The worker's telemetry (Application Insights, on when APPLICATIONINSIGHTS_CONNECTION_STRING is set): no API key,
/// Functions key, SAS signature or any other query value, and no id in a path, in any URL it sends.
/// </summary>
public sealed class TelemetryScrubbingTests
{
    private const string ConsentId = "0123456789abcdef0123456789abcdef";
    private const string Secrets = "api-key=csk_0011223344556677_SECRETKEY&code=HOSTKEY%3D%3D&sig=SASSIGNATURE%2B%3D&sv=2025-01-05";

    private static readonly string[] Leaks = ["csk_", "SECRETKEY", "HOSTKEY", "SASSIGNATURE", "api-key", "code=", "sig=", ConsentId, "Walker", "2022-02-10", "S100001", "tok3n"];

    [Theory]
    [InlineData($"https://childshare.azurewebsites.net/api/consents/{ConsentId}/links?{Secrets}", "https://childshare.azurewebsites.net/api/consents/{id}/links")]
    [InlineData($"https://childshare.azurewebsites.net/api/reports/aggregate?from=2026-09-01&{Secrets}", "https://childshare.azurewebsites.net/api/reports/aggregate")]
    [InlineData($"https://data.blob.core.windows.net/uploads/district-north/Walker_Wei_2022-02-10.csv?{Secrets}", "https://data.blob.core.windows.net/uploads/{id}/{id}")]
    [InlineData("https://data.table.core.windows.net/records(PartitionKey='S100001',RowKey='tok3n')?$select=ChildKey", "https://data.table.core.windows.net/{id}")]
    [InlineData("http://127.0.0.1:7071/api/parent/AQFIHeXgoehKPKgwGWiJjhp8AAAAAGs2ceqouVq0NfSrFpRAbL4DD8aO/revoke#top", "http://127.0.0.1:7071/api/parent/{id}/revoke")]
    public void ScrubUrl_UrlWithKeysAndIds_OnlyRouteWordsLeft(string url, string expected)
    {
        Assert.Equal(expected, TelemetryScrubbing.ScrubUrl(url));
    }

    [Fact]
    public void Scrub_RequestAndDependency_UrlsNamesAndPropertiesScrubbed()
    {
        var request = new RequestTelemetry { Url = new Uri($"https://app.example.net/api/consents/{ConsentId}/links?{Secrets}"), Name = $"POST /api/consents/{ConsentId}/links" };
        var dependency = new DependencyTelemetry("Azure blob", "data.blob.core.windows.net", $"PUT /uploads/district-north/Walker_Wei_2022-02-10.csv",
            $"https://data.blob.core.windows.net/uploads/district-north/Walker_Wei_2022-02-10.csv?{Secrets}");
        dependency.Properties["url.full"] = $"https://data.blob.core.windows.net/uploads/x/S100001.csv?{Secrets}";
        dependency.Properties["note"] = $"retried https://vault.example.net/secrets/pseudonymization-key?{Secrets} after 1 s";

        dependency.Properties["Blob"] = "Walker_Wei_2022-02-10.csv";
        var sdkName = new DependencyTelemetry("Azure blob", "data.blob.core.windows.net", "PUT data/uploads/Walker_Wei_2022-02-10.csv", "");

        ScrubTelemetryUrls.Scrub(request);
        ScrubTelemetryUrls.Scrub(dependency);
        ScrubTelemetryUrls.Scrub(sdkName);

        Assert.Equal("POST /api/consents/{id}/links", request.Name);
        Assert.Equal("/api/consents/%7Bid%7D/links", request.Url.AbsolutePath);
        Assert.Empty(request.Url.Query);
        Assert.Equal("PUT /uploads/{id}/{id}", dependency.Name);
        Assert.Equal("https://data.blob.core.windows.net/uploads/{id}/{id}", dependency.Data);
        Assert.Equal("retried https://vault.example.net/{id}/{id} after 1 s", dependency.Properties["note"]);
        Assert.Equal("{id}", dependency.Properties["Blob"]);
        Assert.Equal("PUT {id}/uploads/{id}", sdkName.Name);
        AssertNoLeak(Describe(request) + Describe(dependency) + Describe(sdkName));
    }

    [Fact]
    public async Task AddChildShareTelemetry_ConnectionStringSet_TrackedItemsLeaveTheProcessScrubbed()
    {
        var channel = new CapturingChannel();
        var services = new ServiceCollection();
        var configuration = Configuration("InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/");
        services.AddSingleton(configuration); // as the Functions host provides it
        services.AddSingleton<ITelemetryChannel>(channel);
        services.AddChildShareTelemetry(configuration);
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<TelemetryClient>();

        client.TrackRequest(new RequestTelemetry { Url = new Uri($"https://app.example.net/api/uploads/{ConsentId}/rejects?{Secrets}"), Name = $"GET /api/uploads/{ConsentId}/rejects" });
        client.TrackDependency("Http", "data.blob.core.windows.net", $"GET /uploads/district-north/Walker.csv",
            $"https://data.blob.core.windows.net/uploads/district-north/Walker.csv?{Secrets}", DateTimeOffset.UnixEpoch, TimeSpan.FromMilliseconds(5), "200", true);
        client.Flush();

        // (The pipeline may add items of its own, such as a heartbeat; every item is checked below.)
        var sent = channel.Items.OfType<RequestTelemetry>().Single();
        Assert.Equal("GET /api/uploads/{id}/rejects", sent.Name);
        Assert.Equal("https://data.blob.core.windows.net/uploads/{id}/{id}", channel.Items.OfType<DependencyTelemetry>().Single(d => d.Target == "data.blob.core.windows.net").Data);
        AssertNoLeak(string.Join("\n", channel.Items.Select(Describe)));
    }

    [Fact]
    public void AddChildShareTelemetry_NoConnectionString_NothingRegistered()
    {
        var services = new ServiceCollection();

        services.AddChildShareTelemetry(Configuration(""));

        Assert.DoesNotContain(services, s => s.ServiceType == typeof(TelemetryClient));
    }

    [Theory]
    [InlineData("Authorization=AAD", true, false)]
    [InlineData("Authorization=AAD;ClientId=5d3a1c2e-0000-4000-8000-000000000001", true, true)]
    [InlineData("", false, false)]
    [InlineData("Authorization=Key", false, false)]
    public void ManagedIdentity_AuthenticationString_TheIdentityTelemetrySendsWith(string setting, bool identity, bool userAssigned)
    {
        var id = TelemetryScrubbing.ManagedIdentity(setting);

        Assert.Equal(identity, id is not null);
        if (id is not null)
        {
            Assert.Equal(userAssigned, id.ToString()!.Contains("5d3a1c2e", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void TelemetrySettings_InTheSampleTheTemplateAndTheReadme()
    {
        var sample = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "local.settings.sample.json"));
        var template = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "infra", "main.bicep"));
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md"));
        foreach (var setting in new[] { TelemetryScrubbing.ConnectionStringSetting, TelemetryScrubbing.AuthenticationStringSetting })
        {
            Assert.Contains($"\"{setting}\":", sample, StringComparison.Ordinal);
            Assert.Matches($@"(?m)^\s*{setting}:", template);
            Assert.Matches($@"(?m)^\| `{setting}` \|", readme);
        }
    }

    private static IConfiguration Configuration(string connectionString) => new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { [TelemetryScrubbing.ConnectionStringSetting] = connectionString })
        .Build();

    private static string Describe(ITelemetry item) => item switch
    {
        RequestTelemetry r => JsonSerializer.Serialize(new { r.Name, Url = r.Url?.ToString(), r.Properties }),
        DependencyTelemetry d => JsonSerializer.Serialize(new { d.Name, d.Data, d.Target, d.Properties }),
        _ => item.GetType().Name,
    };

    private static void AssertNoLeak(string sent)
    {
        foreach (var leak in Leaks)
        {
            Assert.DoesNotContain(leak, sent, StringComparison.Ordinal);
        }
    }

    private sealed class CapturingChannel : ITelemetryChannel
    {
        public List<ITelemetry> Items { get; } = [];

        public bool? DeveloperMode { get; set; }

        public string EndpointAddress { get; set; } = "";

        public void Send(ITelemetry item) => Items.Add(item);

        public void Flush()
        {
        }

        public void Dispose()
        {
        }
    }
}

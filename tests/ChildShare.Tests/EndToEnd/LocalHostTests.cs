using System.Text;
using ChildShare.Cli.Serve;
using ChildShare.Core.Audit;
using ChildShare.Core.Callers;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using ChildShare.Functions.Hosting;
using ChildShare.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.EndToEnd;

/// <summary>The local host's own behaviour: failures as the Functions host reports them, schedules, and the health probe's "unreachable".</summary>
public sealed class LocalHostTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();
    private readonly FakeLogCollector _logs = new();

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    private async Task<(WebApplication App, HttpClient Client)> StartAsync(Action<IServiceCollection> configure)
    {
        var app = LocalFunctionHost.Create(new LocalHostOptions { Port = 0, PollInterval = TimeSpan.FromHours(1) }, _storage.Settings, services =>
        {
            services.AddSingleton<TimeProvider>(new FakeTimeProvider(TestApp.Now));
            services.AddLogging(b => b.AddProvider(new FakeLoggerProvider(_logs)));
            configure(services);
        });
        await app.StartAsync();
        return (app, new HttpClient { BaseAddress = LocalFunctionHost.BaseAddress(app) });
    }

    [Theory]
    [InlineData("/api/uploads")]
    [InlineData("/api/uploads/{id}/rejects")]
    public async Task ClerkRoute_AuditWriteFails_503ProblemAndNothingReleased(string route)
    {
        var (app, client) = await StartAsync(s => s.AddSingleton<AuditLog>(sp =>
            new FailingAuditLog(sp.GetRequiredService<ChildShareStorage>(), AuditEvents.UploadsListed, AuditEvents.UploadRejectsRead)));
        await using var _ = app;
        using var __ = client;
        var registry = app.Services.GetRequiredService<ProviderRegistry>();
        await registry.RegisterAsync("district", "district", "Other");
        await registry.SaveProfileAsync("district", """{"dateFormats":["yyyy-MM-dd"],"columns":{"Id":"LocalChildId","First":"FirstName","Last":"LastName","DOB":"BirthDate"}}""");
        var blob = await _storage.UploadAsync("district/one.csv", Encoding.UTF8.GetBytes("Id,First,Last,DOB\nD1,Maribel,Quintanilla,2014-05-05\nD2,,,\n"));
        var manifest = await app.Services.GetRequiredService<IngestionService>().IngestAsync(blob);
        var key = (await app.Services.GetRequiredService<ApiKeyStore>().IssueAsync("district", CallerRoles.Reader, "t", TimeSpan.FromDays(1), "test")).Key;
        using var request = new HttpRequestMessage(HttpMethod.Get, route.Replace("{id}", manifest.UploadId, StringComparison.Ordinal));
        request.Headers.Add(CallerResolver.ApiKeyHeaderName, key);

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain(manifest.UploadId, body, StringComparison.Ordinal);
        Assert.DoesNotContain("line", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Function_Throws_500ProblemWithTraceIdAndOnlyTheErrorTypeLogged()
    {
        var (app, client) = await StartAsync(s => s.AddSingleton<ManifestStore>(sp => new ThrowingManifestStore(sp.GetRequiredService<ChildShareStorage>())));
        await using var _ = app;
        using var __ = client;
        var key = (await app.Services.GetRequiredService<ApiKeyStore>().IssueAsync("district", CallerRoles.Reader, "t", TimeSpan.FromDays(1), "test")).Key;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/uploads/" + new string('a', 32));
        request.Headers.Add(CallerResolver.ApiKeyHeaderName, key);

        using var response = await client.SendAsync(request);

        // The served route runs through the app's HttpPipeline: a problem with only a trace id, the one the log names.
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(500, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain(ThrowingManifestStore.Secret, body, StringComparison.Ordinal);
        using var problem = System.Text.Json.JsonDocument.Parse(body);
        var traceId = problem.RootElement.GetProperty("traceId").GetString();
        Assert.False(string.IsNullOrEmpty(traceId));
        Assert.Contains(_logs.GetSnapshot(), l => l.Message.Contains("GetUploadManifest failed (InvalidOperationException), trace " + traceId, StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.GetSnapshot(), l => l.Message.Contains(ThrowingManifestStore.Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Health_StorageUnreachable_503SayingWhichAndNothingElse()
    {
        // Port 9 (discard) refuses connections: storage that does not answer.
        const string nowhere = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
            + "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;";
        var (app, client) = await StartAsync(s => s.AddSingleton(sp => new ChildShareStorage(
            new Azure.Data.Tables.TableServiceClient(nowhere),
            new Azure.Storage.Blobs.BlobServiceClient(nowhere, new Azure.Storage.Blobs.BlobClientOptions { Retry = { MaxRetries = 0 } }),
            sp.GetRequiredService<IOptions<StorageOptions>>())));
        await using var _ = app;
        using var __ = client;

        using var response = await client.GetAsync(new Uri("/api/health", UriKind.Relative));

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal("""{"status":"unhealthy","storage":"unreachable","key":"reachable"}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("0 0 * * * *", "2026-10-15T12:00:00Z", "2026-10-15T13:00:00Z")]
    [InlineData("0 0 * * * *", "2026-10-15T12:59:59Z", "2026-10-15T13:00:00Z")]
    [InlineData("0 */5 * * * *", "2026-10-15T12:01:00Z", "2026-10-15T12:05:00Z")]
    [InlineData("30 15 3 * * 1", "2026-10-15T12:00:00Z", "2026-10-19T03:15:30Z")]
    [InlineData("0 6 * * *", "2026-10-15T12:00:00Z", "2026-10-16T06:00:00Z")]
    public void NcrontabSchedule_Next_FirstOccurrenceStrictlyAfter(string expression, string after, string expected)
    {
        var next = NcrontabSchedule.Parse(expression).Next(DateTimeOffset.Parse(after, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), next);
    }

    [Theory]
    [InlineData("hourly")]
    [InlineData("0 0 * *")]
    [InlineData("61 0 * * * *")]
    [InlineData("")]
    public void NcrontabSchedule_NotAnExpression_FormatExceptionNamingTheForm(string expression)
    {
        var error = Assert.Throws<FormatException>(() => NcrontabSchedule.Parse(expression));

        Assert.Contains("six fields", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScheduleOf_SettingReference_ReadFromTheSettings()
    {
        var expiry = FunctionCatalog.Timer.Single(t => t.Name == "ExpireConsents");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("Consent:ExpirySchedule", "0 30 2 * * *")]).Build();

        var schedule = TimerScheduler.ScheduleOf(expiry, configuration);

        Assert.Equal("%Consent:ExpirySchedule%", expiry.Schedule);
        Assert.Equal("0 30 2 * * *", schedule.Expression);
        Assert.Throws<InvalidOperationException>(() => TimerScheduler.ScheduleOf(expiry, new ConfigurationBuilder().Build()));
    }

    /// <summary>An audit whose writes of the named events fail as an outage does (the real log turns every storage failure into this).</summary>
    private sealed class FailingAuditLog(ChildShareStorage storage, params string[] failOn)
        : AuditLog(storage, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<AuditLog>.Instance)
    {
        public override Task<(string PartitionKey, string RowKey)> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default) =>
            failOn.Contains(entry.Event) ? throw new AuditUnavailableException(new InvalidOperationException("audit store down")) : base.AppendAsync(entry, cancellationToken);
    }

    private sealed class ThrowingManifestStore(ChildShareStorage storage) : ManifestStore(storage)
    {
        public const string Secret = "quoted-child-data-0451";

        public override Task<UploadManifest?> GetAsync(string uploadId, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("message that could quote data: " + Secret);
    }
}

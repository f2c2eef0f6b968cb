using System.Text;
using ChildShare.Core.Callers;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.Support;

/// <summary>
/// What every harness of a small ingested community shares (the report, export and consent harnesses and the
/// served app): a private corner of Azurite, a fake clock that starts on 2026-10-01 08:00 (the providers' files
/// arrive before "today", <see cref="TestApp.Now"/>), a log collector at Trace, the identifiers the providers sent
/// (none may leak), and the steps of building the community: register the providers with their mapping profile,
/// ingest their files through the real ingestion path, issue API keys. Each harness keeps its own data and agreements.
/// </summary>
public abstract class TestCommunity : IAsyncLifetime
{
    /// <summary>When the harness's clock starts: the providers' September files are ingested then.</summary>
    public static readonly DateTimeOffset IngestionTime = new(2026, 10, 1, 8, 0, 0, TimeSpan.Zero);

    public TestStorage Storage { get; } = new();

    public FakeTimeProvider Time { get; } = new(IngestionTime);

    public FakeLogCollector Logs { get; } = new();

    /// <summary>Every name, local id, birth date and street address (and its match form) the providers sent: none may appear in a log, response or audit.</summary>
    public List<string> Identifiers { get; } = [];

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>The app's own wiring on <see cref="Storage"/>, with <see cref="Time"/> and every log into <see cref="Logs"/>.</summary>
    protected ServiceProvider BuildApp() => TestApp.Build(Storage, Time, configure: AddTo);

    /// <summary>Puts <see cref="Time"/> and <see cref="Logs"/> into a host's services (for a host that is not built by <see cref="BuildApp"/>).</summary>
    protected void AddTo(IServiceCollection services)
    {
        services.AddSingleton<TimeProvider>(Time);
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(Logs)));
    }

    protected static async Task RegisterProvidersAsync(IServiceProvider services, string profile, params string[] providers)
    {
        var registry = services.GetRequiredService<ProviderRegistry>();
        foreach (var provider in providers)
        {
            await registry.RegisterAsync(provider, provider, "Other");
            await registry.SaveProfileAsync(provider, profile);
        }
    }

    /// <summary>
    /// Uploads <paramref name="header"/> and <paramref name="rows"/> as <c>{provider}/{blobName}</c> and ingests it; fails the test
    /// unless it completed, and without rejected rows unless <paramref name="rejectsExpected"/>.
    /// </summary>
    protected async Task<UploadManifest> IngestAsync(
        IServiceProvider services, string provider, string header, IEnumerable<string> rows, string blobName = "september.csv", bool rejectsExpected = false)
    {
        var csv = header + "\n" + string.Join("\n", rows) + "\n";
        var blob = await Storage.UploadAsync($"{provider}/{blobName}", Encoding.UTF8.GetBytes(csv));
        var manifest = await services.GetRequiredService<IngestionService>().IngestAsync(blob);
        var clean = manifest.Status == UploadStatus.Completed && manifest.RowsRejected == 0;
        var expected = rejectsExpected ? manifest.Status is UploadStatus.Completed or UploadStatus.CompletedWithRejections : clean;
        return expected
            ? manifest
            : throw new InvalidOperationException($"Test data for {provider} did not ingest as expected: {manifest.Status}, {manifest.RowsRejected} rejected.");
    }

    /// <summary>A new API key of <paramref name="organization"/> for <paramref name="application"/> (a reader's, for 90 days, unless told otherwise).</summary>
    protected static async Task<string> IssueKeyAsync(
        IServiceProvider services, string organization, string application, string role = CallerRoles.Reader, TimeSpan? lifetime = null) =>
        (await services.GetRequiredService<ApiKeyStore>().IssueAsync(organization, role, application, lifetime ?? TimeSpan.FromDays(90), "test")).Key;
}

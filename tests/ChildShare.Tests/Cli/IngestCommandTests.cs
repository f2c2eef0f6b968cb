using System.Text;
using Azure.Storage.Blobs.Models;
using ChildShare.Cli;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using ChildShare.Tests.Ingestion;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace ChildShare.Tests.Cli;

/// <summary>The command line's upload, ingest and ingest-pending: paths kept in their folder, every outcome reported.</summary>
public sealed class IngestCommandTests : IAsyncLifetime
{
    private const string Other = "other-prov";
    private const string Roster = "Id,First,Last,DOB\nA1,Ana,Lopez,2015-03-02\n";
    private readonly IngestionHarness _harness = new();
    private readonly string _file = Path.Combine(Path.GetTempPath(), "childshare-" + Guid.NewGuid().ToString("N") + ".csv");

    public async Task InitializeAsync()
    {
        await _harness.InitializeAsync();
        await _harness.Providers.RegisterAsync(Other, "Other Provider", "Other");
        await _harness.Providers.SaveProfileAsync(Other, IngestionHarness.DefaultProfile);
        await File.WriteAllTextAsync(_file, Roster);
    }

    public async Task DisposeAsync()
    {
        File.Delete(_file);
        await _harness.DisposeAsync();
    }

    [Fact]
    public async Task Upload_AsPathThatLeavesTheProviderFolder_IsRefusedWithOneLineAndANonZeroExit()
    {
        var run = await CliProcess.RunAsync(_harness.Storage, [],
            "upload", "--provider", IngestionHarness.ProviderId, "--file", _file, "--as", "../" + Other + "/x.csv");

        Assert.NotEqual(0, run.ExitCode);
        var error = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Refused: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Uploaded", run.Output, StringComparison.Ordinal);
        Assert.Empty(await ListUploadsAsync());
    }

    [Fact]
    public async Task Ingest_BlobPathThatLeavesTheProviderFolder_IsRefusedAndTheOtherProvidersFileIsNotIngested()
    {
        await _harness.Storage.UploadAsync($"{Other}/x.csv", Encoding.UTF8.GetBytes(Roster));

        var run = await CliProcess.RunAsync(_harness.Storage, [], "ingest", "--blob", $"hostile/../{Other}/x.csv");

        Assert.NotEqual(0, run.ExitCode);
        Assert.StartsWith("Refused: ", Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.Empty(await _harness.Storage.ReadAllAsync(TableNames.Identities));
        Assert.DoesNotContain(await _harness.Storage.ReadAllAsync(TableNames.Manifests), m => m.RowKey == "manifest");
    }

    [Fact]
    public async Task Ingest_RetryFailed_IngestsAFailedUploadOnceTheKeyIsRightAndPlainIngestLeavesItFailed()
    {
        await _harness.Storage.UploadAsync($"{IngestionHarness.ProviderId}/a.csv", Encoding.UTF8.GetBytes(Roster));
        var failed = await CliProcess.RunAsync(_harness.Storage, [new("Ingestion:MaxAttempts", "1"), new("Pseudonymization:LocalKey", "not base64!")],
            "ingest", "--blob", $"{IngestionHarness.ProviderId}/a.csv");

        var plain = await CliProcess.RunAsync(_harness.Storage, [], "ingest", "--blob", $"{IngestionHarness.ProviderId}/a.csv");
        var statusAfterPlain = await ManifestStatusAsync();
        var retried = await CliProcess.RunAsync(_harness.Storage, [], "ingest", "--blob", $"{IngestionHarness.ProviderId}/a.csv", "--retry-failed");

        Assert.Contains(nameof(UploadStatus.Failed), failed.Output, StringComparison.Ordinal);
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal(nameof(UploadStatus.Failed), statusAfterPlain);
        Assert.Equal(0, retried.ExitCode);
        Assert.Equal(nameof(UploadStatus.Completed), await ManifestStatusAsync());
        Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Identities));

        async Task<string?> ManifestStatusAsync() =>
            Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Manifests), m => m.RowKey == "manifest").GetString("Status");
    }

    [Fact]
    public async Task IngestPending_UploadsThatFail_AreAllReportedAndTheExitCodeIsNonZero()
    {
        await _harness.Storage.UploadAsync($"{IngestionHarness.ProviderId}/a.csv", Encoding.UTF8.GetBytes(Roster));
        await _harness.Storage.UploadAsync($"{Other}/b.csv", Encoding.UTF8.GetBytes(Roster));

        // A key that is not base64: every attempt fails, and with one attempt allowed each upload ends Failed.
        var run = await CliProcess.RunAsync(_harness.Storage, [new("Ingestion:MaxAttempts", "1"), new("Pseudonymization:LocalKey", "not base64!")],
            "ingest-pending");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"{IngestionHarness.ProviderId}/a.csv", run.Output, StringComparison.Ordinal);
        Assert.Contains($"{Other}/b.csv", run.Output, StringComparison.Ordinal);
        var manifests = (await _harness.Storage.ReadAllAsync(TableNames.Manifests)).Where(m => m.RowKey == "manifest").ToList();
        Assert.Equal(2, manifests.Count);
        Assert.All(manifests, m => Assert.Equal(nameof(UploadStatus.Failed), m.GetString("Status")));
    }

    [Fact]
    public async Task IngestPendingAsync_AnUploadFails_TheUploadsBehindItAreStillIngested()
    {
        var real = _harness.Services.GetRequiredService<IPseudonymKeyProvider>();
        var calls = 0;
        var keys = new Mock<IPseudonymKeyProvider>();
        keys.Setup(k => k.GetCurrentKeyAsync(It.IsAny<CancellationToken>())).Returns<CancellationToken>(ct =>
            Interlocked.Increment(ref calls) == 1 ? Task.FromException<PseudonymKey>(new TimeoutException("vault unreachable")) : real.GetCurrentKeyAsync(ct));
        await using var services = TestApp.Build(_harness.Storage, _harness.Time, [new("Ingestion:MaxAttempts", "2")], s => s.AddSingleton(keys.Object));
        await _harness.Storage.UploadAsync($"{IngestionHarness.ProviderId}/a-first.csv", Encoding.UTF8.GetBytes(Roster));
        await _harness.Storage.UploadAsync($"{IngestionHarness.ProviderId}/b-second.csv", Encoding.UTF8.GetBytes(Roster.Replace("A1", "B2", StringComparison.Ordinal)));
        var output = new StringWriter();
        var op = ActivatorUtilities.CreateInstance<Operator>(services, (TextWriter)output);

        var results = await op.IngestPendingAsync(CancellationToken.None);

        Assert.Equal(2, results.Count);
        Assert.Equal(UploadStatus.Completed, results.Single(r => r.BlobName.EndsWith("b-second.csv", StringComparison.Ordinal)).Status);
        Assert.Contains("1 upload(s) finished, 1 failed.", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("vault unreachable", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngestPendingAsync_RosterOverwrittenUnderTheSameName_IsIngestedAgain()
    {
        var op = ActivatorUtilities.CreateInstance<Operator>(_harness.Services, (TextWriter)new StringWriter());
        var name = $"{IngestionHarness.ProviderId}/monthly.csv";
        await _harness.Storage.UploadAsync(name, Encoding.UTF8.GetBytes(Roster));
        Assert.Equal(UploadStatus.Completed, Assert.Single(await op.IngestPendingAsync(CancellationToken.None)).Status);

        await _harness.Storage.UploadAsync(name, Encoding.UTF8.GetBytes("Id,First,Last,DOB\nB2,Ben,Okafor,2014-06-07\n"));
        var second = await op.IngestPendingAsync(CancellationToken.None);
        var third = await op.IngestPendingAsync(CancellationToken.None);

        Assert.Equal(UploadStatus.Completed, Assert.Single(second).Status);
        Assert.Empty(third);
        var ids = (await _harness.Storage.ReadAllAsync(TableNames.Identities)).Select(i => i.GetString("LocalChildId")).Order().ToList();
        Assert.Equal(["A1", "B2"], ids);
    }

    private async Task<List<string>> ListUploadsAsync()
    {
        var names = new List<string>();
        await foreach (var blob in _harness.Storage.Storage.Uploads.GetBlobsAsync(new GetBlobsOptions()))
        {
            names.Add(blob.Name);
        }

        return names;
    }
}

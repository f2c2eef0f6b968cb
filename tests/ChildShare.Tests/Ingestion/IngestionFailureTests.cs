using System.Text;
using ChildShare.Core.Callers;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Pseudonymization;
using ChildShare.Functions.Ingestion;
using ChildShare.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Moq;

namespace ChildShare.Tests.Ingestion;

/// <summary>Blobs that keep failing, the function classes over a real blob, and what the logs may say.</summary>
public sealed class IngestionFailureTests : IAsyncLifetime
{
    private const string Csv = "Id,First,Last,DOB\nA1,Ana,Lopez,2015-03-02\n";
    private readonly IngestionHarness _harness = new();

    public Task InitializeAsync() => _harness.InitializeAsync();

    public Task DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task IngestAsync_KeepsFailing_RetriesThenEndsWithAFailedManifest()
    {
        var keys = new Mock<IPseudonymKeyProvider>();
        keys.Setup(k => k.GetCurrentKeyAsync(It.IsAny<CancellationToken>())).ThrowsAsync(new TimeoutException("vault unreachable"));
        await using var services = TestApp.Build(_harness.Storage, _harness.Time, [new("Ingestion:MaxAttempts", "2")],
            s => s.AddSingleton(keys.Object));
        var ingestion = services.GetRequiredService<IngestionService>();
        var blob = await _harness.Storage.UploadAsync($"{IngestionHarness.ProviderId}/failing.csv", Encoding.UTF8.GetBytes(Csv));

        var retry = await Assert.ThrowsAsync<UploadRetryException>(() => ingestion.IngestAsync(blob));
        var final = await ingestion.IngestAsync(blob);
        var afterwards = await ingestion.IngestAsync(blob);

        Assert.Equal(final.UploadId, retry.UploadId);
        Assert.Equal(UploadStatus.Failed, final.Status);
        Assert.Equal(2, final.Attempts);
        Assert.Equal("TimeoutException on attempt 2.", final.Reason);
        Assert.Equal(final, afterwards);
        Assert.True(await blob.ExistsAsync(), "the original file is kept");
    }

    [Fact]
    public async Task BlobFunction_RealBlob_WritesTheManifestTheHttpFunctionReturns()
    {
        var blob = await _harness.Storage.UploadAsync($"{IngestionHarness.ProviderId}/via-function.csv", Encoding.UTF8.GetBytes(Csv));
        var trigger = new IngestProviderUpload(_harness.Ingestion);
        await trigger.RunAsync(blob, blob.Name, CancellationToken.None);
        var uploadId = IngestionService.UploadIdOf(blob.Name, (await UploadFileReader.FingerprintAsync(await blob.OpenReadAsync())).Sha256);
        var http = Manifests();

        var result = await Run(await RequestAsAsync(IngestionHarness.ProviderId), r => http.RunAsync(r, uploadId, CancellationToken.None));
        var otherOrganization = await Run(await RequestAsAsync("someone-else"), r => http.RunAsync(r, uploadId, CancellationToken.None));
        var anonymous = await Run(new DefaultHttpContext().Request, r => http.RunAsync(r, uploadId, CancellationToken.None));

        var manifest = Assert.IsType<UploadManifest>(Assert.IsType<OkObjectResult>(result).Value);
        Assert.Equal(UploadStatus.Completed, manifest.Status);
        Assert.Equal(1, manifest.RowsAccepted);
        Assert.Equal(403, Assert.IsType<ObjectResult>(otherOrganization).StatusCode);
        Assert.Equal(401, Assert.IsType<ObjectResult>(anonymous).StatusCode);
    }

    [Theory]
    [InlineData("not-an-id", 400)]
    [InlineData("0123456789abcdef0123456789abcdef", 404)]
    public async Task ManifestFunction_BadOrUnknownId_ReturnsAProblem(string id, int status)
    {
        var result = Assert.IsType<ObjectResult>(await Run(await RequestAsAsync(IngestionHarness.ProviderId), r => Manifests().RunAsync(r, id, CancellationToken.None)));

        Assert.Equal(status, result.StatusCode);
        var problem = Assert.IsType<ProblemDetails>(result.Value);
        Assert.Equal(status, problem.Status);
        Assert.Contains("application/problem+json", result.ContentTypes);
    }

    private GetUploadManifest Manifests() => new(_harness.Services.GetRequiredService<UploadManifestReader>());

    private Task<IActionResult> Run(HttpRequest request, Func<HttpRequest, Task<IActionResult>> function) => TestHttp.RunAsync(_harness.Services, request, function);

    private async Task<HttpRequest> RequestAsAsync(string organizationId)
    {
        var key = await _harness.Services.GetRequiredService<ApiKeyStore>().IssueAsync(organizationId, CallerRoles.Reader, "test", TimeSpan.FromDays(1), "test");
        var context = new DefaultHttpContext();
        context.Request.Headers[CallerResolver.ApiKeyHeaderName] = key.Key;
        return context.Request;
    }

    [Fact]
    public async Task IngestAsync_EveryLogLine_IsFreeOfIdentifiers()
    {
        var logs = new FakeLogCollector();
        await using var services = TestApp.Build(_harness.Storage, _harness.Time, configure: s =>
            s.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(logs))));
        var blob = await _harness.Storage.UploadAsync($"{IngestionHarness.ProviderId}/logs.csv", Encoding.UTF8.GetBytes(
            "Id,First,Last,DOB,Zip,Address\nSECRET-ID-1,Zacharias,Quintanilla,2015-03-02,12345,742 Evergreen Ter\n"
            + "SECRET-ID-2,Yolanda,Quintanilla,bad-date,99999,19 Wisteria Lane Apt 3\n"));

        var manifest = await services.GetRequiredService<IngestionService>().IngestAsync(blob);

        // The unreadable birth date leaves the second row incomplete (kept, noted in the rejects file, never in a log).
        Assert.Equal((UploadStatus.Completed, 1), (manifest.Status, manifest.RowsIncompleteIdentity));
        var lines = logs.GetSnapshot().Select(r => r.Message + " " + string.Join(" ", r.StructuredState?.Select(s => s.Value) ?? [])).ToList();
        Assert.NotEmpty(lines);
        foreach (var secret in new[] { "SECRET-ID", "Zacharias", "Yolanda", "Quintanilla", "2015-03-02", "bad-date", "Evergreen", "EVERGREENTERRACE", "Wisteria" })
        {
            Assert.DoesNotContain(lines, line => line.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }
    }
}

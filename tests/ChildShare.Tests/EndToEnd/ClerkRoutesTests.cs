using System.Text;
using System.Text.Json;
using ChildShare.Core.Audit;
using ChildShare.Functions.Hosting;
using ChildShare.Functions.Http;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.EndToEnd;

/// <summary>The provider clerk's routes, the OpenAPI document and the health probe, over the wire.</summary>
[Collection(ServedAppCollection.Name)]
public sealed class ClerkRoutesTests(ServedApp app)
{
    [Fact]
    public async Task ListUploads_Owner_OwnUploadsOnlyAsManifestsWithStatusNames()
    {
        var response = await app.GetAsync("/api/uploads", app.Key("district"));

        Assert.Equal((200, "application/json"), (response.Status, response.MediaType));
        var uploads = response.Json.GetProperty("value").EnumerateArray().ToList();
        Assert.Contains(uploads, u => u.GetProperty("uploadId").GetString() == app.DistrictUpload && u.GetProperty("status").GetString() == "CompletedWithRejections");
        Assert.All(uploads, u => Assert.Equal("district", u.GetProperty("providerId").GetString()));
        WireShapeTests.AssertEnumsAreNames(response.Json);
    }

    [Fact]
    public async Task ListUploads_AdminNamingAProvider_ItsUploads()
    {
        var response = await app.GetAsync("/api/uploads?provider=clinic", app.Key("ops"));

        Assert.Equal(200, response.Status);
        Assert.Contains(response.Json.GetProperty("value").EnumerateArray(), u => u.GetProperty("uploadId").GetString() == app.ClinicUpload);
    }

    [Fact]
    public async Task ListUploads_BadPaging_400Problem()
    {
        var response = await app.GetAsync("/api/uploads?$top=0", app.Key("district"));

        Assert.Equal((400, "application/problem+json"), (response.Status, response.MediaType));
    }

    [Fact]
    public async Task GetUploadRejects_Owner_CsvOfLineFieldReasonWithoutValues()
    {
        var response = await app.GetAsync($"/api/uploads/{app.DistrictUpload}/rejects", app.Key("district"));

        Assert.Equal((200, "text/csv"), (response.Status, response.MediaType));
        var lines = response.Body.Trim().Split('\n');
        Assert.True(lines.Length >= 2, response.Body);
        Assert.DoesNotContain("not-a-date", response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("D999", response.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetUploadRejects_UploadWithoutRejects_404Problem()
    {
        var response = await app.GetAsync($"/api/uploads/{app.ClinicUpload}/rejects", app.Key("clinic"));

        Assert.Equal((404, "application/problem+json"), (response.Status, response.MediaType));
    }

    [Fact]
    public async Task ClerkRoutes_Read_AuditedAsTheCaller()
    {
        await app.GetAsync($"/api/uploads/{app.DistrictUpload}/rejects", app.Key("district"));
        await app.GetAsync("/api/uploads", app.Key("district"));

        var entries = await app.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10");
        Assert.Contains(entries, e => e.GetString("Event") == AuditEvents.UploadRejectsRead && e.GetString("OrganizationId") == "district" && e.GetString("Outcome") == "Succeeded");
        Assert.Contains(entries, e => e.GetString("Event") == AuditEvents.UploadsListed && e.GetString("OrganizationId") == "district" && e.GetString("Outcome") == "Succeeded");
    }

    [Fact]
    public async Task OpenApiDocument_Anonymous_ListsEveryRouteAndMethodOfTheRouteTable()
    {
        var response = await app.GetAsync("/api/openapi.json", null);

        Assert.Equal((200, "application/json"), (response.Status, response.MediaType));
        var document = response.Json;
        Assert.StartsWith("3.1", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = document.GetProperty("paths");
        foreach (var function in FunctionCatalog.Http)
        {
            Assert.True(paths.TryGetProperty(GetOpenApiDocument.OpenApiPath(function.Path), out var item), $"{function.Path} is not in the document");
            foreach (var method in function.Methods)
            {
                var operation = item.GetProperty(method.ToLowerInvariant());
                Assert.Equal(function.Name, operation.GetProperty("operationId").GetString());
                Assert.Equal(!FunctionCatalog.NeedsNoCaller(function.Name), operation.TryGetProperty("security", out _));
            }
        }

        Assert.Equal(FunctionCatalog.Http.Sum(f => f.Methods.Count), paths.EnumerateObject().Sum(p => p.Value.EnumerateObject().Count(o => o.Name is "get" or "post" or "put" or "delete" or "patch")));
        Assert.Equal(app.BaseAddress.ToString().TrimEnd('/'), document.GetProperty("servers")[0].GetProperty("url").GetString());
    }

    [Fact]
    public async Task Health_Anonymous_ReachableAndNothingElse()
    {
        var response = await app.GetAsync("/api/health", null);

        Assert.Equal((200, "application/json"), (response.Status, response.MediaType));
        Assert.Equal(["status", "storage", "key"], response.Json.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("healthy", response.Json.GetProperty("status").GetString());
        Assert.Equal("reachable", response.Json.GetProperty("storage").GetString());
        Assert.Equal("reachable", response.Json.GetProperty("key").GetString());
    }

    [Fact]
    public async Task Poller_NewUploadBlob_IngestedAndListedNewestFirst()
    {
        // What Event Grid does in Azure: a blob dropped into uploads/ is ingested by the blob trigger's function.
        var csv = "Id,First,Last,DOB,Sex,Grade,Program,Type,Start,End\nC100,Rosalind,Vanterpool,2014-03-03,F,4,Checkup,Health,2026-10-02,2026-10-02\n";
        app.Identifiers.AddRange(["C100", "Rosalind", "2014-03-03"]);
        await app.Storage.UploadAsync("clinic/october.csv", Encoding.UTF8.GetBytes(csv));

        var newest = await WaitForAsync(async () =>
        {
            var listed = await app.GetAsync("/api/uploads", app.Key("clinic"));
            var first = listed.Json.GetProperty("value")[0];
            return first.GetProperty("blobName").GetString() == "clinic/october.csv" && first.GetProperty("status").GetString() != "Processing" ? first : (JsonElement?)null;
        });

        Assert.Equal("Completed", newest.GetProperty("status").GetString());
        Assert.Equal(1, newest.GetProperty("rowsAccepted").GetInt32());
    }

    [Fact]
    public async Task Timer_ScheduleComes_RunsTheExpiryJob()
    {
        // The app's clock is fake: moving it past the next hour is the schedule coming due (Consent__ExpirySchedule, hourly).
        app.Time.Advance(TimeSpan.FromHours(1));

        var run = await WaitForAsync(async () => (await app.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10"))
            .FirstOrDefault(e => e.GetString("Event") == AuditEvents.ConsentExpiryRun));

        Assert.Equal("timer", run.GetString("Actor"));
    }

    /// <summary>Waits for something the host does in the background (at most two minutes), then returns it.</summary>
    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    private static async Task<JsonElement> WaitForAsync(Func<Task<JsonElement?>> probe)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            await Task.Delay(100, timeout.Token);
        }
    }
}

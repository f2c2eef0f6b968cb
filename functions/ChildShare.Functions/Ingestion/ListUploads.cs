using System.Text.Json;
using System.Text.Json.Serialization;
using ChildShare.Core.Activity;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Ingestion;

/// <summary>
/// <c>GET /api/uploads[?provider=&amp;$top=&amp;$skip=]</c>: the caller's own uploads (an Admin may name
/// a provider), newest first, as manifests (<c>value</c>, <c>@odata.nextLink</c> while more remain).
/// Audited before anything is returned.
/// </summary>
public sealed class ListUploads(UploadHistoryService uploads)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    [Function(nameof(ListUploads))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "uploads")] HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = HttpCallers.QueryParameters(request);
        var result = await uploads.ListAsync(HttpPipeline.CallerOf(request), query.GetValueOrDefault("provider"), query.GetValueOrDefault("$top"), query.GetValueOrDefault("$skip"),
            cancellationToken);

        if (result.Status != UploadHistoryStatus.Ok)
        {
            return UploadProblems.Of(result);
        }

        var page = result.Page!;
        var body = new Dictionary<string, object?> { ["value"] = page.Value };
        if (page.HasMore)
        {
            body["@odata.nextLink"] = HttpCallers.NextLink(request, page.Skip + page.Value.Count);
        }

        return new ContentResult { Content = JsonSerializer.Serialize(body, Json), ContentType = "application/json; charset=utf-8", StatusCode = StatusCodes.Status200OK };
    }
}

/// <summary>The problems of the clerk routes.</summary>
internal static class UploadProblems
{
    public static IActionResult Of(UploadHistoryResult result) => result.Status switch
    {
        UploadHistoryStatus.BadRequest => Problems.BadRequest(result.Error ?? ""),
        UploadHistoryStatus.Forbidden => Problems.Forbidden(result.Error ?? ""),
        _ => Problems.NotFound(result.Error ?? ""),
    };
}

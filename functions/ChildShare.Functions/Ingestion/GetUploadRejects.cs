using ChildShare.Core.Activity;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Ingestion;

/// <summary>
/// <c>GET /api/uploads/{id}/rejects</c>: the rejected rows of one of the caller's own uploads as CSV
/// (line, field, reason; never a value). Audited before anything is returned.
/// </summary>
public sealed class GetUploadRejects(UploadHistoryService uploads)
{
    [Function(nameof(GetUploadRejects))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "uploads/{id}/rejects")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var result = await uploads.RejectsAsync(HttpPipeline.CallerOf(request), id, cancellationToken);

        return result.Status == UploadHistoryStatus.Ok
            ? new ContentResult { Content = result.RejectsCsv, ContentType = "text/csv; charset=utf-8", StatusCode = StatusCodes.Status200OK }
            : UploadProblems.Of(result);
    }
}

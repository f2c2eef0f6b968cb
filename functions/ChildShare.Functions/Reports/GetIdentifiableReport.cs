using System.Text.Json;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Reports;

/// <summary>
/// <c>POST /api/reports/identifiable</c> with <c>{"child": "&lt;your local id&gt;", "categories": [...], "from", "to"}</c>:
/// the consented records of the sources for a child the caller serves. A POST so the local id is
/// never in a URL. A refusal is a 403 problem with <c>reason</c> (no-consent, revoked, expired,
/// not-yet-effective, category-not-covered, no-agreement) and no identifying data.
/// </summary>
public sealed class GetIdentifiableReport(IdentifiableReportService reports)
{
    [Function(nameof(GetIdentifiableReport))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "reports/identifiable")] HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var caller = HttpPipeline.CallerOf(request);
        return Render(await reports.RunAsync(caller, await JsonBodies.ReadAsync<IdentifiableReportRequest>(request, cancellationToken), cancellationToken));
    }

    private static IActionResult Render(IdentifiableReportResult result) =>
        result.Status switch
        {
            IdentifiableReportStatus.BadRequest => Problems.BadRequest(string.Join(" ", result.Errors), new Dictionary<string, object?> { ["errors"] = result.Errors }),
            IdentifiableReportStatus.NotFound => Problems.NotFound("Your organization has no record of this child."),
            IdentifiableReportStatus.Forbidden => Problems.Forbidden(
                "No consent in force, authorized by the source, and data sharing agreement permit releasing this child's records to your organization.",
                new Dictionary<string, object?>
                {
                    ["reason"] = result.Reason,
                    ["denials"] = result.Denials.Select(d => new { providerId = d.ProviderId.Length > 0 ? d.ProviderId : null, reason = d.Reason, detail = d.Detail }),
                }),
            _ => new ContentResult
            {
                Content = JsonSerializer.Serialize(result.Report, JsonBodies.Options),
                ContentType = "application/json; charset=utf-8",
                StatusCode = StatusCodes.Status200OK,
            },
        };
}

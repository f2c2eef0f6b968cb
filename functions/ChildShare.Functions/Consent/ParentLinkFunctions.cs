using System.Text.Json;
using ChildShare.Core.Sharing.Identifiable.Parent;
using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Consent;

/// <summary>
/// The organizations' side of parent links: <c>POST /api/consents/{id}/links</c> issues a new link (201, with
/// the URL and a QR code PNG in base64), <c>POST /api/consents/{id}/links/{linkId}/revoke</c> revokes one (only
/// the issuing organization, or an Admin). Recording and renewing a consent return a link too.
/// </summary>
public sealed class ParentLinkFunctions(ParentLinkService links)
{
    [Function("IssueParentLink")]
    public async Task<IActionResult> IssueAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "consents/{id}/links")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        await links.IssueAsync(HttpPipeline.CallerOf(request), id, cancellationToken) is { } issued
            ? Json(StatusCodes.Status201Created, issued)
            : Problems.NotFound("No consent with this id is visible to your organization.");

    [Function("RevokeParentLink")]
    public async Task<IActionResult> RevokeAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "consents/{id}/links/{linkId}/revoke")] HttpRequest request, string id, string linkId,
        CancellationToken cancellationToken) =>
        await links.RevokeAsync(HttpPipeline.CallerOf(request), id, linkId, cancellationToken) is { } revoked
            ? Json(StatusCodes.Status200OK, revoked)
            : Problems.NotFound("This consent has no link with this id issued by your organization.");

    private static ContentResult Json(int status, object body) =>
        new() { Content = JsonSerializer.Serialize(body, JsonBodies.Options), ContentType = "application/json; charset=utf-8", StatusCode = status };
}

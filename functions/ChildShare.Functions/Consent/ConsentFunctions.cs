using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Sharing.Identifiable.Parent;
using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Consent;

/// <summary>The revocation body.</summary>
public sealed record RevocationRequest(string Reason);

/// <summary>The search body: the child by a local id (the caller's own unless an Admin names the provider).</summary>
public sealed record ConsentSearchRequest(string Child, string? Provider = null);

/// <summary>
/// The consent API (see Core/Sharing/Identifiable/CONSENT.md). Anonymous at the Functions level; the HTTP pipeline
/// resolves the caller before any of these runs (401 without one). A child's local id only ever travels in a POST
/// body, never in a URL, so it stays out of access logs, proxies and browser history.
/// Responses carry the consent's ETag; a renewal honours If-Match. Every read and every change is
/// audited by the services before anything is released or changed (503 when the audit is down).
/// </summary>
public sealed class ConsentFunctions(ConsentService consents, OwnerAuthorizationService authorizations, ParentLinkService links)
{
    public static JsonSerializerOptions Json => JsonBodies.Options;

    [Function("RecordConsent")]
    public async Task<IActionResult> RecordAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "consents")] HttpRequest request, CancellationToken cancellationToken)
    {
        var caller = HttpPipeline.CallerOf(request);
        var recorded = await consents.RecordAsync(caller, await JsonBodies.ReadAsync<ConsentDraft>(request, cancellationToken), cancellationToken);
        return Respond(request, StatusCodes.Status201Created, recorded, $"/api/consents/{recorded.Consent.Id}",
            await ParentLinkAsync(caller, recorded.Consent.Id, cancellationToken));
    }

    [Function("GetConsent")]
    public async Task<IActionResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "consents/{id:length(32)}")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        await consents.GetAsync(ConsentActor.Of(HttpPipeline.CallerOf(request)), id, cancellationToken) is { } found
            ? Respond(request, StatusCodes.Status200OK, found)
            : Problems.NotFound("No consent with this id is visible to your organization.");

    [Function("RevokeConsent")]
    public async Task<IActionResult> RevokeAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "consents/{id}/revoke")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var caller = HttpPipeline.CallerOf(request);
        var body = await JsonBodies.ReadAsync<RevocationRequest>(request, cancellationToken);
        return await consents.RevokeAsync(ConsentActor.Of(caller), id, body.Reason ?? "", cancellationToken) is { } revoked
            ? Respond(request, StatusCodes.Status200OK, revoked)
            : Problems.NotFound("No consent has this id.");
    }

    [Function("RenewConsent")]
    public async Task<IActionResult> RenewAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "consents/{id}/renew")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var caller = HttpPipeline.CallerOf(request);
        var body = await JsonBodies.ReadAsync<ConsentRenewal>(request, cancellationToken);
        var ifMatch = request.Headers.IfMatch.ToString();
        return await consents.RenewAsync(caller, id, body, string.IsNullOrEmpty(ifMatch) ? null : ifMatch, cancellationToken) is { } renewed
            ? Respond(request, StatusCodes.Status201Created, renewed, $"/api/consents/{renewed.Consent.Id}", await ParentLinkAsync(caller, renewed.Consent.Id, cancellationToken))
            : Problems.NotFound("No consent has this id.");
    }

    /// <summary>
    /// <c>GET /api/consents/{id}/authorizations</c>: for a source the consent names, the consent and the
    /// source's own records of its child, to check before deciding. Nothing of another organization's.
    /// </summary>
    [Function("ReviewConsentAuthorization")]
    public async Task<IActionResult> ReviewAuthorizationAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "consents/{id}/authorizations")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        await authorizations.ReviewAsync(HttpPipeline.CallerOf(request), id, cancellationToken) is { } review
            ? Ok(review)
            : Problems.NotFound("No consent with this id names your organization as a source.");

    /// <summary><c>POST /api/consents/{id}/authorizations</c> with <c>{"decision": "approve" | "decline" | "withdraw", "note"?}</c>: a source's decision for its own data.</summary>
    [Function("DecideConsentAuthorization")]
    public async Task<IActionResult> DecideAuthorizationAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "consents/{id}/authorizations")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var caller = HttpPipeline.CallerOf(request);
        var body = await JsonBodies.ReadAsync<OwnerAuthorizationRequest>(request, cancellationToken);
        return await authorizations.DecideAsync(caller, id, body, cancellationToken) is { } decided
            ? Respond(request, StatusCodes.Status200OK, decided)
            : Problems.NotFound("No consent with this id is visible to your organization.");
    }

    /// <summary><c>GET /api/consents/awaiting-authorization</c>: the active consents naming the caller as a source that it has not answered.</summary>
    [Function("ListConsentsAwaitingAuthorization")]
    public async Task<IActionResult> AwaitingAuthorizationAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "consents/awaiting-authorization")] HttpRequest request, CancellationToken cancellationToken) =>
        Ok(new { value = (await authorizations.AwaitingAsync(HttpPipeline.CallerOf(request), cancellationToken)).Select(ConsentView.From) });

    [Function("SearchConsents")]
    public async Task<IActionResult> SearchAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "consents/search")] HttpRequest request, CancellationToken cancellationToken)
    {
        var caller = HttpPipeline.CallerOf(request);
        var body = await JsonBodies.ReadAsync<ConsentSearchRequest>(request, cancellationToken);
        if (string.IsNullOrWhiteSpace(body.Child))
        {
            return Problems.BadRequest("child is the local id of the child (yours, or the named provider's for an Admin).");
        }

        return await consents.ForChildAsync(caller, body.Provider, body.Child, cancellationToken) is { } found
            ? Ok(new { value = found.Select(ConsentView.From) })
            : Problems.NotFound("Your organization has no record of this child.");
    }

    [Function("ListExpiringConsents")]
    public async Task<IActionResult> ExpiringAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "consents/expiring")] HttpRequest request, CancellationToken cancellationToken)
    {
        var caller = HttpPipeline.CallerOf(request);
        int? days = null;
        if (request.Query["days"].ToString() is { Length: > 0 } text)
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed is < 1 or > 3650)
            {
                return Problems.BadRequest("days is a whole number from 1 to 3650.");
            }

            days = parsed;
        }

        var organization = request.Query["organization"].ToString();
        return Ok(new { value = (await consents.ListExpiringAsync(ConsentActor.Of(caller), organization, days, cancellationToken)).Select(ConsentView.From) });
    }

    private static ContentResult Ok(object body) =>
        new() { Content = JsonSerializer.Serialize(body, Json), ContentType = "application/json; charset=utf-8", StatusCode = StatusCodes.Status200OK };

    /// <summary>
    /// A parent link for a consent just recorded or renewed. The consent is recorded either way: when the link
    /// cannot be issued (its audit entry could not be written), the answer says so and the organization asks
    /// for one with <c>POST /api/consents/{id}/links</c>.
    /// </summary>
    private async Task<JsonNode> ParentLinkAsync(Caller caller, string consentId, CancellationToken cancellationToken)
    {
        try
        {
            return JsonSerializer.SerializeToNode(await links.IssueAsync(caller, consentId, cancellationToken), Json)!;
        }
        catch (AuditUnavailableException)
        {
            return new JsonObject { ["error"] = "No parent link could be issued now; ask for one with POST /api/consents/{id}/links." };
        }
    }

    private static ContentResult Respond(HttpRequest request, int status, VersionedConsent consent, string? location = null, JsonNode? parentLink = null)
    {
        request.HttpContext.Response.Headers.ETag = consent.ETag;
        if (location is not null)
        {
            request.HttpContext.Response.Headers.Location = location;
        }

        var body = JsonSerializer.SerializeToNode(ConsentView.From(consent), Json)!.AsObject();
        if (parentLink is not null)
        {
            body["parentLink"] = parentLink;
        }

        return new ContentResult { Content = body.ToJsonString(Json), ContentType = "application/json; charset=utf-8", StatusCode = status };
    }
}

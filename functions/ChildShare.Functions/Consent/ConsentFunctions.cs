using System.Globalization;
using System.Text.Json;
using ChildShare.Core.Callers;
using ChildShare.Core.Consent;
using ChildShare.Core.Reporting;
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
/// The consent API (see Core/Consent/CONSENT.md). Anonymous at the Functions level; every function
/// resolves the caller first (401 without one). A child's local id only ever travels in a POST
/// body, never in a URL, so it stays out of access logs, proxies and browser history.
/// Responses carry the consent's ETag; a renewal honours If-Match.
/// </summary>
public sealed class ConsentFunctions(CallerResolver callers, ConsentService consents, ConsentStore store)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Function("RecordConsent")]
    public async Task<IActionResult> RecordAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "consents")] HttpRequest request, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await HttpCallers.ResolveAsync(callers, request, cancellationToken);
        if (caller is null)
        {
            return refusal!;
        }

        var (draft, invalid) = await ReadAsync<ConsentDraft>(request, cancellationToken);
        return draft is null ? invalid! : await ChangeAsync(async () =>
        {
            var recorded = await consents.RecordAsync(caller, draft, cancellationToken);
            return Respond(request, StatusCodes.Status201Created, recorded, $"/api/consents/{recorded.Consent.Id}");
        });
    }

    [Function("GetConsent")]
    public async Task<IActionResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "consents/{id:length(32)}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await HttpCallers.ResolveAsync(callers, request, cancellationToken);
        if (caller is null)
        {
            return refusal!;
        }

        var found = await store.GetAsync(id, cancellationToken);
        return found is null || !(caller.IsAdmin || found.Consent.IsParty(caller.OrganizationId))
            ? Problems.NotFound("No consent with this id is visible to your organization.")
            : Respond(request, StatusCodes.Status200OK, found);
    }

    [Function("RevokeConsent")]
    public async Task<IActionResult> RevokeAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "consents/{id}/revoke")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await HttpCallers.ResolveAsync(callers, request, cancellationToken);
        if (caller is null)
        {
            return refusal!;
        }

        var (body, invalid) = await ReadAsync<RevocationRequest>(request, cancellationToken);
        return body is null ? invalid! : await ChangeAsync(async () =>
            await consents.RevokeAsync(ConsentActor.Of(caller), id, body.Reason ?? "", cancellationToken) is { } revoked
                ? Respond(request, StatusCodes.Status200OK, revoked)
                : Problems.NotFound("No consent has this id."));
    }

    [Function("RenewConsent")]
    public async Task<IActionResult> RenewAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "consents/{id}/renew")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await HttpCallers.ResolveAsync(callers, request, cancellationToken);
        if (caller is null)
        {
            return refusal!;
        }

        var (body, invalid) = await ReadAsync<ConsentRenewal>(request, cancellationToken);
        var ifMatch = request.Headers.IfMatch.ToString();
        return body is null ? invalid! : await ChangeAsync(async () =>
            await consents.RenewAsync(caller, id, body, string.IsNullOrEmpty(ifMatch) ? null : ifMatch, cancellationToken) is { } renewed
                ? Respond(request, StatusCodes.Status201Created, renewed, $"/api/consents/{renewed.Consent.Id}")
                : Problems.NotFound("No consent has this id."));
    }

    [Function("SearchConsents")]
    public async Task<IActionResult> SearchAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "consents/search")] HttpRequest request, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await HttpCallers.ResolveAsync(callers, request, cancellationToken);
        if (caller is null)
        {
            return refusal!;
        }

        var (body, invalid) = await ReadAsync<ConsentSearchRequest>(request, cancellationToken);
        if (body is null)
        {
            return invalid!;
        }

        if (string.IsNullOrWhiteSpace(body.Child))
        {
            return Problems.BadRequest("child is the local id of the child (yours, or the named provider's for an Admin).");
        }

        return await ChangeAsync(async () => await consents.ForChildAsync(caller, body.Provider, body.Child, cancellationToken) is { } found
            ? Ok(new { value = found.Select(ConsentView.From) })
            : Problems.NotFound("Your organization has no record of this child."));
    }

    [Function("ListExpiringConsents")]
    public async Task<IActionResult> ExpiringAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "consents/expiring")] HttpRequest request, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await HttpCallers.ResolveAsync(callers, request, cancellationToken);
        if (caller is null)
        {
            return refusal!;
        }

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
        if (organization.Length > 0 && organization != caller.OrganizationId && !caller.IsAdmin)
        {
            return Problems.Forbidden("Only an Admin may list another organization's consents.");
        }

        var found = await consents.ExpiringAsync(organization.Length > 0 ? organization : caller.OrganizationId, days, cancellationToken);
        return Ok(new { value = found.Select(ConsentView.From) });
    }

    private static ContentResult Ok(object body) =>
        new() { Content = JsonSerializer.Serialize(body, Json), ContentType = "application/json; charset=utf-8", StatusCode = StatusCodes.Status200OK };

    private static ContentResult Respond(HttpRequest request, int status, VersionedConsent consent, string? location = null)
    {
        request.HttpContext.Response.Headers.ETag = consent.ETag;
        if (location is not null)
        {
            request.HttpContext.Response.Headers.Location = location;
        }

        return new ContentResult { Content = JsonSerializer.Serialize(ConsentView.From(consent), Json), ContentType = "application/json; charset=utf-8", StatusCode = status };
    }

    internal static async Task<(T? Value, IActionResult? Invalid)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, Json, cancellationToken);
            return value is null ? (null, Problems.BadRequest("The request body is empty.")) : (value, null);
        }
        catch (JsonException)
        {
            // The parser's message can quote the body, which may hold a child's local id: it is not echoed.
            return (null, Problems.BadRequest($"The request body is not valid JSON for {typeof(T).Name}."));
        }
    }

    private static async Task<IActionResult> ChangeAsync(Func<Task<IActionResult>> change)
    {
        try
        {
            return await change();
        }
        catch (ConsentValidationException ex)
        {
            return Problems.BadRequest(ex.Message, new Dictionary<string, object?> { ["errors"] = ex.Errors });
        }
        catch (ConsentForbiddenException ex)
        {
            return Problems.Forbidden(ex.Message);
        }
        catch (ConsentConflictException ex)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "Conflict", ex.Message);
        }
        catch (ConsentPreconditionException ex)
        {
            return Problems.Create(StatusCodes.Status412PreconditionFailed, "Precondition failed", ex.Message);
        }
        catch (AuditUnavailableException ex)
        {
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "Audit unavailable", ex.Message);
        }
    }
}

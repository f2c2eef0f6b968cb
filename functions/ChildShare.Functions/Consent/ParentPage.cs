using System.Net;
using ChildShare.Core.Sharing.Identifiable.Parent;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Consent;

/// <summary>
/// The parent's page behind a signed link (CONSENT.md, "The parent's page"): <c>GET /api/parent?link={token}</c>
/// (<c>&amp;step=revoke</c> for the confirmation step, <c>&amp;lang=</c> for the language switch), and the form
/// posts <c>/api/parent/revoke?link=</c> and <c>/api/parent/confirm?link=</c>. The token is in the query, not the
/// path, because the host's request telemetry records paths (<see cref="ParentPageAddress"/>). Anonymous: the signed token is the credential. Every answer is
/// HTML with a strict Content-Security-Policy (no script, only the page's own nonce-tagged style), no
/// framing, no caching and no referrer.
/// </summary>
public sealed class ParentPage(ParentPageService pages)
{
    [Function("ParentPage")]
    public Task<IActionResult> ViewAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "parent")] HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var action = request.Query["step"].ToString() == "revoke" ? ParentPageAction.ConfirmRevoke : ParentPageAction.View;
        return RunAsync(request, action, cancellationToken);
    }

    [Function("ParentPageRevoke")]
    public Task<IActionResult> RevokeAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "parent/revoke")] HttpRequest request, CancellationToken cancellationToken) =>
        RunAsync(request, ParentPageAction.Revoke, cancellationToken);

    [Function("ParentPageConfirm")]
    public Task<IActionResult> ConfirmAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "parent/confirm")] HttpRequest request, CancellationToken cancellationToken) =>
        RunAsync(request, ParentPageAction.Confirm, cancellationToken);

    private async Task<IActionResult> RunAsync(HttpRequest request, ParentPageAction action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var token = request.Query[ParentPageAddress.TokenParameter].ToString();
        string? formToken = null;
        var language = request.Query["lang"].ToString();
        // Only the page's own encoding: multipart bodies would be parsed (and spooled to disk) before the token is checked.
        if (action is ParentPageAction.Revoke or ParentPageAction.Confirm && request.HasFormContentType
            && request.ContentType!.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var form = await request.ReadFormAsync(cancellationToken);
                formToken = form["form"].ToString();
                language = form["lang"].ToString() is { Length: > 0 } chosen ? chosen : language;
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                // A body the form reader refuses (over its limits, cut short) is a post without a form token: a bad form, audited.
            }
        }

        var response = await pages.HandleAsync(new ParentPageRequest
        {
            Token = token,
            Action = action,
            PagePath = request.PathBase + "/" + ParentLinkService.Route,
            Language = language,
            AcceptLanguage = request.Headers.AcceptLanguage.ToString(),
            FormToken = formToken,
            ClientAddress = ClientAddress(request),
            UserAgent = request.Headers.UserAgent.ToString(),
            CrossSite = IsCrossSite(request),
        }, cancellationToken);
        return Render(request.HttpContext.Response, response);
    }

    /// <summary>The response headers of every parent page, and the page (or, after a form post, a 303 back to it).</summary>
    public static IActionResult Render(HttpResponse http, ParentPageResponse response)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(response);
        var headers = http.Headers;
        headers.ContentSecurityPolicy =
            $"default-src 'none'; style-src 'nonce-{response.Nonce}'; img-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers.XFrameOptions = "DENY";
        headers.CacheControl = "no-store";
        headers.Pragma = "no-cache";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        if (response.RetryAfterSeconds is { } retry)
        {
            headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (response.Location is { } location)
        {
            headers.Location = location;
            return new StatusCodeResult(response.Status);
        }

        return new ContentResult { Content = response.Html, ContentType = "text/html; charset=utf-8", StatusCode = response.Status };
    }

    /// <summary>
    /// The client's address for the per-client limit: the last <c>X-Forwarded-For</c> entry (the one the
    /// platform's front end appended; earlier entries are the client's own word), else the connection's peer.
    /// </summary>
    public static string? ClientAddress(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var forwarded = request.Headers["X-Forwarded-For"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (forwarded is not null)
        {
            if (IPEndPoint.TryParse(forwarded, out var endpoint))
            {
                return Client(endpoint.Address);
            }

            return forwarded.Length <= 64 ? forwarded : forwarded[..64];
        }

        return request.HttpContext.Connection.RemoteIpAddress is { } peer ? Client(peer) : null;
    }

    /// <summary>
    /// One client per IPv6 /64: a device picks any address of its network's prefix at will (privacy
    /// extensions), so counting whole addresses would let one client rotate past its limit. An IPv4-mapped
    /// address is its IPv4 address.
    /// </summary>
    private static string Client(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>A form post another site made the browser send: <c>Sec-Fetch-Site</c> says so, or an <c>Origin</c> names another host.</summary>
    public static bool IsCrossSite(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site is "cross-site" or "same-site")
        {
            return true;
        }

        // With Referrer-Policy no-referrer the page's own posts send "Origin: null"; only a real other origin is refused.
        var origin = request.Headers.Origin.ToString();
        return origin.Length > 0 && origin != "null"
            && (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || !string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
    }
}

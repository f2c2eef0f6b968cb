using ChildShare.Core.Organizations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChildShare.Core.Callers;

/// <summary>The credentials a request carries, as the HTTP layer found them.</summary>
public sealed record PresentedCredentials(string? ClientPrincipalHeader, string? ApiKeyHeader, string? ApiKeyQuery);

/// <summary>
/// Attributes a request to an organization: an API key (header <c>X-Api-Key</c> or query
/// parameter <c>api-key</c>, which is what Power Query's <c>ApiKeyName="api-key"</c> sends), or
/// the Easy Auth principal mapped through the <c>principals</c> table. No credential, or one that
/// does not resolve, is a failure: there is no anonymous caller. The principal header is believed
/// only when the setting trusts it AND the platform reports App Service Authentication enabled, since
/// only then can no caller have written it; a header that cannot be read is a failure whose reason
/// never quotes it.
/// </summary>
public partial class CallerResolver(
    ApiKeyStore keys, PrincipalDirectory principals, AppServiceAuthentication platform, IOptions<CallerOptions> options, ILogger<CallerResolver> logger)
{
    public const string ApiKeyHeaderName = "X-Api-Key";
    public const string ApiKeyQueryName = "api-key";

    /// <summary>
    /// The <c>WWW-Authenticate</c> value a 401 carries, or null: a Bearer challenge naming the Entra
    /// authority when Entra ID sign-in is on, so that Power BI (organizational account) knows where to
    /// sign in. API-key callers ignore it.
    /// </summary>
    public virtual string? Challenge =>
        EntraSignInOn && Uri.TryCreate(options.Value.EntraAuthority, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
            ? $"Bearer realm=\"{uri.AbsoluteUri.TrimEnd('/')}\", authorization_uri=\"{uri.AbsoluteUri.TrimEnd('/')}/oauth2/authorize\""
            : null;

    private bool EntraSignInOn => options.Value.TrustClientPrincipalHeader && platform.IsEnabled;

    public virtual async Task<CallerResult> ResolveAsync(PresentedCredentials credentials, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var key = !string.IsNullOrWhiteSpace(credentials.ApiKeyHeader) ? credentials.ApiKeyHeader : credentials.ApiKeyQuery;
        if (!string.IsNullOrWhiteSpace(key))
        {
            return await keys.AuthenticateAsync(key, cancellationToken).ConfigureAwait(false);
        }

        if (!string.IsNullOrWhiteSpace(credentials.ClientPrincipalHeader))
        {
            return await ResolvePrincipalAsync(credentials.ClientPrincipalHeader, cancellationToken).ConfigureAwait(false);
        }

        return CallerResult.Fail($"Authentication is required: sign in with Entra ID, or pass an API key in the {ApiKeyHeaderName} header or the {ApiKeyQueryName} query parameter.");
    }

    private async Task<CallerResult> ResolvePrincipalAsync(string header, CancellationToken cancellationToken)
    {
        if (!options.Value.TrustClientPrincipalHeader)
        {
            return CallerResult.Fail("Entra ID sign-in is not enabled on this deployment; use an API key.");
        }

        if (!platform.IsEnabled)
        {
            // Trusted by the setting, but nothing stops a caller from writing the header: anyone could be anyone.
            LogPrincipalHeaderWithoutPlatform(logger);
            return CallerResult.Fail("Entra ID sign-in is not available: App Service Authentication is not enabled on this app, so the client principal header cannot be trusted; use an API key.");
        }

        if (!ClientPrincipal.TryDecode(header, out var principal, out var problem))
        {
            LogUnreadablePrincipal(logger);
            return CallerResult.Fail(problem);
        }

        var mapping = await principals.FindAsync(principal.TenantId, principal.ObjectId, cancellationToken).ConfigureAwait(false);
        return mapping is null
            ? CallerResult.Fail("The signed-in principal is not mapped to an organization.")
            : CallerResult.Success(new Caller(mapping.OrganizationId, mapping.Role, CallerAuthMethod.EntraId, principal.ObjectId));
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning,
        Message = "A request carried X-MS-CLIENT-PRINCIPAL and Callers:TrustClientPrincipalHeader is true, but App Service Authentication is not enabled (WEBSITE_AUTH_ENABLED); the header was refused. Enable Entra ID through the template's entraClientId parameter, or set the setting to false")]
    private static partial void LogPrincipalHeaderWithoutPlatform(ILogger logger);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "A client principal header from App Service Authentication could not be read; the request was refused")]
    private static partial void LogUnreadablePrincipal(ILogger logger);
}

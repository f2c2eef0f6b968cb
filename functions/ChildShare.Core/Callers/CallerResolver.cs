using Microsoft.Extensions.Options;

namespace ChildShare.Core.Callers;

/// <summary>The credentials a request carries, as the HTTP layer found them.</summary>
public sealed record PresentedCredentials(string? ClientPrincipalHeader, string? ApiKeyHeader, string? ApiKeyQuery);

/// <summary>
/// Attributes a request to an organization: an API key (header <c>X-Api-Key</c> or query
/// parameter <c>api-key</c>, which is what Power Query's <c>ApiKeyName="api-key"</c> sends), or
/// the Easy Auth principal mapped through the <c>principals</c> table. No credential, or one that
/// does not resolve, is a failure: there is no anonymous caller.
/// </summary>
public class CallerResolver(ApiKeyStore keys, PrincipalDirectory principals, IOptions<CallerOptions> options)
{
    public const string ApiKeyHeaderName = "X-Api-Key";
    public const string ApiKeyQueryName = "api-key";

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
            if (!options.Value.TrustClientPrincipalHeader)
            {
                return CallerResult.Fail("Entra ID sign-in is not enabled on this deployment; use an API key.");
            }

            var principal = ClientPrincipal.Decode(credentials.ClientPrincipalHeader);
            if (principal is null)
            {
                return CallerResult.Fail("The client principal could not be read.");
            }

            var mapping = await principals.FindAsync(principal.TenantId, principal.ObjectId, cancellationToken).ConfigureAwait(false);
            return mapping is null
                ? CallerResult.Fail("The signed-in principal is not mapped to an organization.")
                : CallerResult.Success(new Caller(mapping.OrganizationId, mapping.Role, CallerAuthMethod.EntraId, principal.ObjectId));
        }

        return CallerResult.Fail($"Authentication is required: sign in with Entra ID, or pass an API key in the {ApiKeyHeaderName} header or the {ApiKeyQueryName} query parameter.");
    }
}

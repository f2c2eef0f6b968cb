using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChildShare.Core.Callers;

/// <summary>
/// The principal App Service Authentication (Easy Auth) passes in the <c>X-MS-CLIENT-PRINCIPAL</c>
/// header: base64 of <c>{"auth_typ": "aad", "claims": [{"typ": ..., "val": ...}], ...}</c>.
/// Only a Microsoft Entra principal is accepted: <c>auth_typ</c> <c>aad</c>, and exactly one tenant id
/// and one object id, each a GUID (they become the keys of the <c>principals</c> table, so anything
/// else, such as a <c>/</c>, is refused here rather than sent to storage).
/// </summary>
public sealed record ClientPrincipal(string IdentityProvider, string TenantId, string ObjectId)
{
    public const string HeaderName = "X-MS-CLIENT-PRINCIPAL";

    /// <summary>The identity provider name Easy Auth gives Microsoft Entra ID.</summary>
    public const string EntraIdentityProvider = "aad";

    /// <summary>
    /// The longest header read. A principal with a user's groups is a few KiB; the limit keeps a
    /// hostile header from costing more than a glance.
    /// </summary>
    public const int MaxHeaderLength = 32 * 1024;

    private static readonly string[] ObjectIdClaims = ["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"];
    private static readonly string[] TenantIdClaims = ["http://schemas.microsoft.com/identity/claims/tenantid", "tid"];

    /// <summary>Decodes the header; null when <see cref="TryDecode"/> refuses it.</summary>
    public static ClientPrincipal? Decode(string? header) => TryDecode(header, out var principal, out _) ? principal : null;

    /// <summary>
    /// Decodes the header, or says why it cannot be used. The reason never quotes the header: a
    /// caller who sends garbage learns what is wrong with it, and nothing is echoed into a response or a log.
    /// </summary>
    public static bool TryDecode(string? header, [NotNullWhen(true)] out ClientPrincipal? principal, [NotNullWhen(false)] out string? problem)
    {
        principal = null;
        if (string.IsNullOrWhiteSpace(header))
        {
            problem = "The client principal header is empty.";
            return false;
        }

        if (header.Length > MaxHeaderLength)
        {
            problem = "The client principal header is too large.";
            return false;
        }

        Payload? payload;
        try
        {
            var json = Encoding.UTF8.GetString(Convert.FromBase64String(header.Trim()));
            payload = JsonSerializer.Deserialize<Payload>(json);
        }
        catch (FormatException)
        {
            problem = "The client principal header is not base64.";
            return false;
        }
        catch (JsonException)
        {
            problem = "The client principal header is not the JSON App Service Authentication sends.";
            return false;
        }

        if (payload?.Claims is null)
        {
            problem = "The client principal has no claims.";
            return false;
        }

        if (!string.Equals(payload.AuthType, EntraIdentityProvider, StringComparison.OrdinalIgnoreCase))
        {
            problem = "The client principal is not a Microsoft Entra ID principal.";
            return false;
        }

        var tenantId = SingleGuid(payload.Claims, TenantIdClaims);
        var objectId = SingleGuid(payload.Claims, ObjectIdClaims);
        if ((tenantId.Problem ?? objectId.Problem) is { } reason)
        {
            problem = reason;
            return false;
        }

        principal = new ClientPrincipal(EntraIdentityProvider, tenantId.Value!, objectId.Value!);
        problem = null;
        return true;
    }

    /// <summary>Encodes a principal the way Easy Auth does (for tests and local runs).</summary>
    public static string Encode(string tenantId, string objectId, string authType = EntraIdentityProvider) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Payload
        {
            AuthType = authType,
            Claims =
            [
                new Claim { Type = ObjectIdClaims[0], Value = objectId },
                new Claim { Type = TenantIdClaims[0], Value = tenantId },
            ],
        })));

    /// <summary>
    /// The one GUID the claims give for an id (its long or short claim name), lowercase. Several
    /// different values are refused: a principal that names two tenants is not one principal.
    /// </summary>
    private static (string? Value, string? Problem) SingleGuid(List<Claim?> claims, string[] types)
    {
        var name = types[1];
        var values = claims
            .Where(c => c?.Type is not null && types.Contains(c.Type, StringComparer.OrdinalIgnoreCase))
            .Select(c => c!.Value)
            .ToList();
        if (values.Count == 0 || values.All(string.IsNullOrWhiteSpace))
        {
            return (null, $"The client principal has no {name} claim.");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            if (!Guid.TryParseExact(value?.Trim(), "D", out var id))
            {
                return (null, $"The client principal's {name} claim is not a GUID.");
            }

            ids.Add(id.ToString("D"));
        }

        return ids.Count == 1 ? (ids.Single(), null) : (null, $"The client principal has more than one {name}.");
    }

    private sealed class Payload
    {
        [JsonPropertyName("auth_typ")]
        public string? AuthType { get; set; }

        [JsonPropertyName("claims")]
        public List<Claim?>? Claims { get; set; }
    }

    private sealed class Claim
    {
        [JsonPropertyName("typ")]
        public string? Type { get; set; }

        [JsonPropertyName("val")]
        public string? Value { get; set; }
    }
}

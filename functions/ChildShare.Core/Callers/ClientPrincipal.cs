using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChildShare.Core.Callers;

/// <summary>
/// The principal App Service Authentication (Easy Auth) passes in the <c>X-MS-CLIENT-PRINCIPAL</c>
/// header: base64 of <c>{"auth_typ": ..., "claims": [{"typ": ..., "val": ...}], ...}</c>.
/// </summary>
public sealed record ClientPrincipal(string IdentityProvider, string TenantId, string ObjectId)
{
    public const string HeaderName = "X-MS-CLIENT-PRINCIPAL";

    private static readonly string[] ObjectIdClaims = ["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"];
    private static readonly string[] TenantIdClaims = ["http://schemas.microsoft.com/identity/claims/tenantid", "tid"];

    /// <summary>Decodes the header; null when it is missing, not base64 JSON, or lacks the object and tenant ids.</summary>
    public static ClientPrincipal? Decode(string? header)
    {
        if (string.IsNullOrWhiteSpace(header) || header.Length > 64 * 1024)
        {
            return null;
        }

        try
        {
            var json = Encoding.UTF8.GetString(Convert.FromBase64String(header.Trim()));
            var payload = JsonSerializer.Deserialize<Payload>(json);
            if (payload?.Claims is null)
            {
                return null;
            }

            string? Find(string[] types) => payload.Claims.FirstOrDefault(c => c.Type is not null && types.Contains(c.Type, StringComparer.OrdinalIgnoreCase))?.Value;
            var objectId = Find(ObjectIdClaims);
            var tenantId = Find(TenantIdClaims);
            return string.IsNullOrWhiteSpace(objectId) || string.IsNullOrWhiteSpace(tenantId)
                ? null
                : new ClientPrincipal(payload.AuthType ?? "", tenantId.Trim().ToLowerInvariant(), objectId.Trim().ToLowerInvariant());
        }
        catch (FormatException)
        {
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Encodes a principal the way Easy Auth does (for tests and local runs).</summary>
    public static string Encode(string tenantId, string objectId, string authType = "aad") =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Payload
        {
            AuthType = authType,
            Claims =
            [
                new Claim { Type = ObjectIdClaims[0], Value = objectId },
                new Claim { Type = TenantIdClaims[0], Value = tenantId },
            ],
        })));

    private sealed class Payload
    {
        [JsonPropertyName("auth_typ")]
        public string? AuthType { get; set; }

        [JsonPropertyName("claims")]
        public List<Claim>? Claims { get; set; }
    }

    private sealed class Claim
    {
        [JsonPropertyName("typ")]
        public string? Type { get; set; }

        [JsonPropertyName("val")]
        public string? Value { get; set; }
    }
}

using System.Text;
using ChildShare.Core.Callers;
using FsCheck.Xunit;

namespace ChildShare.Tests.Callers;

/// <summary>
/// <see cref="ClientPrincipal.TryDecode"/> over hostile input: every malformed principal is refused
/// with a reason that quotes nothing of it, nothing throws, and a principal comes out only with a
/// GUID tenant id and object id.
/// </summary>
public sealed class ClientPrincipalTests
{
    private const string Tenant = "11111111-2222-3333-4444-555555555555";
    private const string ObjectId = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    private const string TenantClaim = "http://schemas.microsoft.com/identity/claims/tenantid";
    private const string ObjectIdClaim = "http://schemas.microsoft.com/identity/claims/objectidentifier";

    private static string Base64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json));

    private static string Principal(string claims, string authType = "aad") => Base64($$"""{"auth_typ":"{{authType}}","claims":[{{claims}}]}""");

    private static string Claim(string type, string value) => $$"""{"typ":"{{type}}","val":"{{value}}"}""";

    private static string Ids(string tenant, string objectId) => Claim(TenantClaim, tenant) + "," + Claim(ObjectIdClaim, objectId);

    [Fact]
    public void TryDecode_EasyAuthHeader_ReadsLowercaseTenantAndObjectId()
    {
        Assert.True(ClientPrincipal.TryDecode(ClientPrincipal.Encode(Tenant.ToUpperInvariant(), ObjectId.ToUpperInvariant()), out var principal, out _));

        Assert.Equal(new ClientPrincipal("aad", Tenant, ObjectId), principal);
    }

    [Fact]
    public void TryDecode_ShortAndLongClaimNamesAgree_Accepted()
    {
        var header = Principal(Ids(Tenant, ObjectId) + "," + Claim("tid", Tenant.ToUpperInvariant()) + "," + Claim("oid", ObjectId));

        Assert.True(ClientPrincipal.TryDecode(header, out var principal, out _));
        Assert.Equal(Tenant, principal.TenantId);
    }

    public static TheoryData<string, string, string> Malformed => new()
    {
        // header, what the reason says, a fragment of the input that must not be echoed
        { "not base64 at all!%%", "not base64", "%%" },
        { Base64("{\"auth_typ\":\"aad\",\"claims\":[{\"typ\":\"tid\""), "not the JSON", "auth_typ" },
        { Base64("[1,2,3]"), "not the JSON", "[1,2,3]" },
        { Base64("null"), "no claims", "null" },
        { Base64("{\"auth_typ\":\"aad\"}"), "no claims", "auth_typ" },
        { Base64("{\"auth_typ\":\"aad\",\"claims\":\"many\"}"), "not the JSON", "many" },
        { Base64("{\"auth_typ\":\"aad\",\"claims\":[null,null]}"), "no tid claim", "null" },
        { Base64("{\"auth_typ\":\"aad\",\"claims\":[{\"typ\":7,\"val\":8}]}"), "not the JSON", "typ" },
        { Principal(Claim(ObjectIdClaim, ObjectId)), "no tid claim", ObjectId },
        { Principal(Claim(TenantClaim, Tenant)), "no oid claim", Tenant },
        { Principal(Ids("tenant/../../principals", ObjectId)), "tid claim is not a GUID", "principals" },
        { Principal(Ids(Tenant + "/x", ObjectId)), "tid claim is not a GUID", "/x" },
        { Principal(Ids(Tenant, ObjectId + "'")), "oid claim is not a GUID", "eeee'" },
        { Principal(Ids(Tenant, "admin")), "oid claim is not a GUID", "admin" },
        { Principal(Ids("{" + Tenant + "}", ObjectId)), "tid claim is not a GUID", "{" },
        { Principal(Ids(Tenant.Replace("-", "", StringComparison.Ordinal), ObjectId)), "tid claim is not a GUID", "11111111222233334444" },
        { Principal(Ids(Tenant, ObjectId) + "," + Claim("tid", "99999999-2222-3333-4444-555555555555")), "more than one tid", "99999999" },
        { Principal(Ids(Tenant, ObjectId), authType: "github"), "not a Microsoft Entra ID principal", "github" },
        { Principal(Ids(Tenant, ObjectId), authType: ""), "not a Microsoft Entra ID principal", "auth_typ" },
        { Base64(new string('[', 10_000) + new string(']', 10_000)), "not the JSON", "[[" },
        { new string('A', ClientPrincipal.MaxHeaderLength + 1), "too large", "AAAA" },
        { "   ", "empty", "   " },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void TryDecode_MalformedPrincipal_RefusedWithAReasonThatEchoesNothing(string header, string reason, string fragment)
    {
        Assert.False(ClientPrincipal.TryDecode(header, out var principal, out var problem));

        Assert.Null(principal);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.DoesNotContain(fragment, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryDecode_HugeHeader_RefusedWithoutDecoding()
    {
        var huge = ClientPrincipal.Encode(Tenant, ObjectId) + new string('=', 4 * 1024 * 1024);

        Assert.False(ClientPrincipal.TryDecode(huge, out _, out var problem));
        Assert.Contains("too large", problem, StringComparison.Ordinal);
    }

    [Property(MaxTest = 2000)]
    public bool TryDecode_AnyString_NeverThrowsAndAcceptsOnlyGuids(string header) => AcceptsOnlyGuids(header);

    [Property(MaxTest = 2000)]
    public bool TryDecode_AnyBytesAsBase64_NeverThrowsAndAcceptsOnlyGuids(byte[] bytes) => AcceptsOnlyGuids(Convert.ToBase64String(bytes ?? []));

    [Fact]
    public void TryDecode_MutatedEasyAuthPayloads_NeverThrowAndAcceptOnlyGuids()
    {
        // A seeded mutation fuzzer over a real-shaped payload: characters replaced, dropped, doubled,
        // and JSON punctuation or path characters inserted. Deterministic, so a failure reproduces.
        var json = $$"""{"auth_typ":"aad","claims":[{"typ":"{{TenantClaim}}","val":"{{Tenant}}"},{"typ":"{{ObjectIdClaim}}","val":"{{ObjectId}}"},{"typ":"name","val":"Ana"}],"name_typ":"name","role_typ":"roles"}""";
        const string alphabet = "{}[]\":,/\\.'-_ 0123456789abcdefABCDEF\u0000\u00e9\ud83d";
        var random = new Random(20261015);
        var accepted = 0;
        for (var i = 0; i < 5000; i++)
        {
            var text = new StringBuilder(json);
            for (var edits = random.Next(1, 6); edits > 0 && text.Length > 0; edits--)
            {
                var at = random.Next(text.Length);
                switch (random.Next(4))
                {
                    case 0: text[at] = alphabet[random.Next(alphabet.Length)]; break;
                    case 1: text.Remove(at, 1); break;
                    case 2: text.Insert(at, text[at]); break;
                    default: text.Insert(at, alphabet[random.Next(alphabet.Length)]); break;
                }
            }

            var header = Base64(text.ToString());
            Assert.True(AcceptsOnlyGuids(header), $"mutation {i} was accepted with an id that is not a GUID");
            accepted += ClientPrincipal.TryDecode(header, out _, out _) ? 1 : 0;
        }

        // Some mutations leave the ids intact (a changed name claim): the fuzzer did reach the id checks.
        Assert.InRange(accepted, 1, 4999);
    }

    private static bool AcceptsOnlyGuids(string? header)
    {
        if (!ClientPrincipal.TryDecode(header, out var principal, out var problem))
        {
            return !string.IsNullOrEmpty(problem) && (header is null || header.Length < 4 || !problem.Contains(header, StringComparison.Ordinal));
        }

        return Guid.TryParseExact(principal.TenantId, "D", out var tenant) && tenant.ToString("D") == principal.TenantId
            && Guid.TryParseExact(principal.ObjectId, "D", out var objectId) && objectId.ToString("D") == principal.ObjectId;
    }
}

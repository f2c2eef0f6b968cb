using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ChildShare.Core.Sharing.Identifiable.Parent;

/// <summary>What a signed token is for: one purpose each, checked on every use.</summary>
public enum ParentTokenPurpose : byte
{
    /// <summary>The parent's link: opens the page of the consent the link row names.</summary>
    Page = 1,

    /// <summary>The revoke form of one rendered page.</summary>
    RevokeForm = 2,

    /// <summary>The confirmation form of one rendered page.</summary>
    ConfirmForm = 3,
}

/// <summary>Why a presented token is not accepted (the page shows the same plain error for each; the audit records which).</summary>
public enum ParentTokenProblem
{
    None,

    /// <summary>Not a token of ours, or altered: the signature does not verify.</summary>
    Tampered,

    /// <summary>A genuine token made for another purpose (a form token presented as a link, say).</summary>
    WrongPurpose,

    /// <summary>Past its expiry.</summary>
    Expired,
}

/// <summary>A token's content once its signature verified.</summary>
public sealed record ParentToken(ParentTokenPurpose Purpose, string LinkId, DateTimeOffset ExpiresAt);

/// <summary>
/// The opaque signed tokens of parent links and their forms: 42 bytes, base64url (56 characters):
/// format version (1), purpose (1), link id (16), expiry in Unix seconds (8, big-endian), then the
/// first 16 bytes of HMAC-SHA256 under the parent link key over the 26 bytes before it. The token
/// names only a link id: the consent is the one the link row names, so a URL carries no consent id,
/// child identifier or name. A token is verified (constant-time) before any storage is read.
/// </summary>
public static class ParentLinkToken
{
    public const int Length = 56;
    private const byte FormatVersion = 1;
    private const int SignedLength = 26;
    private const int MacLength = 16;
    private const string MacUse = "token";

    public static string Create(byte[] key, ParentTokenPurpose purpose, string linkId, DateTimeOffset expiresAt)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!IsValidLinkId(linkId))
        {
            throw new ArgumentException("A link id is 32 lowercase hex digits.", nameof(linkId));
        }

        var bytes = new byte[SignedLength + MacLength];
        bytes[0] = FormatVersion;
        bytes[1] = (byte)purpose;
        Convert.FromHexString(linkId).CopyTo(bytes, 2);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(18), expiresAt.ToUnixTimeSeconds());
        ParentLinkKeys.Mac(key, MacUse, bytes.AsSpan(0, SignedLength)).AsSpan(0, MacLength).CopyTo(bytes.AsSpan(SignedLength));
        return Base64Url(bytes);
    }

    /// <summary>Verifies a presented token for <paramref name="expected"/> at <paramref name="now"/>: the token, or why not.</summary>
    public static (ParentToken? Token, ParentTokenProblem Problem) Verify(byte[] key, string? presented, ParentTokenPurpose expected, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (presented is not { Length: Length } || FromBase64Url(presented) is not { Length: SignedLength + MacLength } bytes || bytes[0] != FormatVersion)
        {
            return (null, ParentTokenProblem.Tampered);
        }

        var mac = ParentLinkKeys.Mac(key, MacUse, bytes.AsSpan(0, SignedLength));
        if (!CryptographicOperations.FixedTimeEquals(mac.AsSpan(0, MacLength), bytes.AsSpan(SignedLength)))
        {
            return (null, ParentTokenProblem.Tampered);
        }

        var token = new ParentToken((ParentTokenPurpose)bytes[1], Convert.ToHexStringLower(bytes.AsSpan(2, 16)),
            DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(18))));
        if (token.Purpose != expected)
        {
            return (token, ParentTokenProblem.WrongPurpose);
        }

        return now >= token.ExpiresAt ? (token, ParentTokenProblem.Expired) : (token, ParentTokenProblem.None);
    }

    public static bool IsValidLinkId(string? id) => id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[]? FromBase64Url(string text)
    {
        if (!text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return null;
        }

        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - padded.Length % 4) % 4);
        try
        {
            var bytes = Convert.FromBase64String(padded);
            // Only the canonical spelling of the bytes: a second spelling of the same token is an altered token.
            return Base64Url(bytes) == text ? bytes : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

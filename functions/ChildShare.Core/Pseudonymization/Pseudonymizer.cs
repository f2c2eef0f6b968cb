using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace ChildShare.Core.Pseudonymization;

/// <summary>
/// Keyed tokens: HMAC-SHA256 under the pseudonymization key over a purpose label and normalized
/// parts, truncated to 128 bits and written as lowercase hex. The purpose label keeps tokens made
/// for different uses unrelated even when their inputs are equal.
/// </summary>
public sealed class Pseudonymizer(PseudonymKey key)
{
    private const char Separator = '\u001f';

    // One HMAC per thread with the key's inner and outer pads computed once, not once per token.
    [ThreadStatic]
    private static IncrementalHash? t_hmac;

    [ThreadStatic]
    private static PseudonymKey? t_hmacKey;

    /// <summary>Hex characters in a token (128 bits).</summary>
    public const int TokenLength = 32;

    public string KeyVersion => key.Version;

    public string Token(string purpose, string part) => Token(purpose, [part]);

    public string Token(string purpose, string part1, string part2) => Token(purpose, [part1, part2]);

    public string Token(string purpose, params ReadOnlySpan<string> parts)
    {
        Span<byte> mac = stackalloc byte[32];
        MacParts(purpose, parts, mac);
        return Convert.ToHexStringLower(mac[..(TokenLength / 2)]);
    }

    /// <summary>The same 128 bits as <see cref="Token(string, ReadOnlySpan{string})"/>, as a number (its hex is the token), without the string.</summary>
    public UInt128 TokenValue(string purpose, params ReadOnlySpan<string> parts)
    {
        Span<byte> mac = stackalloc byte[32];
        MacParts(purpose, parts, mac);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(mac);
    }

    private void MacParts(string purpose, ReadOnlySpan<string> parts, Span<byte> mac)
    {
        var length = purpose.Length;
        foreach (var part in parts)
        {
            length += part.Length + 1;
        }

        var chars = ArrayPool<char>.Shared.Rent(length);
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(length));
        try
        {
            var written = 0;
            purpose.CopyTo(chars.AsSpan(written));
            written += purpose.Length;
            foreach (var part in parts)
            {
                chars[written++] = Separator;
                part.CopyTo(chars.AsSpan(written));
                written += part.Length;
            }

            var byteCount = Encoding.UTF8.GetBytes(chars, 0, written, bytes, 0);
            MacOfBytes(bytes.AsSpan(0, byteCount), mac);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>The full 32-byte HMAC, for encodings (such as Bloom filters) that derive several values from one.</summary>
    public void Mac(ReadOnlySpan<byte> data, Span<byte> destination) => HMACSHA256.HashData(key.Material, data, destination);

    private void MacOfBytes(ReadOnlySpan<byte> data, Span<byte> mac)
    {
        if (!ReferenceEquals(t_hmacKey, key) || t_hmac is null)
        {
            t_hmac?.Dispose();
            t_hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key.Material);
            t_hmacKey = key;
        }

        var hmac = t_hmac;
        hmac.AppendData(data);
        hmac.GetHashAndReset(mac);
    }
}

using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace ChildShare.Core.Pseudonymization;

/// <summary>
/// Keyed tokens: HMAC-SHA256 under the pseudonymization key over a purpose label and normalized
/// parts, truncated to 128 bits and written as lowercase hex. The purpose label keeps tokens made
/// for different uses unrelated even when their inputs are equal.
/// </summary>
public sealed class Pseudonymizer
{
    private const char Separator = '\u001f';

    /// <summary>
    /// Tokens kept per instance, at most this many (then the cache starts again empty): an upload's rows repeat their child's
    /// local id, names and birth date (five rows a child in the benchmark community), so most tokens of an upload are computed
    /// once. About 200 bytes an entry. Ingestion makes one pseudonymizer per upload, so the cache lives as long as the upload.
    /// </summary>
    internal const int CacheLimit = 1 << 18;

    private readonly PseudonymKey _key;

    // The purpose and parts as they are MACed (separators included) to the first 128 bits of the MAC.
    private readonly Dictionary<string, UInt128> _cache = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UInt128>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;
    private readonly Lock _cacheLock = new();

    public Pseudonymizer(PseudonymKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    // One HMAC per thread with the key's inner and outer pads computed once, not once per token.
    [ThreadStatic]
    private static IncrementalHash? t_hmac;

    [ThreadStatic]
    private static PseudonymKey? t_hmacKey;

    /// <summary>Hex characters in a token (128 bits).</summary>
    public const int TokenLength = 32;

    public string KeyVersion => _key.Version;

    public string Token(string purpose, string part) => Token(purpose, [part]);

    public string Token(string purpose, string part1, string part2) => Token(purpose, [part1, part2]);

    public string Token(string purpose, params ReadOnlySpan<string> parts)
    {
        Span<byte> token = stackalloc byte[TokenLength / 2];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(token, TokenValue(purpose, parts));
        return Convert.ToHexStringLower(token);
    }

    /// <summary>The same 128 bits as <see cref="Token(string, ReadOnlySpan{string})"/>, as a number (its hex is the token), without the string.</summary>
    public UInt128 TokenValue(string purpose, params ReadOnlySpan<string> parts)
    {
        var length = purpose.Length;
        foreach (var part in parts)
        {
            length += part.Length + 1;
        }

        // Tokens' inputs are short (names, dates, ids): on the stack, the pool only for a long one.
        char[]? rented = null;
        var chars = length <= StackChars ? stackalloc char[StackChars] : (rented = ArrayPool<char>.Shared.Rent(length));
        try
        {
            var written = 0;
            purpose.CopyTo(chars[written..]);
            written += purpose.Length;
            foreach (var part in parts)
            {
                chars[written++] = Separator;
                part.CopyTo(chars[written..]);
                written += part.Length;
            }

            ReadOnlySpan<char> input = chars[..written];
            lock (_cacheLock)
            {
                if (_cacheLookup.TryGetValue(input, out var cached))
                {
                    return cached;
                }
            }

            var value = MacOfChars(input);
            lock (_cacheLock)
            {
                if (_cache.Count >= CacheLimit)
                {
                    _cache.Clear();
                }

                _cacheLookup[input] = value;
            }

            return value;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private const int StackChars = 256;

    private UInt128 MacOfChars(ReadOnlySpan<char> input)
    {
        var most = Encoding.UTF8.GetMaxByteCount(input.Length);
        byte[]? rented = null;
        var bytes = most <= 3 * StackChars + 3 ? stackalloc byte[3 * StackChars + 3] : (rented = ArrayPool<byte>.Shared.Rent(most));
        try
        {
            var byteCount = Encoding.UTF8.GetBytes(input, bytes);
            Span<byte> mac = stackalloc byte[32];
            MacOfBytes(bytes[..byteCount], mac);
            return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(mac);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The full 32-byte HMAC, for encodings (such as Bloom filters) that derive several values from one.</summary>
    public void Mac(ReadOnlySpan<byte> data, Span<byte> destination) => HMACSHA256.HashData(_key.Material, data, destination);

    private void MacOfBytes(ReadOnlySpan<byte> data, Span<byte> mac)
    {
        if (!ReferenceEquals(t_hmacKey, _key) || t_hmac is null)
        {
            t_hmac?.Dispose();
            t_hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key.Material);
            t_hmacKey = _key;
        }

        var hmac = t_hmac;
        hmac.AppendData(data);
        hmac.GetHashAndReset(mac);
    }
}

using System.Security.Cryptography;
using System.Text;
using ChildShare.Core.Pseudonymization;

namespace ChildShare.Core.Sharing.Identifiable.Parent;

/// <summary>
/// The parent link key: HKDF-SHA256 of the pseudonymization key with its own label
/// (<see cref="Label"/>), so it is never the pseudonymization key itself and a link MAC tells nothing
/// about any pseudonym (or the reverse). It follows the pseudonymization key: the same Key Vault secret,
/// the same managed-identity read, the same 5-minute refresh; rotating that key (a planned re-keying)
/// invalidates the links issued under the old one, which expire within <see cref="ParentLinkOptions.LinkDays"/>
/// anyway and are issued again. Within the key, each use has its own MAC label: link tokens, form tokens
/// and client address hashes cannot stand in for one another.
/// </summary>
public sealed class ParentLinkKeys(IPseudonymKeyProvider keys)
{
    /// <summary>The HKDF info label that separates this key from every other use of the pseudonymization key.</summary>
    public const string Label = "childshare/parent-link/v1";

    // One reference, replaced whole: concurrent requests never see a derived key paired with another source key.
    private Derivation? _cached;

    public async Task<byte[]> GetKeyAsync(CancellationToken cancellationToken = default)
    {
        var source = await keys.GetCurrentKeyAsync(cancellationToken).ConfigureAwait(false);
        if (Volatile.Read(ref _cached) is { } cached && ReferenceEquals(cached.Source, source))
        {
            return cached.Derived;
        }

        var derived = HKDF.DeriveKey(HashAlgorithmName.SHA256, source.Material, 32, salt: [], info: Encoding.UTF8.GetBytes(Label));
        Volatile.Write(ref _cached, new Derivation(source, derived));
        return derived;
    }

    private sealed record Derivation(PseudonymKey Source, byte[] Derived);

    /// <summary>HMAC-SHA256 under the link key over a use label and the data.</summary>
    public static byte[] Mac(byte[] key, string use, ReadOnlySpan<byte> data)
    {
        var label = Encoding.UTF8.GetBytes(use + "\u001f");
        var input = new byte[label.Length + data.Length];
        label.CopyTo(input, 0);
        data.CopyTo(input.AsSpan(label.Length));
        return HMACSHA256.HashData(key, input);
    }

    /// <summary>A keyed hash of a client's address (what the rate limit counts): the address itself is never stored.</summary>
    public static string ClientHash(byte[] key, string clientAddress) =>
        Convert.ToHexStringLower(Mac(key, "client-address", Encoding.UTF8.GetBytes(clientAddress))[..16]);
}

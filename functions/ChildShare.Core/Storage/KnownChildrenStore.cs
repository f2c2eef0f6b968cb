using System.Globalization;
using Azure;
using Azure.Storage.Blobs;

namespace ChildShare.Core.Storage;

/// <summary>
/// The local tokens of every provider child a provider ever sent, with the version read (null: the provider has no set yet).
/// Only local tokens of 32 hex characters (what ingestion makes) are kept; any other is never reported new.
/// </summary>
public sealed class KnownChildren(string providerId, HashSet<UInt128> tokens, ETag? etag)
{
    public string ProviderId { get; } = providerId;

    public ETag? ETag { get; } = etag;

    public int Count => tokens.Count;

    /// <summary>Adds a local token; true if the set did not hold it (the provider never sent that child before).</summary>
    public bool Add(string localToken) =>
        localToken.Length == 32 && UInt128.TryParse(localToken, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var token) && tokens.Add(token);

    internal IReadOnlyCollection<UInt128> Tokens => tokens;
}

/// <summary>
/// One blob per provider in the locks container, named under the table prefix like the linkage lock it is written under: the local
/// tokens of the provider children that provider ever sent (16 bytes each, after a 4-byte format mark). The linker adds an upload's
/// children before it writes any row of them, so a child not in the set has no row anywhere, and reading its rows can be skipped.
/// Written with the ETag read, so a writer that lost the linkage lock cannot drop another's additions.
/// </summary>
public sealed class KnownChildrenStore(ChildShareStorage storage)
{
    private static readonly ReadOnlyMemory<byte> FormatMark = "KC01"u8.ToArray();

    /// <summary>The provider's set, or an empty one never written.</summary>
    /// <exception cref="InvalidDataException">The blob is not in the format this version writes.</exception>
    public async Task<KnownChildren> ReadAsync(string providerId, CancellationToken cancellationToken = default)
    {
        var (tokens, etag) = await TokenSetBlob.ReadAsync(Blob(providerId), FormatMark, "known-children", cancellationToken).ConfigureAwait(false);
        return new KnownChildren(providerId, tokens, etag);
    }

    /// <summary>Replaces the version read (or adds the blob where there was none).</summary>
    /// <exception cref="LinkageRowsChangedException">Another flow wrote the set since it was read.</exception>
    public Task WriteAsync(KnownChildren known, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(known);
        return TokenSetBlob.WriteAsync(Blob(known.ProviderId), FormatMark, known.Tokens, known.ETag, cancellationToken);
    }

    private BlobClient Blob(string providerId) => storage.Locks.GetBlobClient(storage.LockName("known-children/" + providerId));
}

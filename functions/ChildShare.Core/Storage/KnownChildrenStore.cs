using System.Buffers.Binary;
using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

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

    internal IEnumerable<UInt128> Tokens => tokens;
}

/// <summary>
/// One blob per provider in the locks container, named under the table prefix like the linkage lock it is written under: the local
/// tokens of the provider children that provider ever sent (16 bytes each, after a 4-byte format mark). The linker adds an upload's
/// children before it writes any row of them, so a child not in the set has no row anywhere, and reading its rows can be skipped.
/// Written with the ETag read, so a writer that lost the linkage lock cannot drop another's additions.
/// </summary>
public sealed class KnownChildrenStore(ChildShareStorage storage)
{
    private static readonly byte[] FormatMark = "KC01"u8.ToArray();

    /// <summary>The provider's set, or an empty one never written.</summary>
    public async Task<KnownChildren> ReadAsync(string providerId, CancellationToken cancellationToken = default)
    {
        try
        {
            var content = (await Blob(providerId).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
            return new KnownChildren(providerId, Parse(content.Content.ToMemory().Span), content.Details.ETag);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return new KnownChildren(providerId, [], null);
        }
    }

    /// <summary>Replaces the version read (or adds the blob where there was none).</summary>
    /// <exception cref="LinkageRowsChangedException">Another flow wrote the set since it was read.</exception>
    public async Task WriteAsync(KnownChildren known, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(known);
        var bytes = new byte[FormatMark.Length + (16 * known.Count)];
        FormatMark.CopyTo(bytes, 0);
        var at = FormatMark.Length;
        foreach (var token in known.Tokens)
        {
            BinaryPrimitives.WriteUInt128BigEndian(bytes.AsSpan(at, 16), token);
            at += 16;
        }

        var conditions = known.ETag is { } etag ? new BlobRequestConditions { IfMatch = etag } : new BlobRequestConditions { IfNoneMatch = ETag.All };
        try
        {
            await Blob(known.ProviderId).UploadAsync(BinaryData.FromBytes(bytes), new BlobUploadOptions { Conditions = conditions }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            throw new LinkageRowsChangedException(ex);
        }
    }

    private BlobClient Blob(string providerId) => storage.Locks.GetBlobClient(storage.LockName("known-children/" + providerId));

    private static HashSet<UInt128> Parse(ReadOnlySpan<byte> bytes)
    {
        if (!bytes.StartsWith(FormatMark) || (bytes.Length - FormatMark.Length) % 16 != 0)
        {
            // Refusing beats guessing: a set read wrong would mark children new that have rows, and their rows would be overwritten.
            throw new InvalidDataException("A known-children set is not in the format this version writes.");
        }

        var tokens = new HashSet<UInt128>((bytes.Length - FormatMark.Length) / 16);
        for (var at = FormatMark.Length; at < bytes.Length; at += 16)
        {
            tokens.Add(BinaryPrimitives.ReadUInt128BigEndian(bytes.Slice(at, 16)));
        }

        return tokens;
    }
}

using Azure;
using Azure.Storage.Blobs;

namespace ChildShare.Core.Storage;

/// <summary>
/// The tokens that may have a row in the token index (<see cref="LinkageTables.Blocks"/>), with the version read (null: never written).
/// Every token is added before its block row is first written, so a token the set does not hold has no row.
/// </summary>
public sealed class KnownBlocks(HashSet<UInt128> tokens, ETag? etag)
{
    public ETag? ETag { get; } = etag;

    public int Count => tokens.Count;

    public bool Contains(UInt128 token) => tokens.Contains(token);

    /// <summary>Adds a token; true if the set did not hold it (no block row of it exists yet).</summary>
    public bool Add(UInt128 token) => tokens.Add(token);

    internal IReadOnlyCollection<UInt128> Tokens => tokens;
}

/// <summary>
/// One blob in the locks container, named under the table prefix like the linkage lock it is written under: every token the linkage
/// ever wrote (or was about to write) a block row for, 16 bytes each. The linker adds an upload's indexed tokens before it writes a
/// block row, so reading the row of a token the set does not hold can be skipped: in a new community almost every token of an upload.
/// Only a store whose fence says the set is complete relies on it (<see cref="FenceRow.KnownBlocks"/>).
/// </summary>
public sealed class KnownBlocksStore(ChildShareStorage storage)
{
    private static readonly ReadOnlyMemory<byte> FormatMark = "KB01"u8.ToArray();

    /// <summary>The set, or an empty one never written.</summary>
    /// <exception cref="InvalidDataException">The blob is not in the format this version writes.</exception>
    public async Task<KnownBlocks> ReadAsync(CancellationToken cancellationToken = default)
    {
        var (tokens, etag) = await TokenSetBlob.ReadAsync(Blob, FormatMark, "known-blocks", cancellationToken).ConfigureAwait(false);
        return new KnownBlocks(tokens, etag);
    }

    /// <summary>Replaces the version read (or adds the blob where there was none).</summary>
    /// <exception cref="LinkageRowsChangedException">Another flow wrote the set since it was read.</exception>
    public Task WriteAsync(KnownBlocks known, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(known);
        return TokenSetBlob.WriteAsync(Blob, FormatMark, known.Tokens, known.ETag, cancellationToken);
    }

    private BlobClient Blob => storage.Locks.GetBlobClient(storage.LockName("known-blocks"));
}

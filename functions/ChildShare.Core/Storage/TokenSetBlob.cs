using System.Buffers.Binary;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace ChildShare.Core.Storage;

/// <summary>
/// A set of 128-bit tokens kept in one blob: a 4-byte format mark, then 16 bytes a token. Read with its version and written
/// <c>If-Match</c> that version (<c>If-None-Match: *</c> where there was none), so a writer that lost the linkage lock cannot drop
/// another's additions. The linkage's known-children and known-blocks sets are kept this way.
/// </summary>
internal static class TokenSetBlob
{
    /// <summary>The set and its version, or an empty set and null where the blob does not exist.</summary>
    /// <exception cref="InvalidDataException">The blob is not in the format this version writes.</exception>
    public static async Task<(HashSet<UInt128> Tokens, ETag? ETag)> ReadAsync(BlobClient blob, ReadOnlyMemory<byte> formatMark, string what, CancellationToken cancellationToken)
    {
        try
        {
            var content = (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
            return (Parse(content.Content.ToMemory().Span, formatMark.Span, what), content.Details.ETag);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return ([], null);
        }
    }

    /// <summary>Replaces the version read (or adds the blob where there was none).</summary>
    /// <exception cref="LinkageRowsChangedException">Another flow wrote the set since it was read.</exception>
    public static async Task WriteAsync(BlobClient blob, ReadOnlyMemory<byte> formatMark, IReadOnlyCollection<UInt128> tokens, ETag? etag, CancellationToken cancellationToken)
    {
        var bytes = new byte[formatMark.Length + (16 * tokens.Count)];
        formatMark.Span.CopyTo(bytes);
        var at = formatMark.Length;
        foreach (var token in tokens)
        {
            BinaryPrimitives.WriteUInt128BigEndian(bytes.AsSpan(at, 16), token);
            at += 16;
        }

        var conditions = etag is { } known ? new BlobRequestConditions { IfMatch = known } : new BlobRequestConditions { IfNoneMatch = ETag.All };
        try
        {
            await blob.UploadAsync(BinaryData.FromBytes(bytes), new BlobUploadOptions { Conditions = conditions }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            throw new LinkageRowsChangedException(ex);
        }
    }

    private static HashSet<UInt128> Parse(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> formatMark, string what)
    {
        if (!bytes.StartsWith(formatMark) || (bytes.Length - formatMark.Length) % 16 != 0)
        {
            // Refusing beats guessing: a set read wrong would call rows missing that exist, and they would be overwritten.
            throw new InvalidDataException($"A {what} set is not in the format this version writes.");
        }

        var tokens = new HashSet<UInt128>((bytes.Length - formatMark.Length) / 16);
        for (var at = formatMark.Length; at < bytes.Length; at += 16)
        {
            tokens.Add(BinaryPrimitives.ReadUInt128BigEndian(bytes.Slice(at, 16)));
        }

        return tokens;
    }
}

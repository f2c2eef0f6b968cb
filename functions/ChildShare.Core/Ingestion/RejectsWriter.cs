using System.Globalization;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using ChildShare.Core.Csv;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// Streams an upload's rejected rows to <c>{blob name}.{upload id}.rejects.csv</c> in the rejects
/// container: line, field, reason, in the <see cref="SafeCsv"/> dialect (providers open it in a
/// spreadsheet). Created on the first rejection, so clean files leave no blob.
/// </summary>
internal sealed class RejectsWriter(BlobContainerClient container, string blobName, string uploadId) : IAsyncDisposable
{
    private static readonly string[] Header = ["line", "field", "reason"];

    private SafeCsvWriter? _writer;

    public string BlobName { get; } = $"{blobName}.{uploadId[..12]}.rejects.csv";

    public async Task WriteAsync(IReadOnlyList<RowRejection> rejections, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rejections);
        if (_writer is null)
        {
            var stream = await container.GetBlockBlobClient(BlobName).OpenWriteAsync(overwrite: true, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            _writer = SafeCsvWriter.ToStream(stream, Header);
        }

        foreach (var rejection in rejections)
        {
            await _writer.WriteRowAsync([rejection.LineNumber.ToString(CultureInfo.InvariantCulture), rejection.Field, rejection.Reason], cancellationToken)
                .ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_writer is not null)
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
            _writer = null;
        }
    }
}

using System.Globalization;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// Streams an upload's rejected rows to <c>{blob name}.{upload id}.rejects.csv</c> in the rejects
/// container: line, field, reason. Created on the first rejection, so clean files leave no blob.
/// </summary>
internal sealed class RejectsWriter(BlobContainerClient container, string blobName, string uploadId) : IAsyncDisposable
{
    private StreamWriter? _writer;

    public string BlobName { get; } = $"{blobName}.{uploadId[..12]}.rejects.csv";

    public async Task WriteAsync(IReadOnlyList<RowRejection> rejections, CancellationToken cancellationToken)
    {
        if (_writer is null)
        {
            var stream = await container.GetBlockBlobClient(BlobName).OpenWriteAsync(overwrite: true, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            _writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            await _writer.WriteLineAsync("line,field,reason".AsMemory(), cancellationToken).ConfigureAwait(false);
        }

        foreach (var rejection in rejections)
        {
            var line = string.Create(CultureInfo.InvariantCulture, $"{rejection.LineNumber},{Quote(rejection.Field)},{Quote(rejection.Reason)}");
            await _writer.WriteLineAsync(line.AsMemory(), cancellationToken).ConfigureAwait(false);
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

    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}

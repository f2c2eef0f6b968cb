using Azure.Storage.Blobs;
using ChildShare.Core.Ingestion;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Ingestion;

/// <summary>
/// Ingests each file a provider drops into <c>uploads/{providerId}/...</c>. The Event Grid source is
/// the one the Flex Consumption plan supports; locally, feed it through the blob extension's
/// webhook or run the command line's <c>ingest-pending</c> (see the README).
/// </summary>
public sealed class IngestProviderUpload(IngestionService ingestion)
{
    [Function(nameof(IngestProviderUpload))]
    public async Task RunAsync(
        [BlobTrigger("uploads/{name}", Source = BlobTriggerSource.EventGrid, Connection = "ChildShareStorage")] BlobClient blob,
        string name,
        CancellationToken cancellationToken)
    {
        // The service writes the manifest and logs the outcome; it throws only to ask for a retry. The name as delivered
        // lets it refuse a path that the client resolved into another folder (a/../b/x.csv reads b/x.csv).
        await ingestion.IngestAsync(blob, name, cancellationToken);
    }
}

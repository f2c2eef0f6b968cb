using Azure.Core;
using Azure.Core.Pipeline;

namespace ChildShare.LinkageBenchmarks;

/// <summary>
/// Counts table requests by kind, so a storage benchmark can report work that does not depend on the
/// emulator: Azurite answers every query by scanning the table, Azure Table Storage by an index.
/// </summary>
public sealed class RequestCounter : HttpPipelineSynchronousPolicy
{
    private long _pointReads;
    private long _queries;
    private long _batches;
    private long _other;

    public (long PointReads, long Queries, long Batches, long Other) Snapshot() =>
        (Interlocked.Read(ref _pointReads), Interlocked.Read(ref _queries), Interlocked.Read(ref _batches), Interlocked.Read(ref _other));

    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var request = message.Request;
        var path = request.Uri.Path;
        if (request.Method == RequestMethod.Post && path.EndsWith("$batch", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _batches);
        }
        else if (request.Method == RequestMethod.Get && path.Contains("(PartitionKey=", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _pointReads);
        }
        else if (request.Method == RequestMethod.Get)
        {
            Interlocked.Increment(ref _queries);
        }
        else
        {
            Interlocked.Increment(ref _other);
        }
    }
}

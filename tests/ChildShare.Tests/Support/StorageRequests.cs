using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;

namespace ChildShare.Tests.Support;

/// <summary>
/// Records every request a blob client sends to Azurite and its answer, and lets a test wait for a
/// number of them: a gate that the code under test opens by doing the thing (a refused lease
/// acquisition, an upload of the waiting blob), instead of a sleep that hopes it happened by then.
/// Build the code's container with <see cref="Container"/>; the requests still go to Azurite.
/// </summary>
public sealed class StorageRequests : HttpPipelinePolicy
{
    private readonly ConcurrentQueue<StorageRequest> _seen = new();
    private readonly List<(Func<StorageRequest, bool> Match, int Count, TaskCompletionSource Reached)> _waiters = [];
    private readonly Lock _sync = new();

    /// <summary>The container <paramref name="name"/> of the test's Azurite, through a client whose requests this records.</summary>
    public BlobContainerClient Container(string name)
    {
        var options = new BlobClientOptions();
        options.AddPolicy(this, HttpPipelinePosition.PerRetry);
        return new BlobServiceClient(TestStorage.ConnectionString, options).GetBlobContainerClient(name);
    }

    public int Count(Func<StorageRequest, bool> match) => _seen.Count(match);

    /// <summary>Completes once <paramref name="count"/> answered requests match (fails after <paramref name="timeout"/>, 30 s by default: a safety net, not a measurement).</summary>
    public Task WaitForAsync(Func<StorageRequest, bool> match, int count = 1, TimeSpan? timeout = null)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_sync)
        {
            if (Count(match) >= count)
            {
                return Task.CompletedTask;
            }

            _waiters.Add((match, count, reached));
        }

        return reached.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ProcessNext(message, pipeline);
        Record(message);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        Record(message);
    }

    private void Record(HttpMessage message)
    {
        message.Request.Headers.TryGetValue("x-ms-lease-action", out var leaseAction);
        var request = new StorageRequest(message.Request.Method.Method, message.Request.Uri.Path, message.Request.Uri.Query, leaseAction,
            message.HasResponse ? message.Response.Status : 0);
        lock (_sync)
        {
            _seen.Enqueue(request);
            foreach (var waiter in _waiters.Where(w => Count(w.Match) >= w.Count).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Reached.TrySetResult();
            }
        }
    }
}

/// <summary>One answered request: its method, path, query, lease action (when a lease request) and the answer's status.</summary>
public sealed record StorageRequest(string Method, string Path, string Query, string? LeaseAction, int Status)
{
    /// <summary>A lease acquisition refused because another holder has the lease (409 LeaseAlreadyPresent).</summary>
    public bool IsRefusedLeaseAcquisition => LeaseAction == "acquire" && Status == 409;

    /// <summary>A successful upload (PUT, no <c>comp=</c>) of a blob whose name ends with <paramref name="blobNameEnd"/>.</summary>
    public bool IsUploadOf(string blobNameEnd) =>
        Method == "PUT" && !Query.Contains("comp=", StringComparison.Ordinal) && Path.EndsWith(blobNameEnd, StringComparison.Ordinal) && Status is >= 200 and < 300;
}

using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;
using ChildShare.Functions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChildShare.Cli.Serve;

/// <summary>
/// Feeds the blob-triggered functions of <see cref="FunctionCatalog"/>, as Event Grid does in Azure:
/// every poll interval it lists the uploads container and delivers each blob without a final
/// manifest (the rule of <c>ingest-pending</c>: new, interrupted, or left waiting for the linkage
/// lock) to the function, one at a time. A delivery that throws (the service asks for a retry) is
/// delivered again on a later poll; the manifest counts attempts, as with the trigger.
/// </summary>
public sealed partial class UploadPoller(
    IServiceProvider services, ChildShareStorage storage, ManifestStore manifests, LocalHostOptions options, ILogger<UploadPoller> logger) : BackgroundService
{
    /// <summary>Delivers every pending upload once; the number delivered.</summary>
    public async Task<int> PollOnceAsync(CancellationToken cancellationToken)
    {
        var delivered = 0;
        foreach (var function in FunctionCatalog.Blob)
        {
            if (function.Container != new StorageOptions().UploadsContainer || function.Connection != StorageOptions.ConnectionName)
            {
                throw new NotSupportedException($"Function {function.Name} watches {function.Connection}:{function.Container}; the local host feeds only the uploads container.");
            }

            foreach (var name in await manifests.ListPendingUploadsAsync(cancellationToken))
            {
                await using var scope = services.CreateAsyncScope();
                try
                {
                    await FunctionInvoker.RunAsync(function.Class, function.Method, scope.ServiceProvider,
                        function.Method.GetParameters().Select(p =>
                            p.ParameterType == typeof(CancellationToken) ? cancellationToken
                            : p.ParameterType == typeof(string) ? name
                            : (object)storage.Uploads.GetBlobClient(name)).ToArray());
                    delivered++;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // Never the blob name: it is the provider's own path and could carry anything.
                    LogDeliveryFailed(logger, function.Name, ex.GetType().Name);
                }
            }
        }

        return delivered;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (FunctionCatalog.Blob.Count == 0)
        {
            return;
        }

        // The poll interval is wall-clock time whatever clock the app runs on.
        using var timer = new PeriodicTimer(options.PollInterval);
        do
        {
            try
            {
                await PollOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPollFailed(logger, ex.GetType().Name);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Delivery to {Function} failed ({ErrorType}); it is delivered again on the next poll")]
    private static partial void LogDeliveryFailed(ILogger logger, string function, string errorType);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Warning, Message = "Listing the uploads failed ({ErrorType}); trying again on the next poll")]
    private static partial void LogPollFailed(ILogger logger, string errorType);
}

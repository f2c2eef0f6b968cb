using ChildShare.Core.Pseudonymization;
using Microsoft.Extensions.Logging;

namespace ChildShare.Core.Storage;

/// <summary>Whether the app's dependencies answer: the data storage and the pseudonymization key. Nothing else is said.</summary>
public sealed record HealthReport(bool StorageReachable, bool KeyReachable)
{
    public bool Healthy => StorageReachable && KeyReachable;
}

/// <summary>
/// The health probe: one request to the data storage (does the uploads container exist) and one
/// read of the current pseudonymization key (Key Vault in Azure), each bounded by
/// <see cref="Timeout"/>. Failures are logged by their type only and reported as unreachable.
/// </summary>
public sealed partial class HealthCheck(ChildShareStorage storage, IPseudonymKeyProvider keys, ILogger<HealthCheck> logger)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthReport> CheckAsync(CancellationToken cancellationToken = default)
    {
        var storageTask = ProbeAsync("storage", async ct => (await storage.Uploads.ExistsAsync(ct).ConfigureAwait(false)).Value, cancellationToken);
        var keyTask = ProbeAsync("key", async ct => (await keys.GetCurrentKeyAsync(ct).ConfigureAwait(false)).Material.Length > 0, cancellationToken);
        return new HealthReport(await storageTask.ConfigureAwait(false), await keyTask.ConfigureAwait(false));
    }

    private async Task<bool> ProbeAsync(string dependency, Func<CancellationToken, Task<bool>> probe, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            return await probe(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogUnreachable(logger, dependency, ex.GetType().Name);
            return false;
        }
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Warning, Message = "Health probe: {Dependency} unreachable ({ErrorType})")]
    private static partial void LogUnreachable(ILogger logger, string dependency, string errorType);
}

using ChildShare.Core.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Http;

/// <summary>
/// <c>GET /api/health</c>: 200 when the data storage and the pseudonymization key are reachable, else
/// 503; the body says which, and nothing else (no names, versions, endpoints or errors). Anonymous,
/// for probes that hold no credential.
/// </summary>
public sealed class GetHealth(HealthCheck health)
{
    [Function(nameof(GetHealth))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request, CancellationToken cancellationToken)
    {
        _ = request;
        var report = await health.CheckAsync(cancellationToken);
        static string State(bool reachable) => reachable ? "reachable" : "unreachable";
        return new ObjectResult(new { status = report.Healthy ? "healthy" : "unhealthy", storage = State(report.StorageReachable), key = State(report.KeyReachable) })
        {
            StatusCode = report.Healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable,
        };
    }
}

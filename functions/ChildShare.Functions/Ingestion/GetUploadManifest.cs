using ChildShare.Core.Ingestion;
using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Ingestion;

/// <summary><c>GET /api/uploads/{id}</c>: the manifest of one upload (counts and reasons, never a child's data).</summary>
public sealed class GetUploadManifest(ManifestStore manifests)
{
    [Function(nameof(GetUploadManifest))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "uploads/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        if (!ManifestStore.IsValidUploadId(id))
        {
            return Problems.BadRequest("An upload id is 32 lowercase hexadecimal characters.");
        }

        var manifest = await manifests.GetAsync(id, cancellationToken);
        return manifest is null ? Problems.NotFound($"No upload has the id {id}.") : new OkObjectResult(manifest);
    }
}

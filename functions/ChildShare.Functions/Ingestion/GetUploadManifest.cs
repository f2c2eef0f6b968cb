using ChildShare.Core.Ingestion;
using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Ingestion;

/// <summary>
/// <c>GET /api/uploads/{id}</c>: the manifest of one upload (counts and reasons, never a child's
/// data), to the organization that uploaded it or an administrator; audited before it is returned.
/// </summary>
public sealed class GetUploadManifest(UploadManifestReader manifests)
{
    [Function(nameof(GetUploadManifest))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "uploads/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        var caller = HttpPipeline.CallerOf(request);
        if (!ManifestStore.IsValidUploadId(id))
        {
            return Problems.BadRequest("An upload id is 32 lowercase hexadecimal characters.");
        }

        return await manifests.ReadAsync(caller, id, cancellationToken) switch
        {
            (ManifestReadStatus.Ok, { } manifest) => new OkObjectResult(manifest),
            (ManifestReadStatus.Forbidden, _) => Problems.Forbidden("Only the organization that uploaded a file, or an administrator, may read its manifest."),
            _ => Problems.NotFound("No upload has this id."),
        };
    }
}

using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;

namespace ChildShare.Core.Ingestion;

/// <summary>What a request for a manifest found.</summary>
public enum ManifestReadStatus
{
    Ok,
    NotFound,
    Forbidden,
}

/// <summary>
/// A manifest read on behalf of a caller: only the uploading organization or an Admin sees it, and
/// every request is audited (with its outcome) before anything is returned.
/// </summary>
public class UploadManifestReader(ManifestStore manifests, AuditLog audit)
{
    public async Task<(ManifestReadStatus Status, UploadManifest? Manifest)> ReadAsync(Caller caller, string uploadId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var manifest = ManifestStore.IsValidUploadId(uploadId) ? await manifests.GetAsync(uploadId, cancellationToken).ConfigureAwait(false) : null;
        var status = manifest is null ? ManifestReadStatus.NotFound
            : caller.IsAdmin || caller.OrganizationId == manifest.ProviderId ? ManifestReadStatus.Ok
            : ManifestReadStatus.Forbidden;
        await audit.AppendAsync(new AuditEntry(AuditEvents.UploadManifestRead, status == ManifestReadStatus.Ok ? AuditOutcomes.Succeeded : status.ToString())
        {
            Caller = caller,
            Parameters = new Dictionary<string, string> { ["uploadId"] = manifest is null ? "" : uploadId },
            ProvidersIncluded = status == ManifestReadStatus.Ok ? [manifest!.ProviderId] : [],
            RowsReturned = status == ManifestReadStatus.Ok ? 1 : 0,
        }, cancellationToken).ConfigureAwait(false);
        return (status, status == ManifestReadStatus.Ok ? manifest : null);
    }
}

using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using ChildShare.Core.Activity;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Sharing.Deidentified;

/// <summary>Issues a read-only, short-lived link to an export blob.</summary>
public interface IExportLinkIssuer
{
    Task<Uri> IssueReadLinkAsync(BlobClient blob, DateTimeOffset expiresOn, CancellationToken cancellationToken = default);
}

/// <summary>
/// A service SAS where the client holds the account key (Azurite, connection strings), otherwise a
/// user delegation SAS signed with a key obtained under the function app's identity (Azure, where
/// shared-key access is disabled). Read permission on the one blob, HTTPS only in Azure.
/// </summary>
public sealed class BlobExportLinkIssuer(ChildShareStorage storage, TimeProvider time) : IExportLinkIssuer
{
    public async Task<Uri> IssueReadLinkAsync(BlobClient blob, DateTimeOffset expiresOn, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        if (blob.CanGenerateSasUri)
        {
            return blob.GenerateSasUri(BlobSasPermissions.Read, expiresOn);
        }

        var startsOn = time.GetUtcNow().AddMinutes(-5);
        var key = await storage.Blobs.GetUserDelegationKeyAsync(startsOn, expiresOn, cancellationToken).ConfigureAwait(false);
        var sas = new BlobSasBuilder
        {
            BlobContainerName = blob.BlobContainerName,
            BlobName = blob.Name,
            Resource = "b",
            StartsOn = startsOn,
            ExpiresOn = expiresOn,
            Protocol = SasProtocol.Https,
        };
        sas.SetPermissions(BlobSasPermissions.Read);
        return new BlobUriBuilder(blob.Uri) { Sas = sas.ToSasQueryParameters(key.Value, blob.AccountName) }.ToUri();
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Blobs.Models;
using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Sharing.Identifiable.Parent;

/// <summary>Whether the text of a consent's disclosure could be shown, verified against the SHA-256 the consent records.</summary>
public enum DisclosureTextStatus
{
    /// <summary>Found, and its SHA-256 is the consent's: this is the exact text the parent was shown.</summary>
    Verified,

    /// <summary>A document of that id and version exists but its text is not the one the consent records: it is not shown.</summary>
    Mismatch,

    /// <summary>No organization party to the consent has uploaded the document.</summary>
    Missing,
}

public sealed record DisclosureText(DisclosureTextStatus Status, string? Text);

/// <summary>
/// The disclosure documents organizations show parents, kept so the parent's page can show the exact
/// text they agreed to: container <c>disclosures</c>, blob <c>{organization}/{documentId}/{version}</c>
/// (UTF-8 text), written once by that organization (the same text again is a no-op, another text is
/// refused), its SHA-256 in the blob's metadata. Each organization writes only under its own name, so no
/// one can replace another's document. The page looks for the consent's document under the owning
/// provider first, then the other parties, and shows a text only when its SHA-256 is the consent's.
/// </summary>
public sealed partial class DisclosureDocuments(ChildShareStorage storage, AuditLog audit)
{
    /// <summary>The largest document accepted (UTF-8 bytes).</summary>
    public const int MaxBytes = 256 * 1024;

    public static bool IsValidName(string? value) => value is not null && NameRegex().IsMatch(value);

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>Stores an organization's disclosure document and returns its SHA-256 (what a consent's <c>disclosure.sha256</c> records).</summary>
    public async Task<string> UploadAsync(Caller caller, string documentId, string version, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(text);
        var errors = new List<string>();
        if (!IsValidName(documentId) || !IsValidName(version))
        {
            errors.Add("documentId and version are 1 to 64 letters, digits, dots, dashes and underscores, starting with a letter or digit.");
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length is 0 or > MaxBytes)
        {
            errors.Add($"A disclosure document is 1 to {MaxBytes} bytes of UTF-8 text.");
        }

        if (errors.Count > 0)
        {
            throw new ConsentValidationException(errors);
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var blob = storage.Disclosures.GetBlobClient(BlobName(caller.OrganizationId, documentId, version));
        await audit.AppendAsync(new AuditEntry(AuditEvents.DisclosureDocumentUploaded, AuditOutcomes.Committing)
        {
            Caller = caller,
            Actor = ConsentActor.Of(caller).Name,
            Parameters = new Dictionary<string, string> { ["documentId"] = documentId, ["version"] = version, ["sha256"] = hash },
        }, cancellationToken).ConfigureAwait(false);
        try
        {
            await blob.UploadAsync(new BinaryData(bytes), new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "text/plain; charset=utf-8" },
                Metadata = new Dictionary<string, string> { ["sha256"] = hash, ["uploadedby"] = caller.OrganizationId },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            var existing = await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            if (Convert.ToHexStringLower(SHA256.HashData(existing.Value.Content.ToArray())) != hash)
            {
                throw new ConsentConflictException($"Document {documentId} version {version} already holds another text: a changed disclosure is a new version.");
            }
        }

        return hash;
    }

    /// <summary>The consent's disclosure text, looked for under the owner and then the other parties, shown only when its SHA-256 is the consent's.</summary>
    public async Task<DisclosureText> FindAsync(ConsentRecord consent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consent);
        var disclosure = consent.Disclosure;
        if (!IsValidName(disclosure.DocumentId) || !IsValidName(disclosure.Version))
        {
            return new(DisclosureTextStatus.Missing, null);
        }

        var found = false;
        foreach (var organization in consent.Parties.OrderBy(p => p == consent.OwnerProviderId ? 0 : 1))
        {
            try
            {
                var content = await storage.Disclosures.GetBlobClient(BlobName(organization, disclosure.DocumentId, disclosure.Version))
                    .DownloadContentAsync(cancellationToken).ConfigureAwait(false);
                var bytes = content.Value.Content.ToArray();
                found = true;
                if (string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), disclosure.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    return new(DisclosureTextStatus.Verified, Encoding.UTF8.GetString(bytes));
                }
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // Not this organization's document.
            }
        }

        return new(found ? DisclosureTextStatus.Mismatch : DisclosureTextStatus.Missing, null);
    }

    private static string BlobName(string organization, string documentId, string version) => $"{organization}/{documentId}/{version}";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NameRegex();
}

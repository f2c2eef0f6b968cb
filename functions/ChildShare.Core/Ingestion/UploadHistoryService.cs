using ChildShare.Core.Activity;
using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Logging;

namespace ChildShare.Core.Ingestion;

public enum UploadHistoryStatus
{
    Ok,
    BadRequest,
    Forbidden,
    NotFound,
}

/// <summary>One page of a provider's uploads, newest first.</summary>
public sealed record UploadHistoryPage(IReadOnlyList<UploadManifest> Value, int Skip, int Top, int Total)
{
    public bool HasMore => Skip + Value.Count < Total;
}

/// <summary>The outcome of a clerk's request: a page, a rejects CSV, or why not (a message without data).</summary>
public sealed record UploadHistoryResult(UploadHistoryStatus Status, string? Error = null, UploadHistoryPage? Page = null, string? RejectsCsv = null);

/// <summary>
/// What a provider's clerk may read about the provider's own uploads: the manifests, newest first,
/// and the rejects CSV of one upload (line, field and reason of each rejected row, never a value).
/// Another organization's uploads are refused; an Admin may name any provider. Every request is
/// audited before anything is returned, and a failed audit write withholds the answer
/// (<see cref="AuditUnavailableException"/>).
/// </summary>
public sealed partial class UploadHistoryService(ChildShareStorage storage, ManifestStore manifests, AuditLog audit, ILogger<UploadHistoryService> logger)
{
    public const int DefaultTop = 100;
    public const int MaxTop = 1000;

    public async Task<UploadHistoryResult> ListAsync(Caller caller, string? provider, string? top, string? skip, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var providerId = string.IsNullOrWhiteSpace(provider) ? caller.OrganizationId : provider.Trim();
        var parameters = new Dictionary<string, string> { ["provider"] = providerId, ["$top"] = top ?? "", ["$skip"] = skip ?? "" };
        var errors = new List<string>();
        var pageSize = PageParameters.Integer(top, "$top", DefaultTop, 1, MaxTop, errors);
        var offset = PageParameters.Integer(skip, "$skip", 0, 0, int.MaxValue, errors);
        if (!ProviderRegistry.IsValidId(providerId))
        {
            errors.Add("provider is a provider id (lowercase letters, digits, dashes).");
            parameters["provider"] = "";
        }

        if (errors.Count > 0)
        {
            await AuditAsync(AuditEvents.UploadsListed, "BadRequest", caller, parameters, 0, cancellationToken).ConfigureAwait(false);
            return new UploadHistoryResult(UploadHistoryStatus.BadRequest, string.Join(" ", errors));
        }

        if (providerId != caller.OrganizationId && !caller.IsAdmin)
        {
            await AuditAsync(AuditEvents.UploadsListed, "Forbidden", caller, parameters, 0, cancellationToken).ConfigureAwait(false);
            return new UploadHistoryResult(UploadHistoryStatus.Forbidden, "Only a provider's own organization, or an administrator, may list its uploads.");
        }

        var all = await manifests.ListByProviderAsync(providerId, cancellationToken).ConfigureAwait(false);
        var page = all.Skip(offset).Take(pageSize).ToList();
        await AuditAsync(AuditEvents.UploadsListed, "Succeeded", caller, parameters, page.Count, cancellationToken).ConfigureAwait(false);
        return new UploadHistoryResult(UploadHistoryStatus.Ok, Page: new UploadHistoryPage(page, offset, pageSize, all.Count));
    }

    public async Task<UploadHistoryResult> RejectsAsync(Caller caller, string uploadId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(uploadId);
        var valid = ManifestStore.IsValidUploadId(uploadId);
        var parameters = new Dictionary<string, string> { ["upload"] = valid ? uploadId : "" };
        if (!valid)
        {
            await AuditAsync(AuditEvents.UploadRejectsRead, "BadRequest", caller, parameters, 0, cancellationToken).ConfigureAwait(false);
            return new UploadHistoryResult(UploadHistoryStatus.BadRequest, "An upload id is 32 lowercase hexadecimal characters.");
        }

        var manifest = await manifests.GetAsync(uploadId, cancellationToken).ConfigureAwait(false);
        if (manifest is not null && manifest.ProviderId != caller.OrganizationId && !caller.IsAdmin)
        {
            await AuditAsync(AuditEvents.UploadRejectsRead, "Forbidden", caller, parameters, 0, cancellationToken).ConfigureAwait(false);
            return new UploadHistoryResult(UploadHistoryStatus.Forbidden, "Only the organization that uploaded a file, or an administrator, may read its rejected rows.");
        }

        if (manifest is null || manifest.RejectsBlobName is not { Length: > 0 } rejects)
        {
            await AuditAsync(AuditEvents.UploadRejectsRead, "NotFound", caller, parameters, 0, cancellationToken).ConfigureAwait(false);
            return new UploadHistoryResult(UploadHistoryStatus.NotFound, manifest is null ? "No upload has this id." : "This upload has no rejected rows.");
        }

        var blob = storage.Rejects.GetBlobClient(rejects);
        if (!await blob.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            await AuditAsync(AuditEvents.UploadRejectsRead, "NotFound", caller, parameters, 0, cancellationToken).ConfigureAwait(false);
            return new UploadHistoryResult(UploadHistoryStatus.NotFound, "This upload's rejected rows are no longer kept.");
        }

        var csv = (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToString();
        await AuditAsync(AuditEvents.UploadRejectsRead, "Succeeded", caller, parameters, manifest.RowsRejected, cancellationToken).ConfigureAwait(false);
        return new UploadHistoryResult(UploadHistoryStatus.Ok, RejectsCsv: csv);
    }

    private async Task AuditAsync(string @event, string outcome, Caller caller, Dictionary<string, string> parameters, long rows, CancellationToken cancellationToken)
    {
        try
        {
            await audit.AppendAsync(new AuditEntry(@event, outcome) { Caller = caller, Parameters = parameters, RowsReturned = rows }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogAuditFailed(logger, @event, ex.GetType().Name);
            throw new AuditUnavailableException(ex);
        }
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Error, Message = "Audit write for {Event} failed ({ErrorType}); the request fails")]
    private static partial void LogAuditFailed(ILogger logger, string @event, string errorType);
}

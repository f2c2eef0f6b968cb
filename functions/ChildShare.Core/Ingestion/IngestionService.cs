using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ChildShare.Core.Activity;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// Ingests one provider upload: fingerprint, provider and profile checks, a streamed parse that
/// normalizes, pseudonymizes and links each row, then the rebuild of the activity summaries of
/// the children the upload touched. Called by the blob trigger and by the operator command line.
/// </summary>
public sealed partial class IngestionService(
    ChildShareStorage storage,
    ProviderRegistry providers,
    ManifestStore manifests,
    IPseudonymKeyProvider keys,
    IChildLinker linker,
    ActivitySummaryBuilder summaries,
    ChildRecordWriter.Factory recordWriters,
    ILinkageLock linkageLock,
    IOptions<IngestionOptions> options,
    TimeProvider time,
    ILogger<IngestionService> logger)
{
    /// <summary>The operator's command that ingests a failed upload again (<see cref="RetryFailedAsync"/>), as a reason may name it.</summary>
    public const string RetryCommand = "childshare ingest --blob {provider}/{file} --retry-failed";

    private readonly IngestionOptions _options = options.Value;

    // Uploads this process is ingesting now (by upload id).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);

    /// <summary>The upload id of a blob's content: the same bytes at the same path are the same upload.</summary>
    public static string UploadIdOf(string blobName, string contentSha256)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(blobName + "\n" + contentSha256));
        return Convert.ToHexStringLower(bytes.AsSpan(0, 16));
    }

    /// <summary>The provider folder of a blob name, or null when the blob is not in one.</summary>
    public static string? ProviderIdOf(string blobName)
    {
        var slash = blobName.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && slash < blobName.Length - 1 ? blobName[..slash] : null;
    }

    /// <summary>
    /// Ingests a blob of the uploads container. Safe to call again for the same blob: a final
    /// manifest is returned as it is, and an interrupted attempt is redone with the same keys.
    /// Throws only to ask for a retry; after <see cref="IngestionOptions.MaxAttempts"/> the manifest says failed.
    /// An attempt that gave up waiting for the linkage lock is retried without counting toward them.
    /// </summary>
    public Task<UploadManifest> IngestAsync(BlobClient blob, CancellationToken cancellationToken = default) =>
        IngestAsync(blob, blob.Name, null, cancellationToken);

    /// <inheritdoc cref="IngestAsync(BlobClient, CancellationToken)"/>
    /// <param name="blob">The upload blob.</param>
    /// <param name="progress">Told the phase and counts as the work goes (the command line shows them); counts only, never data.</param>
    /// <param name="cancellationToken">Cancels the attempt; the next delivery redoes it.</param>
    public Task<UploadManifest> IngestAsync(BlobClient blob, IProgress<IngestionProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return IngestAsync(blob, blob.Name, progress, cancellationToken);
    }

    /// <summary>
    /// Ingests an upload whose manifest says <see cref="UploadStatus.Failed"/> again, with a fresh count of attempts: the operator's
    /// step once the cause is fixed (storage or Key Vault back, the activity store rebuilt with more buckets). Safe for the same
    /// reason a re-delivery is: the attempt is redone with the same keys. Any other manifest is treated as a delivery would be.
    /// </summary>
    public Task<UploadManifest> RetryFailedAsync(BlobClient blob, IProgress<IngestionProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return IngestAsync(blob, blob.Name, progress, cancellationToken, retryFailed: true);
    }

    /// <summary>
    /// Ingests a blob delivered under <paramref name="deliveredName"/> (the trigger's path, before any
    /// client resolved it). A name that could leave its provider's folder (<see cref="UploadPaths"/>), or
    /// that resolves to another blob, is not read: its manifest says <see cref="UploadStatus.NotProcessed"/>.
    /// </summary>
    public Task<UploadManifest> IngestAsync(BlobClient blob, string deliveredName, CancellationToken cancellationToken = default) =>
        IngestAsync(blob, deliveredName, null, cancellationToken);

    private async Task<UploadManifest> IngestAsync(
        BlobClient blob, string deliveredName, IProgress<IngestionProgress>? progress, CancellationToken cancellationToken, bool retryFailed = false)
    {
        ArgumentNullException.ThrowIfNull(blob);
        var stopwatch = Stopwatch.StartNew();
        var pathProblem = UploadPaths.EscapeProblem(deliveredName)
            ?? (deliveredName == blob.Name || Uri.UnescapeDataString(deliveredName) == blob.Name
                ? null
                : "The upload path resolves to another blob than the one named.");
        if (pathProblem is not null)
        {
            return await RefusePathAsync(deliveredName, pathProblem, stopwatch, cancellationToken).ConfigureAwait(false);
        }

        var blobName = blob.Name;
        var providerId = ProviderIdOf(blobName) ?? "";

        // Both passes read the version the fingerprint saw: a blob overwritten in between is a new upload, not a mix of two.
        var properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var version = new BlobOpenReadOptions(allowModifications: false) { Conditions = new BlobRequestConditions { IfMatch = properties.Value.ETag } };
        UploadFingerprint fingerprint;
        progress?.Report(new IngestionProgress(IngestionPhase.Fingerprint, 0, 0, 0, 0, stopwatch.Elapsed));
        using (var firstPass = await blob.OpenReadAsync(version, cancellationToken).ConfigureAwait(false))
        {
            fingerprint = await UploadFileReader.FingerprintAsync(firstPass, cancellationToken).ConfigureAwait(false);
        }

        var uploadId = UploadIdOf(blobName, fingerprint.Sha256);

        // Two deliveries of one blob in this process would share the linker's buffer of the upload: one at a time.
        if (!_inFlight.TryAdd(uploadId, 0))
        {
            throw UploadRetryException.AlreadyInProgress(uploadId);
        }

        try
        {
            var delivery = new Delivery(blob, blobName, providerId, ManifestStore.ETagText(properties.Value.ETag), version, fingerprint, uploadId, progress, retryFailed);
            var manifest = await IngestAttemptAsync(delivery, stopwatch, cancellationToken).ConfigureAwait(false);
            progress?.Report(new IngestionProgress(IngestionPhase.Done, manifest.RowsRead, manifest.RowsRejected, fingerprint.Length, fingerprint.Length, stopwatch.Elapsed));
            return manifest;
        }
        finally
        {
            _inFlight.TryRemove(uploadId, out _);
        }
    }

    /// <summary>One delivery of a blob: its names, the version read, what the fingerprint found, and who is told the progress.</summary>
    private sealed record Delivery(
        BlobClient Blob, string BlobName, string ProviderId, string ETag, BlobOpenReadOptions Version, UploadFingerprint Fingerprint, string UploadId,
        IProgress<IngestionProgress>? Progress, bool RetryFailed);

    private async Task<UploadManifest> RefusePathAsync(string deliveredName, string problem, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        // The id of a refused name does not depend on content that was never read.
        var uploadId = UploadIdOf(deliveredName, "");
        if (await manifests.GetAsync(uploadId, cancellationToken).ConfigureAwait(false) is { IsFinal: true } existing)
        {
            return existing;
        }

        var folder = ProviderIdOf(deliveredName);
        LogPathRefused(uploadId);
        return await FinishAsync(new UploadManifest
        {
            UploadId = uploadId,
            ProviderId = folder is not null && ProviderRegistry.IsValidId(folder) ? folder : "",
            BlobName = deliveredName,
            ReceivedAt = time.GetUtcNow(),
            Status = UploadStatus.NotProcessed,
            Reason = problem + " The file was not read.",
            Attempts = 1,
        }, stopwatch, cancellationToken).ConfigureAwait(false);
    }

    private async Task<UploadManifest> IngestAttemptAsync(Delivery delivery, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        var (blob, blobName, providerId, fingerprint, uploadId) = (delivery.Blob, delivery.BlobName, delivery.ProviderId, delivery.Fingerprint, delivery.UploadId);
        var existing = await manifests.GetAsync(uploadId, cancellationToken).ConfigureAwait(false);
        var retrying = delivery.RetryFailed && existing is { Status: UploadStatus.Failed };
        if (existing is { IsFinal: true } && !retrying)
        {
            LogRedelivered(uploadId, existing.Status);
            if (existing.BlobETag != delivery.ETag)
            {
                // The same bytes uploaded again under the same name: remember this version, so ingest-pending knows it is done.
                existing = existing with { BlobETag = delivery.ETag };
                await manifests.SaveAsync(existing, cancellationToken).ConfigureAwait(false);
            }

            return existing;
        }

        var manifest = (existing ?? new UploadManifest
        {
            UploadId = uploadId,
            ProviderId = providerId,
            BlobName = blobName,
            ReceivedAt = time.GetUtcNow(),
        }) with
        {
            ContentSha256 = fingerprint.Sha256,
            ContentLength = fingerprint.Length,
            BlobETag = delivery.ETag,
            Status = UploadStatus.Processing,
            // An operator's retry starts a new count: the attempts that failed before the fix say nothing about this one.
            Attempts = (retrying ? 0 : existing?.Attempts ?? 0) + 1,
        };
        if (retrying)
        {
            if (await LaterUploadLandedAsync(existing!, cancellationToken).ConfigureAwait(false))
            {
                // Redone now, the older file would count as the provider's latest: under ReplaceChildServices it would withdraw the
                // newer roster's services, and under Upsert it would put back values the newer file corrected.
                var refused = existing! with
                {
                    Reason = existing.Reason?.StartsWith(NotRetried, StringComparison.Ordinal) == true ? existing.Reason : NotRetried + existing.Reason,
                };
                await manifests.SaveAsync(refused, cancellationToken).ConfigureAwait(false);
                return refused;
            }

            // Saved before anything can fail: a retry that fails again is then an attempt of its own, not the failure it started from.
            manifest = manifest with { Reason = "Retried by an operator after it failed: " + existing!.Reason };
            await manifests.SaveAsync(manifest, cancellationToken).ConfigureAwait(false);
            LogRetriedByOperator(uploadId);
        }

        try
        {
            var notProcessed = await CheckProcessableAsync(manifest, cancellationToken).ConfigureAwait(false);
            if (notProcessed is not null)
            {
                return await FinishAsync(notProcessed, stopwatch, cancellationToken).ConfigureAwait(false);
            }

            var provider = (await providers.GetAsync(providerId, cancellationToken).ConfigureAwait(false))!;
            var profile = (await providers.GetActiveProfileAsync(provider, cancellationToken).ConfigureAwait(false))!;
            var key = await keys.GetCurrentKeyAsync(cancellationToken).ConfigureAwait(false);
            var encoding = UploadFileReader.EncodingFor(profile, fingerprint);
            manifest = manifest with { ProfileVersion = profile.Version, KeyVersion = key.Version, Encoding = encoding.WebName };
            await manifests.SaveAsync(manifest, cancellationToken).ConfigureAwait(false);
            LogStarted(uploadId, providerId, manifest.Attempts);

            manifest = await ParseAndStoreAsync(blob, delivery.Version, manifest, profile, encoding, new Pseudonymizer(key), stopwatch, delivery.Progress, cancellationToken)
                .ConfigureAwait(false);
            if (manifest.Status == UploadStatus.NotProcessed)
            {
                linker.AbandonUpload(uploadId);
                return await FinishAsync(manifest, stopwatch, cancellationToken).ConfigureAwait(false);
            }

            // Linking and the summary rebuild that carries its child keys run under one hold of the lock: a rebuild
            // interleaved with another upload's merge could put an old child key back, or lose a service of a child
            // both touch (both read and write its records row). Parsing and staging above run in parallel.
            var (policy, receivedAt, rowsRead, rowsRejected) = (profile.ReuploadPolicy, manifest.ReceivedAt, manifest.RowsRead, manifest.RowsRejected);
            void Phase(IngestionPhase phase) =>
                delivery.Progress?.Report(new IngestionProgress(phase, rowsRead, rowsRejected, fingerprint.Length, fingerprint.Length, stopwatch.Elapsed));
            Phase(IngestionPhase.Link);
            var rebuilt = await linkageLock.RunExclusiveAsync(
                async ct =>
                {
                    var linked = await linker.CompleteUploadAsync(uploadId, ct).ConfigureAwait(false);
                    Phase(IngestionPhase.Summarize);
                    return await summaries.RebuildForUploadAsync(uploadId, receivedAt, policy, linked.NewChildren, ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
            await manifests.RecordContentAsync(providerId, fingerprint.Sha256, uploadId, cancellationToken).ConfigureAwait(false);
            manifest = manifest with
            {
                Status = manifest.RowsRejected > 0 || rebuilt.ChildrenNotStored > 0 ? UploadStatus.CompletedWithRejections : UploadStatus.Completed,
                ChildrenTouched = rebuilt.Children,
                ServicesWithdrawn = rebuilt.ServicesWithdrawn,
                ChildrenNotStored = rebuilt.ChildrenNotStored,
                Reason = rebuilt.ChildrenNotStored > 0 ? NotStoredReason(rebuilt.ChildrenNotStored) : null,
            };
            return await FinishAsync(manifest, stopwatch, cancellationToken).ConfigureAwait(false);
        }
        catch (LinkageLockTimeoutException ex)
        {
            // Nothing is wrong with the upload: others held the lock (a burst of uploads). This attempt does not
            // count toward MaxAttempts, so waiting can never fail an upload; the trigger delivers it again.
            linker.AbandonUpload(uploadId);
            if (await FinishedMeanwhileAsync(uploadId, cancellationToken).ConfigureAwait(false) is { } finished)
            {
                return finished;
            }

            manifest = manifest with
            {
                Status = UploadStatus.Processing,
                Attempts = manifest.Attempts - 1,
                Reason = "Waiting for the linkage lock (other uploads held it); will be retried without counting an attempt.",
            };
            await manifests.SaveAsync(manifest, cancellationToken).ConfigureAwait(false);
            LogWaitingForLock(uploadId, manifest.Attempts);
            throw UploadRetryException.WaitingForLinkageLock(uploadId, ex);
        }
        catch (OperationCanceledException)
        {
            linker.AbandonUpload(uploadId);
            throw;
        }
        catch (RequestFailedException ex) when (ex.Status == 412 && ex.ErrorCode == BlobErrorCode.ConditionNotMet.ToString())
        {
            // The blob was overwritten after the fingerprint: its new content has another upload id and is ingested as such.
            linker.AbandonUpload(uploadId);
            manifest = manifest with
            {
                Status = UploadStatus.NotProcessed,
                Reason = "The file was overwritten while it was read; its new content is a new upload.",
            };
            return await FinishAsync(manifest, stopwatch, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            linker.AbandonUpload(uploadId);
            if (await FinishedMeanwhileAsync(uploadId, cancellationToken).ConfigureAwait(false) is { } finished)
            {
                return finished;
            }

            // The message of a storage or parser exception is not ours to vouch for; keep only its kind. A record too large is ours (counts
            // only) and another attempt would meet it again.
            var reason = ex switch
            {
                RequestFailedException storageError => $"Storage error {storageError.Status} ({storageError.ErrorCode ?? "no code"}) on attempt {manifest.Attempts}.",
                ChildRecordTooLargeException tooLarge => tooLarge.Message,
                ActivityBucketFullException bucketFull => bucketFull.Message + " Then ingest this upload again: " + RetryCommand + ".",
                _ => $"{ex.GetType().Name} on attempt {manifest.Attempts}.",
            };
            // A record too large, or buckets too few, would fail every later attempt the same way: final now, with the fix in the reason.
            var final = manifest.Attempts >= _options.MaxAttempts || ex is ChildRecordTooLargeException or ActivityBucketFullException;
            manifest = manifest with { Status = final ? UploadStatus.Failed : UploadStatus.Processing, Reason = reason };
            await manifests.SaveAsync(manifest, cancellationToken).ConfigureAwait(false);
            LogAttemptFailed(uploadId, manifest.Attempts, ex.GetType().Name, final);
            if (final)
            {
                return manifest;
            }

            throw new UploadRetryException(uploadId, manifest.Attempts);
        }
    }

    private const string NotRetried = "Not retried: a later upload of this provider has landed since, and this older file would undo what it changed. " +
        "If its content is still wanted, upload it again under a new name (it is then the newest). Before: ";

    /// <summary>Whether an upload of the same provider received after <paramref name="failed"/> has completed.</summary>
    private async Task<bool> LaterUploadLandedAsync(UploadManifest failed, CancellationToken cancellationToken) =>
        (await manifests.ListByProviderAsync(failed.ProviderId, cancellationToken).ConfigureAwait(false))
            .Any(m => m.UploadId != failed.UploadId && m.ReceivedAt > failed.ReceivedAt && m.Status is UploadStatus.Completed or UploadStatus.CompletedWithRejections);

    private static string NotStoredReason(int children) => string.Create(CultureInfo.InvariantCulture,
        $"{children:N0} provider child(ren) of this file were not updated: with the file's services their records would hold more than a records row can ({ChildRecordStore.MaxServiceParts * ChildRecordStore.ServicePartChars:N0} characters of service records). Their earlier services stand (their child key and demographics follow the file); every other child landed. Send such a child's services in fewer, longer records (one per enrollment rather than one per day), or use the ReplaceChildServices re-upload policy.");

    /// <summary>
    /// The manifest, if another instance finished this upload while this attempt ran (a twin delivery):
    /// a failed attempt must not write Processing over it.
    /// </summary>
    private async Task<UploadManifest?> FinishedMeanwhileAsync(string uploadId, CancellationToken cancellationToken)
    {
        var stored = await manifests.GetAsync(uploadId, cancellationToken).ConfigureAwait(false);
        return stored is { IsFinal: true } ? stored : null;
    }

    private async Task<UploadManifest?> CheckProcessableAsync(UploadManifest manifest, CancellationToken cancellationToken)
    {
        if (manifest.ProviderId.Length == 0)
        {
            return manifest with { Status = UploadStatus.NotProcessed, Reason = "The file is not in a provider folder ({providerId}/...)." };
        }

        var provider = await providers.GetAsync(manifest.ProviderId, cancellationToken).ConfigureAwait(false);
        if (provider is null)
        {
            return manifest with { Status = UploadStatus.NotProcessed, Reason = $"Provider \"{manifest.ProviderId}\" is not registered." };
        }

        if (provider.ActiveProfileVersion == 0)
        {
            return manifest with { Status = UploadStatus.NotProcessed, Reason = $"Provider \"{manifest.ProviderId}\" has no mapping profile." };
        }

        if (manifest.ContentLength == 0)
        {
            return manifest with { Status = UploadStatus.NotProcessed, Reason = "The file is empty: a header row is required." };
        }

        var firstUpload = await manifests.FindContentAsync(manifest.ProviderId, manifest.ContentSha256, cancellationToken).ConfigureAwait(false);
        if (firstUpload is not null && firstUpload != manifest.UploadId)
        {
            return manifest with
            {
                Status = UploadStatus.Duplicate,
                DuplicateOf = firstUpload,
                Reason = "The same content was already ingested for this provider; nothing was counted again.",
            };
        }

        return null;
    }

    private async Task<UploadManifest> ParseAndStoreAsync(
        BlobClient blob, BlobOpenReadOptions version, UploadManifest manifest, MappingProfile profile, Encoding encoding, Pseudonymizer pseudonymizer,
        Stopwatch stopwatch, IProgress<IngestionProgress>? progress, CancellationToken cancellationToken)
    {
        var writer = new BatchWriter(_options.MaxBufferedEntities);
        var normalizer = new RowNormalizer(profile, _options, DateOnly.FromDateTime(manifest.ReceivedAt.UtcDateTime));
        var rejects = new RejectsWriter(storage.Rejects, manifest.BlobName, manifest.UploadId);
        var records = recordWriters.Create(writer, pseudonymizer, linker, manifest);
        int read = 0, accepted = 0, rejected = 0, unreadable = 0, incomplete = 0, noted = 0;
        try
        {
            using var content = await blob.OpenReadAsync(version, cancellationToken).ConfigureAwait(false);
            progress?.Report(new IngestionProgress(IngestionPhase.Parse, 0, 0, 0, manifest.ContentLength, stopwatch.Elapsed));
            foreach (var row in UploadFileReader.ReadRows(content, encoding, profile.DelimiterFor(manifest.BlobName), profile))
            {
                cancellationToken.ThrowIfCancellationRequested();
                read++;
                if (progress is not null && read % _options.ProgressEveryRows == 0)
                {
                    progress.Report(new IngestionProgress(IngestionPhase.Parse, read, rejected, content.Position, manifest.ContentLength, stopwatch.Elapsed));
                }

                if (row.Problems.Count > 0)
                {
                    // Not read as a row (a broken quote, a line past its limit) or a cell past its field's limit.
                    await rejects.WriteAsync(row.Problems, cancellationToken).ConfigureAwait(false);
                    rejected++;
                    unreadable += row.IsUnreadable ? 1 : 0;
                    continue;
                }

                var result = normalizer.Normalize(row);
                if (result.Record is { } record)
                {
                    await records.WriteAsync(record, cancellationToken).ConfigureAwait(false);
                    accepted++;
                    incomplete += record.Identity.IsIncomplete ? 1 : 0;
                    if (record.Notes.Count > 0)
                    {
                        await rejects.WriteAsync(record.Notes, cancellationToken).ConfigureAwait(false);
                        noted++;
                    }
                }
                else
                {
                    await rejects.WriteAsync(result.Rejections, cancellationToken).ConfigureAwait(false);
                    rejected++;
                }
            }

            await records.WritePendingAsync(cancellationToken).ConfigureAwait(false);
            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (UploadHeaderException ex)
        {
            await rejects.DisposeAsync().ConfigureAwait(false);
            return manifest with { Status = UploadStatus.NotProcessed, Reason = string.Join(" ", ex.Problems), RowsRead = read };
        }

        await rejects.DisposeAsync().ConfigureAwait(false);
        LogParsed(manifest.UploadId, read, accepted, rejected, unreadable, records.ChildrenWithConflicts);
        return manifest with
        {
            RowsRead = read,
            RowsAccepted = accepted,
            RowsRejected = rejected,
            RowsUnreadable = unreadable,
            IdentityConflicts = records.ChildrenWithConflicts,
            IdentityConflictFields = records.ConflictFields.Count > 0 ? string.Join(",", records.ConflictFields) : null,
            RowsIncompleteIdentity = incomplete,
            RejectsBlobName = rejected + noted > 0 ? rejects.BlobName : null,
        };
    }

    private async Task<UploadManifest> FinishAsync(UploadManifest manifest, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        var finished = manifest with
        {
            CompletedAt = time.GetUtcNow(),
            DurationSeconds = Math.Round(stopwatch.Elapsed.TotalSeconds, 3),
        };
        await manifests.SaveAsync(finished, cancellationToken).ConfigureAwait(false);
        LogFinished(finished.UploadId, finished.Status, finished.RowsAccepted, finished.RowsRejected, finished.DurationSeconds);
        return finished;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {UploadId} failed before; an operator retries it")]
    private partial void LogRetriedByOperator(string uploadId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {UploadId} already has a final manifest ({Status}); re-delivery ignored")]
    private partial void LogRedelivered(string uploadId, UploadStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {UploadId} from provider {ProviderId}: attempt {Attempt} started")]
    private partial void LogStarted(string uploadId, string providerId, int attempt);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Upload {UploadId} parsed: {Read} rows read, {Accepted} accepted, {Rejected} rejected ({Unreadable} unreadable), {Conflicts} children with conflicting identity values")]
    private partial void LogParsed(string uploadId, int read, int accepted, int rejected, int unreadable, int conflicts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upload {UploadId} not read: its path could leave its provider folder")]
    private partial void LogPathRefused(string uploadId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {UploadId} finished {Status}: {Accepted} rows accepted, {Rejected} rejected in {Seconds} s")]
    private partial void LogFinished(string uploadId, UploadStatus status, int accepted, int rejected, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upload {UploadId} attempt {Attempt} failed with {ErrorType}; final: {Final}")]
    private partial void LogAttemptFailed(string uploadId, int attempt, string errorType, bool final);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Upload {UploadId} timed out waiting for the linkage lock; retried without counting an attempt ({Attempts} counted)")]
    private partial void LogWaitingForLock(string uploadId, int attempts);
}

/// <summary>Thrown to have the trigger deliver the upload again; carries no data of the file.</summary>
public sealed class UploadRetryException : Exception
{
    public UploadRetryException(string uploadId, int attempt)
        : this(uploadId, $"Upload {uploadId} failed on attempt {attempt} and will be retried; its manifest has the reason.", null)
    {
    }

    private UploadRetryException(string uploadId, string message, Exception? inner)
        : base(message, inner) => UploadId = uploadId;

    public string UploadId { get; }

    /// <summary>Another delivery of the same upload is being ingested by this process; nothing was done.</summary>
    public static UploadRetryException AlreadyInProgress(string uploadId) =>
        new(uploadId, $"Upload {uploadId} is already being ingested by this instance; this delivery will be retried.", null);

    /// <summary>The upload waited longer than the lock timeout; the attempt was not counted.</summary>
    public static UploadRetryException WaitingForLinkageLock(string uploadId, LinkageLockTimeoutException inner) =>
        new(uploadId, $"Upload {uploadId} waited too long for the linkage lock and will be retried; the attempt was not counted.", inner);
}

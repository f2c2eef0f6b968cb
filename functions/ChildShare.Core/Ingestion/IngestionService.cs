using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
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
    ILinkageLock linkageLock,
    IOptions<IngestionOptions> options,
    TimeProvider time,
    ILogger<IngestionService> logger)
{
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
    public async Task<UploadManifest> IngestAsync(BlobClient blob, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        var blobName = blob.Name;
        var providerId = ProviderIdOf(blobName) ?? "";

        UploadFingerprint fingerprint;
        using (var firstPass = await blob.OpenReadAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
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
            return await IngestAttemptAsync(blob, blobName, providerId, fingerprint, uploadId, stopwatch, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _inFlight.TryRemove(uploadId, out _);
        }
    }

    private async Task<UploadManifest> IngestAttemptAsync(
        BlobClient blob, string blobName, string providerId, UploadFingerprint fingerprint, string uploadId, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        var existing = await manifests.GetAsync(uploadId, cancellationToken).ConfigureAwait(false);
        if (existing is { IsFinal: true })
        {
            LogRedelivered(uploadId, existing.Status);
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
            Status = UploadStatus.Processing,
            Attempts = (existing?.Attempts ?? 0) + 1,
        };

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

            manifest = await ParseAndStoreAsync(blob, manifest, profile, encoding, new Pseudonymizer(key), cancellationToken).ConfigureAwait(false);
            if (manifest.Status == UploadStatus.NotProcessed)
            {
                linker.AbandonUpload(uploadId);
                return await FinishAsync(manifest, stopwatch, cancellationToken).ConfigureAwait(false);
            }

            // Linking and the summary rebuild that carries its child keys run under one hold of the lock: a rebuild
            // interleaved with another upload's merge could put an old child key back, or lose a service of a child
            // both touch (both read and write its records row). Parsing and staging above run in parallel.
            var (policy, receivedAt) = (profile.ReuploadPolicy, manifest.ReceivedAt);
            var rebuilt = await linkageLock.RunExclusiveAsync(
                async ct =>
                {
                    await linker.CompleteUploadAsync(uploadId, ct).ConfigureAwait(false);
                    return await summaries.RebuildForUploadAsync(uploadId, receivedAt, policy, ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
            await manifests.RecordContentAsync(providerId, fingerprint.Sha256, uploadId, cancellationToken).ConfigureAwait(false);
            manifest = manifest with
            {
                Status = manifest.RowsRejected > 0 ? UploadStatus.CompletedWithRejections : UploadStatus.Completed,
                ChildrenTouched = rebuilt.Children,
                ServicesWithdrawn = rebuilt.ServicesWithdrawn,
                Reason = null,
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
        catch (Exception ex)
        {
            linker.AbandonUpload(uploadId);
            if (await FinishedMeanwhileAsync(uploadId, cancellationToken).ConfigureAwait(false) is { } finished)
            {
                return finished;
            }

            // The message of a storage or parser exception is not ours to vouch for; keep only its kind.
            var reason = ex is RequestFailedException storageError
                ? $"Storage error {storageError.Status} ({storageError.ErrorCode ?? "no code"}) on attempt {manifest.Attempts}."
                : $"{ex.GetType().Name} on attempt {manifest.Attempts}.";
            var final = manifest.Attempts >= _options.MaxAttempts;
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
        BlobClient blob, UploadManifest manifest, MappingProfile profile, Encoding encoding, Pseudonymizer pseudonymizer, CancellationToken cancellationToken)
    {
        var writer = new BatchWriter(_options.MaxBufferedEntities);
        var normalizer = new RowNormalizer(profile, _options, DateOnly.FromDateTime(manifest.ReceivedAt.UtcDateTime));
        var rejects = new RejectsWriter(storage.Rejects, manifest.BlobName, manifest.UploadId);
        var records = new ChildRecordWriter(storage, writer, pseudonymizer, linker, manifest);
        int read = 0, accepted = 0, rejected = 0, incomplete = 0, noted = 0;
        try
        {
            using var content = await blob.OpenReadAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var row in UploadFileReader.ReadRows(content, encoding, profile.DelimiterFor(manifest.BlobName), profile))
            {
                cancellationToken.ThrowIfCancellationRequested();
                read++;
                var result = normalizer.Normalize(row.LineNumber, field => row[field]);
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

            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (UploadHeaderException ex)
        {
            await rejects.DisposeAsync().ConfigureAwait(false);
            return manifest with { Status = UploadStatus.NotProcessed, Reason = string.Join(" ", ex.Problems), RowsRead = read };
        }

        await rejects.DisposeAsync().ConfigureAwait(false);
        LogParsed(manifest.UploadId, read, accepted, rejected);
        return manifest with
        {
            RowsRead = read,
            RowsAccepted = accepted,
            RowsRejected = rejected,
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {UploadId} already has a final manifest ({Status}); re-delivery ignored")]
    private partial void LogRedelivered(string uploadId, UploadStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {UploadId} from provider {ProviderId}: attempt {Attempt} started")]
    private partial void LogStarted(string uploadId, string providerId, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {UploadId} parsed: {Read} rows read, {Accepted} accepted, {Rejected} rejected")]
    private partial void LogParsed(string uploadId, int read, int accepted, int rejected);

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

using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Storage.Blobs.Models;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;

namespace ChildShare.Cli;

/// <summary>The operator's steps, one method each, shared by the commands and the demo.</summary>
public sealed class Operator(ChildShareStorage storage, ProviderRegistry providers, ManifestStore manifests, IngestionService ingestion, TextWriter output)
{
    public static readonly JsonSerializerOptions PrintOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken: cancellationToken);
        await output.WriteLineAsync("Containers and tables are ready.");
    }

    public async Task RegisterProviderAsync(string id, string name, string kind, string? profileFile, CancellationToken cancellationToken)
    {
        await providers.RegisterAsync(id, name, kind, cancellationToken);
        await output.WriteLineAsync($"Provider {id} registered ({kind}).");
        if (profileFile is not null)
        {
            await SaveProfileAsync(id, profileFile, cancellationToken);
        }
    }

    public async Task SaveProfileAsync(string providerId, string profileFile, CancellationToken cancellationToken)
    {
        var profile = await providers.SaveProfileAsync(providerId, await File.ReadAllTextAsync(profileFile, cancellationToken), cancellationToken);
        await output.WriteLineAsync($"Provider {providerId}: mapping profile version {profile.Version} saved and active.");
    }

    /// <summary>
    /// Uploads a local file to <c>uploads/{provider}/{name}</c>, as a provider would. A path that could
    /// leave the provider's folder (<see cref="UploadPaths"/>) is refused before anything is written.
    /// </summary>
    public async Task<string> UploadAsync(string providerId, string file, string? name, CancellationToken cancellationToken)
    {
        if (!ProviderRegistry.IsValidId(providerId))
        {
            throw new OperatorInputException("Refused: a provider id is 2 to 63 lowercase letters, digits and dashes.");
        }

        var blob = storage.Uploads.GetBlobClient(RequireInsideFolder($"{providerId}/{name ?? Path.GetFileName(file)}"));
        await blob.UploadAsync(file, overwrite: true, cancellationToken);
        await output.WriteLineAsync($"Uploaded {file} to {storage.Uploads.Name}/{blob.Name}.");
        return blob.Name;
    }

    /// <summary>Ingests one upload now, as the trigger would; a path that could leave its provider's folder is refused.</summary>
    public async Task<UploadManifest> IngestAsync(string blobName, CancellationToken cancellationToken)
    {
        var manifest = await ingestion.IngestAsync(storage.Uploads.GetBlobClient(RequireInsideFolder(blobName)), cancellationToken);
        await PrintAsync(manifest);
        return manifest;
    }

    /// <summary>
    /// Ingests every upload blob whose current version has no final manifest: new blobs, blobs
    /// overwritten under the same name (a new ETag), backfills, local runs without Event Grid, and
    /// uploads left Processing (interrupted, or out of trigger deliveries while waiting for the
    /// linkage lock). An upload that fails does not stop the run: every outcome is reported.
    /// </summary>
    public async Task<IReadOnlyList<IngestOutcome>> IngestPendingAsync(CancellationToken cancellationToken)
    {
        var done = await manifests.ListFinalVersionsAsync(cancellationToken);
        var pending = new List<string>();
        await foreach (var blob in storage.Uploads.GetBlobsAsync(new GetBlobsOptions(), cancellationToken))
        {
            if (blob.Properties.ETag is not { } etag || !done.Contains((blob.Name, ManifestStore.ETagText(etag))))
            {
                pending.Add(blob.Name);
            }
        }

        await output.WriteLineAsync($"{pending.Count} upload(s) without a final manifest for their current content.");
        var outcomes = new List<IngestOutcome>();
        foreach (var blobName in pending)
        {
            try
            {
                // The listed name is the stored one; the service refuses (NotProcessed) one that could leave its folder.
                var manifest = await ingestion.IngestAsync(storage.Uploads.GetBlobClient(blobName), cancellationToken);
                await PrintAsync(manifest);
                outcomes.Add(new IngestOutcome(blobName, manifest, null));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                outcomes.Add(new IngestOutcome(blobName, null, IngestOutcome.Describe(ex)));
            }
        }

        foreach (var outcome in outcomes)
        {
            await output.WriteLineAsync(outcome.Manifest is { } m
                ? $"{m.Status,-25} {m.UploadId}  {outcome.BlobName}"
                : $"{"AttemptFailed",-25} {"",32}  {outcome.BlobName}: {outcome.Error}");
        }

        var failed = outcomes.Count(o => o.Failed);
        await output.WriteLineAsync($"{outcomes.Count - failed} upload(s) finished, {failed} failed.");
        return outcomes;
    }

    /// <summary>A blob name the command line accepts: one that cannot leave its provider's folder.</summary>
    private static string RequireInsideFolder(string blobName) =>
        UploadPaths.EscapeProblem(blobName) is { } problem ? throw new OperatorInputException("Refused: " + problem) : blobName;

    /// <summary>How many provider records there are, and how many community children they link into.</summary>
    public async Task<(int ProviderRecords, int Children)> CountChildrenAsync(CancellationToken cancellationToken)
    {
        var records = 0;
        var children = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var member in storage.Table(TableNames.Children).QueryAsync<Azure.Data.Tables.TableEntity>(select: ["ChildKey"], cancellationToken: cancellationToken))
        {
            records++;
            children.Add(member.GetString("ChildKey") ?? "");
        }

        return (records, children.Count);
    }

    public async Task ShowManifestAsync(string uploadId, CancellationToken cancellationToken)
    {
        var manifest = await manifests.GetAsync(uploadId, cancellationToken);
        if (manifest is null)
        {
            await output.WriteLineAsync($"No upload has the id {uploadId}.");
            return;
        }

        await PrintAsync(manifest);
    }

    private Task PrintAsync(UploadManifest manifest) => output.WriteLineAsync(JsonSerializer.Serialize(manifest, PrintOptions));
}

/// <summary>What <c>ingest-pending</c> did with one blob: its manifest, or why the attempt did not finish.</summary>
public sealed record IngestOutcome(string BlobName, UploadManifest? Manifest, string? Error)
{
    public UploadStatus? Status => Manifest?.Status;

    /// <summary>The attempt threw (it will be retried) or the upload ended Failed.</summary>
    public bool Failed => Error is not null || Manifest is { Status: UploadStatus.Failed };

    /// <summary>What went wrong, from the kind of error only: an exception's text could quote data.</summary>
    public static string Describe(Exception error) => error switch
    {
        UploadRetryException retry => retry.Message,
        Azure.RequestFailedException storage => $"storage error {storage.Status} ({storage.ErrorCode ?? "no code"})",
        _ => error.GetType().Name,
    };
}

/// <summary>An operator's input the command line refuses (exit code 2, one line on standard error).</summary>
public sealed class OperatorInputException(string message) : Exception(message);

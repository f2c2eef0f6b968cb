using System.Text.Json;
using System.Text.Json.Serialization;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Sharing.Identifiable.Parent;
using ChildShare.Core.Storage;

namespace ChildShare.Cli;

/// <summary>The operator's steps, one method each, shared by the commands and the demo.</summary>
public sealed class Operator(
    ChildShareStorage storage, ProviderRegistry providers, ManifestStore manifests, UploadManifestReader manifestReader, IngestionService ingestion,
    ConsentService consents, ParentLinkService links, DisclosureDocuments disclosures, MembershipStore memberships, TimeProvider time, TextWriter output)
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

    /// <summary>Registers a provider and, when given, its profile: all or nothing, the profile is read and validated before anything is written.</summary>
    public async Task RegisterProviderAsync(string id, string name, string kind, string? profileFile, CancellationToken cancellationToken)
    {
        if (profileFile is not null)
        {
            MappingProfile.Parse(await File.ReadAllTextAsync(profileFile, cancellationToken));
        }

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
            // The folder is the provider's id: one with capitals would be kept but never processed.
            throw new OperatorException("Refused: a provider id is 2 to 63 lowercase letters, digits and dashes.");
        }

        var blob = storage.Uploads.GetBlobClient(RequireInsideFolder($"{providerId}/{name ?? Path.GetFileName(file)}"));
        await blob.UploadAsync(file, overwrite: true, cancellationToken);
        await output.WriteLineAsync($"Uploaded {file} to {storage.Uploads.Name}/{blob.Name}.");
        return blob.Name;
    }

    /// <summary>
    /// Ingests one upload now, as the trigger would (with <paramref name="retryFailed"/>, also one whose manifest says Failed); a path
    /// that could leave its provider's folder is refused.
    /// </summary>
    public async Task<UploadManifest> IngestAsync(string blobName, CancellationToken cancellationToken, bool retryFailed = false)
    {
        var blob = storage.Uploads.GetBlobClient(RequireInsideFolder(blobName));
        if (!await blob.ExistsAsync(cancellationToken))
        {
            throw new OperatorException($"No upload {storage.Uploads.Name}/{blobName}: upload it first (childshare upload), or check the name.");
        }

        var progress = ConsoleIngestionProgress.ForConsole();
        var manifest = retryFailed
            ? await ingestion.RetryFailedAsync(blob, progress, cancellationToken)
            : await ingestion.IngestAsync(blob, progress, cancellationToken);
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
        var pending = await manifests.ListPendingUploadsAsync(cancellationToken);
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
        UploadPaths.EscapeProblem(blobName) is { } problem ? throw new OperatorException("Refused: " + problem) : blobName;

    /// <summary>How many provider records there are, and how many community children they link into.</summary>
    public async Task<(int ProviderRecords, int Children)> CountChildrenAsync(CancellationToken cancellationToken)
    {
        var records = 0;
        var children = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var childKey in memberships.ChildKeysAsync(cancellationToken))
        {
            records++;
            children.Add(childKey);
        }

        return (records, children.Count);
    }

    public async Task ShowManifestAsync(string uploadId, CancellationToken cancellationToken)
    {
        // Audited as every manifest read is, before it is shown.
        var (_, manifest) = await manifestReader.ReadAsync(Caller.CommunityOperator(Environment.UserName), uploadId, cancellationToken);
        if (manifest is null)
        {
            throw new OperatorException($"No upload has the id {uploadId}.");
        }

        await PrintAsync(manifest);
    }

    /// <summary>
    /// The parent's side of the demo: <paramref name="owner"/> stores a disclosure text, records a consent for its child
    /// <paramref name="localChildId"/> (sharing with <paramref name="recipient"/>), once, and prints a signed link to the parent's page.
    /// </summary>
    public async Task<IssuedParentLink?> ParentLinkAsync(string owner, string localChildId, string recipient, CancellationToken cancellationToken)
    {
        var caller = Caller.OperatorFor(owner, "demo");
        const string notice = "Sample disclosure: your child's name, date of birth and program enrolment are shared with the after-school program to coordinate support. You may revoke at any time on your consent page.";
        var sha256 = await disclosures.UploadAsync(caller, "demo-notice", "1", notice, cancellationToken);
        var existing = await consents.ForChildAsync(caller, owner, localChildId, cancellationToken);
        if (existing is null)
        {
            return null;
        }

        var consent = existing.FirstOrDefault(c => c.Consent.Status == ConsentStatus.Active)?.Consent ?? (await consents.RecordAsync(caller, new ConsentDraft
        {
            LocalChildId = localChildId,
            GivenBy = new ConsentGrantor("Sample Parent", "parent"),
            Sources = [owner],
            Recipients = [recipient],
            Purpose = "Coordinate after-school support (sample data)",
            Categories = [ConsentCategories.Identity, ConsentCategories.Enrollment],
            Disclosure = new ConsentDisclosure("demo-notice", "1", sha256),
            Signature = new ConsentSignature(SignatureMethod.Electronic, Evidence: "demo"),
            ExpiresAt = time.GetUtcNow().AddDays(90),
        }, cancellationToken)).Consent;
        var link = await links.IssueAsync(caller, consent.Id, cancellationToken);
        await output.WriteLineAsync($"Parent link to consent {consent.Id} (open it where the function app runs; expires {link?.ExpiresAt:yyyy-MM-dd}):");
        await output.WriteLineAsync(link?.Url);
        return link;
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


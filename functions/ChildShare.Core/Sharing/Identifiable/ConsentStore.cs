using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Sharing.Identifiable;

/// <summary>Who makes a change: an HTTP caller, or an actor such as <c>operator:{user}</c> or <c>timer</c>.</summary>
public sealed record ConsentActor(Caller? Caller, string Name)
{
    public static ConsentActor Of(Caller caller) => new(caller, $"{caller.OrganizationId}/{caller.Method}/{caller.CredentialId}");

    public static ConsentActor System(string name) => new(null, name);
}

/// <summary>
/// Consents in Table Storage, never deleted:
/// <list type="bullet">
/// <item><c>consents</c>: PK the first hex digit of the consent id (16 partitions, so bulk loads batch),
/// RK the id for the current version (the row whose ETag guards every change) and <c>{id}|v{version:D6}</c> for
/// every version ever written. A change replaces the current row (If-Match its ETag) and adds the
/// history row in one transaction: both or neither.</item>
/// <item><c>consentchildren</c>: PK community child key, RK consent id: the consents of a child.</item>
/// <item><c>consentexpiry</c>: PK <c>expiry-yyyy-MM-dd</c> (UTC day of expiry), RK <c>{expiry yyyyMMddHHmmss}|{id}</c>,
/// with the parties: the expiry job reads only the days that are due, the renewal list only the days
/// of its window. PK <c>cursor</c>, RK <c>expiry</c> holds the first day the job has not finished.</item>
/// <item><c>consentsources</c>: PK a source organization, RK consent id, with that source's decision and the
/// consent's status: the list of consents awaiting a source's authorization reads one partition. It is an
/// index, refreshed after each change; the consent row is the truth and every listing re-reads it.</item>
/// </list>
/// Every change is audited strictly before it is written (outcome <see cref="AuditOutcomes.Committing"/>):
/// when the audit cannot be written, nothing changes. The history row is written with the change.
/// </summary>
public class ConsentStore(ChildShareStorage storage, AuditLog audit, TimeProvider time)
{
    public const string CursorPartition = "cursor";
    public const string CursorRow = "expiry";
    private const string CurrentMarker = "";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    internal TableClient Consents => storage.Table(TableNames.Consents);

    internal TableClient Children => storage.Table(TableNames.ConsentChildren);

    internal TableClient Expiry => storage.Table(TableNames.ConsentExpiry);

    internal TableClient SourceIndex => storage.Table(TableNames.ConsentSources);

    public static string NewId() => Guid.NewGuid().ToString("N");

    public static bool IsValidId(string? id) => id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower);

    public static string Bucket(string id) => id[..1];

    public static string ExpiryPartition(DateOnly day) => "expiry-" + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string ExpiryRow(DateTimeOffset expiresAt, string id) =>
        expiresAt.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "|" + id;

    public virtual async Task<VersionedConsent?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(id))
        {
            return null;
        }

        var response = await Consents.GetEntityIfExistsAsync<TableEntity>(Bucket(id), id + CurrentMarker, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? new VersionedConsent(FromEntity(entity), entity.ETag.ToString()) : null;
    }

    /// <summary>Every version of a consent, oldest first.</summary>
    public async Task<IReadOnlyList<ConsentRecord>> HistoryAsync(string id, CancellationToken cancellationToken = default)
    {
        var versions = new List<ConsentRecord>();
        if (!IsValidId(id))
        {
            return versions;
        }

        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Bucket(id)} and RowKey gt {id + "|"} and RowKey lt {id + "|~"}");
        await foreach (var entity in Consents.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            versions.Add(FromEntity(entity));
        }

        return versions;
    }

    /// <summary>Every consent (current versions) of a community child.</summary>
    public virtual async Task<IReadOnlyList<VersionedConsent>> ForChildAsync(string childKey, CancellationToken cancellationToken = default)
    {
        var ids = new List<string>();
        await foreach (var entity in Children.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {childKey}"), select: ["RowKey"],
            cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            ids.Add(entity.RowKey);
        }

        var consents = await Task.WhenAll(ids.Select(id => GetAsync(id, cancellationToken))).ConfigureAwait(false);
        return consents.OfType<VersionedConsent>().OrderBy(c => c.Consent.GivenAt).ThenBy(c => c.Consent.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>Adds a new consent (its version 1), its indexes, and audits it.</summary>
    public virtual async Task<VersionedConsent> AddAsync(ConsentRecord consent, ConsentActor actor, string auditEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consent);
        ArgumentNullException.ThrowIfNull(actor);
        await AuditAsync(auditEvent, consent, actor, cancellationToken).ConfigureAwait(false);
        await EnsureCursorAsync(cancellationToken).ConfigureAwait(false);
        await Children.UpsertEntityAsync(new TableEntity(consent.ChildKey, consent.Id), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        await Expiry.UpsertEntityAsync(ExpiryEntity(consent), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        await IndexSourcesAsync(consent, cancellationToken).ConfigureAwait(false);
        var response = await Consents.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, ToEntity(consent, current: true)),
                new TableTransactionAction(TableTransactionActionType.Add, ToEntity(consent, current: false)),
            ], cancellationToken).ConfigureAwait(false);
        var etag = await ETagOfAsync(response, consent.Id, cancellationToken).ConfigureAwait(false);
        return new VersionedConsent(consent, etag);
    }

    /// <summary>
    /// Replaces the current version if its ETag still matches, adding the history row in the same
    /// transaction, and audits it. Returns null when another change came first (412): re-read and re-apply.
    /// </summary>
    public virtual async Task<VersionedConsent?> TryReplaceAsync(VersionedConsent existing, ConsentRecord changed, ConsentActor actor, string auditEvent,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(changed);
        var next = changed with { Version = existing.Consent.Version + 1 };
        await AuditAsync(auditEvent, next, actor, cancellationToken).ConfigureAwait(false);
        Response<IReadOnlyList<Response>> response;
        try
        {
            response = await Consents.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(next, current: true), new ETag(existing.ETag)),
                    new TableTransactionAction(TableTransactionActionType.Add, ToEntity(next, current: false)),
                ], cancellationToken).ConfigureAwait(false);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 412 or 409)
        {
            // 412: the current row changed since it was read; 409: that version's history row exists (another writer won).
            return null;
        }

        var etag = await ETagOfAsync(response, next.Id, cancellationToken).ConfigureAwait(false);
        await IndexSourcesAsync(next, cancellationToken).ConfigureAwait(false);
        return new VersionedConsent(next, etag);
    }

    /// <summary>
    /// Replaces several consents of one partition (at most 50) in one transaction, each If-Match its
    /// ETag, with their history rows, and audits them in batches. False when any had changed (412):
    /// nothing is written, and the caller re-applies one by one.
    /// </summary>
    public virtual async Task<bool> TryReplaceManyAsync(IReadOnlyList<(VersionedConsent Existing, ConsentRecord Changed)> changes, ConsentActor actor, string auditEvent,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(actor);
        if (changes.Count == 0)
        {
            return true;
        }

        if (changes.Count > BatchWriter.MaxBatchSize / 2 || changes.Select(c => Bucket(c.Existing.Consent.Id)).Distinct().Count() != 1)
        {
            throw new ArgumentException("A batch holds at most 50 consents of one partition.", nameof(changes));
        }

        var next = changes.Select(c => (c.Existing, Next: c.Changed with { Version = c.Existing.Consent.Version + 1 })).ToList();
        await audit.AppendManyAsync(next.Select(c => AuditEntryFor(auditEvent, c.Next, actor)).ToList(), cancellationToken).ConfigureAwait(false);
        try
        {
            await Consents.SubmitTransactionAsync(next.SelectMany(c => new[]
            {
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(c.Next, current: true), new ETag(c.Existing.ETag)),
                new TableTransactionAction(TableTransactionActionType.Add, ToEntity(c.Next, current: false)),
            }), cancellationToken).ConfigureAwait(false);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 412 or 409)
        {
            return false;
        }

        return true;
    }

    /// <summary>
    /// Loads consents in bulk (a migration of existing consents, or a test): current and history rows
    /// in 100-entity transactions per partition, with their indexes. Not audited per consent; the
    /// caller audits the load.
    /// </summary>
    public async Task ImportAsync(IEnumerable<ConsentRecord> consents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consents);
        await EnsureCursorAsync(cancellationToken).ConfigureAwait(false);
        var writer = new BatchWriter();
        foreach (var consent in consents)
        {
            await writer.UpsertAsync(Consents, ToEntity(consent, current: true), cancellationToken).ConfigureAwait(false);
            await writer.UpsertAsync(Consents, ToEntity(consent, current: false), cancellationToken).ConfigureAwait(false);
            await writer.UpsertAsync(Children, new TableEntity(consent.ChildKey, consent.Id), cancellationToken).ConfigureAwait(false);
            await writer.UpsertAsync(Expiry, ExpiryEntity(consent), cancellationToken).ConfigureAwait(false);
            foreach (var row in SourceIndexEntities(consent))
            {
                await writer.UpsertAsync(SourceIndex, row, cancellationToken).ConfigureAwait(false);
            }
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The first day whose expiry index the job has not finished (null before any consent).</summary>
    public async Task<DateOnly?> ReadCursorAsync(CancellationToken cancellationToken = default)
    {
        var response = await Expiry.GetEntityIfExistsAsync<TableEntity>(CursorPartition, CursorRow, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? RecordKeys.ParseIsoDate(entity.GetString("Day")) : null;
    }

    public async Task WriteCursorAsync(DateOnly day, CancellationToken cancellationToken = default) =>
        await Expiry.UpsertEntityAsync(new TableEntity(CursorPartition, CursorRow) { ["Day"] = RecordKeys.IsoDate(day) }, TableUpdateMode.Replace, cancellationToken)
            .ConfigureAwait(false);

    /// <summary>
    /// The expiry index rows of one day, a page at a time, up to (excluding) <paramref name="before"/> when given.
    /// </summary>
    public IAsyncEnumerable<Page<TableEntity>> ExpiryPagesAsync(DateOnly day, DateTimeOffset? before, int pageSize, CancellationToken cancellationToken = default)
    {
        var partition = ExpiryPartition(day);
        var filter = before is { } limit
            ? TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {ExpiryRow(limit, "")}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
        return Expiry.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken).AsPages(pageSizeHint: pageSize);
    }

    /// <summary>Whether an expiry index row names <paramref name="organizationId"/> among the consent's parties.</summary>
    public static bool IndexNamesParty(TableEntity row, string organizationId) =>
        (row.GetString("Parties") ?? "").Contains("," + organizationId + ",", StringComparison.Ordinal);

    /// <summary>
    /// The active consents naming <paramref name="sourceId"/> as a source that it has not answered yet,
    /// read from its index partition and confirmed against each consent row.
    /// </summary>
    public async Task<IReadOnlyList<VersionedConsent>> AwaitingAuthorizationAsync(string sourceId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var ids = new List<string>();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {sourceId} and Decision eq {nameof(OwnerDecision.Pending)} and Status eq {nameof(ConsentStatus.Active)} and ExpiresAt gt {now}");
        await foreach (var row in SourceIndex.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            ids.Add(row.RowKey);
        }

        var consents = await Task.WhenAll(ids.Select(id => GetAsync(id, cancellationToken))).ConfigureAwait(false);
        return consents.OfType<VersionedConsent>()
            .Where(c => c.Consent.Status == ConsentStatus.Active && now < c.Consent.ExpiresAt && c.Consent.IsSource(sourceId)
                && c.Consent.AuthorizationOf(sourceId).Decision == OwnerDecision.Pending)
            .OrderBy(c => c.Consent.GivenAt).ThenBy(c => c.Consent.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Rebuilds the <c>consentsources</c> index from the consents themselves (current rows only, a page at a
    /// time): for consents stored before the index existed, or after a crash between a change and its index
    /// refresh. Idempotent. Returns how many consents it indexed.
    /// </summary>
    public async Task<int> ReindexSourcesAsync(CancellationToken cancellationToken = default)
    {
        var writer = new BatchWriter();
        var indexed = 0;
        await foreach (var entity in Consents.QueryAsync<TableEntity>(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (entity.RowKey.Contains('|', StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var row in SourceIndexEntities(FromEntity(entity)))
            {
                await writer.UpsertAsync(SourceIndex, row, cancellationToken).ConfigureAwait(false);
            }

            indexed++;
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        return indexed;
    }

    private async Task IndexSourcesAsync(ConsentRecord consent, CancellationToken cancellationToken)
    {
        foreach (var row in SourceIndexEntities(consent))
        {
            await SourceIndex.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }
    }

    private static IEnumerable<TableEntity> SourceIndexEntities(ConsentRecord consent) =>
        consent.AuthorizationsBySource.Select(a => new TableEntity(a.SourceId, consent.Id)
        {
            ["Decision"] = a.Decision.ToString(),
            ["Status"] = consent.Status.ToString(),
            ["ExpiresAt"] = consent.ExpiresAt,
        });

    private async Task EnsureCursorAsync(CancellationToken cancellationToken)
    {
        // The job starts from the day the first consent was recorded: every consent expires after the day it was recorded.
        try
        {
            await Expiry.AddEntityAsync(new TableEntity(CursorPartition, CursorRow) { ["Day"] = RecordKeys.IsoDate(DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime)) },
                cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // The cursor exists.
        }
    }

    private async Task<string> ETagOfAsync(Response<IReadOnlyList<Response>> response, string id, CancellationToken cancellationToken)
    {
        if (response.Value.Count > 0 && response.Value[0].Headers.ETag is { } etag && etag != default)
        {
            return etag.ToString();
        }

        return (await GetAsync(id, cancellationToken).ConfigureAwait(false))?.ETag ?? "";
    }

    private Task AuditAsync(string auditEvent, ConsentRecord consent, ConsentActor actor, CancellationToken cancellationToken) =>
        audit.AppendAsync(AuditEntryFor(auditEvent, consent, actor), cancellationToken);

    private static AuditEntry AuditEntryFor(string auditEvent, ConsentRecord consent, ConsentActor actor) =>
        new(auditEvent, AuditOutcomes.Committing)
        {
            Caller = actor.Caller,
            Actor = actor.Name,
            AgreementsRelied = consent.AgreementId is { Length: > 0 } agreement ? [agreement] : [],
            ProvidersIncluded = consent.Sources,
            Parameters = new Dictionary<string, string>
            {
                ["consentId"] = consent.Id,
                ["version"] = consent.Version.ToString(CultureInfo.InvariantCulture),
                ["status"] = consent.Status.ToString(),
                ["recipients"] = string.Join(',', consent.Recipients),
                ["categories"] = string.Join(',', consent.Categories),
                ["expiresAt"] = consent.ExpiresAt.ToString("O", CultureInfo.InvariantCulture),
                ["supersedes"] = consent.Supersedes ?? "",
                ["supersededBy"] = consent.SupersededBy ?? "",
                ["authorizations"] = string.Join(',', consent.AuthorizationsBySource.Select(a => a.SourceId + ":" + a.Decision)),
            },
            // The revocation reason is free text a parent may have dictated: it stays in the consent row, not the audit.
            Detail = consent.Status == ConsentStatus.Revoked ? $"Revoked by {consent.RevokedBy}" : null,
        };

    private static TableEntity ExpiryEntity(ConsentRecord consent) =>
        new(ExpiryPartition(DateOnly.FromDateTime(consent.ExpiresAt.UtcDateTime)), ExpiryRow(consent.ExpiresAt, consent.Id))
        {
            ["ConsentId"] = consent.Id,
            ["ExpiresAt"] = consent.ExpiresAt,
            ["Parties"] = "," + string.Join(',', consent.Parties) + ",",
        };

    internal static TableEntity ToEntity(ConsentRecord consent, bool current) =>
        new(Bucket(consent.Id), current ? consent.Id + CurrentMarker : $"{consent.Id}|v{consent.Version:D6}")
        {
            ["Document"] = JsonSerializer.Serialize(consent, Json),
            ["Version"] = consent.Version,
            ["Status"] = consent.Status.ToString(),
            ["ChildKey"] = consent.ChildKey,
            ["ExpiresAt"] = consent.ExpiresAt,
        };

    internal static ConsentRecord FromEntity(TableEntity entity) =>
        JsonSerializer.Deserialize<ConsentRecord>(entity.GetString("Document") ?? "{}", Json)
        ?? throw new InvalidOperationException("A consent document could not be read.");
}

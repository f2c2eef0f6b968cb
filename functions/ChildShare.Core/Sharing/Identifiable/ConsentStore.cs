using System.Globalization;
using System.Text.Json;
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
/// Consents in Table Storage (through <see cref="ConsentTables"/>, which spells their keys and columns), never deleted:
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
public class ConsentStore(ConsentTables tables, AuditLog audit, TimeProvider time)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string NewId() => Guid.NewGuid().ToString("N");

    public static bool IsValidId(string? id) => id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower);

    /// <summary>The <c>consents</c> partition of a consent (a transaction holds consents of one partition only).</summary>
    public static string Bucket(string id) => ConsentTables.Partition(id);

    public virtual async Task<VersionedConsent?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(id))
        {
            return null;
        }

        return await tables.GetAsync(id, cancellationToken).ConfigureAwait(false) is var (row, etag) ? new VersionedConsent(FromRow(row), etag) : null;
    }

    /// <summary>Every version of a consent, oldest first.</summary>
    public async Task<IReadOnlyList<ConsentRecord>> HistoryAsync(string id, CancellationToken cancellationToken = default)
    {
        var versions = new List<ConsentRecord>();
        if (!IsValidId(id))
        {
            return versions;
        }

        await foreach (var row in tables.VersionsAsync(id, cancellationToken).ConfigureAwait(false))
        {
            versions.Add(FromRow(row));
        }

        return versions;
    }

    /// <summary>Every consent (current versions) of a community child.</summary>
    public virtual async Task<IReadOnlyList<VersionedConsent>> ForChildAsync(string childKey, CancellationToken cancellationToken = default)
    {
        var ids = await tables.ChildConsentIdsAsync(childKey, cancellationToken).ConfigureAwait(false);
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
        await tables.AddChildAsync(consent.ChildKey, consent.Id, cancellationToken).ConfigureAwait(false);
        await tables.PutExpiryAsync(ExpiryRowOf(consent), cancellationToken).ConfigureAwait(false);
        await IndexSourcesAsync(consent, cancellationToken).ConfigureAwait(false);
        var etag = await tables.AddAsync(ToRow(consent), cancellationToken).ConfigureAwait(false);
        return new VersionedConsent(consent, await ETagOrReadAsync(etag, consent.Id, cancellationToken).ConfigureAwait(false));
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
        // Null: the current row changed since it was read, or that version's history row exists (another writer won).
        if (await tables.TryReplaceAsync(ToRow(next), existing.ETag, cancellationToken).ConfigureAwait(false) is not { } written)
        {
            return null;
        }

        var etag = await ETagOrReadAsync(written, next.Id, cancellationToken).ConfigureAwait(false);
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
        return await tables.TryReplaceAllAsync(next.Select(c => (ToRow(c.Next), c.Existing.ETag)).ToList(), cancellationToken).ConfigureAwait(false);
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
            await tables.WriteAsync(writer, ToRow(consent), cancellationToken).ConfigureAwait(false);
            await tables.WriteChildAsync(writer, consent.ChildKey, consent.Id, cancellationToken).ConfigureAwait(false);
            await tables.WriteExpiryAsync(writer, ExpiryRowOf(consent), cancellationToken).ConfigureAwait(false);
            foreach (var row in SourceRowsOf(consent))
            {
                await tables.WriteSourceAsync(writer, row, cancellationToken).ConfigureAwait(false);
            }
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The first day whose expiry index the job has not finished (null before any consent).</summary>
    public Task<DateOnly?> ReadCursorAsync(CancellationToken cancellationToken = default) => tables.ReadExpiryCursorAsync(cancellationToken);

    public Task WriteCursorAsync(DateOnly day, CancellationToken cancellationToken = default) => tables.WriteExpiryCursorAsync(day, cancellationToken);

    /// <summary>
    /// The expiry index rows of one day, a page at a time, up to (excluding) <paramref name="before"/> when given.
    /// </summary>
    public IAsyncEnumerable<IReadOnlyList<ConsentExpiryRow>> ExpiryPagesAsync(DateOnly day, DateTimeOffset? before, int pageSize, CancellationToken cancellationToken = default) =>
        tables.ExpiryPagesAsync(day, before, pageSize, cancellationToken);

    /// <summary>Whether an expiry index row names <paramref name="organizationId"/> among the consent's parties.</summary>
    public static bool IndexNamesParty(ConsentExpiryRow row, string organizationId)
    {
        ArgumentNullException.ThrowIfNull(row);
        return row.Parties.Contains(organizationId, StringComparer.Ordinal);
    }

    /// <summary>
    /// The active consents naming <paramref name="sourceId"/> as a source that it has not answered yet,
    /// read from its index partition and confirmed against each consent row.
    /// </summary>
    public async Task<IReadOnlyList<VersionedConsent>> AwaitingAuthorizationAsync(string sourceId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var ids = await tables.SourceConsentIdsAsync(sourceId, nameof(OwnerDecision.Pending), nameof(ConsentStatus.Active), now, cancellationToken).ConfigureAwait(false);

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
        await foreach (var current in tables.CurrentRowsAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var row in SourceRowsOf(FromRow(current)))
            {
                await tables.WriteSourceAsync(writer, row, cancellationToken).ConfigureAwait(false);
            }

            indexed++;
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        return indexed;
    }

    private async Task IndexSourcesAsync(ConsentRecord consent, CancellationToken cancellationToken)
    {
        foreach (var row in SourceRowsOf(consent))
        {
            await tables.PutSourceAsync(row, cancellationToken).ConfigureAwait(false);
        }
    }

    private static IEnumerable<ConsentSourceRow> SourceRowsOf(ConsentRecord consent) =>
        consent.AuthorizationsBySource.Select(a => new ConsentSourceRow(a.SourceId, consent.Id, a.Decision.ToString(), consent.Status.ToString(), consent.ExpiresAt));

    // The job starts from the day the first consent was recorded: every consent expires after the day it was recorded.
    private Task EnsureCursorAsync(CancellationToken cancellationToken) =>
        tables.AddExpiryCursorAsync(DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime), cancellationToken);

    /// <summary>The ETag a write answered, or the one read back when the answer did not carry it.</summary>
    private async Task<string> ETagOrReadAsync(string etag, string id, CancellationToken cancellationToken) =>
        etag is { Length: > 0 } ? etag : (await GetAsync(id, cancellationToken).ConfigureAwait(false))?.ETag ?? "";

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

    private static ConsentExpiryRow ExpiryRowOf(ConsentRecord consent) => new(consent.Id, consent.ExpiresAt, consent.Parties.ToList());

    /// <summary>The stored row of a consent version: the document is the truth, the other columns are copied out of it for queries.</summary>
    internal static ConsentRow ToRow(ConsentRecord consent) =>
        new(consent.Id, consent.Version, JsonSerializer.Serialize(consent, Json), consent.Status.ToString(), consent.ChildKey, consent.ExpiresAt);

    internal static ConsentRecord FromRow(ConsentRow row) =>
        JsonSerializer.Deserialize<ConsentRecord>(row.Document, Json)
        ?? throw new InvalidOperationException("A consent document could not be read.");
}

using System.Globalization;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>
/// One version of a consent as the <c>consents</c> table holds it: the document (JSON, the truth) and the columns copied out of
/// it. The same row is written twice, as the current version (RK the id) and as that version's history row.
/// </summary>
public sealed record ConsentRow(string ConsentId, int Version, string Document, string Status, string ChildKey, DateTimeOffset ExpiresAt);

/// <summary>A row of the expiry index: a consent, when it expires, and the organizations party to it.</summary>
public sealed record ConsentExpiryRow(string ConsentId, DateTimeOffset ExpiresAt, IReadOnlyList<string> Parties);

/// <summary>A row of the sources index: one source's decision on a consent, with the consent's status and expiry.</summary>
public sealed record ConsentSourceRow(string SourceId, string ConsentId, string Decision, string Status, DateTimeOffset ExpiresAt);

/// <summary>
/// The consent tables (CONSENT.md, "Tables"), the one place their keys and columns are spelled:
/// <list type="bullet">
/// <item><c>consents</c>: PK the first hex digit of the id, RK the id (the current version, whose ETag guards every change) and
/// <c>{id}|v{version:D6}</c> (every version). A version is written as both rows in one transaction: both or neither.</item>
/// <item><c>consentchildren</c>: PK community child key, RK consent id (no columns).</item>
/// <item><c>consentexpiry</c>: PK <c>expiry-yyyy-MM-dd</c>, RK <c>{expiry yyyyMMddHHmmss}|{id}</c>; PK <c>cursor</c>, RK <c>expiry</c>:
/// the first day the expiry job has not finished.</item>
/// <item><c>consentsources</c>: PK source organization, RK consent id.</item>
/// </list>
/// It knows nothing of what a consent means: the consent store (Sharing/Identifiable/ConsentStore) keeps the rules.
/// </summary>
public sealed class ConsentTables(ChildShareStorage storage)
{
    public const string CursorPartition = "cursor", CursorRow = "expiry";

    private const string DocumentColumn = "Document", VersionColumn = "Version", StatusColumn = "Status", ChildKeyColumn = "ChildKey",
        ExpiresAtColumn = "ExpiresAt", ConsentIdColumn = "ConsentId", PartiesColumn = "Parties", DecisionColumn = "Decision", DayColumn = "Day";

    // One client per table for the store's life: a BatchWriter groups operations by client and partition.
    private readonly TableClient _consents = storage.Table(TableNames.Consents);
    private readonly TableClient _children = storage.Table(TableNames.ConsentChildren);
    private readonly TableClient _expiry = storage.Table(TableNames.ConsentExpiry);
    private readonly TableClient _sources = storage.Table(TableNames.ConsentSources);

    /// <summary>The <c>consents</c> partition of a consent: the first hex digit of its id (16 partitions, so bulk loads and the expiry job batch).</summary>
    public static string Partition(string consentId) => consentId[..1];

    public static string ExpiryPartition(DateOnly day) => "expiry-" + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string ExpiryRowKey(DateTimeOffset expiresAt, string consentId) =>
        expiresAt.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "|" + consentId;

    /// <summary>The current version of a consent and its ETag, or null.</summary>
    public async Task<(ConsentRow Row, string ETag)?> GetAsync(string consentId, CancellationToken cancellationToken = default)
    {
        var response = await _consents.GetEntityIfExistsAsync<TableEntity>(Partition(consentId), consentId, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? (FromEntity(entity), entity.ETag.ToString()) : null;
    }

    /// <summary>The history rows of a consent (every version), oldest first.</summary>
    public async IAsyncEnumerable<ConsentRow> VersionsAsync(string consentId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition(consentId)} and RowKey gt {consentId + "|"} and RowKey lt {consentId + "|~"}");
        await foreach (var entity in _consents.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return FromEntity(entity);
        }
    }

    /// <summary>The current version of every consent: a scan of the whole table (the history rows are skipped).</summary>
    public async IAsyncEnumerable<ConsentRow> CurrentRowsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var entity in _consents.QueryAsync<TableEntity>(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (!entity.RowKey.Contains('|', StringComparison.Ordinal))
            {
                yield return FromEntity(entity);
            }
        }
    }

    /// <summary>
    /// Adds a new consent's current and history rows in one transaction; a consent with this id already there fails
    /// (<see cref="TableTransactionFailedException"/>). Returns the current row's ETag, or "" when the answer did not carry it.
    /// </summary>
    public async Task<string> AddAsync(ConsentRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(row);
        var response = await _consents.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, ToEntity(row, current: true)),
                new TableTransactionAction(TableTransactionActionType.Add, ToEntity(row, current: false)),
            ], cancellationToken).ConfigureAwait(false);
        return ETagOf(response);
    }

    /// <summary>
    /// Replaces the current row if its ETag is still <paramref name="etag"/> and adds the version's history row, in one transaction.
    /// Null when another change came first (412: the current row changed; 409: that version's history row exists), and nothing
    /// is written; else the new ETag ("" when the answer did not carry it).
    /// </summary>
    public async Task<string?> TryReplaceAsync(ConsentRow row, string etag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(row);
        try
        {
            var response = await _consents.SubmitTransactionAsync(NewVersion(row, etag), cancellationToken).ConfigureAwait(false);
            return ETagOf(response);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 412 or 409)
        {
            return null;
        }
    }

    /// <summary>
    /// <see cref="TryReplaceAsync"/> for several consents of one partition in one transaction (at most 50: two rows each).
    /// False when any had changed (412 or 409), and nothing is written.
    /// </summary>
    public async Task<bool> TryReplaceAllAsync(IReadOnlyList<(ConsentRow Row, string ETag)> changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        try
        {
            await _consents.SubmitTransactionAsync(changes.SelectMany(c => NewVersion(c.Row, c.ETag)), cancellationToken).ConfigureAwait(false);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 412 or 409)
        {
            return false;
        }

        return true;
    }

    // A new version: the current row replaced if its ETag is still the one read, and the version's history row added.
    private static TableTransactionAction[] NewVersion(ConsentRow row, string etag) =>
    [
        new(TableTransactionActionType.UpdateReplace, ToEntity(row, current: true), new ETag(etag)),
        new(TableTransactionActionType.Add, ToEntity(row, current: false)),
    ];

    /// <summary>Adds to <paramref name="writer"/> the upsert of a consent's current and history rows (a bulk load).</summary>
    public async Task WriteAsync(BatchWriter writer, ConsentRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(row);
        await writer.UpsertAsync(_consents, ToEntity(row, current: true), cancellationToken).ConfigureAwait(false);
        await writer.UpsertAsync(_consents, ToEntity(row, current: false), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records that a consent names a community child (a replace: writing it again changes nothing).</summary>
    public Task AddChildAsync(string childKey, string consentId, CancellationToken cancellationToken = default) =>
        _children.UpsertEntityAsync(new TableEntity(childKey, consentId), TableUpdateMode.Replace, cancellationToken);

    /// <summary>Adds <see cref="AddChildAsync"/> to <paramref name="writer"/>.</summary>
    public Task WriteChildAsync(BatchWriter writer, string childKey, string consentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return writer.UpsertAsync(_children, new TableEntity(childKey, consentId), cancellationToken);
    }

    /// <summary>The ids of the consents naming a community child (one partition, row keys only).</summary>
    public async Task<List<string>> ChildConsentIdsAsync(string childKey, CancellationToken cancellationToken = default)
    {
        var ids = new List<string>();
        await foreach (var entity in _children.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {childKey}"), select: ["RowKey"],
            cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            ids.Add(entity.RowKey);
        }

        return ids;
    }

    /// <summary>Writes a consent's expiry index row (a replace).</summary>
    public Task PutExpiryAsync(ConsentExpiryRow row, CancellationToken cancellationToken = default) =>
        _expiry.UpsertEntityAsync(ToEntity(row), TableUpdateMode.Replace, cancellationToken);

    /// <summary>Adds the upsert of a consent's expiry index row to <paramref name="writer"/>.</summary>
    public Task WriteExpiryAsync(BatchWriter writer, ConsentExpiryRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return writer.UpsertAsync(_expiry, ToEntity(row), cancellationToken);
    }

    /// <summary>
    /// The expiry index rows of one day, a page (at most <paramref name="pageSize"/> rows) at a time, up to (excluding)
    /// <paramref name="before"/> when given.
    /// </summary>
    public async IAsyncEnumerable<IReadOnlyList<ConsentExpiryRow>> ExpiryPagesAsync(DateOnly day, DateTimeOffset? before, int pageSize,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var partition = ExpiryPartition(day);
        var filter = before is { } limit
            ? TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {ExpiryRowKey(limit, "")}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
        await foreach (var page in _expiry.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken).AsPages(pageSizeHint: pageSize)
            .ConfigureAwait(false))
        {
            yield return page.Values.Select(FromExpiryEntity).ToList();
        }
    }

    /// <summary>The first day whose expiry index the job has not finished (null before any consent).</summary>
    public async Task<DateOnly?> ReadExpiryCursorAsync(CancellationToken cancellationToken = default)
    {
        var response = await _expiry.GetEntityIfExistsAsync<TableEntity>(CursorPartition, CursorRow, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? RecordKeys.ParseIsoDate(entity.GetString(DayColumn)) : null;
    }

    /// <summary>Moves the expiry job's cursor to <paramref name="day"/>.</summary>
    public Task WriteExpiryCursorAsync(DateOnly day, CancellationToken cancellationToken = default) =>
        _expiry.UpsertEntityAsync(CursorEntity(day), TableUpdateMode.Replace, cancellationToken);

    /// <summary>Sets the expiry job's cursor to <paramref name="day"/> unless it is set already.</summary>
    public async Task AddExpiryCursorAsync(DateOnly day, CancellationToken cancellationToken = default)
    {
        try
        {
            await _expiry.AddEntityAsync(CursorEntity(day), cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // The cursor exists.
        }
    }

    /// <summary>Writes one source's index row of a consent (a replace).</summary>
    public Task PutSourceAsync(ConsentSourceRow row, CancellationToken cancellationToken = default) =>
        _sources.UpsertEntityAsync(ToEntity(row), TableUpdateMode.Replace, cancellationToken);

    /// <summary>Adds the upsert of one source's index row of a consent to <paramref name="writer"/>.</summary>
    public Task WriteSourceAsync(BatchWriter writer, ConsentSourceRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return writer.UpsertAsync(_sources, ToEntity(row), cancellationToken);
    }

    /// <summary>The ids of the consents in a source's index partition with this decision and status that expire after <paramref name="expiringAfter"/>.</summary>
    public async Task<List<string>> SourceConsentIdsAsync(string sourceId, string decision, string status, DateTimeOffset expiringAfter,
        CancellationToken cancellationToken = default)
    {
        var ids = new List<string>();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {sourceId} and Decision eq {decision} and Status eq {status} and ExpiresAt gt {expiringAfter}");
        await foreach (var row in _sources.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            ids.Add(row.RowKey);
        }

        return ids;
    }

    private static string ETagOf(Response<IReadOnlyList<Response>> response) =>
        response.Value.Count > 0 && response.Value[0].Headers.ETag is { } etag && etag != default ? etag.ToString() : "";

    private static TableEntity ToEntity(ConsentRow row, bool current) =>
        new(Partition(row.ConsentId), current ? row.ConsentId : $"{row.ConsentId}|v{row.Version:D6}")
        {
            [DocumentColumn] = row.Document,
            [VersionColumn] = row.Version,
            [StatusColumn] = row.Status,
            [ChildKeyColumn] = row.ChildKey,
            [ExpiresAtColumn] = row.ExpiresAt,
        };

    private static ConsentRow FromEntity(TableEntity entity) => new(
        entity.RowKey.Split('|')[0], entity.GetInt32(VersionColumn) ?? 0, entity.GetString(DocumentColumn) ?? "{}", entity.GetString(StatusColumn) ?? "",
        entity.GetString(ChildKeyColumn) ?? "", entity.GetDateTimeOffset(ExpiresAtColumn) ?? default);

    private static TableEntity ToEntity(ConsentExpiryRow row) =>
        new(ExpiryPartition(DateOnly.FromDateTime(row.ExpiresAt.UtcDateTime)), ExpiryRowKey(row.ExpiresAt, row.ConsentId))
        {
            [ConsentIdColumn] = row.ConsentId,
            [ExpiresAtColumn] = row.ExpiresAt,
            // Commas around every party, so a party is found by ",{id},".
            [PartiesColumn] = "," + string.Join(',', row.Parties) + ",",
        };

    private static ConsentExpiryRow FromExpiryEntity(TableEntity entity) => new(
        entity.GetString(ConsentIdColumn) ?? "", entity.GetDateTimeOffset(ExpiresAtColumn) ?? default,
        (entity.GetString(PartiesColumn) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries));

    private static TableEntity ToEntity(ConsentSourceRow row) => new(row.SourceId, row.ConsentId)
    {
        [DecisionColumn] = row.Decision,
        [StatusColumn] = row.Status,
        [ExpiresAtColumn] = row.ExpiresAt,
    };

    private static TableEntity CursorEntity(DateOnly day) => new(CursorPartition, CursorRow) { [DayColumn] = RecordKeys.IsoDate(day) };
}

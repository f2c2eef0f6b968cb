using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using ChildShare.Core.Callers;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Audit;

/// <summary>
/// One audit record: who (organization, role, credential id), what (event and outcome), with which
/// parameters, relying on which agreements, and how much came back. Never a child's identifier:
/// parameters are the request's query parameters, counts are counts.
/// </summary>
public sealed record AuditEntry(string Event, string Outcome)
{
    public Caller? Caller { get; init; }

    /// <summary>Who acted when there is no HTTP caller (e.g. <c>operator</c> on the command line).</summary>
    public string? Actor { get; init; }

    public IReadOnlyDictionary<string, string>? Parameters { get; init; }

    public IReadOnlyList<string> AgreementsRelied { get; init; } = [];

    public IReadOnlyList<string> ProvidersIncluded { get; init; } = [];

    public IReadOnlyList<string> ProvidersExcluded { get; init; } = [];

    public long? RowsReturned { get; init; }

    public long? CellsSuppressed { get; init; }

    public string? Detail { get; init; }
}

/// <summary>The audit events ChildShare records.</summary>
public static class AuditEvents
{
    public const string AggregateReport = "AggregateReport";
    public const string DeidentifiedExport = "DeidentifiedExport";
    public const string AgreementCreated = "AgreementCreated";
    public const string AgreementAmended = "AgreementAmended";
    public const string AgreementTerminated = "AgreementTerminated";
    public const string PrincipalMapped = "PrincipalMapped";
    public const string PrincipalUnmapped = "PrincipalUnmapped";
    public const string ApiKeyIssued = "ApiKeyIssued";
    public const string ApiKeyRevoked = "ApiKeyRevoked";
    public const string ConsentRecorded = "ConsentRecorded";
    public const string ConsentRevoked = "ConsentRevoked";
    public const string ConsentExpired = "ConsentExpired";
    public const string ConsentSuperseded = "ConsentSuperseded";
    public const string ConsentRenewalStarted = "ConsentRenewalStarted";
    public const string ConsentRenewed = "ConsentRenewed";
    public const string ConsentRenewalAbandoned = "ConsentRenewalAbandoned";
    public const string ConsentExpiryRun = "ConsentExpiryRun";
    public const string IdentifiableReport = "IdentifiableReport";
    public const string UploadsListed = "UploadsListed";
    public const string UploadRejectsRead = "UploadRejectsRead";
}

/// <summary>
/// The append-only audit table: PK the month (<c>yyyy-MM</c>), RK time ticks, an in-process sequence (order within one tick) and a random suffix.
/// Entries are only ever added (an insert that fails on conflict), never updated or deleted by
/// ChildShare. A write that fails throws, so the request that needed it fails too.
/// </summary>
public class AuditLog(ChildShareStorage storage, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static long _sequence;

    /// <summary>Appends an entry and returns its keys.</summary>
    public virtual async Task<(string PartitionKey, string RowKey)> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var entity = ToEntity(entry, time.GetUtcNow());
        await storage.Table(TableNames.Audit).AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
        return (entity.PartitionKey, entity.RowKey);
    }

    /// <summary>
    /// Appends many entries of one moment (e.g. a job's per-item events) in transactions of up to 100
    /// inserts: each transaction is all or nothing, and a failure throws.
    /// </summary>
    public virtual async Task AppendManyAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var at = time.GetUtcNow();
        foreach (var chunk in entries.Select(e => ToEntity(e, at)).Chunk(100))
        {
            await storage.Table(TableNames.Audit).SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e)), cancellationToken)
                .ConfigureAwait(false);
        }
    }

    private static TableEntity ToEntity(AuditEntry entry, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var partitionKey = at.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        var sequence = Interlocked.Increment(ref _sequence);
        var rowKey = string.Create(CultureInfo.InvariantCulture, $"{at.UtcTicks:D19}-{sequence:D12}-{Guid.NewGuid():N}");
        return new TableEntity(partitionKey, rowKey)
        {
            ["Event"] = entry.Event,
            ["Outcome"] = entry.Outcome,
            ["At"] = at,
            ["OrganizationId"] = entry.Caller?.OrganizationId ?? "",
            ["Role"] = entry.Caller?.Role ?? "",
            ["AuthMethod"] = entry.Caller?.Method.ToString() ?? "",
            ["CredentialId"] = entry.Caller?.CredentialId ?? "",
            // An operator acting for an organization (--as ORG) is audited as the organization and says so.
            ["Actor"] = entry.Actor ?? entry.Caller?.OnBehalfOf ?? "",
            ["Parameters"] = JsonSerializer.Serialize(entry.Parameters ?? new Dictionary<string, string>(), Json),
            ["Agreements"] = string.Join(',', entry.AgreementsRelied),
            ["ProvidersIncluded"] = string.Join(',', entry.ProvidersIncluded),
            ["ProvidersExcluded"] = string.Join(',', entry.ProvidersExcluded),
            ["RowsReturned"] = entry.RowsReturned,
            ["CellsSuppressed"] = entry.CellsSuppressed,
            ["Detail"] = entry.Detail ?? "",
        };
    }

    /// <summary>The entries of one month, oldest first.</summary>
    public async Task<List<TableEntity>> ReadMonthAsync(string month, CancellationToken cancellationToken = default)
    {
        var entries = new List<TableEntity>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {month}");
        await foreach (var entity in storage.Table(TableNames.Audit).QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            entries.Add(entity);
        }

        return entries;
    }
}

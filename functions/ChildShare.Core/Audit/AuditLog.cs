using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using ChildShare.Core.Organizations;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Logging;

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

/// <summary>How lists of ids go into an audit entry's parameters without growing past a table property's limit.</summary>
public static class AuditIds
{
    /// <summary>At most this many ids are written out; the count and a digest of the whole list are always written.</summary>
    public const int MaxListed = 100;

    /// <summary>
    /// Adds <c>{name}</c> (the first <see cref="MaxListed"/> ids, comma-separated), <c>{name}Count</c> and,
    /// when some were left out, <c>{name}Sha256</c> (of the whole comma-separated list, so the full set can be verified).
    /// </summary>
    public static Dictionary<string, string> Add(Dictionary<string, string> parameters, string name, IReadOnlyCollection<string> ids)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(ids);
        parameters[name] = string.Join(',', ids.Take(MaxListed));
        parameters[name + "Count"] = ids.Count.ToString(CultureInfo.InvariantCulture);
        if (ids.Count > MaxListed)
        {
            parameters[name + "Sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join(',', ids))));
        }

        return parameters;
    }
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
    public const string ConsentRead = "ConsentRead";
    public const string ConsentSearched = "ConsentSearched";
    public const string ConsentsExpiringListed = "ConsentsExpiringListed";
    public const string ConsentAuthorized = "ConsentAuthorized";
    public const string ConsentAuthorizationDeclined = "ConsentAuthorizationDeclined";
    public const string ConsentAuthorizationWithdrawn = "ConsentAuthorizationWithdrawn";
    public const string ConsentAuthorizationReviewed = "ConsentAuthorizationReviewed";
    public const string ConsentAuthorizationsListed = "ConsentAuthorizationsListed";
    public const string UploadManifestRead = "UploadManifestRead";
    public const string AgreementRead = "AgreementRead";
    public const string AgreementsListed = "AgreementsListed";
    public const string ParentLinkIssued = "ParentLinkIssued";
    public const string ParentLinkRevoked = "ParentLinkRevoked";
    public const string ParentPageViewed = "ParentPageViewed";
    public const string ParentPageRefused = "ParentPageRefused";
    public const string ConsentConfirmedByParent = "ConsentConfirmedByParent";
    public const string DisclosureDocumentUploaded = "DisclosureDocumentUploaded";
    public const string UploadsListed = "UploadsListed";
    public const string UploadRejectsRead = "UploadRejectsRead";
}

/// <summary>How an audit entry ends, where it is not a request's own outcome (Succeeded, Denied, NotFound...).</summary>
public static class AuditOutcomes
{
    public const string Succeeded = "Succeeded";

    /// <summary>
    /// A change about to be written: the entry is appended strictly before the change, so every
    /// committed change has one. An attempt that lost a race (or crashed) has the entry and no
    /// change; the changed row's own version history says which attempts were applied.
    /// </summary>
    public const string Committing = "Committing";
}

/// <summary>
/// The audit could not record a request or a change, so nothing is released and nothing changes.
/// HTTP answers 503; the message names no data.
/// </summary>
public sealed class AuditUnavailableException(Exception inner)
    : Exception("The audit could not record the request, so nothing was released or changed. Try again later.", inner);

/// <summary>
/// The append-only audit table: PK the month (<c>yyyy-MM</c>), RK time ticks, an in-process sequence (order within one tick) and a random suffix.
/// Entries are only ever added (an insert that fails on conflict), never updated or deleted by
/// ChildShare. A write that fails throws <see cref="AuditUnavailableException"/>, so the request
/// that needed it fails closed: every caller appends before it releases or changes anything.
/// </summary>
public partial class AuditLog(ChildShareStorage storage, TimeProvider time, ILogger<AuditLog> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static long _sequence;
    private readonly AuditTable _table = new(storage);

    /// <summary>Appends an entry and returns its keys.</summary>
    public virtual async Task<(string PartitionKey, string RowKey)> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var entity = ToEntity(entry, time.GetUtcNow());
        try
        {
            await _table.AddAsync(entity, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            LogOutage(logger, entry.Event, ex.GetType().Name);
            throw new AuditUnavailableException(ex);
        }

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
            try
            {
                await _table.AddAllAsync(chunk, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsOutage(ex))
            {
                LogOutage(logger, entries[0].Event, ex.GetType().Name);
                throw new AuditUnavailableException(ex);
            }
        }
    }

    /// <summary>Every failure of the audit write except a cancellation by the caller is an outage: the request fails closed.</summary>
    private static bool IsOutage(Exception ex) => ex is not (OperationCanceledException or AuditUnavailableException or ArgumentException);

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
    public Task<List<TableEntity>> ReadMonthAsync(string month, CancellationToken cancellationToken = default) => _table.ReadMonthAsync(month, cancellationToken);

    [LoggerMessage(EventId = 9001, Level = LogLevel.Error, Message = "Audit write for {Event} failed ({ErrorType}); the request fails closed")]
    private static partial void LogOutage(ILogger logger, string @event, string errorType);
}

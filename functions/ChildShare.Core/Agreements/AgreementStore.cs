using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Agreements;

/// <summary>
/// Data sharing agreements in Table Storage (<c>agreements</c>): the current version at PK <c>dsa</c>,
/// RK id, and every version ever saved at PK <c>dsa-history</c>, RK <c>{id}|{version:D6}</c>.
/// Create, amend and terminate each append an audit entry first (outcome Committing); if the audit
/// write fails, the change is not made. Reads on behalf of a caller are audited before they are returned.
/// </summary>
public class AgreementStore(ChildShareStorage storage, AuditLog audit, TimeProvider time)
{
    private const string Current = "dsa";
    private const string History = "dsa-history";

    /// <summary>
    /// Marks a document written with the Round5 default: its protection is what was asked for.
    /// Agreements stored before <see cref="DataSharingAgreement.DefaultProtection"/> became Round5 hold
    /// <c>"protection": "None"</c> whether or not anyone chose it: the serializer wrote the old default
    /// out, and the command line's <c>--protection</c> defaulted to None. Such a document (no
    /// <c>TermsFormat</c> on its entity) is read with the new default, Round5; an operator who wants
    /// exact counts amends the agreement with <c>protection: None</c>, which is then a choice on
    /// record. The history keeps every version as it was written.
    /// </summary>
    public const string TermsFormatProperty = "TermsFormat";

    /// <summary>The terms format this code writes (1: before the Round5 default, never written as such).</summary>
    public const int CurrentTermsFormat = 2;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    private TableClient Table => storage.Table(TableNames.Agreements);

    public virtual async Task<IReadOnlyList<DataSharingAgreement>> ListAsync(CancellationToken cancellationToken = default)
    {
        var agreements = new List<DataSharingAgreement>();
        await foreach (var entity in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Current}"), cancellationToken: cancellationToken)
            .ConfigureAwait(false))
        {
            agreements.Add(FromEntity(entity));
        }

        return agreements;
    }

    public virtual async Task<DataSharingAgreement?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!AgreementValidator.IsValidId(id))
        {
            return null;
        }

        var response = await Table.GetEntityIfExistsAsync<TableEntity>(Current, id, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? FromEntity(entity) : null;
    }

    /// <summary>Every agreement, to a caller who manages agreements; audited before it is returned.</summary>
    public async Task<IReadOnlyList<DataSharingAgreement>> ListForAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var all = await ListAsync(cancellationToken).ConfigureAwait(false);
        await AuditReadAsync(AuditEvents.AgreementsListed, caller, all.Select(a => a.Id).ToList(), cancellationToken).ConfigureAwait(false);
        return all;
    }

    /// <summary>One agreement, to a caller who manages agreements; audited (also when there is none) before it is returned.</summary>
    public async Task<DataSharingAgreement?> GetForAsync(Caller caller, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var agreement = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await AuditReadAsync(AuditEvents.AgreementRead, caller, agreement is null ? [] : [agreement.Id], cancellationToken).ConfigureAwait(false);
        return agreement;
    }

    public async Task<IReadOnlyList<DataSharingAgreement>> HistoryAsync(string id, CancellationToken cancellationToken = default)
    {
        var versions = new List<DataSharingAgreement>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {History} and RowKey ge {id + "|"} and RowKey lt {id + "}"}");
        await foreach (var entity in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            versions.Add(FromEntity(entity, asWritten: true));
        }

        return versions;
    }

    /// <summary>Creates an agreement (version 1); an id already in use is an error.</summary>
    public async Task<DataSharingAgreement> CreateAsync(DataSharingAgreement draft, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var agreement = draft with { Version = 1, Status = AgreementStatus.Active, TerminatedOn = null, TerminationReason = "", UpdatedAt = time.GetUtcNow(), UpdatedBy = actor };
        Validate(agreement);
        if (await GetAsync(agreement.Id, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new AgreementValidationException([$"An agreement with the id {agreement.Id} exists; amend it instead."]);
        }

        await AuditAsync(AuditEvents.AgreementCreated, agreement, actor, cancellationToken).ConfigureAwait(false);
        await SaveAsync(agreement, null, cancellationToken).ConfigureAwait(false);
        return agreement;
    }

    /// <summary>Replaces an active agreement's terms with a new version.</summary>
    public async Task<DataSharingAgreement?> AmendAsync(string id, DataSharingAgreement terms, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(terms);
        var (existing, etag) = await GetWithETagAsync(id, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            return null;
        }

        if (existing.Status == AgreementStatus.Terminated)
        {
            throw new AgreementValidationException([$"Agreement {id} is terminated; create a new agreement instead."]);
        }

        var amended = terms with
        {
            Id = id, Version = existing.Version + 1, Status = AgreementStatus.Active, TerminatedOn = null, TerminationReason = "",
            UpdatedAt = time.GetUtcNow(), UpdatedBy = actor,
        };
        Validate(amended);
        await AuditAsync(AuditEvents.AgreementAmended, amended, actor, cancellationToken).ConfigureAwait(false);
        await SaveAsync(amended, etag, cancellationToken).ConfigureAwait(false);
        return amended;
    }

    /// <summary>Terminates an agreement on a day (default today); from the day after, nothing relies on it.</summary>
    public async Task<DataSharingAgreement?> TerminateAsync(string id, string reason, string actor, DateOnly? on = null, CancellationToken cancellationToken = default)
    {
        var (existing, etag) = await GetWithETagAsync(id, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            return null;
        }

        if (existing.Status == AgreementStatus.Terminated)
        {
            return existing;
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new AgreementValidationException(["A termination states its reason."]);
        }

        var now = time.GetUtcNow();
        var terminated = existing with
        {
            Version = existing.Version + 1, Status = AgreementStatus.Terminated, TerminatedOn = on ?? DateOnly.FromDateTime(now.UtcDateTime),
            TerminationReason = reason, UpdatedAt = now, UpdatedBy = actor,
        };
        await AuditAsync(AuditEvents.AgreementTerminated, terminated, actor, cancellationToken).ConfigureAwait(false);
        await SaveAsync(terminated, etag, cancellationToken).ConfigureAwait(false);
        return terminated;
    }

    private static void Validate(DataSharingAgreement agreement)
    {
        var errors = AgreementValidator.Validate(agreement);
        if (errors.Count > 0)
        {
            throw new AgreementValidationException(errors);
        }
    }

    private async Task<(DataSharingAgreement? Agreement, ETag ETag)> GetWithETagAsync(string id, CancellationToken cancellationToken)
    {
        if (!AgreementValidator.IsValidId(id))
        {
            return (null, default);
        }

        var response = await Table.GetEntityIfExistsAsync<TableEntity>(Current, id, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? (FromEntity(entity), entity.ETag) : (null, default);
    }

    private Task AuditReadAsync(string auditEvent, Caller caller, IReadOnlyList<string> ids, CancellationToken cancellationToken) =>
        audit.AppendAsync(new AuditEntry(auditEvent, ids.Count > 0 ? AuditOutcomes.Succeeded : "NotFound")
        {
            Caller = caller, AgreementsRelied = ids, RowsReturned = ids.Count,
        }, cancellationToken);

    private Task AuditAsync(string auditEvent, DataSharingAgreement agreement, string actor, CancellationToken cancellationToken) =>
        audit.AppendAsync(new AuditEntry(auditEvent, AuditOutcomes.Committing)
        {
            Actor = actor,
            AgreementsRelied = [agreement.Id],
            Parameters = new Dictionary<string, string> { ["id"] = agreement.Id, ["version"] = agreement.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), ["status"] = agreement.Status.ToString() },
            Detail = JsonSerializer.Serialize(agreement, Json),
        }, cancellationToken);

    private async Task SaveAsync(DataSharingAgreement agreement, ETag? etag, CancellationToken cancellationToken)
    {
        var document = JsonSerializer.Serialize(agreement, Json);
        var current = new TableEntity(Current, agreement.Id)
        {
            ["Document"] = document,
            ["Version"] = agreement.Version,
            ["Status"] = agreement.Status.ToString(),
            [TermsFormatProperty] = CurrentTermsFormat,
        };
        await Table.AddEntityAsync(new TableEntity(History, $"{agreement.Id}|{agreement.Version:D6}") { ["Document"] = document, [TermsFormatProperty] = CurrentTermsFormat }, cancellationToken)
            .ConfigureAwait(false);
        if (etag is { } match)
        {
            await Table.UpdateEntityAsync(current, match, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await Table.AddEntityAsync(current, cancellationToken).ConfigureAwait(false);
        }
    }

    private static DataSharingAgreement FromEntity(TableEntity entity, bool asWritten = false)
    {
        var agreement = JsonSerializer.Deserialize<DataSharingAgreement>(entity.GetString("Document") ?? "{}", Json)
            ?? throw new InvalidOperationException("An agreement document could not be read.");
        var legacy = entity.GetInt32(TermsFormatProperty) is null or < CurrentTermsFormat;
        return legacy && !asWritten && agreement.Protection == DifferencingProtection.None
            ? agreement with { Protection = DataSharingAgreement.DefaultProtection }
            : agreement;
    }
}

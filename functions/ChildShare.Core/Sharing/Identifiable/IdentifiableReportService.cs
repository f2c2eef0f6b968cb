using System.Globalization;
using System.Text.Json.Serialization;
using Azure.Data.Tables;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Logging;

namespace ChildShare.Core.Sharing.Identifiable;

/// <summary>Why an identifiable report (or one source of it) is refused.</summary>
public static class ConsentDenialReasons
{
    /// <summary>No consent names the caller as recipient for this child (or for this source).</summary>
    public const string NoConsent = "no-consent";

    /// <summary>The consent that would cover it was revoked.</summary>
    public const string Revoked = "revoked";

    /// <summary>The consent that would cover it has expired (whether or not the timer has marked it).</summary>
    public const string Expired = "expired";

    /// <summary>The consent does not take effect yet.</summary>
    public const string NotYetEffective = "not-yet-effective";

    /// <summary>A requested data category is not covered by the consent in force.</summary>
    public const string CategoryNotCovered = "category-not-covered";

    /// <summary>No data sharing agreement permits the source to share identifiable data with the caller.</summary>
    public const string NoAgreement = "no-agreement";

    /// <summary>The source has not (yet) authorized releasing its data under the consent in force.</summary>
    public const string AwaitingOwnerAuthorization = "awaiting-owner-authorization";

    /// <summary>The source declined, or withdrew its authorization of, the consent in force.</summary>
    public const string OwnerDeclined = "owner-declined";

    /// <summary>The consent waits for the parent's own confirmation on the parent page (the agreement requires it).</summary>
    public const string AwaitingParentConfirmation = "awaiting-parent-confirmation";

    /// <summary>The order in which one reason is chosen to summarize several.</summary>
    public static readonly IReadOnlyList<string> Precedence =
        [Revoked, Expired, OwnerDeclined, AwaitingParentConfirmation, AwaitingOwnerAuthorization, CategoryNotCovered, NoAgreement, NotYetEffective, NoConsent];
}

/// <summary>The request body: the recipient's own local id for the child, optionally categories and a period.</summary>
public sealed record IdentifiableReportRequest
{
    /// <summary>The caller's own local id for the child (never logged, never stored).</summary>
    public string Child { get; init; } = "";

    /// <summary>The categories wanted (default: every category a consent in force covers).</summary>
    public IReadOnlyList<string>? Categories { get; init; }

    public DateOnly? From { get; init; }

    public DateOnly? To { get; init; }
}

public enum IdentifiableReportStatus
{
    Ok,
    BadRequest,
    NotFound,
    Forbidden,
}

/// <summary>One source refused: the provider (named by a consent the caller is party to), the reason code and why in words.</summary>
public sealed record SourceDenial(string ProviderId, string Reason, string Detail);

/// <summary>What one source shares about the child, only the consented categories.</summary>
public sealed record SourceRecords
{
    public required string ProviderId { get; init; }

    public required IReadOnlyList<string> ConsentIds { get; init; }

    public required string AgreementId { get; init; }

    public required IReadOnlyList<string> Categories { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Dictionary<string, string>>? Identity { get; init; }

    /// <summary>The street address of each record that has one (the <c>address</c> category).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Dictionary<string, string>>? Address { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Dictionary<string, string>>? Demographics { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Dictionary<string, string>>? Academic { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Dictionary<string, object>>? Services { get; init; }
}

public sealed record IdentifiableReport(DateTimeOffset GeneratedAt, IReadOnlyList<SourceRecords> Sources, IReadOnlyList<SourceDenial> Withheld);

public sealed record IdentifiableReportResult(
    IdentifiableReportStatus Status, IdentifiableReport? Report, string? Reason, IReadOnlyList<SourceDenial> Denials, IReadOnlyList<string> Errors);

/// <summary>
/// The identifiable child-level report. A recipient names a child it serves by its own local id;
/// for each source organization named by a consent in which the recipient is a recipient, the
/// source's records of the child are released when, at the moment of reading: a consent is active,
/// in effect and not past its expiry (the timer is not relied on), the source itself authorized that
/// consent (it recorded it, or approved it afterwards, and has not withdrawn), the authorized consents
/// cover every requested category, and the decision point finds a data sharing agreement permitting
/// the source to share identifiable data with the caller. Only the covered categories and the service records dated
/// within the consent's (and the agreement's) dates are released. Sources no consent names are
/// never mentioned, not even as withheld. Every request is audited with the consents relied on;
/// no identifier is logged or audited.
/// </summary>
public partial class IdentifiableReportService(
    ConsentService consents, ConsentStore store, SharingDecisionPoint decisions, ChildRecordReader records, AuditLog audit, Parent.DisclosureRecord disclosures,
    TimeProvider time, ILogger<IdentifiableReportService> logger)
{
    public async Task<IdentifiableReportResult> RunAsync(Caller caller, IdentifiableReportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(request);
        var now = time.GetUtcNow();
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(request.Child))
        {
            errors.Add("child is the caller's own local id for the child.");
        }

        List<string>? requested = null;
        if (request.Categories is { Count: > 0 })
        {
            requested = [];
            foreach (var category in request.Categories)
            {
                if (ConsentCategories.Canonical(category) is { } canonical)
                {
                    requested.Add(canonical);
                }
                else
                {
                    errors.Add($"'{category}' is not a data category; the categories are {string.Join(", ", ConsentCategories.All)}.");
                }
            }
        }

        if (request.From is { } f && request.To is { } t && t < f)
        {
            errors.Add("to is before from.");
        }

        if (errors.Count > 0)
        {
            await AuditAsync(caller, "BadRequest", request, [], [], [], [], null, null, cancellationToken).ConfigureAwait(false);
            return new(IdentifiableReportStatus.BadRequest, null, null, [], errors);
        }

        if (await consents.ResolveChildAsync(caller.OrganizationId, request.Child, cancellationToken).ConfigureAwait(false) is not { } child)
        {
            await AuditAsync(caller, "NotFound", request, [], [], [], [], null, null, cancellationToken).ConfigureAwait(false);
            LogNotFound(logger, caller.OrganizationId);
            return new(IdentifiableReportStatus.NotFound, null, null, [], []);
        }

        var mine = (await store.ForChildAsync(child.ChildKey, cancellationToken).ConfigureAwait(false))
            .Select(c => c.Consent).Where(c => c.Recipients.Contains(caller.OrganizationId, StringComparer.Ordinal)).ToList();
        var sources = mine.SelectMany(c => c.Sources).Where(s => s != caller.OrganizationId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (sources.Count == 0)
        {
            return await DenyAsync(caller, request, [new SourceDenial("", ConsentDenialReasons.NoConsent,
                "No consent permits any organization to share this child's records with your organization.")], [], cancellationToken).ConfigureAwait(false);
        }

        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var agreementDecisions = (await decisions.DecideAsync(caller, new SharingRequest(SharingMode.Identifiable, today, today, []), sources, cancellationToken)
            .ConfigureAwait(false)).ToDictionary(d => d.ProviderId, StringComparer.Ordinal);
        var denials = new List<SourceDenial>();
        var allowed = new List<(string Source, List<ConsentRecord> Consents, List<string> Categories, DataSharingAgreement Agreement)>();
        foreach (var source in sources)
        {
            var naming = mine.Where(c => c.IsSource(source)).ToList();
            var inForce = naming.Where(c => c.IsInForce(now)).ToList();
            if (inForce.Count == 0)
            {
                denials.Add(WhyNone(source, naming, now));
                continue;
            }

            // The data owner's own say: only consents the source itself authorized release its data.
            var authorized = inForce.Where(c => c.IsAuthorizedBy(source)).ToList();
            var covered = authorized.SelectMany(c => c.Categories).Distinct(StringComparer.Ordinal).ToList();
            var missing = requested?.Where(r => !covered.Contains(r, StringComparer.Ordinal)).ToList() ?? [];
            if (authorized.Count == 0 || (missing.Count > 0 && inForce.Except(authorized).Any(c => missing.All(c.Categories.Contains))))
            {
                denials.Add(Unauthorized(source, inForce.Except(authorized).ToList()));
                continue;
            }

            if (missing.Count > 0)
            {
                denials.Add(new SourceDenial(source, ConsentDenialReasons.CategoryNotCovered,
                    $"The consent in force for {source} does not cover {string.Join(", ", missing)}; it covers {string.Join(", ", covered)}."));
                continue;
            }

            inForce = authorized;

            if (!agreementDecisions.TryGetValue(source, out var decision) || !decision.Allowed || decision.Agreement is null)
            {
                denials.Add(new SourceDenial(source, ConsentDenialReasons.NoAgreement,
                    decision?.Reason ?? "No data sharing agreement permits identifiable sharing from this source."));
                continue;
            }

            if (decision.Agreement.RequireParentConfirmation)
            {
                // This agreement relies only on consents the parent confirmed on the parent page themselves.
                var confirmed = inForce.Where(c => c.ParentConfirmation is not null).ToList();
                var confirmedCovered = confirmed.SelectMany(c => c.Categories).Distinct(StringComparer.Ordinal).ToList();
                if (confirmed.Count == 0 || (requested?.Any(r => !confirmedCovered.Contains(r, StringComparer.Ordinal)) ?? false))
                {
                    denials.Add(new SourceDenial(source, ConsentDenialReasons.AwaitingParentConfirmation,
                        $"Agreement {decision.Agreement.Id} requires the parent's own confirmation of the consent on the parent page; it has not been given."));
                    continue;
                }

                inForce = confirmed;
                covered = confirmedCovered;
            }

            allowed.Add((source, inForce, requested ?? covered, decision.Agreement));
        }

        if (allowed.Count == 0)
        {
            return await DenyAsync(caller, request, denials, mine.Select(c => c.Id).ToList(), cancellationToken).ConfigureAwait(false);
        }

        var memberships = await records.MembershipsAsync(child.ChildKey, cancellationToken).ConfigureAwait(false);
        var released = new List<SourceRecords>();
        foreach (var (source, relied, categories, agreement) in allowed)
        {
            released.Add(await ReadSourceAsync(source, memberships.GetValueOrDefault(source) ?? [], relied, categories, agreement, request, today, cancellationToken)
                .ConfigureAwait(false));
        }

        var rows = released.Sum(r => (r.Identity?.Count ?? 0) + (r.Address?.Count ?? 0) + (r.Demographics?.Count ?? 0) + (r.Academic?.Count ?? 0) + (r.Services?.Count ?? 0));
        var reliedIds = released.SelectMany(r => r.ConsentIds).Distinct(StringComparer.Ordinal).ToList();
        var entry = await AuditAsync(caller, "Succeeded", request, reliedIds, released.Select(r => r.AgreementId).Distinct(StringComparer.Ordinal).ToList(),
            released.Select(r => r.ProviderId).ToList(), denials.Select(d => d.ProviderId).ToList(), rows,
            denials.Count > 0 ? string.Join(',', denials.Select(d => d.ProviderId + ":" + d.Reason)) : null, cancellationToken).ConfigureAwait(false);

        // The parent's record of disclosures, before anything is released (an outage withholds the report, like the audit's).
        var reliedConsents = allowed.SelectMany(a => a.Consents).DistinctBy(c => c.Id).ToList();
        await disclosures.RecordAsync(reliedConsents.Select(c =>
        {
            var under = released.Where(r => r.ConsentIds.Contains(c.Id, StringComparer.Ordinal)).ToList();
            return (c.Id, new Parent.Disclosure(now, caller.OrganizationId, under.Select(r => r.ProviderId).ToList(),
                under.SelectMany(r => r.Categories).Intersect(c.Categories, StringComparer.Ordinal).Distinct(StringComparer.Ordinal).ToList()));
        }).ToList(), entry, cancellationToken).ConfigureAwait(false);
        LogServed(logger, caller.OrganizationId, released.Count, denials.Count, rows);
        return new(IdentifiableReportStatus.Ok, new IdentifiableReport(now, released, denials), null, denials, []);
    }

    private async Task<IdentifiableReportResult> DenyAsync(Caller caller, IdentifiableReportRequest request, List<SourceDenial> denials, List<string> consentIds,
        CancellationToken cancellationToken)
    {
        var reason = ConsentDenialReasons.Precedence.First(r => denials.Any(d => d.Reason == r));
        await AuditAsync(caller, "Denied", request, consentIds, [], [], denials.Select(d => d.ProviderId).Where(p => p.Length > 0).ToList(), 0,
            string.Join(',', denials.Select(d => (d.ProviderId.Length > 0 ? d.ProviderId + ":" : "") + d.Reason)), cancellationToken).ConfigureAwait(false);
        LogDenied(logger, caller.OrganizationId, reason, denials.Count);
        return new(IdentifiableReportStatus.Forbidden, null, reason, denials, []);
    }

    private static SourceDenial WhyNone(string source, List<ConsentRecord> naming, DateTimeOffset now)
    {
        if (naming.Any(c => c.Status == ConsentStatus.Revoked))
        {
            return new(source, ConsentDenialReasons.Revoked, $"The consent for {source} was revoked.");
        }

        if (naming.Any(c => c.AwaitsParentConfirmation && now < c.ExpiresAt))
        {
            return new(source, ConsentDenialReasons.AwaitingParentConfirmation,
                $"The consent for {source} is not in force until the parent confirms it on the parent page.");
        }

        if (naming.Any(c => c.Status == ConsentStatus.Expired || (c.Status == ConsentStatus.Active && now >= c.ExpiresAt)))
        {
            return new(source, ConsentDenialReasons.Expired, $"The consent for {source} has expired; the owning provider can record a new one.");
        }

        if (naming.Any(c => c.Status == ConsentStatus.Active && c.EffectiveFrom > now))
        {
            return new(source, ConsentDenialReasons.NotYetEffective, $"The consent for {source} does not take effect yet.");
        }

        return new(source, ConsentDenialReasons.NoConsent, $"No consent in force permits {source} to share with your organization.");
    }

    /// <summary>Why a source whose consents in force it has not authorized is withheld: declined (or withdrawn) over awaiting.</summary>
    private static SourceDenial Unauthorized(string source, List<ConsentRecord> unauthorized) =>
        unauthorized.Any(c => c.AuthorizationOf(source).Decision is OwnerDecision.Declined or OwnerDecision.Withdrawn)
        && unauthorized.All(c => c.AuthorizationOf(source).Decision != OwnerDecision.Pending)
            ? new(source, ConsentDenialReasons.OwnerDeclined, $"{source} declined or withdrew its authorization of releasing its records under this consent.")
            : new(source, ConsentDenialReasons.AwaitingOwnerAuthorization,
                $"{source} has not authorized releasing its records under this consent yet; it decides through POST /api/consents/{{id}}/authorizations.");

    private async Task<SourceRecords> ReadSourceAsync(string source, List<string> tokens, List<ConsentRecord> relied, List<string> categories,
        DataSharingAgreement agreement, IdentifiableReportRequest request, DateOnly today, CancellationToken cancellationToken)
    {
        List<Dictionary<string, string>>? identity = categories.Contains(ConsentCategories.Identity) ? [] : null;
        List<Dictionary<string, string>>? address = categories.Contains(ConsentCategories.Address) ? [] : null;
        List<Dictionary<string, string>>? demographics = categories.Contains(ConsentCategories.Demographics) ? [] : null;
        List<Dictionary<string, string>>? academic = categories.Contains(ConsentCategories.Academic) ? [] : null;
        List<Dictionary<string, object>>? services = categories.Intersect(ConsentCategories.ServiceCategories).Any() ? [] : null;

        // Each consent's window: its data dates, within the agreement's coverage of the source and the requested period.
        var windows = relied.Select(c => (Consent: c,
            From: Max(Max(c.DataFrom, agreement.CoverageStartFor(source)), request.From),
            To: Min(Min(c.DataTo, agreement.LastDay), request.To))).ToList();
        foreach (var token in tokens)
        {
            if (identity is not null || address is not null)
            {
                if (await records.IdentityAsync(source, token, cancellationToken).ConfigureAwait(false) is { } entity)
                {
                    // The street address is never part of identity: only a consent covering address releases it.
                    identity?.Add(entity.Released(IdentityField.LocalChildId, IdentityField.FirstName, IdentityField.MiddleName, IdentityField.LastName,
                        IdentityField.Suffix, IdentityField.BirthDate, IdentityField.StateStudentId));
                    if (address is not null && entity.Released(IdentityField.StreetAddress) is { Count: > 0 } street)
                    {
                        address.Add(street);
                    }
                }
            }

            if (demographics is null && academic is null && services is null)
            {
                continue;
            }

            if (await records.RecordAsync(source, token, cancellationToken).ConfigureAwait(false) is not { } record)
            {
                continue;
            }

            demographics?.Add(record.Released(DemographicColumns.BirthDate, DemographicColumns.Sex, DemographicColumns.Race, DemographicColumns.Races,
                DemographicColumns.Ethnicity, DemographicColumns.Zip));
            academic?.Add(record.Released(DemographicColumns.Grade, DemographicColumns.School));
            if (services is null)
            {
                continue;
            }

            foreach (var service in record.Services ?? [])
            {
                var start = RecordKeys.ParseIsoDate(service.Start);
                var end = RecordKeys.ParseIsoDate(service.End) ?? RecordKeys.ParseIsoDate(service.AsOf) ?? today;
                if (start is null)
                {
                    continue;
                }

                var granted = windows.Where(w => (w.From is null || end >= w.From) && (w.To is null || start <= w.To))
                    .SelectMany(w => w.Consent.Categories).Intersect(categories).Intersect(ConsentCategories.ServiceCategories).ToHashSet(StringComparer.Ordinal);
                if (granted.Count == 0)
                {
                    continue;
                }

                var released = new Dictionary<string, object> { ["program"] = service.Program, ["start"] = service.Start, ["end"] = service.End, ["asOf"] = service.AsOf };
                if (granted.Contains(ConsentCategories.Services))
                {
                    released["serviceType"] = service.ServiceType;
                }

                if (granted.Contains(ConsentCategories.Attendance))
                {
                    if (service.Hours is { } hours)
                    {
                        released["hours"] = hours;
                    }

                    if (service.DaysAttended is { } attended)
                    {
                        released["daysAttended"] = attended;
                    }
                }

                services.Add(released);
            }
        }

        return new SourceRecords
        {
            ProviderId = source,
            ConsentIds = relied.Select(c => c.Id).ToList(),
            AgreementId = agreement.Id,
            Categories = categories,
            Identity = identity,
            Address = address,
            Demographics = demographics,
            Academic = academic,
            Services = services,
        };
    }

    private static DateOnly? Max(DateOnly? a, DateOnly? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private static DateOnly? Min(DateOnly? a, DateOnly? b) => a is null ? b : b is null ? a : a < b ? a : b;

    private async Task<(string Partition, string Row)> AuditAsync(Caller caller, string outcome, IdentifiableReportRequest request, IReadOnlyList<string> consentIds,
        IReadOnlyList<string> agreementIds, IReadOnlyList<string> included, IReadOnlyList<string> excluded, long? rows, string? detail, CancellationToken cancellationToken)
    {
        return await audit.AppendAsync(new AuditEntry(AuditEvents.IdentifiableReport, outcome)
        {
            Caller = caller,
            // Never the child's local id: the consents relied on say which child, to those who may know.
            Parameters = AuditIds.Add(new Dictionary<string, string>
            {
                // Only the recognized categories: a rejected value is the caller's free text.
                ["categories"] = string.Join(',', (request.Categories ?? []).Select(ConsentCategories.Canonical).OfType<string>()),
                ["from"] = request.From is { } from ? RecordKeys.IsoDate(from) : "",
                ["to"] = request.To is { } to ? RecordKeys.IsoDate(to) : "",
            }, "consents", consentIds),
            AgreementsRelied = agreementIds,
            ProvidersIncluded = included,
            ProvidersExcluded = excluded,
            RowsReturned = rows,
            Detail = detail,
        }, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 7201, Level = LogLevel.Information, Message = "Identifiable report for {OrganizationId}: {Sources} source(s) released, {Withheld} withheld, {Rows} row(s)")]
    private static partial void LogServed(ILogger logger, string organizationId, int sources, int withheld, int rows);

    [LoggerMessage(EventId = 7202, Level = LogLevel.Warning, Message = "Identifiable report for {OrganizationId} denied ({Reason}) over {Sources} source(s)")]
    private static partial void LogDenied(ILogger logger, string organizationId, string reason, int sources);

    [LoggerMessage(EventId = 7203, Level = LogLevel.Information, Message = "Identifiable report for {OrganizationId}: the organization has no record of the child named")]
    private static partial void LogNotFound(ILogger logger, string organizationId);
}

using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Logging;

namespace ChildShare.Core.Sharing.Identifiable;

/// <summary>
/// What a source organization sees before it decides: the consent as recorded (who gave it, the
/// disclosure and its SHA-256, the signature evidence, recipients, purpose, categories, dates) and
/// the source's own records of the child the consent names, so it can check that the consent is
/// about a child it serves and that the parent is that child's parent. Nothing of any other
/// organization's records is in it.
/// </summary>
public sealed record AuthorizationReview(ConsentView Consent, OwnerAuthorization YourAuthorization, IReadOnlyList<Dictionary<string, string>> YourRecords);

/// <summary>
/// The data owner's say over identifiable release. A consent names its sources; each source's data
/// is released only when that source itself authorized the consent: by recording it, or afterwards
/// here (approve), and until it declines or withdraws. Only the source organization decides for its
/// own data (an Admin of another organization cannot). Every decision is a conditional change of the
/// consent (If-Match, with its history row), audited before it is written; every review and listing
/// is audited before it is returned. The read-time check in <see cref="IdentifiableReportService"/>
/// makes a withdrawal effective at once.
/// </summary>
public partial class OwnerAuthorizationService(
    ConsentStore store, ChildRecordReader records, AuditLog audit, TimeProvider time, ILogger<OwnerAuthorizationService> logger)
{
    private const int MaxAttempts = 20;

    /// <summary>The identity fields of the source's own records that help it recognize the child.</summary>
    private static readonly IdentityField[] ReviewFields =
    [
        IdentityField.LocalChildId, IdentityField.FirstName, IdentityField.MiddleName, IdentityField.LastName, IdentityField.Suffix, IdentityField.BirthDate,
        IdentityField.StateStudentId, IdentityField.StreetAddress,
    ];

    /// <summary>
    /// The consent and the caller's own records of its child, for the caller to check before deciding;
    /// null when no consent with this id names the caller as a source.
    /// </summary>
    public async Task<AuthorizationReview?> ReviewAsync(Caller caller, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var found = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (found is null || !found.Consent.IsSource(caller.OrganizationId))
        {
            await AuditAsync(AuditEvents.ConsentAuthorizationReviewed, caller, "NotFound", ConsentStore.IsValidId(id) ? [id] : [], null, cancellationToken).ConfigureAwait(false);
            return null;
        }

        var own = new List<Dictionary<string, string>>();
        var memberships = await records.MembershipsAsync(found.Consent.ChildKey, cancellationToken).ConfigureAwait(false);
        foreach (var token in memberships.GetValueOrDefault(caller.OrganizationId) ?? [])
        {
            if (await records.IdentityAsync(caller.OrganizationId, token, cancellationToken).ConfigureAwait(false) is { } identity)
            {
                own.Add(identity.Released(ReviewFields));
            }
        }

        await AuditAsync(AuditEvents.ConsentAuthorizationReviewed, caller, AuditOutcomes.Succeeded, [found.Consent.Id], own.Count, cancellationToken).ConfigureAwait(false);
        return new AuthorizationReview(ConsentView.From(found), found.Consent.AuthorizationOf(caller.OrganizationId), own);
    }

    /// <summary>
    /// Records the caller's decision for its own data: <c>approve</c>, <c>decline</c> (before approving) or
    /// <c>withdraw</c> (after; <c>decline</c> of an approved consent withdraws too). A decline or a
    /// withdrawal of a consent that was renewed reaches the consent in force (as a revocation does);
    /// approving needs the consent in force, and a renewed one is approved by its own id. The same
    /// decision again changes nothing (and is audited, as the consent is returned). Null when no
    /// consent with this id is visible to the caller.
    /// </summary>
    public async Task<VersionedConsent?> DecideAsync(Caller caller, string id, OwnerAuthorizationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(request);
        var approve = (request.Decision ?? "").Trim().ToLowerInvariant() switch
        {
            "approve" => true,
            "decline" or "withdraw" => false,
            _ => throw new ConsentValidationException(["decision is approve, decline or withdraw."]),
        };
        var note = string.IsNullOrWhiteSpace(request.Note) ? null : request.Note.Trim();
        if (note is { Length: > 500 })
        {
            throw new ConsentValidationException(["note is at most 500 characters."]);
        }

        var actor = ConsentActor.Of(caller);
        var source = caller.OrganizationId;
        var target = id;
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var current = await store.GetAsync(target, cancellationToken).ConfigureAwait(false);
            if (current is null || !current.Consent.IsParty(source))
            {
                await AuditAsync(AuditEvents.ConsentAuthorized, caller, "NotFound", ConsentStore.IsValidId(id) ? [id] : [], 0, cancellationToken).ConfigureAwait(false);
                return null;
            }

            var consent = current.Consent;
            if (!consent.IsSource(source))
            {
                await AuditAsync(AuditEvents.ConsentAuthorized, caller, "Forbidden", [consent.Id], 0, cancellationToken).ConfigureAwait(false);
                throw new ConsentForbiddenException("Only a source named by the consent authorizes releasing its own data under it.");
            }

            if (!approve && consent is { Status: ConsentStatus.Superseded, SupersededBy: { } successor })
            {
                target = successor;
                continue;
            }

            var now = time.GetUtcNow();
            if (approve && !consent.IsInForce(now))
            {
                await AuditAsync(AuditEvents.ConsentAuthorized, caller, "Conflict", [consent.Id], 0, cancellationToken).ConfigureAwait(false);
                throw new ConsentConflictException(consent.SupersededBy is { } renewal
                    ? $"The consent was renewed as {renewal}: review and approve the renewal."
                    : "Only a consent in force can be authorized; this one is not (revoked, expired or not yet effective).");
            }

            var prior = consent.AuthorizationOf(source).Decision;
            var next = (approve, prior) switch
            {
                (true, _) => OwnerDecision.Approved,
                (false, OwnerDecision.Approved) => OwnerDecision.Withdrawn,
                (false, OwnerDecision.Pending) => OwnerDecision.Declined,
                (false, _) => prior,
            };
            var auditEvent = next switch
            {
                OwnerDecision.Approved => AuditEvents.ConsentAuthorized,
                OwnerDecision.Withdrawn => AuditEvents.ConsentAuthorizationWithdrawn,
                _ => AuditEvents.ConsentAuthorizationDeclined,
            };
            if (next == prior)
            {
                // Nothing changes, but the consent is returned: audited as such first.
                await AuditAsync(auditEvent, caller, "Unchanged", [consent.Id], 1, cancellationToken).ConfigureAwait(false);
                return current;
            }

            var decision = new OwnerAuthorization(source, next, now, actor.Name, note);
            var changed = consent with
            {
                Authorizations = consent.AuthorizationsBySource.Select(a => a.SourceId == source ? decision : a).ToList(),
                UpdatedAt = now,
                UpdatedBy = actor.Name,
            };
            if (await store.TryReplaceAsync(current, changed, actor, auditEvent, cancellationToken).ConfigureAwait(false) is { } done)
            {
                LogDecided(logger, done.Consent.Id, source, next, attempt);
                return done;
            }
        }

        throw new ConsentConflictException("The consent kept changing; the decision was not recorded. Try again.");
    }

    /// <summary>The active consents naming the caller as a source that it has not answered, oldest first; audited before they are returned.</summary>
    public async Task<IReadOnlyList<VersionedConsent>> AwaitingAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var awaiting = await store.AwaitingAuthorizationAsync(caller.OrganizationId, cancellationToken).ConfigureAwait(false);
        await AuditAsync(AuditEvents.ConsentAuthorizationsListed, caller, AuditOutcomes.Succeeded, awaiting.Select(c => c.Consent.Id).ToList(), awaiting.Count,
            cancellationToken).ConfigureAwait(false);
        return awaiting;
    }

    private async Task AuditAsync(string auditEvent, Caller caller, string outcome, IReadOnlyCollection<string> consentIds, long? rows,
        CancellationToken cancellationToken) =>
        await audit.AppendAsync(new AuditEntry(auditEvent, outcome)
        {
            Caller = caller,
            Actor = ConsentActor.Of(caller).Name,
            Parameters = AuditIds.Add([], "consents", consentIds),
            RowsReturned = rows,
        }, cancellationToken).ConfigureAwait(false);

    [LoggerMessage(EventId = 7301, Level = LogLevel.Information, Message = "Consent {ConsentId}: source {SourceId} decided {Decision} after {Conflicts} conflict(s)")]
    private static partial void LogDecided(ILogger logger, string consentId, string sourceId, OwnerDecision decision, int conflicts);
}

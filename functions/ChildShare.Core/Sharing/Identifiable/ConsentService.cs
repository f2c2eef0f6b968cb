using System.Globalization;
using Azure.Data.Tables;
using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChildShare.Core.Sharing.Identifiable;

/// <summary>A change made on a renewal whose ETag (If-Match) no longer matches.</summary>
public sealed class ConsentPreconditionException(string message) : Exception(message);

/// <summary>
/// The consent life cycle as callers drive it: record, revoke, renew, list for a child, list those
/// nearing expiry, and expire (the timer). Callers act only on consents they are party to (Admin on
/// any). Concurrency: every change is a conditional replace of the consent's current row; on a
/// conflict the change is re-read and re-applied. A revocation always wins: it follows a renewal
/// to the consent that superseded it, and a renewal whose original (or whose new version) was
/// revoked meanwhile is refused.
/// </summary>
public partial class ConsentService(
    ConsentStore store, AgreementStore agreements, ChildRecordStore records, IPseudonymKeyProvider keys, AuditLog audit, IOptions<ConsentOptions> options,
    TimeProvider time, ILogger<ConsentService> logger)
{
    private const int MaxAttempts = 20;

    private ConsentOptions Options => options.Value;

    /// <summary>Records a consent for a child named by the owning provider's local id. The caller is that provider (or an Admin).</summary>
    public async Task<VersionedConsent> RecordAsync(Caller caller, ConsentDraft draft, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(draft);
        var provider = string.IsNullOrWhiteSpace(draft.ProviderId) ? caller.OrganizationId : draft.ProviderId.Trim();
        if (!caller.IsAdmin && provider != caller.OrganizationId)
        {
            await AuditRefusalAsync(AuditEvents.ConsentRecorded, ConsentActor.Of(caller), "Forbidden", null, cancellationToken).ConfigureAwait(false);
            throw new ConsentForbiddenException("A consent is recorded by the provider whose local id names the child (or an Admin).");
        }

        var now = time.GetUtcNow();
        var effective = draft.EffectiveFrom ?? now;
        var errors = ConsentValidator.Draft(draft, now, Options.MaxConsentDays, out var categories);
        var agreement = await AgreementOfAsync(draft.ExpiresAt, draft.AgreementId, errors, cancellationToken).ConfigureAwait(false);
        if (errors.Count > 0)
        {
            throw new ConsentValidationException(errors);
        }

        // Under an agreement that asks for it, the parent confirms on the parent page before the consent is in force.
        var awaitParent = agreement?.RequireParentConfirmation == true;
        var (childKey, localToken) = await ResolveChildAsync(provider, draft.LocalChildId, cancellationToken).ConfigureAwait(false)
            ?? throw new ConsentValidationException([$"Provider {provider} has no record of this child: ingest the child's records before recording a consent."]);
        var actor = ConsentActor.Of(caller);
        var sources = Distinct(draft.Sources);
        var consent = new ConsentRecord
        {
            Id = ConsentStore.NewId(),
            ChildKey = childKey,
            OwnerProviderId = provider,
            OwnerLocalToken = localToken,
            GivenBy = draft.GivenBy!,
            Sources = sources,
            Recipients = Distinct(draft.Recipients),
            // Recording is the recording organization's own authorization of releasing its own data; every other source decides for itself.
            Authorizations = sources.Select(source => source == caller.OrganizationId
                ? new OwnerAuthorization(source, OwnerDecision.Approved, now, actor.Name)
                : new OwnerAuthorization(source, OwnerDecision.Pending)).ToList(),
            Purpose = draft.Purpose.Trim(),
            Categories = categories,
            DataFrom = draft.DataFrom,
            DataTo = draft.DataTo,
            Disclosure = draft.Disclosure! with { Sha256 = draft.Disclosure!.Sha256.ToLowerInvariant() },
            Signature = draft.Signature!,
            AgreementId = string.IsNullOrWhiteSpace(draft.AgreementId) ? null : draft.AgreementId,
            GivenAt = draft.GivenAt ?? now,
            EffectiveFrom = effective,
            ExpiresAt = draft.ExpiresAt!.Value,
            Status = awaitParent ? ConsentStatus.Pending : ConsentStatus.Active,
            ParentConfirmationRequired = awaitParent,
            RecordedBy = actor.Name,
            UpdatedAt = now,
            UpdatedBy = actor.Name,
        };
        var recorded = await store.AddAsync(consent, actor, AuditEvents.ConsentRecorded, cancellationToken).ConfigureAwait(false);
        LogRecorded(logger, consent.Id, provider, consent.Sources.Count, consent.Recipients.Count);
        return recorded;
    }

    /// <summary>
    /// Revokes a consent at once. A revocation of a consent that was renewed revokes the consent
    /// that superseded it. Idempotent: revoking a revoked consent returns it unchanged.
    /// </summary>
    public async Task<VersionedConsent?> RevokeAsync(ConsentActor actor, string id, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (ConsentValidator.RevocationReason(reason) is { Count: > 0 } reasonErrors)
        {
            throw new ConsentValidationException(reasonErrors);
        }

        var target = id;
        for (var attempt = 0; attempt < MaxAttempts * 2; attempt++)
        {
            var current = await store.GetAsync(target, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                await AuditRefusalAsync(AuditEvents.ConsentRevoked, actor, "NotFound", id, cancellationToken).ConfigureAwait(false);
                return null;
            }

            var consent = current.Consent;
            if (attempt == 0 && actor.Caller is { IsAdmin: false } caller && !consent.IsParty(caller.OrganizationId))
            {
                await AuditRefusalAsync(AuditEvents.ConsentRevoked, actor, "Forbidden", id, cancellationToken).ConfigureAwait(false);
                throw new ConsentForbiddenException("Only an organization party to a consent (or an Admin) may revoke it.");
            }

            switch (consent.Status)
            {
                case ConsentStatus.Revoked or ConsentStatus.Abandoned:
                    // Nothing changes, but the consent is released to the caller: audited as such first.
                    await AuditRefusalAsync(AuditEvents.ConsentRevoked, actor, "Unchanged", consent.Id, cancellationToken).ConfigureAwait(false);
                    return current;
                case ConsentStatus.Superseded when consent.SupersededBy is { } successor:
                    target = successor;
                    continue;
            }

            var now = time.GetUtcNow();
            var revoked = consent with
            {
                Status = ConsentStatus.Revoked, RevokedAt = now, RevokedBy = actor.Name, RevocationReason = reason.Trim(), UpdatedAt = now, UpdatedBy = actor.Name,
            };
            if (await store.TryReplaceAsync(current, revoked, actor, AuditEvents.ConsentRevoked, cancellationToken).ConfigureAwait(false) is { } done)
            {
                LogRevoked(logger, done.Consent.Id, attempt);
                return done;
            }

            LogConflict(logger, target, "revoke");
        }

        throw new ConsentConflictException("The consent kept changing; the revocation was not recorded. Try again.");
    }

    /// <summary>
    /// Renews an active consent: a new consent (new id, <c>supersedes</c> the old) with a new expiry,
    /// and the old one marked superseded. The new consent is written as Pending, the old one is then
    /// superseded (If-Match), and the new one activated (If-Match): a revocation landing at any
    /// point wins, and the renewal is refused with a conflict.
    /// </summary>
    public async Task<VersionedConsent?> RenewAsync(Caller caller, string id, ConsentRenewal renewal, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(renewal);
        var actor = ConsentActor.Of(caller);
        var current = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (current is null)
        {
            await AuditRefusalAsync(AuditEvents.ConsentRenewalStarted, actor, "NotFound", id, cancellationToken).ConfigureAwait(false);
            return null;
        }

        var old = current.Consent;
        if (!caller.IsAdmin && caller.OrganizationId != old.OwnerProviderId && !old.Sources.Contains(caller.OrganizationId, StringComparer.Ordinal))
        {
            await AuditRefusalAsync(AuditEvents.ConsentRenewalStarted, actor, "Forbidden", id, cancellationToken).ConfigureAwait(false);
            throw new ConsentForbiddenException("A consent is renewed by its owning provider or one of its sources (or an Admin).");
        }

        if (!string.IsNullOrEmpty(ifMatch) && ifMatch != "*" && ifMatch != current.ETag)
        {
            throw new ConsentPreconditionException("The consent has changed since it was read (If-Match does not match its ETag); read it again.");
        }

        var now = time.GetUtcNow();
        EnsureRenewable(old, now);
        var errors = ConsentValidator.Renewal(renewal, old, now, Options.MaxConsentDays, out var categories);
        var agreement = await AgreementOfAsync(renewal.ExpiresAt, old.AgreementId, errors, cancellationToken).ConfigureAwait(false);
        if (errors.Count > 0)
        {
            throw new ConsentValidationException(errors);
        }

        // A renewal is a new signature: where the parent confirms consents, they confirm the renewal too.
        var awaitParent = old.ParentConfirmationRequired || agreement?.RequireParentConfirmation == true;

        var disclosure = renewal.Disclosure is { } given ? given with { Sha256 = given.Sha256.ToLowerInvariant() } : old.Disclosure;
        var pending = await store.AddAsync(old with
        {
            Id = ConsentStore.NewId(), Version = 1, Status = ConsentStatus.Pending, Supersedes = old.Id, SupersededBy = null,
            Authorizations = RenewedAuthorizations(old, caller, actor, now),
            Categories = categories, Disclosure = disclosure, Signature = renewal.Signature!,
            GivenAt = renewal.GivenAt ?? now, EffectiveFrom = now, ExpiresAt = renewal.ExpiresAt!.Value,
            RevokedAt = null, RevokedBy = null, RevocationReason = null, ExpiredAt = null,
            ParentConfirmationRequired = awaitParent, ParentConfirmation = null,
            RecordedBy = actor.Name, UpdatedAt = now, UpdatedBy = actor.Name,
        }, actor, AuditEvents.ConsentRenewalStarted, cancellationToken).ConfigureAwait(false);

        // Step 2: supersede the original, unless something changed it first.
        for (var attempt = 0; ; attempt++)
        {
            var superseded = old with { Status = ConsentStatus.Superseded, SupersededBy = pending.Consent.Id, UpdatedAt = now, UpdatedBy = actor.Name };
            if (await store.TryReplaceAsync(current, superseded, actor, AuditEvents.ConsentSuperseded, cancellationToken).ConfigureAwait(false) is not null)
            {
                break;
            }

            LogConflict(logger, id, "renew");
            current = await store.GetAsync(id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("A consent row disappeared.");
            old = current.Consent;
            now = time.GetUtcNow();
            if (old.Status != ConsentStatus.Active || now >= old.ExpiresAt || attempt >= MaxAttempts)
            {
                await AbandonAsync(pending, actor, cancellationToken).ConfigureAwait(false);
                EnsureRenewable(old, now);
                throw new ConsentConflictException("The consent kept changing while it was being renewed; the renewal was not made.");
            }
        }

        if (awaitParent)
        {
            // Step 3 is the parent's: the renewal stays Pending until they confirm it on the parent page.
            LogAwaitingParent(logger, pending.Consent.Id);
            return pending;
        }

        // Step 3: activate the renewal, unless a revocation reached it first.
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            now = time.GetUtcNow();
            var active = pending.Consent with { Status = ConsentStatus.Active, UpdatedAt = now, UpdatedBy = actor.Name };
            if (await store.TryReplaceAsync(pending, active, actor, AuditEvents.ConsentRenewed, cancellationToken).ConfigureAwait(false) is { } done)
            {
                LogRenewed(logger, id, done.Consent.Id);
                return done;
            }

            LogConflict(logger, pending.Consent.Id, "activate");
            pending = await store.GetAsync(pending.Consent.Id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("A consent row disappeared.");
            if (pending.Consent.Status == ConsentStatus.Revoked)
            {
                throw new ConsentConflictException("The consent was revoked while it was being renewed; the revocation stands and the renewal was not made.");
            }
        }

        throw new ConsentConflictException("The renewal kept changing; try again.");
    }

    /// <summary>
    /// The parent confirms the consent on the parent page (through link <paramref name="linkId"/>): the
    /// confirmation is kept as the parent's signature evidence, and a consent waiting for it becomes Active.
    /// Idempotent: a consent already confirmed is returned unchanged. Refused (conflict) for a consent that is
    /// revoked, expired, superseded or abandoned, and for a renewal whose original was not superseded by it.
    /// </summary>
    public async Task<VersionedConsent?> ConfirmByParentAsync(string id, string linkId, string userAgentSha256, CancellationToken cancellationToken = default)
    {
        var actor = ConsentActor.System(ParentActorName(linkId));
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var current = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return null;
            }

            var consent = current.Consent;
            if (consent.ParentConfirmation is not null)
            {
                return current;
            }

            var now = time.GetUtcNow();
            var confirmable = now < consent.ExpiresAt && (consent.Status == ConsentStatus.Active || consent.AwaitsParentConfirmation);
            if (confirmable && consent.Status == ConsentStatus.Pending && consent.Supersedes is { } original
                && (await store.GetAsync(original, cancellationToken).ConfigureAwait(false))?.Consent.SupersededBy != consent.Id)
            {
                // A renewal interrupted before it superseded its original: activating it would leave two consents in force.
                confirmable = false;
            }

            if (!confirmable)
            {
                throw new ConsentConflictException("This consent can no longer be confirmed (it is revoked, expired, superseded or not complete).");
            }

            var confirmed = consent with
            {
                Status = ConsentStatus.Active,
                ParentConfirmation = new ParentConfirmation(now, linkId, userAgentSha256),
                UpdatedAt = now,
                UpdatedBy = actor.Name,
            };
            if (await store.TryReplaceAsync(current, confirmed, actor, AuditEvents.ConsentConfirmedByParent, cancellationToken).ConfigureAwait(false) is { } done)
            {
                return done;
            }

            LogConflict(logger, id, "parent confirmation");
        }

        throw new ConsentConflictException("The consent kept changing; the confirmation was not recorded. Try again.");
    }

    /// <summary>The actor of a parent acting through their link: what <c>revokedBy</c> and the audit show.</summary>
    public static string ParentActorName(string linkId) => "parent/link/" + linkId;

    /// <summary>Marks a consent past its expiry as expired; false when it is not active or not yet due (idempotent).</summary>
    public async Task<bool> ExpireAsync(string id, CancellationToken cancellationToken = default)
    {
        var actor = ConsentActor.System("timer");
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var current = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            var now = time.GetUtcNow();
            if (current is null || current.Consent.Status != ConsentStatus.Active || current.Consent.ExpiresAt > now)
            {
                return false;
            }

            var expired = current.Consent with { Status = ConsentStatus.Expired, ExpiredAt = now, UpdatedAt = now, UpdatedBy = actor.Name };
            if (await store.TryReplaceAsync(current, expired, actor, AuditEvents.ConsentExpired, cancellationToken).ConfigureAwait(false) is not null)
            {
                return true;
            }

            LogConflict(logger, id, "expire");
        }

        return false;
    }

    /// <summary>
    /// Expires the due active consents among <paramref name="candidates"/>: those of one partition in
    /// transactions of 50 (If-Match each ETag); a batch that meets a concurrent change is re-applied
    /// consent by consent. Returns how many it changed.
    /// </summary>
    public async Task<int> ExpireManyAsync(IReadOnlyList<VersionedConsent> candidates, int parallelism, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var actor = ConsentActor.System("timer");
        var now = time.GetUtcNow();
        var chunks = candidates.Where(c => c.Consent.Status == ConsentStatus.Active && c.Consent.ExpiresAt <= now)
            .GroupBy(c => ConsentStore.Bucket(c.Consent.Id)).SelectMany(g => g.Chunk(BatchWriter.MaxBatchSize / 2)).ToList();
        var changed = 0;
        await Parallel.ForEachAsync(chunks, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (chunk, ct) =>
        {
            var changes = chunk.Select(c => (c, c.Consent with { Status = ConsentStatus.Expired, ExpiredAt = now, UpdatedAt = now, UpdatedBy = actor.Name })).ToList();
            if (await store.TryReplaceManyAsync(changes, actor, AuditEvents.ConsentExpired, ct).ConfigureAwait(false))
            {
                Interlocked.Add(ref changed, chunk.Length);
                return;
            }

            LogConflict(logger, chunk[0].Consent.Id, "expire batch");
            foreach (var consent in chunk)
            {
                if (await ExpireAsync(consent.Consent.Id, ct).ConfigureAwait(false))
                {
                    Interlocked.Increment(ref changed);
                }
            }
        }).ConfigureAwait(false);
        return changed;
    }

    /// <summary>
    /// One consent, to an organization party to it (or an Admin), audited before it is returned; null
    /// when no consent with this id is visible to the actor (a refusal is audited too).
    /// </summary>
    public async Task<VersionedConsent?> GetAsync(ConsentActor actor, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var found = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        var visible = found is not null && (actor.Caller is not { } caller || caller.IsAdmin || found.Consent.IsParty(caller.OrganizationId));
        await AuditReadAsync(AuditEvents.ConsentRead, actor, visible ? AuditOutcomes.Succeeded : "NotFound",
            visible ? [found!.Consent.Id] : [], new() { ["consentId"] = ConsentStore.IsValidId(id) ? id : "" }, cancellationToken).ConfigureAwait(false);
        return visible ? found : null;
    }

    /// <summary>
    /// The consents of the child that <paramref name="providerId"/> knows by <paramref name="localChildId"/>, those the caller is party to;
    /// null when the provider has no record of the child. Audited (never the local id) before anything is returned.
    /// </summary>
    public async Task<IReadOnlyList<VersionedConsent>?> ForChildAsync(Caller caller, string? providerId, string localChildId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var actor = ConsentActor.Of(caller);
        var provider = string.IsNullOrWhiteSpace(providerId) ? caller.OrganizationId : providerId.Trim();
        if (!caller.IsAdmin && provider != caller.OrganizationId)
        {
            await AuditReadAsync(AuditEvents.ConsentSearched, actor, "Forbidden", [], new() { ["provider"] = SafeOrganization(provider) }, cancellationToken)
                .ConfigureAwait(false);
            throw new ConsentForbiddenException("A child is looked up by the caller's own local id (or by an Admin).");
        }

        if (await ResolveChildAsync(provider, localChildId, cancellationToken).ConfigureAwait(false) is not { } child)
        {
            await AuditReadAsync(AuditEvents.ConsentSearched, actor, "NotFound", [], new() { ["provider"] = SafeOrganization(provider) }, cancellationToken)
                .ConfigureAwait(false);
            return null;
        }

        var consents = (await store.ForChildAsync(child.ChildKey, cancellationToken).ConfigureAwait(false))
            .Where(c => caller.IsAdmin || c.Consent.IsParty(caller.OrganizationId)).ToList();
        await AuditReadAsync(AuditEvents.ConsentSearched, actor, AuditOutcomes.Succeeded, consents.Select(c => c.Consent.Id).ToList(),
            new() { ["provider"] = provider }, cancellationToken).ConfigureAwait(false);
        return consents;
    }

    /// <summary>
    /// What <see cref="ExpiringAsync"/> finds for an actor: an organization's own consents (an Admin or
    /// an operator may name another organization, or none for all), audited before they are returned.
    /// </summary>
    public async Task<IReadOnlyList<VersionedConsent>> ListExpiringAsync(ConsentActor actor, string? organizationId, int? days = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var organization = string.IsNullOrWhiteSpace(organizationId) ? actor.Caller?.OrganizationId : organizationId.Trim();
        var parameters = new Dictionary<string, string>
        {
            ["organization"] = SafeOrganization(organization ?? ""),
            ["days"] = (days ?? Options.RenewalWindowDays).ToString(CultureInfo.InvariantCulture),
        };
        if (actor.Caller is { IsAdmin: false } caller && organization != caller.OrganizationId)
        {
            await AuditReadAsync(AuditEvents.ConsentsExpiringListed, actor, "Forbidden", [], parameters, cancellationToken).ConfigureAwait(false);
            throw new ConsentForbiddenException("Only an Admin may list another organization's consents.");
        }

        var found = await ExpiringAsync(organization, days, cancellationToken).ConfigureAwait(false);
        await AuditReadAsync(AuditEvents.ConsentsExpiringListed, actor, AuditOutcomes.Succeeded, found.Select(c => c.Consent.Id).ToList(), parameters, cancellationToken)
            .ConfigureAwait(false);
        return found;
    }

    /// <summary>Audits a read of consent data before it is released; an outage throws <see cref="AuditUnavailableException"/>.</summary>
    private async Task AuditReadAsync(string auditEvent, ConsentActor actor, string outcome, IReadOnlyList<string> consentIds, Dictionary<string, string> parameters,
        CancellationToken cancellationToken)
    {
        AuditIds.Add(parameters, "consents", consentIds);
        await audit.AppendAsync(new AuditEntry(auditEvent, outcome)
        {
            Caller = actor.Caller, Actor = actor.Name, Parameters = parameters, RowsReturned = consentIds.Count,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An organization id as given, for the audit, only when it is a valid id (never free text that could hold anything).</summary>
    private static string SafeOrganization(string organization) => ProviderRegistry.IsValidId(organization) ? organization : "";

    /// <summary>
    /// Active consents the organization is party to (null: any organization) that expire within
    /// <paramref name="days"/> days (default: the renewal window). Reads only the expiry index days of the window.
    /// </summary>
    public async Task<IReadOnlyList<VersionedConsent>> ExpiringAsync(string? organizationId, int? days = null, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var until = now.AddDays(days ?? Options.RenewalWindowDays);
        var found = new List<VersionedConsent>();
        for (var day = DateOnly.FromDateTime(now.UtcDateTime); day <= DateOnly.FromDateTime(until.UtcDateTime); day = day.AddDays(1))
        {
            await foreach (var page in store.ExpiryPagesAsync(day, null, 1000, cancellationToken).ConfigureAwait(false))
            {
                var due = page.Where(r => (organizationId is null || ConsentStore.IndexNamesParty(r, organizationId)) && r.ExpiresAt > now && r.ExpiresAt <= until).ToList();
                var consents = await Task.WhenAll(due.Select(r => store.GetAsync(r.ConsentId, cancellationToken))).ConfigureAwait(false);
                found.AddRange(consents.OfType<VersionedConsent>().Where(c => c.Consent.IsInForce(now) || (c.Consent.Status == ConsentStatus.Active && c.Consent.EffectiveFrom > now)));
            }
        }

        return found.OrderBy(c => c.Consent.ExpiresAt).ToList();
    }

    /// <summary>The community child key and the provider's local token for a local id, or null when the provider has no record of the child.</summary>
    public async Task<(string ChildKey, string LocalToken)?> ResolveChildAsync(string providerId, string localChildId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(localChildId) || !ProviderRegistry.IsValidId(providerId))
        {
            return null;
        }

        var pseudonymizer = new Pseudonymizer(await keys.GetCurrentKeyAsync(cancellationToken).ConfigureAwait(false));
        var token = RecordKeys.LocalToken(pseudonymizer, providerId, localChildId);
        return await records.ChildKeyAsync(providerId, token, cancellationToken).ConfigureAwait(false) is { Length: > 0 } childKey ? (childKey, token) : null;
    }

    private async Task AbandonAsync(VersionedConsent pending, ConsentActor actor, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (pending.Consent.Status is ConsentStatus.Revoked or ConsentStatus.Abandoned)
            {
                return;
            }

            var now = time.GetUtcNow();
            var abandoned = pending.Consent with { Status = ConsentStatus.Abandoned, UpdatedAt = now, UpdatedBy = actor.Name };
            if (await store.TryReplaceAsync(pending, abandoned, actor, AuditEvents.ConsentRenewalAbandoned, cancellationToken).ConfigureAwait(false) is not null)
            {
                return;
            }

            pending = await store.GetAsync(pending.Consent.Id, cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("A consent row disappeared.");
        }
    }

    /// <summary>
    /// The sources' authorizations of a renewal, which is a new consent: a source that renews gives its
    /// own by renewing; a decline or a withdrawal stands; every other source is asked again. An approval
    /// never carries over: it was given for one consent (its expiry and signature evidence), and a
    /// renewer, possibly the recipient, must not extend it.
    /// </summary>
    private static List<OwnerAuthorization> RenewedAuthorizations(ConsentRecord old, Caller caller, ConsentActor actor, DateTimeOffset now) =>
        old.Sources.Select(source => old.AuthorizationOf(source) switch
        {
            _ when source == caller.OrganizationId => new OwnerAuthorization(source, OwnerDecision.Approved, now, actor.Name),
            { Decision: OwnerDecision.Declined or OwnerDecision.Withdrawn } standing => standing,
            _ => new OwnerAuthorization(source, OwnerDecision.Pending),
        }).ToList();

    private static void EnsureRenewable(ConsentRecord consent, DateTimeOffset now)
    {
        if (ConsentValidator.RenewalProblem(consent, now) is { } problem)
        {
            throw new ConsentConflictException(problem);
        }
    }

    /// <summary>
    /// Reads the agreement a consent is given under and checks it (<see cref="ConsentValidator.Agreement"/>);
    /// null when the consent names none, or has no expiry (already an error: nothing to compare the agreement's end with).
    /// </summary>
    private async Task<DataSharingAgreement?> AgreementOfAsync(DateTimeOffset? expiresAt, string? agreementId, List<string> errors, CancellationToken cancellationToken)
    {
        if (expiresAt is not { } expiry || string.IsNullOrWhiteSpace(agreementId))
        {
            return null;
        }

        var agreement = await agreements.GetAsync(agreementId, cancellationToken).ConfigureAwait(false);
        ConsentValidator.Agreement(agreementId, agreement, expiry, errors);
        return agreement;
    }

    private static List<string> Distinct(IEnumerable<string> values) => values.Select(v => v.Trim()).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>A refused or unchanged change request, audited before the caller learns anything (an outage refuses it).</summary>
    private async Task AuditRefusalAsync(string auditEvent, ConsentActor actor, string outcome, string? consentId, CancellationToken cancellationToken) =>
        await AuditReadAsync(auditEvent, actor, outcome, consentId is not null && ConsentStore.IsValidId(consentId) ? [consentId] : [], [], cancellationToken)
            .ConfigureAwait(false);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Consent {ConsentId} recorded by {ProviderId}: {Sources} source(s), {Recipients} recipient(s)")]
    private static partial void LogRecorded(ILogger logger, string consentId, string providerId, int sources, int recipients);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Consent {ConsentId} revoked after {Conflicts} conflict(s)")]
    private static partial void LogRevoked(ILogger logger, string consentId, int conflicts);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "Consent {ConsentId} renewed as {NewConsentId}")]
    private static partial void LogRenewed(ILogger logger, string consentId, string newConsentId);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Information, Message = "Consent renewal {ConsentId} waits for the parent's confirmation")]
    private static partial void LogAwaitingParent(ILogger logger, string consentId);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Information, Message = "Consent {ConsentId} changed concurrently during {Operation}; re-reading")]
    private static partial void LogConflict(ILogger logger, string consentId, string operation);
}

using System.Text.Json.Serialization;

namespace ChildShare.Core.Sharing.Identifiable;

/// <summary>
/// Where a consent is in its life cycle. <see cref="Active"/>, <see cref="Revoked"/>,
/// <see cref="Expired"/> and <see cref="Superseded"/> are the states a caller sees; <see cref="Pending"/>
/// is a renewal not yet in force (never relied on) and <see cref="Abandoned"/> a renewal that lost
/// to a revocation. No state is ever deleted.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConsentStatus>))]
public enum ConsentStatus
{
    Active,
    Revoked,
    Expired,
    Superseded,
    Pending,
    Abandoned,
}

/// <summary>How the parent signed.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SignatureMethod>))]
public enum SignatureMethod
{
    /// <summary>A signed paper or PDF form, kept as a blob (<see cref="ConsentSignature.BlobReference"/>).</summary>
    SignedForm,

    /// <summary>An electronic signature; <see cref="ConsentSignature.Evidence"/> holds its evidence (provider, envelope id, audit trail reference...).</summary>
    Electronic,
}

/// <summary>A source organization's answer to releasing its data under a consent.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OwnerDecision>))]
public enum OwnerDecision
{
    /// <summary>Not answered yet: nothing of the source's is released.</summary>
    Pending,

    /// <summary>The source authorized releasing its data under this consent (by recording it, or afterwards).</summary>
    Approved,

    /// <summary>The source refused before ever approving.</summary>
    Declined,

    /// <summary>The source approved, then took its authorization back: releases stop at once.</summary>
    Withdrawn,
}

/// <summary>
/// One source's authorization of a consent. <see cref="DecidedBy"/> is the acting credential
/// (<c>{org}/{method}/{credential}</c>), <see cref="Note"/> the source's own words (kept in the consent,
/// never logged or audited).
/// </summary>
public sealed record OwnerAuthorization(string SourceId, OwnerDecision Decision, DateTimeOffset? DecidedAt = null, string? DecidedBy = null, string? Note = null);

/// <summary>Who gave the consent: a parent or guardian (a name, never logged) and their relationship to the child.</summary>
public sealed record ConsentGrantor(string Name, string Relationship);

/// <summary>The disclosure shown to the parent: a document, its version and the SHA-256 (hex) of the exact text shown.</summary>
public sealed record ConsentDisclosure(string DocumentId, string Version, string Sha256);

/// <summary>
/// The parent's own confirmation of the consent on the parent page: signature evidence the parent gave
/// through their link (when, which link, a SHA-256 of the browser's user agent), not a claim of the
/// recording organization.
/// </summary>
public sealed record ParentConfirmation(DateTimeOffset ConfirmedAt, string LinkId, string UserAgentSha256);

/// <summary>How the consent was signed.</summary>
public sealed record ConsentSignature(SignatureMethod Method, string? BlobReference = null, string? Evidence = null);

/// <summary>
/// One parent consent. The child is referenced by its community key and by the owning provider's
/// keyed local token, never by a raw local id. <see cref="Sources"/> may share with
/// <see cref="Recipients"/>, for <see cref="Purpose"/>, the <see cref="Categories"/> of
/// <see cref="ConsentCategories"/>, for records dated within <see cref="DataFrom"/>..<see cref="DataTo"/>
/// (null: no bound), while now is within <see cref="EffectiveFrom"/>..<see cref="ExpiresAt"/> (exclusive).
/// </summary>
public sealed record ConsentRecord
{
    public required string Id { get; init; }

    /// <summary>Incremented by every change of this consent (history rows keep every version).</summary>
    public int Version { get; init; } = 1;

    public required string ChildKey { get; init; }

    public required string OwnerProviderId { get; init; }

    public required string OwnerLocalToken { get; init; }

    public required ConsentGrantor GivenBy { get; init; }

    public required IReadOnlyList<string> Sources { get; init; }

    public required IReadOnlyList<string> Recipients { get; init; }

    public required string Purpose { get; init; }

    public required IReadOnlyList<string> Categories { get; init; }

    public DateOnly? DataFrom { get; init; }

    public DateOnly? DataTo { get; init; }

    public required ConsentDisclosure Disclosure { get; init; }

    public required ConsentSignature Signature { get; init; }

    /// <summary>The data sharing agreement the consent was given under, if any: it caps the expiry.</summary>
    public string? AgreementId { get; init; }

    public required DateTimeOffset GivenAt { get; init; }

    public required DateTimeOffset EffectiveFrom { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public ConsentStatus Status { get; init; } = ConsentStatus.Active;

    public DateTimeOffset? RevokedAt { get; init; }

    public string? RevokedBy { get; init; }

    public string? RevocationReason { get; init; }

    public DateTimeOffset? ExpiredAt { get; init; }

    /// <summary>The consent this one renews.</summary>
    public string? Supersedes { get; init; }

    /// <summary>The consent that renewed this one.</summary>
    public string? SupersededBy { get; init; }

    /// <summary>
    /// Each source's own authorization of releasing its data under this consent. A source without an
    /// entry (a consent stored before authorizations existed) is <see cref="OwnerDecision.Pending"/>.
    /// </summary>
    public IReadOnlyList<OwnerAuthorization> Authorizations { get; init; } = [];

    public string RecordedBy { get; init; } = "";

    /// <summary>
    /// Whether the parent must confirm the consent on the parent page before it is in force (its agreement
    /// says so, <see cref="Agreements.DataSharingAgreement.RequireParentConfirmation"/>): it is recorded
    /// <see cref="ConsentStatus.Pending"/> and becomes Active when the parent confirms.
    /// </summary>
    public bool ParentConfirmationRequired { get; init; }

    /// <summary>The parent's confirmation on the parent page, once given.</summary>
    public ParentConfirmation? ParentConfirmation { get; init; }

    /// <summary>Whether the consent waits for the parent's confirmation before it is in force.</summary>
    [JsonIgnore]
    public bool AwaitsParentConfirmation => Status == ConsentStatus.Pending && ParentConfirmationRequired && ParentConfirmation is null;

    public DateTimeOffset UpdatedAt { get; init; }

    public string UpdatedBy { get; init; } = "";

    /// <summary>Every organization party to the consent: the owner, the sources and the recipients.</summary>
    [JsonIgnore]
    public IEnumerable<string> Parties => Sources.Concat(Recipients).Append(OwnerProviderId).Distinct(StringComparer.Ordinal);

    public bool IsParty(string organizationId) => Parties.Contains(organizationId, StringComparer.Ordinal);

    public bool IsSource(string organizationId) => Sources.Contains(organizationId, StringComparer.Ordinal);

    /// <summary>The source's authorization (Pending when it has none).</summary>
    public OwnerAuthorization AuthorizationOf(string sourceId) =>
        Authorizations.FirstOrDefault(a => a.SourceId == sourceId) ?? new OwnerAuthorization(sourceId, OwnerDecision.Pending);

    /// <summary>Whether the source itself authorized releasing its data under this consent.</summary>
    public bool IsAuthorizedBy(string sourceId) => AuthorizationOf(sourceId).Decision == OwnerDecision.Approved;

    /// <summary>Every source's authorization, in the order of <see cref="Sources"/>.</summary>
    [JsonIgnore]
    public IEnumerable<OwnerAuthorization> AuthorizationsBySource => Sources.Select(AuthorizationOf);

    /// <summary>Whether the consent may be relied on at <paramref name="now"/>: active, in effect and not past its expiry.</summary>
    public bool IsInForce(DateTimeOffset now) => Status == ConsentStatus.Active && EffectiveFrom <= now && now < ExpiresAt;
}

/// <summary>A consent with the ETag of its current row.</summary>
public sealed record VersionedConsent(ConsentRecord Consent, string ETag);

/// <summary>What a caller submits to record a consent: the child by the owning provider's local id.</summary>
public sealed record ConsentDraft
{
    /// <summary>The owning provider (default: the caller's organization).</summary>
    public string? ProviderId { get; init; }

    /// <summary>The child's local id at <see cref="ProviderId"/>; only its keyed token is kept.</summary>
    public string LocalChildId { get; init; } = "";

    public ConsentGrantor? GivenBy { get; init; }

    public IReadOnlyList<string> Sources { get; init; } = [];

    public IReadOnlyList<string> Recipients { get; init; } = [];

    public string Purpose { get; init; } = "";

    public IReadOnlyList<string> Categories { get; init; } = [];

    public DateOnly? DataFrom { get; init; }

    public DateOnly? DataTo { get; init; }

    public ConsentDisclosure? Disclosure { get; init; }

    public ConsentSignature? Signature { get; init; }

    public string? AgreementId { get; init; }

    public DateTimeOffset? GivenAt { get; init; }

    /// <summary>Default: now.</summary>
    public DateTimeOffset? EffectiveFrom { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>A renewal: a new expiry and, when the parent signed again, the new disclosure and signature.</summary>
public sealed record ConsentRenewal
{
    public DateTimeOffset? ExpiresAt { get; init; }

    public ConsentDisclosure? Disclosure { get; init; }

    public ConsentSignature? Signature { get; init; }

    public DateTimeOffset? GivenAt { get; init; }

    public IReadOnlyList<string>? Categories { get; init; }
}

/// <summary>What a source answers: <c>approve</c>, <c>decline</c> or <c>withdraw</c>, optionally with a note kept in the consent.</summary>
public sealed record OwnerAuthorizationRequest
{
    public string Decision { get; init; } = "";

    public string? Note { get; init; }
}

/// <summary>A consent that breaks the rules; <see cref="Errors"/> says which.</summary>
public sealed class ConsentValidationException(IReadOnlyList<string> errors) : Exception(string.Join(" ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>A change that cannot be made in the consent's current state (e.g. renewing a revoked consent).</summary>
public sealed class ConsentConflictException(string message) : Exception(message);

/// <summary>The caller is not party to the consent or may not make this change.</summary>
public sealed class ConsentForbiddenException(string message) : Exception(message);

namespace ChildShare.Core.Sharing.Identifiable;

/// <summary>A consent as the API shows it to the organizations party to it: without the child's community key or local token.</summary>
public sealed record ConsentView(
    string Id, int Version, ConsentStatus Status, string OwnerProviderId, ConsentGrantor GivenBy, IReadOnlyList<string> Sources, IReadOnlyList<string> Recipients,
    string Purpose, IReadOnlyList<string> Categories, DateOnly? DataFrom, DateOnly? DataTo, ConsentDisclosure Disclosure, ConsentSignature Signature,
    string? AgreementId, DateTimeOffset GivenAt, DateTimeOffset EffectiveFrom, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, string? RevokedBy,
    string? RevocationReason, DateTimeOffset? ExpiredAt, string? Supersedes, string? SupersededBy, IReadOnlyList<ConsentAuthorizationView> Authorizations,
    string RecordedBy, DateTimeOffset UpdatedAt, string ETag, bool ParentConfirmationRequired = false, ParentConfirmation? ParentConfirmation = null)
{
    public static ConsentView From(VersionedConsent versioned)
    {
        ArgumentNullException.ThrowIfNull(versioned);
        var c = versioned.Consent;
        return new(c.Id, c.Version, c.Status, c.OwnerProviderId, c.GivenBy, c.Sources, c.Recipients, c.Purpose, c.Categories, c.DataFrom, c.DataTo, c.Disclosure,
            c.Signature, c.AgreementId, c.GivenAt, c.EffectiveFrom, c.ExpiresAt, c.RevokedAt, c.RevokedBy, c.RevocationReason, c.ExpiredAt, c.Supersedes,
            c.SupersededBy, c.AuthorizationsBySource.Select(a => new ConsentAuthorizationView(a.SourceId, a.Decision, a.DecidedAt)).ToList(), c.RecordedBy, c.UpdatedAt,
            versioned.ETag, c.ParentConfirmationRequired, c.ParentConfirmation);
    }
}

/// <summary>
/// Each source's answer as every party sees it: which source, what it decided and when. The acting
/// credential and the source's note stay with the source (<see cref="AuthorizationReview"/>).
/// </summary>
public sealed record ConsentAuthorizationView(string SourceId, OwnerDecision Decision, DateTimeOffset? DecidedAt);

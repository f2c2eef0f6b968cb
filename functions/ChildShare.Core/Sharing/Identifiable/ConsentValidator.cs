using System.Globalization;
using ChildShare.Core.Agreements;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Sharing.Identifiable;

/// <summary>
/// The rules a consent keeps, as <see cref="AgreementValidator"/> holds an agreement's: pure (no
/// storage, no clock, no caller), each returning the errors in words a caller can act on, in a
/// stable order. <see cref="ConsentService"/> keeps the life cycle and the reads (the child's
/// record, the agreement) and refuses with <see cref="ConsentValidationException"/> when any error is found.
/// An error never quotes a long input back (<see cref="Truncated"/>), and never a child identifier.
/// </summary>
public static class ConsentValidator
{
    // Free-text limits: generous for people, and together far below a table property's 64 KiB (a consent document is one property).
    public const int MaxLocalIdLength = 200;
    public const int MaxNameLength = 200;
    public const int MaxShortTextLength = 200;
    public const int MaxTextLength = 2000;
    public const int MaxOrganizations = 50;

    /// <summary>
    /// A new consent: the child, who gave it, the organizations, purpose, dates, categories,
    /// disclosure, signature and expiry. <paramref name="categories"/> receives the canonical
    /// categories. The agreement it names, if any, is checked apart (<see cref="Agreement"/>), once read.
    /// </summary>
    public static List<string> Draft(ConsentDraft draft, DateTimeOffset now, int maxConsentDays, out IReadOnlyList<string> categories)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var effective = draft.EffectiveFrom ?? now;
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(draft.LocalChildId) || draft.LocalChildId.Length > MaxLocalIdLength)
        {
            errors.Add($"localChildId names the child by the provider's local id (at most {MaxLocalIdLength} characters).");
        }

        if (draft.GivenBy is null || string.IsNullOrWhiteSpace(draft.GivenBy.Name) || string.IsNullOrWhiteSpace(draft.GivenBy.Relationship))
        {
            errors.Add("givenBy states the parent or guardian's name and relationship to the child.");
        }
        else
        {
            Limit(draft.GivenBy.Name, MaxNameLength, "givenBy.name", errors);
            Limit(draft.GivenBy.Relationship, MaxShortTextLength, "givenBy.relationship", errors);
        }

        Organizations(draft.Sources, "sources", errors);
        Organizations(draft.Recipients, "recipients", errors);
        if (string.IsNullOrWhiteSpace(draft.Purpose))
        {
            errors.Add("A consent states its purpose.");
        }

        Limit(draft.Purpose, MaxTextLength, "purpose", errors);
        if (effective > now.AddDays(maxConsentDays))
        {
            errors.Add($"effectiveFrom is at most {maxConsentDays} days ahead.");
        }

        if (draft.AgreementId is { Length: > 0 } agreementId && !AgreementValidator.IsValidId(agreementId))
        {
            errors.Add("agreementId is not a valid agreement id.");
        }

        categories = Categories(draft.Categories, errors);
        Disclosure(draft.Disclosure, errors);
        Signature(draft.Signature, errors);
        if (draft.DataFrom is { } from && draft.DataTo is { } to && to < from)
        {
            errors.Add("dataTo is before dataFrom.");
        }

        if (draft.GivenAt is { } given && given > now)
        {
            errors.Add("givenAt is in the future.");
        }

        Expiry(draft.ExpiresAt, effective, now, maxConsentDays, errors);
        return errors;
    }

    /// <summary>
    /// A renewal of <paramref name="old"/> (effective now): categories (the old ones when none are
    /// given), disclosure (when given), signature, signing date and expiry. Whether the old consent
    /// can be renewed at all is <see cref="RenewalProblem"/>.
    /// </summary>
    public static List<string> Renewal(ConsentRenewal renewal, ConsentRecord old, DateTimeOffset now, int maxConsentDays, out IReadOnlyList<string> categories)
    {
        ArgumentNullException.ThrowIfNull(renewal);
        ArgumentNullException.ThrowIfNull(old);
        var errors = new List<string>();
        categories = renewal.Categories is null ? old.Categories : Categories(renewal.Categories, errors);
        if (renewal.Disclosure is not null)
        {
            Disclosure(renewal.Disclosure, errors);
        }

        Signature(renewal.Signature, errors);
        if (renewal.GivenAt is { } renewedAt && renewedAt > now)
        {
            errors.Add("givenAt is in the future.");
        }

        Expiry(renewal.ExpiresAt, now, now, maxConsentDays, errors);
        return errors;
    }

    /// <summary>Why a consent cannot be renewed now, or null when it can (it is active and not yet expired).</summary>
    public static string? RenewalProblem(ConsentRecord consent, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(consent);
        return consent.Status switch
        {
            ConsentStatus.Revoked => "The consent was revoked; it cannot be renewed (record a new consent).",
            ConsentStatus.Superseded => "The consent was already renewed; renew the consent that superseded it.",
            ConsentStatus.Expired => "The consent has expired; record a new consent.",
            ConsentStatus.Active when now >= consent.ExpiresAt => "The consent has expired; record a new consent.",
            ConsentStatus.Active => null,
            _ => "The consent is not active.",
        };
    }

    /// <summary>A revocation states why, within the free-text limit.</summary>
    public static List<string> RevocationReason(string? reason) =>
        string.IsNullOrWhiteSpace(reason) || reason.Length > MaxTextLength ? [$"A revocation states why (reason, at most {MaxTextLength} characters)."] : [];

    /// <summary>
    /// Every consent expires: after now, after it takes effect, and at most <paramref name="maxConsentDays"/> after that.
    /// </summary>
    public static void Expiry(DateTimeOffset? expiresAt, DateTimeOffset effective, DateTimeOffset now, int maxConsentDays, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (expiresAt is not { } expiry)
        {
            errors.Add("expiresAt is required: every consent expires.");
            return;
        }

        if (expiry <= now || expiry <= effective)
        {
            errors.Add("expiresAt must be after now and after effectiveFrom.");
        }

        var cap = effective > DateTimeOffset.MaxValue.AddDays(-maxConsentDays) ? DateTimeOffset.MaxValue : effective.AddDays(maxConsentDays);
        if (expiry > cap)
        {
            errors.Add($"A consent may run at most {maxConsentDays} days (the community default): expiresAt must be on or before {cap.ToString("O", CultureInfo.InvariantCulture)}.");
        }
    }

    /// <summary>
    /// The agreement a consent is given under, as read (null: not found): it must exist, not be
    /// terminated, permit identifiable sharing and last at least as long as the consent.
    /// </summary>
    public static void Agreement(string agreementId, DataSharingAgreement? agreement, DateTimeOffset expiry, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (agreement is null || agreement.Status == AgreementStatus.Terminated)
        {
            errors.Add($"Agreement {agreementId} does not exist or is terminated.");
        }
        else if (!agreement.Modes.Contains(SharingMode.Identifiable))
        {
            errors.Add($"Agreement {agreementId} does not permit identifiable sharing.");
        }
        else if (agreement.LastDay is { } last && expiry > new DateTimeOffset(last.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero))
        {
            errors.Add($"Agreement {agreementId} ends on {RecordKeys.IsoDate(last)}: the consent may not run past it.");
        }
    }

    /// <summary>Sources or recipients: 1 to <see cref="MaxOrganizations"/> valid organization ids.</summary>
    public static void Organizations(IReadOnlyList<string>? organizations, string field, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (organizations is null || organizations.Count == 0)
        {
            errors.Add($"{field} names at least one organization.");
            return;
        }

        if (organizations.Count > MaxOrganizations)
        {
            errors.Add($"{field} names at most {MaxOrganizations} organizations.");
            return;
        }

        foreach (var organization in organizations.Where(o => o is null || !ProviderRegistry.IsValidId(o)))
        {
            errors.Add(organization is null ? $"{field} holds an empty entry." : $"'{Truncated(organization)}' in {field} is not a valid organization id.");
        }
    }

    /// <summary>At least one known data category; returns the canonical names, each once (only the first 2 × the known categories are looked at).</summary>
    public static IReadOnlyList<string> Categories(IReadOnlyList<string>? categories, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (categories is null || categories.Count == 0)
        {
            errors.Add($"categories names at least one data category: {string.Join(", ", ConsentCategories.All)}.");
            return [];
        }

        var known = new List<string>();
        foreach (var category in categories.Take(ConsentCategories.All.Count * 2))
        {
            if (ConsentCategories.Canonical(category) is { } canonical)
            {
                known.Add(canonical);
            }
            else
            {
                errors.Add($"'{Truncated(category ?? "")}' is not a data category; the categories are {string.Join(", ", ConsentCategories.All)}.");
            }
        }

        return known.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The document shown to the parent: id, version and its SHA-256 (64 hex digits).</summary>
    public static void Disclosure(ConsentDisclosure? disclosure, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (disclosure is null || string.IsNullOrWhiteSpace(disclosure.DocumentId) || string.IsNullOrWhiteSpace(disclosure.Version))
        {
            errors.Add("disclosure names the document shown to the parent (documentId, version, sha256).");
            return;
        }

        Limit(disclosure.DocumentId, MaxShortTextLength, "disclosure.documentId", errors);
        Limit(disclosure.Version, MaxShortTextLength, "disclosure.version", errors);
        if (disclosure.Sha256 is not { Length: 64 } hash || !hash.All(char.IsAsciiHexDigit))
        {
            errors.Add("disclosure.sha256 is the SHA-256 of the disclosure text, 64 hex digits.");
        }
    }

    /// <summary>How the parent signed: a signed form kept as a blob, or an electronic signature with its evidence.</summary>
    public static void Signature(ConsentSignature? signature, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        switch (signature)
        {
            case null:
                errors.Add("signature states how the parent signed (method SignedForm with blobReference, or Electronic with evidence).");
                break;
            case { Method: SignatureMethod.SignedForm, BlobReference: null or "" }:
                errors.Add("A signed form is kept as a blob: signature.blobReference is required.");
                break;
            case { Method: SignatureMethod.Electronic, Evidence: null or "" }:
                errors.Add("An electronic signature needs its evidence (signature.evidence).");
                break;
            default:
                Limit(signature.BlobReference, MaxTextLength, "signature.blobReference", errors);
                Limit(signature.Evidence, MaxTextLength, "signature.evidence", errors);
                break;
        }
    }

    /// <summary>A caller's value quoted back in an error, cut short: an error never carries a long input.</summary>
    public static string Truncated(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Length <= 40 ? value : value[..40] + "...";
    }

    /// <summary>A free-text field too long to keep: a consent document stays far below a table property's 64 KiB.</summary>
    private static void Limit(string? value, int max, string field, List<string> errors)
    {
        if (value is { Length: > 0 } && value.Length > max)
        {
            errors.Add($"{field} is at most {max} characters.");
        }
    }
}

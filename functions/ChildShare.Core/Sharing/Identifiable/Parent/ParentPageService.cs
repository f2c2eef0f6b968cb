using System.Security.Cryptography;
using System.Text;
using ChildShare.Core.Audit;
using ChildShare.Core.Ingestion;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChildShare.Core.Sharing.Identifiable.Parent;

/// <summary>What the parent asked for.</summary>
public enum ParentPageAction
{
    /// <summary>GET: the page.</summary>
    View,

    /// <summary>GET <c>?step=revoke</c>: the confirmation step before revoking.</summary>
    ConfirmRevoke,

    /// <summary>POST <c>/revoke</c>: revoke the consent.</summary>
    Revoke,

    /// <summary>POST <c>/confirm</c>: confirm the consent (signature evidence).</summary>
    Confirm,
}

/// <summary>One request to a parent page, as the function binds it (no child identifier is in any of it).</summary>
public sealed record ParentPageRequest
{
    public required string Token { get; init; }

    public ParentPageAction Action { get; init; } = ParentPageAction.View;

    /// <summary>The path of the page itself (<c>/api/parent</c>; the token rides in its query, <see cref="ParentPageAddress"/>), that its links and forms point to.</summary>
    public required string PagePath { get; init; }

    /// <summary>The language the switch asked for (<c>?lang=</c>), if any.</summary>
    public string? Language { get; init; }

    public string? AcceptLanguage { get; init; }

    /// <summary>The form's token (a POST's <c>form</c> field).</summary>
    public string? FormToken { get; init; }

    /// <summary>The client's address, counted (as a keyed hash) by the per-client rate limit.</summary>
    public string? ClientAddress { get; init; }

    public string? UserAgent { get; init; }

    /// <summary>The browser said the POST comes from another site (<c>Sec-Fetch-Site</c>, or an <c>Origin</c> of another host).</summary>
    public bool CrossSite { get; init; }
}

/// <summary>The answer: a status, the HTML, the CSP nonce its style carries, and for a POST the page to go back to (303).</summary>
public sealed record ParentPageResponse(int Status, string Html, string Nonce, string? Location = null, int? RetryAfterSeconds = null);

/// <summary>How the consent stands, as the parent is told.</summary>
public enum ParentPageStatus
{
    Active,
    AwaitingParent,
    AwaitingOwner,
    NotYetEffective,
    Revoked,
    Expired,
    Superseded,
    Abandoned,
}

/// <summary>Everything one page shows.</summary>
public sealed record ParentPageModel(
    string? ChildFirstName, ConsentRecord Consent, ParentPageStatus Status, ParentPageStatus? RenewalStatus, IReadOnlyDictionary<string, string> OrganizationNames,
    DisclosureText DisclosureText, IReadOnlyList<Disclosure> Disclosures, bool MoreDisclosures, bool CanRevoke, bool CanConfirm, bool RevokedByParent,
    string RevokeFormToken, string ConfirmFormToken);

/// <summary>
/// The parent's page behind a signed link (CONSENT.md, "The parent's page"): verifies the token
/// (before any storage is read), counts the request against the per-client and per-link hourly limits,
/// checks the link row (not revoked by its issuer, the same expiry), reads the consent, audits the view
/// before anything is shown, and renders it; revokes (as the parent, through the existing read-time gate)
/// and confirms on a form post carrying a form token of the same link. Every refusal is one plain page
/// that says nothing about the consent, and is audited with its reason.
/// </summary>
public sealed partial class ParentPageService(
    ParentLinkKeys keys, ParentLinkService links, ParentRateLimiter rates, ConsentStore store, ConsentService consents, ChildRecordReader records,
    ProviderRegistry providers, DisclosureDocuments documents, DisclosureRecord disclosureRecord, AuditLog audit, IOptions<ParentLinkOptions> options,
    TimeProvider time, ILogger<ParentPageService> logger)
{
    /// <summary>How long a rendered form can be submitted.</summary>
    public static readonly TimeSpan FormLifetime = TimeSpan.FromHours(1);

    /// <summary>The revocation reason recorded in the consent when the parent revokes on the page.</summary>
    public const string RevocationReason = "Revoked by the parent on the parent page.";

    public async Task<ParentPageResponse> HandleAsync(ParentPageRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Hex: a valid CSP nonce that HTML attribute encoding leaves as it is.
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var text = ParentPageText.Choose(request.Language, request.AcceptLanguage);
        try
        {
            return await HandleCoreAsync(request, text, nonce, cancellationToken).ConfigureAwait(false);
        }
        catch (AuditUnavailableException)
        {
            return new(503, ParentPageHtml.Message(text, nonce, "unavailableTitle", "unavailableText"), nonce);
        }
    }

    private async Task<ParentPageResponse> HandleCoreAsync(ParentPageRequest request, ParentPageText text, string nonce, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var key = await keys.GetKeyAsync(cancellationToken).ConfigureAwait(false);
        var (token, problem) = ParentLinkToken.Verify(key, request.Token, ParentTokenPurpose.Page, now);
        var linkId = problem is ParentTokenProblem.Tampered ? null : token?.LinkId;

        var client = await rates.CountAsync(ParentRateLimiter.ClientKey(ParentLinkKeys.ClientHash(key, request.ClientAddress ?? "unknown")),
            options.Value.RequestsPerClientPerHour, cancellationToken).ConfigureAwait(false);
        if (client != RateDecision.Allowed)
        {
            return await TooManyAsync(client, "rate-limited-client", linkId, null, text, nonce, cancellationToken).ConfigureAwait(false);
        }

        if (problem != ParentTokenProblem.None)
        {
            var reason = problem switch { ParentTokenProblem.WrongPurpose => "wrong-purpose", ParentTokenProblem.Expired => "expired", _ => "tampered" };
            return await RefuseAsync(reason, linkId, null, text, nonce, cancellationToken).ConfigureAwait(false);
        }

        var perLink = await rates.CountAsync(ParentRateLimiter.LinkKey(token!.LinkId), options.Value.RequestsPerLinkPerHour, cancellationToken).ConfigureAwait(false);
        if (perLink != RateDecision.Allowed)
        {
            return await TooManyAsync(perLink, "rate-limited-link", token.LinkId, null, text, nonce, cancellationToken).ConfigureAwait(false);
        }

        var link = await links.GetAsync(token.LinkId, cancellationToken).ConfigureAwait(false);
        if (link is null || link.ExpiresAt != token.ExpiresAt)
        {
            return await RefuseAsync("unknown-link", token.LinkId, null, text, nonce, cancellationToken).ConfigureAwait(false);
        }

        if (link.RevokedAt is not null)
        {
            return await RefuseAsync("link-revoked", link.LinkId, link.ConsentId, text, nonce, cancellationToken).ConfigureAwait(false);
        }

        var found = await store.GetAsync(link.ConsentId, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return await RefuseAsync("unknown-consent", link.LinkId, link.ConsentId, text, nonce, cancellationToken).ConfigureAwait(false);
        }

        var page = new ParentPageAddress(request.PagePath, request.Token);
        var back = page.View("lang=" + text.Language);
        if (request.Action is ParentPageAction.Revoke or ParentPageAction.Confirm)
        {
            var formPurpose = request.Action == ParentPageAction.Revoke ? ParentTokenPurpose.RevokeForm : ParentTokenPurpose.ConfirmForm;
            var (form, formProblem) = ParentLinkToken.Verify(key, request.FormToken, formPurpose, now);
            if (request.CrossSite || formProblem != ParentTokenProblem.None || form!.LinkId != link.LinkId)
            {
                await AuditRefusalAsync(request.CrossSite ? "cross-site-form" : "bad-form", link.LinkId, link.ConsentId, cancellationToken).ConfigureAwait(false);
                return new(400, ParentPageHtml.Message(text, nonce, "formTitle", "formText", back), nonce);
            }

            var actor = ConsentActor.System(ConsentService.ParentActorName(link.LinkId));
            if (request.Action == ParentPageAction.Revoke)
            {
                // The one revocation path: the read-time gate of every identifiable report sees it at once.
                await consents.RevokeAsync(actor, link.ConsentId, RevocationReason, cancellationToken).ConfigureAwait(false);
                LogParentRevoked(logger, link.ConsentId, link.LinkId);
            }
            else
            {
                try
                {
                    await consents.ConfirmByParentAsync(link.ConsentId, link.LinkId, Sha256(request.UserAgent ?? ""), cancellationToken).ConfigureAwait(false);
                }
                catch (ConsentConflictException)
                {
                    // Revoked or expired meanwhile: the page shows how it stands, and the audit records the refusal.
                    await AuditRefusalAsync("not-confirmable", link.LinkId, link.ConsentId, cancellationToken).ConfigureAwait(false);
                }
            }

            return new(303, "", nonce, back);
        }

        var model = await BuildAsync(found.Consent, link, key, now, cancellationToken).ConfigureAwait(false);
        await audit.AppendAsync(new AuditEntry(AuditEvents.ParentPageViewed, AuditOutcomes.Succeeded)
        {
            Actor = ConsentService.ParentActorName(link.LinkId),
            Parameters = Parameters(link.LinkId, link.ConsentId, new() { ["language"] = text.Language, ["step"] = request.Action.ToString() }),
            ProvidersIncluded = model.Disclosures.Select(d => d.Recipient).Distinct(StringComparer.Ordinal).ToList(),
            RowsReturned = model.Disclosures.Count,
        }, cancellationToken).ConfigureAwait(false);
        var html = request.Action == ParentPageAction.ConfirmRevoke && model.CanRevoke
            ? ParentPageHtml.ConfirmRevoke(model, text, nonce, page)
            : ParentPageHtml.Page(model, text, nonce, page);
        return new(200, html, nonce);
    }

    private async Task<ParentPageModel> BuildAsync(ConsentRecord consent, ParentLink link, byte[] key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The child's first name only, from the owning provider's own record: never more identity than the parent needs to recognize the consent.
        var identity = await records.IdentityAsync(consent.OwnerProviderId, consent.OwnerLocalToken, cancellationToken).ConfigureAwait(false);
        var firstName = identity?.GetString("FirstName") is { Length: > 0 } first ? first : null;
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var organization in consent.Parties)
        {
            names[organization] = (await providers.GetAsync(organization, cancellationToken).ConfigureAwait(false))?.DisplayName is { Length: > 0 } name ? name : organization;
        }

        var status = StatusOf(consent, now);
        var latest = consent;
        for (var hop = 0; hop < 10 && latest.Status == ConsentStatus.Superseded && latest.SupersededBy is { } next; hop++)
        {
            latest = (await store.GetAsync(next, cancellationToken).ConfigureAwait(false))?.Consent ?? latest;
            if (latest.Id != next)
            {
                break;
            }
        }

        var latestStatus = StatusOf(latest, now);
        var text = await documents.FindAsync(consent, cancellationToken).ConfigureAwait(false);
        var (disclosures, more) = await disclosureRecord.ReadAsync(consent.Id, cancellationToken: cancellationToken).ConfigureAwait(false);
        var formExpiry = now + FormLifetime;
        return new ParentPageModel(firstName, consent, status, latest.Id == consent.Id ? null : latestStatus, names, text, disclosures, more,
            CanRevoke: latestStatus is not (ParentPageStatus.Revoked or ParentPageStatus.Expired or ParentPageStatus.Abandoned),
            // Required where the consent waits for it; offered on any consent in force (an agreement relied on later may ask for it).
            CanConfirm: consent.ParentConfirmation is null && (status == ParentPageStatus.AwaitingParent
                || (consent.Status == ConsentStatus.Active && status is ParentPageStatus.Active or ParentPageStatus.AwaitingOwner or ParentPageStatus.NotYetEffective)),
            RevokedByParent: consent.RevokedBy is { } by && by.StartsWith("parent/", StringComparison.Ordinal),
            ParentLinkToken.Create(key, ParentTokenPurpose.RevokeForm, link.LinkId, formExpiry),
            ParentLinkToken.Create(key, ParentTokenPurpose.ConfirmForm, link.LinkId, formExpiry));
    }

    /// <summary>How a consent stands at <paramref name="now"/>, in the parent's terms.</summary>
    public static ParentPageStatus StatusOf(ConsentRecord consent, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(consent);
        return consent.Status switch
        {
            ConsentStatus.Revoked => ParentPageStatus.Revoked,
            ConsentStatus.Superseded => ParentPageStatus.Superseded,
            ConsentStatus.Abandoned => ParentPageStatus.Abandoned,
            ConsentStatus.Expired => ParentPageStatus.Expired,
            _ when now >= consent.ExpiresAt => ParentPageStatus.Expired,
            ConsentStatus.Pending when consent.AwaitsParentConfirmation => ParentPageStatus.AwaitingParent,
            ConsentStatus.Pending => ParentPageStatus.NotYetEffective,
            _ when consent.EffectiveFrom > now => ParentPageStatus.NotYetEffective,
            _ when consent.Sources.Any(s => !consent.IsAuthorizedBy(s)) => ParentPageStatus.AwaitingOwner,
            _ => ParentPageStatus.Active,
        };
    }

    private async Task<ParentPageResponse> RefuseAsync(string reason, string? linkId, string? consentId, ParentPageText text, string nonce, CancellationToken cancellationToken)
    {
        await AuditRefusalAsync(reason, linkId, consentId, cancellationToken).ConfigureAwait(false);
        LogRefused(logger, reason);
        // One plain page for every reason: it says nothing about the link, the consent or the child.
        return new(404, ParentPageHtml.Message(text, nonce, "errorTitle", "errorText"), nonce);
    }

    private async Task<ParentPageResponse> TooManyAsync(RateDecision decision, string reason, string? linkId, string? consentId, ParentPageText text, string nonce,
        CancellationToken cancellationToken)
    {
        if (decision == RateDecision.FirstRefusal)
        {
            // Once per key and hour: a flood writes no more audit rows than that.
            await AuditRefusalAsync(reason, linkId, consentId, cancellationToken).ConfigureAwait(false);
            LogRefused(logger, reason);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var untilNextHour = 3600 - (now.Minute * 60) - now.Second;
        return new(429, ParentPageHtml.Message(text, nonce, "rateTitle", "rateText"), nonce, RetryAfterSeconds: Math.Max(1, untilNextHour));
    }

    private async Task AuditRefusalAsync(string reason, string? linkId, string? consentId, CancellationToken cancellationToken) =>
        await audit.AppendAsync(new AuditEntry(AuditEvents.ParentPageRefused, "Refused")
        {
            Actor = linkId is null ? "parent/unknown" : ConsentService.ParentActorName(linkId),
            Parameters = Parameters(linkId, consentId, new() { ["reason"] = reason }),
            RowsReturned = 0,
        }, cancellationToken).ConfigureAwait(false);

    private static Dictionary<string, string> Parameters(string? linkId, string? consentId, Dictionary<string, string> more)
    {
        more["linkId"] = linkId ?? "";
        more["consentId"] = consentId ?? "";
        more["consents"] = consentId ?? "";
        return more;
    }

    private static string Sha256(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    [LoggerMessage(EventId = 7501, Level = LogLevel.Information, Message = "Parent page refused ({Reason})")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 7502, Level = LogLevel.Information, Message = "Consent {ConsentId} revoked by the parent through link {LinkId}")]
    private static partial void LogParentRevoked(ILogger logger, string consentId, string linkId);
}

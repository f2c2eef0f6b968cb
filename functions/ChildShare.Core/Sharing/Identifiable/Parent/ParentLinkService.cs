using System.Globalization;
using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using QRCoder;

namespace ChildShare.Core.Sharing.Identifiable.Parent;

/// <summary>A parent link as stored: which consent, who issued it, until when, and whether the issuer revoked it.</summary>
public sealed record ParentLink(string LinkId, string ConsentId, string IssuedBy, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt,
    DateTimeOffset? RevokedAt = null, string? RevokedBy = null);

/// <summary>A link as handed to the issuing organization: the URL to give the parent and a QR code of it (PNG, base64) for a paper form.</summary>
public sealed record IssuedParentLink(string LinkId, string ConsentId, string Url, DateTimeOffset ExpiresAt, string QrCodePng);

/// <summary>
/// Issues and revokes the parent's signed links. A link is a row of <c>parentlinks</c> (PK link id,
/// RK <c>link</c>: the consent it names, the issuing organization, issue and expiry times, revocation)
/// and a token signed under the parent link key (<see cref="ParentLinkToken"/>). The owning provider or
/// a source of the consent (the organizations that record and renew it), or an Admin, issues links;
/// only the issuing organization (or an Admin) revokes one. Every issue and revocation is audited
/// before it is written.
/// </summary>
public partial class ParentLinkService(
    ParentLinkTable links, ConsentStore consents, ParentLinkKeys keys, AuditLog audit, IOptions<ParentLinkOptions> options, TimeProvider time,
    ILogger<ParentLinkService> logger)
{
    /// <summary>The page's path under the app; the token goes in the query (<see cref="ParentPageAddress"/>).</summary>
    public const string Route = "api/parent";

    /// <summary>Issues a new link to the consent's page; null when no consent has this id.</summary>
    public async Task<IssuedParentLink?> IssueAsync(Caller caller, string consentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var consent = (await consents.GetAsync(consentId, cancellationToken).ConfigureAwait(false))?.Consent;
        if (consent is null || !(caller.IsAdmin || consent.IsParty(caller.OrganizationId)))
        {
            return null;
        }

        if (!caller.IsAdmin && caller.OrganizationId != consent.OwnerProviderId && !consent.IsSource(caller.OrganizationId))
        {
            throw new ConsentForbiddenException("A parent link is issued by the consent's owning provider or one of its sources (the organizations that record and renew it).");
        }

        var now = time.GetUtcNow();
        var link = new ParentLink(Guid.NewGuid().ToString("N"), consent.Id, caller.OrganizationId, now,
            // Whole seconds: the token carries the expiry in Unix seconds, and the row must say the same.
            DateTimeOffset.FromUnixTimeSeconds(now.AddDays(options.Value.LinkDays).ToUnixTimeSeconds()));
        await AuditAsync(AuditEvents.ParentLinkIssued, caller, link, cancellationToken).ConfigureAwait(false);
        await links.AddAsync(ToRow(link), cancellationToken).ConfigureAwait(false);
        LogIssued(logger, link.LinkId, consent.Id, caller.OrganizationId);
        return await HandOutAsync(link, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Revokes a link of a consent: its page then answers with the plain error page. Idempotent. Null when
    /// the consent has no such link visible to the caller.
    /// </summary>
    public async Task<ParentLink?> RevokeAsync(Caller caller, string consentId, string linkId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (!ParentLinkToken.IsValidLinkId(linkId) || await links.GetAsync(linkId, cancellationToken).ConfigureAwait(false) is not var (row, etag))
            {
                return null;
            }

            var link = FromRow(row);
            if (link.ConsentId != consentId || !(caller.IsAdmin || link.IssuedBy == caller.OrganizationId))
            {
                return null;
            }

            if (link.RevokedAt is not null)
            {
                return link;
            }

            var revoked = link with { RevokedAt = time.GetUtcNow(), RevokedBy = ConsentActor.Of(caller).Name };
            await AuditAsync(AuditEvents.ParentLinkRevoked, caller, revoked, cancellationToken).ConfigureAwait(false);
            if (await links.TryReplaceAsync(ToRow(revoked), etag, cancellationToken).ConfigureAwait(false))
            {
                LogRevoked(logger, linkId);
                return revoked;
            }

            // Revoked concurrently: read it again.
        }

        throw new ConsentConflictException("The link kept changing; try again.");
    }

    /// <summary>The link row, or null.</summary>
    public virtual async Task<ParentLink?> GetAsync(string linkId, CancellationToken cancellationToken = default)
    {
        if (!ParentLinkToken.IsValidLinkId(linkId))
        {
            return null;
        }

        return await links.GetAsync(linkId, cancellationToken).ConfigureAwait(false) is var (row, _) ? FromRow(row) : null;
    }

    /// <summary>The URL (and its QR code) of a stored link: the token is signed again, the same bytes every time.</summary>
    public async Task<IssuedParentLink> HandOutAsync(ParentLink link, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(link);
        var key = await keys.GetKeyAsync(cancellationToken).ConfigureAwait(false);
        var token = ParentLinkToken.Create(key, ParentTokenPurpose.Page, link.LinkId, link.ExpiresAt);
        var url = options.Value.BaseUrl.TrimEnd('/') + "/" + Route + "?" + ParentPageAddress.TokenParameter + "=" + token;
        return new IssuedParentLink(link.LinkId, link.ConsentId, url, link.ExpiresAt, Convert.ToBase64String(QrPng(url)));
    }

    /// <summary>A QR code of the URL as a PNG (error correction M, 8 pixels a module): for a printed consent form.</summary>
    public static byte[] QrPng(string url)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(url, QRCodeGenerator.ECCLevel.M);
        return new PngByteQRCode(data).GetGraphic(8);
    }

    private async Task AuditAsync(string auditEvent, Caller caller, ParentLink link, CancellationToken cancellationToken) =>
        await audit.AppendAsync(new AuditEntry(auditEvent, AuditOutcomes.Committing)
        {
            Caller = caller,
            Actor = ConsentActor.Of(caller).Name,
            Parameters = new Dictionary<string, string>
            {
                ["consents"] = link.ConsentId,
                ["consentId"] = link.ConsentId,
                ["linkId"] = link.LinkId,
                ["expiresAt"] = link.ExpiresAt.ToString("O", CultureInfo.InvariantCulture),
            },
        }, cancellationToken).ConfigureAwait(false);

    private static ParentLinkRow ToRow(ParentLink link) => new(link.LinkId, link.ConsentId, link.IssuedBy, link.IssuedAt, link.ExpiresAt, link.RevokedAt, link.RevokedBy);

    private static ParentLink FromRow(ParentLinkRow row) => new(row.LinkId, row.ConsentId, row.IssuedBy, row.IssuedAt, row.ExpiresAt, row.RevokedAt, row.RevokedBy);

    [LoggerMessage(EventId = 7401, Level = LogLevel.Information, Message = "Parent link {LinkId} issued for consent {ConsentId} by {OrganizationId}")]
    private static partial void LogIssued(ILogger logger, string linkId, string consentId, string organizationId);

    [LoggerMessage(EventId = 7402, Level = LogLevel.Information, Message = "Parent link {LinkId} revoked")]
    private static partial void LogRevoked(ILogger logger, string linkId);
}

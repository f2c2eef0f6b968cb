using System.Text.Json;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ChildShare.Tests.Sharing.Identifiable;

/// <summary>Recording, revoking, renewing and listing consents on Azurite, with the races between them.</summary>
public sealed class ConsentLifecycleTests(ConsentHarnessFixture fixture) : IClassFixture<ConsentHarnessFixture>
{
    private readonly ConsentHarness _h = fixture.Harness;

    private static ConsentRenewal Renewal(DateTimeOffset expires) =>
        new() { ExpiresAt = expires, Signature = new ConsentSignature(SignatureMethod.Electronic, Evidence: "esign envelope 42") };

    [Fact]
    public async Task Record_WithoutExpiryOrBeyondTheCommunityCap_Rejected()
    {
        var child = _h.NextChild();

        var noExpiry = await Assert.ThrowsAsync<ConsentValidationException>(() => _h.Consents.RecordAsync(ConsentHarness.District, _h.Draft(child) with { ExpiresAt = null }));
        var tooLong = await Assert.ThrowsAsync<ConsentValidationException>(() => _h.Consents.RecordAsync(ConsentHarness.District, _h.Draft(child, runs: TimeSpan.FromDays(400))));
        var badHash = await Assert.ThrowsAsync<ConsentValidationException>(() => _h.Consents.RecordAsync(ConsentHarness.District,
            _h.Draft(child) with { Disclosure = new ConsentDisclosure("d", "1", "not-a-hash"), Categories = ["everything"] }));

        Assert.Contains(noExpiry.Errors, e => e.Contains("expiresAt is required", StringComparison.Ordinal));
        Assert.Contains(tooLong.Errors, e => e.Contains("at most 365 days", StringComparison.Ordinal));
        Assert.Contains(badHash.Errors, e => e.Contains("sha256", StringComparison.Ordinal));
        Assert.Contains(badHash.Errors, e => e.Contains("'everything' is not a data category", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Record_PastTheAgreementsEnd_Rejected()
    {
        var child = _h.NextChild();
        await _h.Services.GetRequiredService<AgreementStore>().CreateAsync(new DataSharingAgreement
        {
            Id = "dsa-short", Parties = [new AgreementParty("district")], Recipients = ["afterschool"], Modes = [SharingMode.Identifiable], Purpose = "Pilot",
            EffectiveFrom = new DateOnly(2026, 1, 1), EndsOn = new DateOnly(2026, 12, 31), AllowedDimensions = ReportDimensions.All, DocumentReference = "doc",
        }, "test");

        var error = await Assert.ThrowsAsync<ConsentValidationException>(() =>
            _h.Consents.RecordAsync(ConsentHarness.District, _h.Draft(child, runs: TimeSpan.FromDays(120)) with { AgreementId = "dsa-short" }));
        var within = await _h.Consents.RecordAsync(ConsentHarness.District, _h.Draft(child, runs: TimeSpan.FromDays(30)) with { AgreementId = "dsa-short" });

        Assert.Contains(error.Errors, e => e.Contains("ends on 2026-12-31", StringComparison.Ordinal));
        Assert.Equal(ConsentStatus.Active, within.Consent.Status);
    }

    [Fact]
    public async Task Record_UnknownChildOrAnotherProvidersChild_Refused()
    {
        await Assert.ThrowsAsync<ConsentValidationException>(() => _h.Consents.RecordAsync(ConsentHarness.District, _h.Draft(0) with { LocalChildId = "D-NOBODY" }));
        await Assert.ThrowsAsync<ConsentForbiddenException>(() => _h.Consents.RecordAsync(ConsentHarness.Afterschool, _h.Draft(0) with { ProviderId = "district" }));
    }

    [Fact]
    public async Task Record_KeepsNoRawLocalIdAndReferencesTheChildByKeyAndToken()
    {
        var child = _h.NextChild();
        var consent = (await _h.GrantAsync(child)).Consent;

        var rows = await _h.Storage.ReadAllAsync(TableNames.Consents);
        Assert.NotEmpty(consent.ChildKey);
        Assert.NotEmpty(consent.OwnerLocalToken);
        Assert.DoesNotContain(rows, r => (r.GetString("Document") ?? "").Contains($"D{child:D3}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Revoke_ByAnOrganizationNotParty_Forbidden()
    {
        var child = _h.NextChild();
        var consent = await _h.GrantAsync(child);

        await Assert.ThrowsAsync<ConsentForbiddenException>(() => _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.SchoolBoard), consent.Consent.Id, "no"));
        var again = await _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.Afterschool), consent.Consent.Id, "Parent asked the recipient");
        var twice = await _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.Afterschool), consent.Consent.Id, "Again");

        Assert.Equal(ConsentStatus.Revoked, again!.Consent.Status);
        Assert.Equal(again.Consent.Version, twice!.Consent.Version); // idempotent
    }

    [Fact]
    public async Task RenewThenRevokeTheOriginal_RevokesTheRenewal()
    {
        var child = _h.NextChild();
        var original = await _h.GrantAsync(child, runs: TimeSpan.FromDays(20));

        var renewed = await _h.Consents.RenewAsync(ConsentHarness.District, original.Consent.Id, Renewal(_h.Time.GetUtcNow().AddDays(300)));
        Assert.Equal(IdentifiableReportStatus.Ok, (await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child))).Status);
        await _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.District), original.Consent.Id, "Parent withdrew");

        Assert.Equal(original.Consent.Id, renewed!.Consent.Supersedes);
        Assert.Equal(ConsentStatus.Superseded, (await _h.Store.GetAsync(original.Consent.Id))!.Consent.Status);
        Assert.Equal(ConsentStatus.Revoked, (await _h.Store.GetAsync(renewed.Consent.Id))!.Consent.Status);
        Assert.Equal(ConsentDenialReasons.Revoked, (await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child))).Reason);
    }

    [Fact]
    public async Task RenewARevokedConsent_Conflict()
    {
        var child = _h.NextChild();
        var original = await _h.GrantAsync(child);
        await _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.District), original.Consent.Id, "Parent withdrew");

        await Assert.ThrowsAsync<ConsentConflictException>(() => _h.Consents.RenewAsync(ConsentHarness.District, original.Consent.Id, Renewal(_h.Time.GetUtcNow().AddDays(90))));
    }

    [Fact]
    public async Task StaleETag_ReplaceRefused_AndTheRevocationKept()
    {
        var child = _h.NextChild();
        var read = await _h.GrantAsync(child);
        await _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.District), read.Consent.Id, "Parent withdrew");

        var stale = await _h.Store.TryReplaceAsync(read, read.Consent with { Categories = ["identity"] }, ConsentActor.System("test"), "Test");

        Assert.Null(stale);
        Assert.Equal(ConsentStatus.Revoked, (await _h.Store.GetAsync(read.Consent.Id))!.Consent.Status);
    }

    [Theory]
    [InlineData(ConsentStatus.Superseded)] // the revocation lands between reading the original and superseding it
    [InlineData(ConsentStatus.Active)]     // the revocation lands after superseding, before the renewal is activated
    public async Task RevokeRacingARenewal_RevocationWins_WhicheverStepItHits(ConsentStatus interruptBefore)
    {
        var child = _h.NextChild();
        var original = await _h.GrantAsync(child);
        var racing = new RacingStore(_h, interruptBefore, () => _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.District), original.Consent.Id, "Parent withdrew"));
        var renewing = new ConsentService(racing, _h.Services.GetRequiredService<AgreementStore>(), _h.Services.GetRequiredService<ChildRecordStore>(),
            _h.Services.GetRequiredService<IPseudonymKeyProvider>(), _h.Services.GetRequiredService<AuditLog>(), _h.Services.GetRequiredService<IOptions<ConsentOptions>>(), _h.Time,
            NullLogger<ConsentService>.Instance);

        var refused = await Assert.ThrowsAsync<ConsentConflictException>(() =>
            renewing.RenewAsync(ConsentHarness.District, original.Consent.Id, Renewal(_h.Time.GetUtcNow().AddDays(300))));

        Assert.True(racing.Interrupted);
        Assert.Contains("revoked", refused.Message, StringComparison.Ordinal);
        var all = await _h.Store.ForChildAsync((await _h.Store.GetAsync(original.Consent.Id))!.Consent.ChildKey);
        Assert.DoesNotContain(all, c => c.Consent.Status is ConsentStatus.Active or ConsentStatus.Pending);
        Assert.Contains(all, c => c.Consent.Status == ConsentStatus.Revoked && c.Consent.RevocationReason == "Parent withdrew");
        Assert.Equal(ConsentDenialReasons.Revoked, (await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child))).Reason);
    }

    [Fact]
    public async Task RevokeRacingARenewal_Concurrently_NeverLosesTheRevocation()
    {
        var child = _h.NextChild();
        for (var round = 0; round < 8; round++)
        {
            var original = await _h.GrantAsync(child);
            var renew = Task.Run(async () =>
            {
                try
                {
                    return await _h.Consents.RenewAsync(ConsentHarness.District, original.Consent.Id, Renewal(_h.Time.GetUtcNow().AddDays(300)));
                }
                catch (ConsentConflictException)
                {
                    return null;
                }
            });
            var revoke = Task.Run(() => _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.Afterschool), original.Consent.Id, $"Round {round}"));
            await Task.WhenAll(renew, revoke);

            var chain = (await _h.Store.ForChildAsync(original.Consent.ChildKey)).Where(c => c.Consent.Id == original.Consent.Id || c.Consent.Supersedes == original.Consent.Id).ToList();
            Assert.DoesNotContain(chain, c => c.Consent.Status is ConsentStatus.Active or ConsentStatus.Pending);
            Assert.Contains(chain, c => c.Consent.Status == ConsentStatus.Revoked && c.Consent.RevocationReason == $"Round {round}");
            if (await renew is { } renewed)
            {
                Assert.Equal(ConsentStatus.Revoked, (await _h.Store.GetAsync(renewed.Consent.Id))!.Consent.Status);
            }
        }

        Assert.Equal(ConsentDenialReasons.Revoked, (await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child))).Reason);
    }

    [Fact]
    public async Task Http_RecordSearchRenewRevoke_WithETagsAndPartyOnlyLists()
    {
        var child = _h.NextChild();
        var draft = _h.Draft(child, runs: TimeSpan.FromDays(10));
        var (created, createdBody, createdContext) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.RecordAsync(r, CancellationToken.None), "POST", "/api/consents", draft, _h.DistrictKey);
        Assert.Equal(201, created);
        var id = JsonDocument.Parse(createdBody).RootElement.GetProperty("id").GetString()!;
        var etag = createdContext.Response.Headers.ETag.ToString();
        Assert.NotEmpty(etag);
        Assert.DoesNotContain("childKey", createdBody, StringComparison.OrdinalIgnoreCase);

        var (found, foundBody, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.SearchAsync(r, CancellationToken.None), "POST", "/api/consents/search",
            new { child = $"A{child:D3}" }, _h.AfterschoolKey);
        var (outsider, _, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.SearchAsync(r, CancellationToken.None), "POST", "/api/consents/search",
            new { child = $"A{child:D3}", provider = "afterschool" }, _h.SchoolBoardKey);
        var (expiring, expiringBody, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.ExpiringAsync(r, CancellationToken.None), "GET", "/api/consents/expiring",
            null, _h.AfterschoolKey);
        Assert.Equal(200, found);
        Assert.Equal(id, JsonDocument.Parse(foundBody).RootElement.GetProperty("value")[0].GetProperty("id").GetString());
        Assert.Equal(403, outsider);
        Assert.Equal(200, expiring);
        Assert.Contains(id, expiringBody, StringComparison.Ordinal);

        await _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.Clinic), id, "Changed by another party");
        var renewal = Renewal(_h.Time.GetUtcNow().AddDays(100));
        var (stale, _, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.RenewAsync(r, id, CancellationToken.None), "POST", $"/api/consents/{id}/renew",
            renewal, _h.DistrictKey, ifMatch: etag);
        var (revoked, revokedBody, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.RevokeAsync(r, id, CancellationToken.None), "POST", $"/api/consents/{id}/revoke",
            new { reason = "Parent withdrew" }, _h.DistrictKey);
        var (renewRevoked, _, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.RenewAsync(r, id, CancellationToken.None), "POST", $"/api/consents/{id}/renew",
            renewal, _h.DistrictKey);

        Assert.Equal(412, stale);
        Assert.Equal(200, revoked);
        Assert.Equal("Revoked", JsonDocument.Parse(revokedBody).RootElement.GetProperty("status").GetString());
        Assert.Equal(409, renewRevoked);
        var audit = await _h.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10");
        Assert.Contains(audit, a => a.GetString("Event") == AuditEvents.ConsentRecorded && (a.GetString("Parameters") ?? "").Contains(id, StringComparison.Ordinal));
        Assert.Contains(audit, a => a.GetString("Event") == AuditEvents.ConsentRevoked && (a.GetString("Parameters") ?? "").Contains(id, StringComparison.Ordinal));
    }

    /// <summary>A store that, once, runs a revocation just before the renewal's step that writes <c>Status</c>.</summary>
    private sealed class RacingStore(ConsentHarness h, ConsentStatus interruptBefore, Func<Task> revoke)
        : ConsentStore(h.Services.GetRequiredService<ConsentTables>(), h.Services.GetRequiredService<AuditLog>(), h.Time)
    {
        public bool Interrupted { get; private set; }

        public override async Task<VersionedConsent?> TryReplaceAsync(VersionedConsent existing, ConsentRecord changed, ConsentActor actor, string auditEvent,
            CancellationToken cancellationToken = default)
        {
            if (!Interrupted && changed.Status == interruptBefore)
            {
                Interrupted = true;
                await revoke();
            }

            return await base.TryReplaceAsync(existing, changed, actor, auditEvent, cancellationToken);
        }
    }
}

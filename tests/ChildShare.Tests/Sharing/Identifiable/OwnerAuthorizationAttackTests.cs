using System.Text.Json;
using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Storage;
using ChildShare.Functions.Consent;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Identifiable;

/// <summary>
/// An adversary's attacks on the data owner's authorization and the audit rule (renewals, races,
/// outages, hostile input, limits), each asserting what CONSENT.md promises. Written against the first
/// version of the change, where each of them failed.
/// </summary>
[Collection(SlowTests.Name)]
public sealed class OwnerAuthorizationAttackTests(ConsentHarnessFixture fixture) : IClassFixture<ConsentHarnessFixture>
{
    private readonly ConsentHarness _h = fixture.Harness;

    private static readonly ConsentSignature NewSignature = new(SignatureMethod.Electronic, Evidence: "envelope-made-up-by-the-renewer");

    /// <summary>A store that runs a hook right after a renewal's Pending consent is written (before the original is superseded).</summary>
    private sealed class HookStore(ConsentTables tables, AuditLog audit, TimeProvider time) : ConsentStore(tables, audit, time)
    {
        public Func<Task>? AfterRenewalStarted { get; set; }

        public override async Task<VersionedConsent> AddAsync(ConsentRecord consent, ConsentActor actor, string auditEvent, CancellationToken cancellationToken = default)
        {
            var added = await base.AddAsync(consent, actor, auditEvent, cancellationToken);
            if (auditEvent == AuditEvents.ConsentRenewalStarted && AfterRenewalStarted is { } hook)
            {
                AfterRenewalStarted = null;
                await hook();
            }

            return added;
        }
    }

    /// <summary>P1: clinic approved renewal B of A; clinic withdraws using A's id (the one it knows): the withdrawal reaches B, as a revocation would.</summary>
    [Fact]
    public async Task Withdraw_OnARenewedConsent_ReachesTheConsentInForce()
    {
        var child = _h.NextChild();
        var a = await _h.GrantAsync(child, sources: ["clinic"], categories: ["identity"]);
        var b = await _h.Consents.RenewAsync(ConsentHarness.District, a.Consent.Id, new ConsentRenewal { ExpiresAt = _h.Time.GetUtcNow().AddDays(300), Signature = NewSignature });
        await _h.ApproveAsync(ConsentHarness.Clinic, b!.Consent.Id);
        Assert.Equal(IdentifiableReportStatus.Ok, (await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child))).Status);

        var withdrawn = await _h.Authorizations.DecideAsync(ConsentHarness.Clinic, a.Consent.Id, new OwnerAuthorizationRequest { Decision = "withdraw" });
        var report = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal(b.Consent.Id, withdrawn!.Consent.Id);
        Assert.Equal(OwnerDecision.Withdrawn, (await _h.Store.GetAsync(b.Consent.Id))!.Consent.AuthorizationOf("clinic").Decision);
        Assert.Equal(IdentifiableReportStatus.Forbidden, report.Status);
        await Assert.ThrowsAsync<ConsentConflictException>(() => _h.ApproveAsync(ConsentHarness.Clinic, a.Consent.Id)); // approve the renewal by its own id
    }

    /// <summary>P2: clinic withdraws on A while district is renewing A: the renewal B was built from the stale snapshot and activates with clinic Approved.</summary>
    [Fact]
    public async Task WithdrawRacingARenewal_RenewalDoesNotCarryTheWithdrawnApproval()
    {
        var child = _h.NextChild();
        var a = await _h.GrantAsync(child, sources: ["clinic"], categories: ["identity"]);
        var store = ActivatorUtilities.CreateInstance<HookStore>(_h.Services);
        var consents = ActivatorUtilities.CreateInstance<ConsentService>(_h.Services, (ConsentStore)store);
        store.AfterRenewalStarted = async () =>
            await _h.Authorizations.DecideAsync(ConsentHarness.Clinic, a.Consent.Id, new OwnerAuthorizationRequest { Decision = "withdraw" });

        var b = await consents.RenewAsync(ConsentHarness.District, a.Consent.Id, new ConsentRenewal { ExpiresAt = _h.Time.GetUtcNow().AddDays(300), Signature = NewSignature });
        var old = (await _h.Store.GetAsync(a.Consent.Id))!.Consent;
        var report = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal((ConsentStatus.Superseded, OwnerDecision.Withdrawn), (old.Status, old.AuthorizationOf("clinic").Decision));
        Assert.NotEqual(OwnerDecision.Approved, b!.Consent.AuthorizationOf("clinic").Decision);
        Assert.Equal(IdentifiableReportStatus.Forbidden, report.Status);
    }

    /// <summary>P3a: the requester (owner of its own record, recipient) renews: the source's approval carries to new signature evidence and a longer life.</summary>
    [Fact]
    public async Task RequesterRenews_WithNewSignatureEvidence_SourceAskedAgain()
    {
        var child = _h.NextChild();
        var draft = _h.Draft(child, sources: ["district"], recipients: ["afterschool"], categories: ["identity", "address"], runs: TimeSpan.FromDays(7)) with
        {
            LocalChildId = $"A{child:D3}",
        };
        var a = await _h.Consents.RecordAsync(ConsentHarness.Afterschool, draft);
        await _h.ApproveAsync(ConsentHarness.District, a.Consent.Id);     // district approved a 7-day consent with the signed form it reviewed

        var b = await _h.Consents.RenewAsync(ConsentHarness.Afterschool, a.Consent.Id,
            new ConsentRenewal { ExpiresAt = _h.Time.GetUtcNow().AddDays(365), Signature = NewSignature });
        _h.Time.Advance(TimeSpan.FromDays(8));   // past the 7 days district approved
        var report = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal(IdentifiableReportStatus.Forbidden, report.Status);
        Assert.NotEqual(OwnerDecision.Approved, b!.Consent.AuthorizationOf("district").Decision);
    }

    /// <summary>P3b: an Admin of an unrelated organization renews someone else's consent; every approval carries.</summary>
    [Fact]
    public async Task OutsiderAdminRenews_ApprovalsDoNotCarry()
    {
        var child = _h.NextChild();
        var a = await _h.GrantAsync(child, sources: ["clinic"], categories: ["identity"], runs: TimeSpan.FromDays(7));
        var admin = new Caller("community-office", CallerRoles.Admin, CallerAuthMethod.ApiKey, "k-admin");

        var b = await _h.Consents.RenewAsync(admin, a.Consent.Id, new ConsentRenewal { ExpiresAt = _h.Time.GetUtcNow().AddDays(365), Signature = NewSignature });

        Assert.NotEqual(OwnerDecision.Approved, b!.Consent.AuthorizationOf("clinic").Decision);
    }

    /// <summary>P4a: an idempotent decision returns the consent (parent's name) without an audit entry, also during an audit outage.</summary>
    [Fact]
    public async Task Http_RepeatedApprove_DuringAuditOutage_Is503()
    {
        var child = _h.NextChild();
        var a = await _h.GrantAsync(child, sources: ["clinic"]);
        await using var outage = AuditOutage.Build(_h.Storage, _h.Time);
        var api = ActivatorUtilities.CreateInstance<ConsentFunctions>(outage);

        var (status, body, _) = await ConsentHarness.CallAsync(outage, r => api.DecideAuthorizationAsync(r, a.Consent.Id, CancellationToken.None), "POST",
            $"/api/consents/{a.Consent.Id}/authorizations", new { decision = "approve" }, _h.ClinicKey);

        Assert.DoesNotContain("Parent Of-Child", body, StringComparison.Ordinal);
        Assert.Equal(503, status);
    }

    /// <summary>P4b: revoking a revoked consent returns it (parent's name, revocation reason) without an audit entry, also during an outage.</summary>
    [Fact]
    public async Task Http_RevokeOfARevokedConsent_DuringAuditOutage_Is503()
    {
        var child = _h.NextChild();
        var a = await _h.GrantAsync(child, sources: ["clinic"]);
        await _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.District), a.Consent.Id, "Parent withdrew by phone");
        await using var outage = AuditOutage.Build(_h.Storage, _h.Time);
        var api = ActivatorUtilities.CreateInstance<ConsentFunctions>(outage);

        var (status, body, _) = await ConsentHarness.CallAsync(outage, r => api.RevokeAsync(r, a.Consent.Id, CancellationToken.None), "POST",
            $"/api/consents/{a.Consent.Id}/revoke", new { reason = "again" }, _h.AfterschoolKey);

        Assert.DoesNotContain("Parent Of-Child", body, StringComparison.Ordinal);
        Assert.Equal(503, status);
    }

    /// <summary>P5: a null organization id in sources/recipients is a NullReferenceException out of the function (500), not a 400.</summary>
    [Theory]
    [InlineData("sources")]
    [InlineData("recipients")]
    public async Task Http_RecordWithNullOrganization_Is400(string field)
    {
        var child = _h.NextChild();
        var draft = JsonSerializer.SerializeToNode(_h.Draft(child), ConsentFunctions.Json)!.AsObject();
        draft[field] = new System.Text.Json.Nodes.JsonArray((System.Text.Json.Nodes.JsonNode?)null);

        var (status, _, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.RecordAsync(r, CancellationToken.None), "POST", "/api/consents", draft, _h.DistrictKey);

        Assert.Equal(400, status);
    }

    /// <summary>P6: an effectiveFrom near DateTimeOffset.MaxValue overflows the cap computation (ArgumentOutOfRangeException, 500).</summary>
    [Fact]
    public async Task Http_RecordWithEffectiveFromAtTheEndOfTime_Is400()
    {
        var child = _h.NextChild();
        var draft = _h.Draft(child) with
        {
            EffectiveFrom = new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero), ExpiresAt = new DateTimeOffset(9999, 12, 31, 1, 0, 0, TimeSpan.Zero),
        };

        var (status, _, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.RecordAsync(r, CancellationToken.None), "POST", "/api/consents", draft, _h.DistrictKey);

        Assert.Equal(400, status);
    }

    /// <summary>P8: a consent stored before authorizations existed (no decisions, no consentsources row) reaches the source's awaiting list once reindexed.</summary>
    [Fact]
    public async Task LegacyConsent_WithoutIndexRow_AppearsInAwaitingListAfterReindex()
    {
        var child = _h.NextChild();
        var a = await _h.RecordOnlyAsync(child, sources: ["clinic"]);
        var legacy = a.Consent with { Id = ConsentStore.NewId(), Authorizations = [] };
        var tables = _h.Services.GetRequiredService<ConsentTables>();
        await tables.AddAsync(ConsentStore.ToRow(legacy));
        await tables.AddChildAsync(legacy.ChildKey, legacy.Id);

        var before = await _h.Authorizations.AwaitingAsync(ConsentHarness.Clinic);
        var indexed = await _h.Store.ReindexSourcesAsync();
        var awaiting = await _h.Authorizations.AwaitingAsync(ConsentHarness.Clinic);

        Assert.DoesNotContain(legacy.Id, before.Select(c => c.Consent.Id));
        Assert.True(indexed >= 2);
        Assert.Contains(legacy.Id, awaiting.Select(c => c.Consent.Id));
        Assert.Equal(OwnerDecision.Pending, legacy.AuthorizationOf("district").Decision); // fail closed: even the recorder is asked
    }

    /// <summary>P9: an audit entry naming thousands of consents stays under a table property's 64 KiB: the first ids, the count and a digest.</summary>
    [Fact]
    public async Task Audit_ThousandsOfIds_StayUnderThePropertyLimit()
    {
        var audit = _h.Services.GetRequiredService<AuditLog>();
        var ids = Enumerable.Range(0, 2100).Select(_ => ConsentStore.NewId()).ToList();
        var parameters = AuditIds.Add([], "consents", ids);

        var ex = await Record.ExceptionAsync(() => audit.AppendAsync(new AuditEntry(AuditEvents.ConsentAuthorizationsListed, "Succeeded") { Parameters = parameters }));

        Assert.Null(ex);
        Assert.Equal(AuditIds.MaxListed, parameters["consents"].Split(',').Length);
        Assert.Equal("2100", parameters["consentsCount"]);
        Assert.Equal(64, parameters["consentsSha256"].Length);
    }

    /// <summary>
    /// P10: ~1,000 consents naming clinic as a source (what one hostile provider with one made-up row can POST) push the
    /// awaiting list's audit entry past 64 KiB: clinic's GET /api/consents/awaiting-authorization is a 503 for good.
    /// </summary>
    [Fact]
    [Trait(SlowTests.Category, SlowTests.Slow)]
    public async Task Http_AwaitingList_WithAThousandPendingConsents_StillAnswers()
    {
        var child = _h.NextChild();
        var template = (await _h.RecordOnlyAsync(child, sources: ["clinic"])).Consent;
        await _h.Store.ImportAsync(Enumerable.Range(0, 1000).Select(_ => template with { Id = ConsentStore.NewId() }));

        var (status, _, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.AwaitingAuthorizationAsync(r, CancellationToken.None), "GET",
            "/api/consents/awaiting-authorization", null, _h.ClinicKey);

        Assert.Equal(200, status);
    }

    /// <summary>P11: no length limit on free text: a 33,000-character purpose (or reason) overflows the 64 KiB document property: 500, after a Committing audit row.</summary>
    [Fact]
    public async Task Http_RecordWithAHugePurpose_Is400()
    {
        var child = _h.NextChild();
        var draft = _h.Draft(child) with { Purpose = new string('p', 33_000) };

        var (status, body, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.RecordAsync(r, CancellationToken.None), "POST", "/api/consents", draft, _h.DistrictKey);

        Assert.Equal(400, status);
        Assert.Contains("purpose is at most 2000 characters.", body, StringComparison.Ordinal);
        Assert.DoesNotContain("ppppp", body, StringComparison.Ordinal);
    }

    /// <summary>P12: a hostile owner fills every free-text field to its limit: the source's revocation (with the longest reason) and the timer's expiry can still be written.</summary>
    [Fact]
    public async Task Revoke_OfAConsentWithEveryFieldAtItsLimit_Succeeds()
    {
        var child = _h.NextChild();
        var draft = _h.Draft(child, sources: ["clinic"]) with
        {
            Purpose = new string('p', 2000),
            GivenBy = new ConsentGrantor(new string('n', 200), new string('r', 200)),
            Disclosure = new ConsentDisclosure(new string('d', 200), new string('v', 200), new string('a', 64)),
            Signature = new ConsentSignature(SignatureMethod.SignedForm, BlobReference: new string('b', 2000), Evidence: new string('e', 2000)),
        };
        var padded = await _h.Consents.RecordAsync(ConsentHarness.District, draft);
        await _h.Authorizations.DecideAsync(ConsentHarness.Clinic, padded.Consent.Id, new OwnerAuthorizationRequest { Decision = "approve", Note = new string('o', 500) });

        var ex = await Record.ExceptionAsync(() => _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.Clinic), padded.Consent.Id, new string('r', 2000)));
        var after = (await _h.Store.GetAsync(padded.Consent.Id))!.Consent;

        Assert.Null(ex);
        Assert.Equal(ConsentStatus.Revoked, after.Status);
    }

    // ---- claims checked and OK (these pass) ----

    [Fact]
    public async Task Ok_CategoryMix_UnapprovedConsentNeverWidensAnApprovedOne()
    {
        var child = _h.NextChild();
        await _h.GrantAsync(child, sources: ["clinic"], categories: ["identity"]);
        await _h.RecordOnlyAsync(child, sources: ["clinic"], categories: ["identity", "address", "demographics"]);

        var wide = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child, "identity", "address"));
        var dflt = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal((IdentifiableReportStatus.Forbidden, ConsentDenialReasons.AwaitingOwnerAuthorization), (wide.Status, wide.Reason));
        var released = Assert.Single(dflt.Report!.Sources);
        Assert.Equal(["identity"], released.Categories);
        Assert.Null(released.Address);
        Assert.Null(released.Demographics);
    }

    [Fact]
    public async Task Ok_OrgIdVariants_RejectedOrDeduplicated()
    {
        var child = _h.NextChild();
        await Assert.ThrowsAsync<ConsentValidationException>(() => _h.Consents.RecordAsync(ConsentHarness.District, _h.Draft(child, sources: ["Clinic"])));
        await Assert.ThrowsAsync<ConsentValidationException>(() => _h.Consents.RecordAsync(ConsentHarness.District, _h.Draft(child, sources: [" clinic"])));
        var dup = await _h.Consents.RecordAsync(ConsentHarness.District, _h.Draft(child, sources: ["clinic", "clinic", "district"]));
        Assert.Equal(2, dup.Consent.Authorizations.Count);
        await Assert.ThrowsAsync<ConsentForbiddenException>(() => _h.Consents.RecordAsync(ConsentHarness.District, _h.Draft(child) with { ProviderId = "afterschool", LocalChildId = $"A{child:D3}" }));
    }

    [Fact]
    public async Task Ok_SelfAsSourceAndRecipient_OnlyOwnApproval_OthersAwaiting_ReviewIsOwnDataOnly()
    {
        var child = _h.NextChild();
        var draft = _h.Draft(child, sources: ["afterschool", "district", "clinic"], recipients: ["afterschool", "district"]) with { LocalChildId = $"A{child:D3}" };
        var c = await _h.Consents.RecordAsync(ConsentHarness.Afterschool, draft);

        var report = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));
        var review = await _h.Authorizations.ReviewAsync(ConsentHarness.Clinic, c.Consent.Id);
        var json = JsonSerializer.Serialize(review, ConsentFunctions.Json);
        var awaitingAfterschool = await _h.Authorizations.AwaitingAsync(ConsentHarness.Afterschool);
        var awaitingSchoolBoard = await _h.Authorizations.AwaitingAsync(ConsentHarness.SchoolBoard);

        Assert.Equal(IdentifiableReportStatus.Forbidden, report.Status);
        Assert.Equal(["clinic", "district"], report.Denials.Select(d => d.ProviderId).Order());
        Assert.DoesNotContain($"D{child:D3}", json, StringComparison.Ordinal);
        Assert.DoesNotContain($"A{child:D3}", json, StringComparison.Ordinal);
        Assert.Contains($"C{child:D3}", json, StringComparison.Ordinal);
        Assert.DoesNotContain(c.Consent.Id, awaitingAfterschool.Select(a => a.Consent.Id));
        Assert.Empty(awaitingSchoolBoard);
    }
}

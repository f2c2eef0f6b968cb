using System.Text.Json;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Identifiable;

/// <summary>
/// The data owner's say over identifiable release (issue 11, finding 1): a source's records leave it
/// only when that source itself authorized the consent, and the attacks that released another
/// organization's data on a consent it never saw are refused. Over the function classes, on Azurite.
/// </summary>
public sealed class OwnerAuthorizationTests(ConsentHarnessFixture fixture) : IClassFixture<ConsentHarnessFixture>
{
    private readonly ConsentHarness _h = fixture.Harness;

    /// <summary>Finding: a provider records a consent for its own child naming another provider as a source, and received that provider's data.</summary>
    [Fact]
    public async Task Http_ConsentNamingAnotherSource_WithholdsItUntilItAuthorizes()
    {
        var child = _h.NextChild();
        var draft = _h.Draft(child, sources: ["district"], recipients: ["afterschool"], categories: ["identity", "address", "demographics"]) with { LocalChildId = $"A{child:D3}" };
        var (recorded, recordedBody, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.RecordAsync(r, CancellationToken.None), "POST", "/api/consents", draft,
            _h.AfterschoolKey);
        var (status, body, _) = await AskAsync(child);

        Assert.Equal(201, recorded);
        var authorization = Assert.Single(JsonDocument.Parse(recordedBody).RootElement.GetProperty("authorizations").EnumerateArray());
        Assert.Equal("district", authorization.GetProperty("sourceId").GetString());
        Assert.Equal("Pending", authorization.GetProperty("decision").GetString());
        Assert.Equal(403, status);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(ConsentDenialReasons.AwaitingOwnerAuthorization, problem.GetProperty("reason").GetString());
        var denial = Assert.Single(problem.GetProperty("denials").EnumerateArray());
        Assert.Equal("district", denial.GetProperty("providerId").GetString());
        AssertNothingOf(child, body);
    }

    /// <summary>Finding: a recipient records a consent for its own record of a child and received every category from every source it named.</summary>
    [Fact]
    public async Task RecipientRecordsTheConsent_EachSourceReleasedOnlyOnceItApproves()
    {
        var child = _h.NextChild();
        var draft = _h.Draft(child, sources: ["district", "clinic"], recipients: ["afterschool"], categories: ConsentCategories.All.ToList()) with
        {
            LocalChildId = $"A{child:D3}",
        };
        var consent = await _h.Consents.RecordAsync(ConsentHarness.Afterschool, draft);

        var before = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));
        await _h.ApproveAsync(ConsentHarness.District, consent.Consent.Id);
        var after = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal(IdentifiableReportStatus.Forbidden, before.Status);
        Assert.Equal(ConsentDenialReasons.AwaitingOwnerAuthorization, before.Reason);
        Assert.Equal(["clinic", "district"], before.Denials.Select(d => d.ProviderId).Order());
        Assert.All(before.Denials, d => Assert.Equal(ConsentDenialReasons.AwaitingOwnerAuthorization, d.Reason));
        Assert.Equal(IdentifiableReportStatus.Ok, after.Status);
        Assert.Equal("district", Assert.Single(after.Report!.Sources).ProviderId);
        var clinic = Assert.Single(after.Report.Withheld);
        Assert.Equal(("clinic", ConsentDenialReasons.AwaitingOwnerAuthorization), (clinic.ProviderId, clinic.Reason));
    }

    /// <summary>
    /// Finding: a provider uploads one made-up row copying another provider's child (a child it never
    /// served), records a consent and received that provider's local id, name, birth date and home
    /// address. Here school-board, a party to an identifiable agreement with the district, does it. Now
    /// the district sees the request against its own record and the parent named, declines, and nothing
    /// is released.
    /// </summary>
    [Fact]
    public async Task Http_MadeUpRowLinkedToAnotherProvidersChild_SourceReviewsAndDeclines_NothingReleased()
    {
        var child = _h.NextChild();
        var claimed = $"X{child:D3}";
        await _h.IngestClaimedChildAsync("school-board", claimed, child, $"claimed-{child}.csv");
        await AgreeAsync("dsa-school-board", "school-board");
        var draft = _h.Draft(child, sources: ["district"], recipients: ["school-board"], categories: ["identity", "address"]) with { LocalChildId = claimed };
        var consent = await _h.Consents.RecordAsync(ConsentHarness.SchoolBoard, draft);
        var id = consent.Consent.Id;

        var (asked, askedBody, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ReportApi.RunAsync(r, CancellationToken.None), "POST", "/api/reports/identifiable",
            new { child = claimed }, _h.SchoolBoardKey);
        var (awaiting, awaitingBody, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.AwaitingAuthorizationAsync(r, CancellationToken.None), "GET",
            "/api/consents/awaiting-authorization", null, _h.DistrictKey);
        var (reviewed, reviewBody, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.ReviewAuthorizationAsync(r, id, CancellationToken.None), "GET",
            $"/api/consents/{id}/authorizations", null, _h.DistrictKey);
        var (declined, declinedBody, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.DecideAuthorizationAsync(r, id, CancellationToken.None), "POST",
            $"/api/consents/{id}/authorizations", new { decision = "decline", note = "No such parent on file" }, _h.DistrictKey);
        var (after, afterBody, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ReportApi.RunAsync(r, CancellationToken.None), "POST", "/api/reports/identifiable",
            new { child = claimed }, _h.SchoolBoardKey);

        Assert.Equal(403, asked);
        AssertNothingOf(child, askedBody);
        Assert.Equal(200, awaiting);
        Assert.Contains(id, awaitingBody, StringComparison.Ordinal);
        Assert.Equal(200, reviewed);
        var review = JsonDocument.Parse(reviewBody).RootElement;
        var own = Assert.Single(review.GetProperty("yourRecords").EnumerateArray());
        Assert.Equal($"D{child:D3}", own.GetProperty("localChildId").GetString());           // district's own record of the child
        Assert.Equal(ConsentHarness.Child(child).First, own.GetProperty("firstName").GetString());
        Assert.Equal("Parent Of-Child", review.GetProperty("consent").GetProperty("givenBy").GetProperty("name").GetString());
        Assert.Equal(new string('a', 64), review.GetProperty("consent").GetProperty("disclosure").GetProperty("sha256").GetString());
        Assert.Equal("SignedForm", review.GetProperty("consent").GetProperty("signature").GetProperty("method").GetString());
        Assert.DoesNotContain(claimed, reviewBody, StringComparison.Ordinal);                  // nothing of the requester's records
        Assert.Equal(200, declined);
        Assert.Equal("Declined", JsonDocument.Parse(declinedBody).RootElement.GetProperty("authorizations")[0].GetProperty("decision").GetString());
        Assert.Equal(403, after);
        Assert.Equal(ConsentDenialReasons.OwnerDeclined, JsonDocument.Parse(afterBody).RootElement.GetProperty("reason").GetString());
        AssertNothingOf(child, afterBody);
        Assert.DoesNotContain(id, (await AwaitingAsync(ConsentHarness.District)).Select(c => c.Consent.Id));
    }

    [Fact]
    public async Task Withdraw_AfterApproval_StopsTheNextReadAtOnce()
    {
        var child = _h.NextChild();
        var consent = await _h.GrantAsync(child, sources: ["clinic"]);
        Assert.Equal(IdentifiableReportStatus.Ok, (await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child))).Status);

        var withdrawn = await _h.Authorizations.DecideAsync(ConsentHarness.Clinic, consent.Consent.Id, new OwnerAuthorizationRequest { Decision = "withdraw" });
        var after = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal(OwnerDecision.Withdrawn, withdrawn!.Consent.AuthorizationOf("clinic").Decision);
        Assert.Equal(ConsentStatus.Active, withdrawn.Consent.Status);   // the parent's consent stands; the owner's authorization does not
        Assert.Equal(IdentifiableReportStatus.Forbidden, after.Status);
        Assert.Equal(ConsentDenialReasons.OwnerDeclined, after.Reason);
        var audit = await _h.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10");
        Assert.Contains(audit, a => a.GetString("Event") == AuditEvents.ConsentAuthorizationWithdrawn && a.GetString("OrganizationId") == "clinic"
            && (a.GetString("Parameters") ?? "").Contains(consent.Consent.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RecordingSource_AuthorizesItsOwnDataByRecording_OthersPending()
    {
        var child = _h.NextChild();

        var consent = await _h.RecordOnlyAsync(child);
        var result = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal(OwnerDecision.Approved, consent.Consent.AuthorizationOf("district").Decision);
        Assert.Equal(OwnerDecision.Pending, consent.Consent.AuthorizationOf("clinic").Decision);
        Assert.Equal(IdentifiableReportStatus.Ok, result.Status);
        Assert.Equal("district", Assert.Single(result.Report!.Sources).ProviderId);
        Assert.Equal(("clinic", ConsentDenialReasons.AwaitingOwnerAuthorization), (result.Report.Withheld[0].ProviderId, result.Report.Withheld[0].Reason));
    }

    [Fact]
    public async Task Decide_ByARecipientOrAnOutsider_IsRefused_AndChangesNothing()
    {
        var child = _h.NextChild();
        var consent = await _h.RecordOnlyAsync(child);
        var approve = new OwnerAuthorizationRequest { Decision = "approve" };
        var outsiderAdmin = new Caller("community-office", CallerRoles.Admin, CallerAuthMethod.ApiKey, "k-admin");

        await Assert.ThrowsAsync<ConsentForbiddenException>(() => _h.Authorizations.DecideAsync(ConsentHarness.Afterschool, consent.Consent.Id, approve));
        Assert.Null(await _h.Authorizations.DecideAsync(ConsentHarness.SchoolBoard, consent.Consent.Id, approve));
        Assert.Null(await _h.Authorizations.DecideAsync(outsiderAdmin, consent.Consent.Id, approve));     // an Admin cannot decide for a data owner
        Assert.Null(await _h.Authorizations.ReviewAsync(ConsentHarness.Afterschool, consent.Consent.Id)); // only a source reviews
        await Assert.ThrowsAsync<ConsentValidationException>(() =>
            _h.Authorizations.DecideAsync(ConsentHarness.Clinic, consent.Consent.Id, new OwnerAuthorizationRequest { Decision = "maybe" }));

        var stored = (await _h.Store.GetAsync(consent.Consent.Id))!;
        Assert.Equal(consent.Consent.Version, stored.Consent.Version);
        Assert.Equal(OwnerDecision.Pending, stored.Consent.AuthorizationOf("clinic").Decision);
    }

    [Fact]
    public async Task Approve_IsIdempotent_AndRefusedOnceTheConsentIsRevoked()
    {
        var child = _h.NextChild();
        var consent = await _h.RecordOnlyAsync(child);

        var first = await _h.ApproveAsync(ConsentHarness.Clinic, consent.Consent.Id);
        var again = await _h.ApproveAsync(ConsentHarness.Clinic, consent.Consent.Id);
        var other = await _h.RecordOnlyAsync(_h.NextChild());
        await _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.District), other.Consent.Id, "Parent withdrew");

        Assert.Equal(first.Consent.Version, again.Consent.Version);
        await Assert.ThrowsAsync<ConsentConflictException>(() => _h.ApproveAsync(ConsentHarness.Clinic, other.Consent.Id));
    }

    [Fact]
    public async Task Renewal_AsksEveryOtherSourceAgain_TheRenewersOwnApproved_ADeclineStands()
    {
        var child = _h.NextChild();
        var consent = await _h.GrantAsync(child, sources: ["district", "clinic"]);
        var signature = new ConsentSignature(SignatureMethod.SignedForm, BlobReference: "consent-forms/2026/renewal.pdf");

        var renewed = await _h.Consents.RenewAsync(ConsentHarness.District, consent.Consent.Id,
            new ConsentRenewal { ExpiresAt = _h.Time.GetUtcNow().AddDays(200), Signature = signature });
        var before = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));
        await _h.Authorizations.DecideAsync(ConsentHarness.Clinic, renewed!.Consent.Id, new OwnerAuthorizationRequest { Decision = "decline" });
        var again = await _h.Consents.RenewAsync(ConsentHarness.District, renewed.Consent.Id,
            new ConsentRenewal { ExpiresAt = _h.Time.GetUtcNow().AddDays(210), Signature = signature });

        Assert.Equal(OwnerDecision.Pending, renewed.Consent.AuthorizationOf("clinic").Decision);   // an approval never carries to a new consent
        Assert.Equal(OwnerDecision.Approved, renewed.Consent.AuthorizationOf("district").Decision); // the renewing source's own act
        Assert.Equal(["district"], before.Report!.Sources.Select(s => s.ProviderId));
        Assert.Equal(ConsentDenialReasons.AwaitingOwnerAuthorization, Assert.Single(before.Report.Withheld).Reason);
        Assert.Equal(OwnerDecision.Declined, again!.Consent.AuthorizationOf("clinic").Decision);    // a decline stands
    }

    [Fact]
    public async Task ApproveRacingARevocation_NeitherLost_NothingReleased()
    {
        var child = _h.NextChild();
        var consent = await _h.RecordOnlyAsync(child, sources: ["clinic"]);

        var approving = Task.Run(async () =>
        {
            try
            {
                await _h.ApproveAsync(ConsentHarness.Clinic, consent.Consent.Id);
            }
            catch (ConsentConflictException)
            {
                // The revocation came first: approving a revoked consent is refused.
            }
        });
        var revoking = Task.Run(() => _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.District), consent.Consent.Id, "Parent withdrew"));
        await Task.WhenAll(approving, revoking);

        var history = await _h.Store.HistoryAsync(consent.Consent.Id);
        Assert.Equal(ConsentStatus.Revoked, history[^1].Status);
        Assert.Equal(Enumerable.Range(1, history.Count), history.Select(v => v.Version));   // every change its own version: none lost
        Assert.Equal(IdentifiableReportStatus.Forbidden, (await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child))).Status);
    }

    private Task<(int Status, string Body, Microsoft.AspNetCore.Http.HttpContext Context)> AskAsync(int child) =>
        ConsentHarness.CallAsync(_h.Services, r => _h.ReportApi.RunAsync(r, CancellationToken.None), "POST", "/api/reports/identifiable", new { child = $"A{child:D3}" },
            _h.AfterschoolKey);

    private Task<IReadOnlyList<VersionedConsent>> AwaitingAsync(Caller source) => _h.Authorizations.AwaitingAsync(source);

    /// <summary>An identifiable agreement between the district and <paramref name="recipient"/> (once per fixture).</summary>
    private async Task AgreeAsync(string id, string recipient)
    {
        var agreements = _h.Services.GetRequiredService<AgreementStore>();
        if (await agreements.GetAsync(id) is null)
        {
            await agreements.CreateAsync(new DataSharingAgreement
            {
                Id = id,
                Parties = [new AgreementParty("district"), new AgreementParty(recipient)],
                Recipients = [recipient],
                Modes = [SharingMode.Identifiable],
                Purpose = "Coordinated services with parent consent",
                EffectiveFrom = new DateOnly(2025, 1, 1),
                EndsOn = new DateOnly(2027, 12, 31),
                AllowedDimensions = ReportDimensions.All,
                DocumentReference = "https://docs.example.org/dsa/" + id,
            }, "test");
        }
    }

    /// <summary>The body holds nothing of the child's identity at any provider.</summary>
    private static void AssertNothingOf(int child, string body)
    {
        var (first, last, dob) = ConsentHarness.Child(child);
        foreach (var secret in new[] { first, last, dob, ConsentHarness.StreetAddress(child), $"D{child:D3}", $"C{child:D3}" })
        {
            Assert.False(IdentifierSearch.AppearsIn(body, secret), "The response holds an identifier of the child.");
        }
    }
}

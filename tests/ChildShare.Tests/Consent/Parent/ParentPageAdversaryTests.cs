using System.Text;
using System.Text.Json;
using ChildShare.Core.Audit;
using ChildShare.Core.Consent;
using ChildShare.Core.Consent.Parent;
using ChildShare.Core.Storage;
using ChildShare.Functions.Consent;
using ChildShare.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChildShare.Tests.Consent.Parent;

/// <summary>
/// An adversary's review of the parent page (issue 14): a hostile parent, organization or stranger at the
/// public, unauthenticated page. Each test is a finding that was open before its fix.
/// </summary>
public sealed class ParentPageAdversaryTests(ConsentHarnessFixture fixture) : IClassFixture<ConsentHarnessFixture>
{
    private readonly ConsentHarness _h = fixture.Harness;

    private ParentLinkService Links => _h.Services.GetRequiredService<ParentLinkService>();

    private ParentPageCalls Calls => new(_h.Services);

    private static string Client() => "198.51.100." + Random.Shared.Next(1, 254) + "-" + Guid.NewGuid().ToString("N")[..6];

    private async Task<(VersionedConsent Consent, string Token, string LinkId)> GrantWithLinkAsync()
    {
        var consent = await _h.GrantAsync(_h.NextChild());
        var link = (await Links.IssueAsync(ConsentHarness.District, consent.Consent.Id))!;
        return (consent, ParentPageCalls.TokenOf(link.Url), link.LinkId);
    }

    private async Task<List<string?>> RefusalReasonsAsync(string linkId) =>
        (await _h.Storage.ReadAllAsync(TableNames.Audit)).Where(e => e.GetString("Event") == AuditEvents.ParentPageRefused)
            .Select(e => JsonDocument.Parse(e.GetString("Parameters")!).RootElement)
            .Where(p => p.GetProperty("linkId").GetString() == linkId)
            .Select(p => p.GetProperty("reason").GetString()).ToList();

    [Fact]
    public async Task Confirm_ConsentRevokedAfterThePageWasRendered_RefusalAudited()
    {
        var (consent, token, linkId) = await GrantWithLinkAsync();
        var client = Client();
        var form = ParentPageCalls.FormTokenIn((await Calls.GetAsync(token, client: client)).Html, "confirm");
        await _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.District), consent.Consent.Id, "Parent phoned the office.");

        var posted = await Calls.PostAsync(token, "confirm", form, client);

        Assert.Equal(303, posted.Status);
        var after = (await _h.Store.GetAsync(consent.Consent.Id))!.Consent;
        Assert.Equal(ConsentStatus.Revoked, after.Status);
        Assert.Null(after.ParentConfirmation);
        // Every refusal is audited: a confirmation that could not be recorded is one.
        Assert.Contains("not-confirmable", await RefusalReasonsAsync(linkId));
    }
}

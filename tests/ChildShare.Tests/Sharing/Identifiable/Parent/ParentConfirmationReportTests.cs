using ChildShare.Core.Agreements;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Sharing.Identifiable.Parent;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Identifiable.Parent;

/// <summary>
/// The parent's confirmation as an agreement's condition on an identifiable report. This test changes the
/// community's agreements (and a terminated agreement stays on record), so it has a community of its own
/// rather than sharing <see cref="ParentPageTests"/>' one, whose tests would otherwise depend on their order.
/// </summary>
public sealed class ParentConfirmationReportTests(ConsentHarnessFixture fixture) : IClassFixture<ConsentHarnessFixture>
{
    private readonly ConsentHarness _h = fixture.Harness;

    [Fact]
    public async Task IdentifiableReport_UnderAnAgreementRequiringConfirmation_WithheldUntilTheParentConfirms()
    {
        // clinic shares with afterschool under an agreement that asks for the parent's confirmation; district's agreement does not.
        var agreements = _h.Services.GetRequiredService<AgreementStore>();
        var terms = (await agreements.GetAsync("dsa-identifiable"))!;
        await agreements.AmendAsync("dsa-identifiable", terms with { Parties = [new AgreementParty("district"), new AgreementParty("afterschool")] }, "test");
        await agreements.CreateAsync(terms with { Id = "dsa-clinic-confirmed", Parties = [new AgreementParty("clinic")], RequireParentConfirmation = true }, "test");
        try
        {
            var child = _h.NextChild();
            var (consent, token) = await _h.GrantWithParentLinkAsync(child);
            var calls = new ParentPageCalls(_h.Services);
            var client = "198.51.100.7-confirm";

            var before = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));
            var page = await calls.GetAsync(token, client: client);
            await calls.PostAsync(token, "confirm", ParentPageCalls.FormTokenIn(page.Html, "confirm"), client);
            var after = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

            Assert.Equal(["district"], before.Report!.Sources.Select(s => s.ProviderId));
            var withheld = Assert.Single(before.Report.Withheld);
            Assert.Equal(("clinic", ConsentDenialReasons.AwaitingParentConfirmation), (withheld.ProviderId, withheld.Reason));
            Assert.Equal(["clinic", "district"], after.Report!.Sources.Select(s => s.ProviderId).Order());
            Assert.NotNull((await _h.Store.GetAsync(consent.Consent.Id))!.Consent.ParentConfirmation);
        }
        finally
        {
            await agreements.AmendAsync("dsa-identifiable", terms, "test");
            await agreements.TerminateAsync("dsa-clinic-confirmed", "test over", "test");
        }
    }
}

using ChildShare.Core.Agreements;
using ChildShare.Core.Organizations;

namespace ChildShare.Tests.Agreements;

public sealed class SharingDecisionPointTests
{
    private static readonly Caller Reader = new("county-health", CallerRoles.Reader, CallerAuthMethod.ApiKey, "k1");
    private static readonly DateOnly Today = new(2026, 10, 15);
    private static readonly SharingRequest Request = new(SharingMode.Aggregate, new DateOnly(2026, 9, 1), new DateOnly(2026, 9, 30), ["sex"]);

    [Fact]
    public void Decide_RecipientOfActiveAgreement_Allowed()
    {
        var decision = SharingDecisionPoint.Decide(Reader, Request, "district", [AgreementTestData.Aggregate("dsa-1", "county-health", "district")], Today);

        Assert.True(decision.Allowed);
        Assert.Equal("dsa-1", decision.Agreement?.Id);
    }

    [Fact]
    public void Decide_NoAgreement_DeniedWithReason()
    {
        var decision = SharingDecisionPoint.Decide(Reader, Request, "clinic", [AgreementTestData.Aggregate("dsa-1", "county-health", "district")], Today);

        Assert.False(decision.Allowed);
        Assert.Contains("No data sharing agreement", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_CallerNotRecipient_Denied()
    {
        var decision = SharingDecisionPoint.Decide(Reader, Request, "district", [AgreementTestData.Aggregate("dsa-1", "school-board", "district")], Today);

        Assert.False(decision.Allowed);
        Assert.Contains("not a recipient", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_ExpiredAgreement_Denied()
    {
        var expired = AgreementTestData.Aggregate("dsa-1", "county-health", "district") with { EndsOn = new DateOnly(2026, 10, 1) };

        var decision = SharingDecisionPoint.Decide(Reader, Request, "district", [expired], Today);

        Assert.False(decision.Allowed);
        Assert.Contains("expired on 2026-10-01", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_TerminatedAgreement_Denied()
    {
        var terminated = AgreementTestData.Aggregate("dsa-1", "county-health", "district") with { Status = AgreementStatus.Terminated, TerminatedOn = new DateOnly(2026, 10, 10) };

        var decision = SharingDecisionPoint.Decide(Reader, Request, "district", [terminated], Today);

        Assert.False(decision.Allowed);
        Assert.Contains("terminated", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_ProviderJoinedMidPeriod_DeniedForThatPeriod()
    {
        var agreement = AgreementTestData.Aggregate("dsa-1", "county-health", "district") with
        {
            Parties = [new AgreementParty("district"), new AgreementParty("clinic", new DateOnly(2026, 9, 15))],
            Protection = DifferencingProtection.Round5, // exact counts would answer whole calendar months only
        };

        var clinic = SharingDecisionPoint.Decide(Reader, Request, "clinic", [agreement], Today);
        var later = SharingDecisionPoint.Decide(Reader, Request with { From = new DateOnly(2026, 9, 15) }, "clinic", [agreement], Today);

        Assert.False(clinic.Allowed);
        Assert.Contains("from 2026-09-15", clinic.Reason, StringComparison.Ordinal);
        Assert.True(later.Allowed);
    }

    [Fact]
    public void Decide_ModeOrDimensionNotPermitted_Denied()
    {
        var noSex = AgreementTestData.Aggregate("dsa-1", "county-health", "district") with { AllowedDimensions = ["race"] };
        var deidOnly = AgreementTestData.Aggregate("dsa-2", "county-health", "clinic") with { Modes = [SharingMode.DeIdentified] };

        Assert.Contains("grouping by sex", SharingDecisionPoint.Decide(Reader, Request, "district", [noSex], Today).Reason, StringComparison.Ordinal);
        Assert.Contains("does not permit Aggregate", SharingDecisionPoint.Decide(Reader, Request, "clinic", [deidOnly], Today).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_SeveralAgreements_ReliesOnMostProtective()
    {
        var loose = AgreementTestData.Aggregate("dsa-a", "county-health", "district") with { MinimumCellSize = 5 };
        var strict = AgreementTestData.Aggregate("dsa-b", "county-health", "district") with { MinimumCellSize = 20 };

        Assert.Equal("dsa-b", SharingDecisionPoint.Decide(Reader, Request, "district", [loose, strict], Today).Agreement?.Id);
    }
}

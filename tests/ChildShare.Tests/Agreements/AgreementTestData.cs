using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Sharing.Aggregate;

namespace ChildShare.Tests.Agreements;

internal static class AgreementTestData
{
    public static DataSharingAgreement Aggregate(string id, string recipient, params string[] providers) => new()
    {
        Id = id,
        Title = "Community outcomes",
        Parties = providers.Select(p => new AgreementParty(p)).ToList(),
        Recipients = [recipient],
        Modes = [SharingMode.Aggregate],
        Purpose = "Community-level service planning",
        EffectiveFrom = new DateOnly(2025, 1, 1),
        EndsOn = new DateOnly(2027, 12, 31),
        AllowedDimensions = ReportDimensions.All,

        // Tests of counting and suppression read exact counts, so they ask for them (one calendar month at a time);
        // the default terms (Round5) have tests of their own.
        Protection = DifferencingProtection.None,
        DocumentReference = "https://docs.example.org/dsa/" + id,
    };
}

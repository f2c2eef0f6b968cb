using ChildShare.Core.Agreements;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Tests.Agreements;

namespace ChildShare.Tests.Sharing.Deidentified;

public sealed class DeidentificationTermsTests
{
    [Theory]
    [InlineData(1, 0.05, "age", null, 1, "k of de-identified")]
    [InlineData(5, 0.9, "age", null, 1, "suppression limit")]
    [InlineData(5, 0.05, "name", null, 1, "not a quasi-identifier")]
    [InlineData(5, 0.05, "age", "diagnosis", 2, "sensitive attribute is one of")]
    [InlineData(5, 0.05, "age", null, 2, "needs a sensitive attribute")]
    public void InvalidTerms_AreRefused_WithTheAgreement(int k, double maxSuppression, string qi, string? sensitive, int l, string expected)
    {
        var agreement = AgreementTestData.Aggregate("dsa-x", "uni", "district") with
        {
            Modes = [SharingMode.DeIdentified],
            DeIdentification = new DeidentificationTerms { K = k, MaxSuppression = maxSuppression, QuasiIdentifiers = [qi], SensitiveAttribute = sensitive, L = l },
        };

        Assert.Contains(AgreementValidator.Validate(agreement), e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void DefaultTerms_AreValid()
    {
        var agreement = AgreementTestData.Aggregate("dsa-x", "uni", "district") with { Modes = [SharingMode.DeIdentified], DeIdentification = new DeidentificationTerms() };

        Assert.Empty(AgreementValidator.Validate(agreement));
    }
}

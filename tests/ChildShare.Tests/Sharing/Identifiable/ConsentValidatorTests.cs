using ChildShare.Core.Agreements;
using ChildShare.Core.Sharing.Identifiable;

namespace ChildShare.Tests.Sharing.Identifiable;

/// <summary>The consent rules alone: no storage, no clock, no caller (the life cycle is tested on Azurite in ConsentLifecycleTests).</summary>
public sealed class ConsentValidatorTests
{
    private const int MaxDays = 365;
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static ConsentDraft Valid() => new()
    {
        LocalChildId = "D001",
        GivenBy = new ConsentGrantor("Parent Of-Child", "mother"),
        Sources = ["district", "clinic"],
        Recipients = ["afterschool"],
        Purpose = "Coordinate tutoring and health follow-up",
        Categories = ["identity", "Enrollment "],
        Disclosure = new ConsentDisclosure("disclosure-coordinated-care", "2026.1", new string('a', 64)),
        Signature = new ConsentSignature(SignatureMethod.SignedForm, BlobReference: "consent-forms/2026/form-0001.pdf"),
        ExpiresAt = Now.AddDays(180),
    };

    private static ConsentRecord Record(ConsentStatus status = ConsentStatus.Active) => new()
    {
        Id = "c1", ChildKey = "k", OwnerProviderId = "district", OwnerLocalToken = "t", GivenBy = new ConsentGrantor("P", "mother"),
        Sources = ["district"], Recipients = ["afterschool"], Purpose = "p", Categories = ["Identity"],
        Disclosure = new ConsentDisclosure("d", "1", new string('b', 64)), Signature = new ConsentSignature(SignatureMethod.Electronic, Evidence: "e"),
        GivenAt = Now.AddDays(-10), EffectiveFrom = Now.AddDays(-10), ExpiresAt = Now.AddDays(20), Status = status,
    };

    private static DataSharingAgreement Agreement(SharingMode mode = SharingMode.Identifiable, DateOnly? endsOn = null, AgreementStatus status = AgreementStatus.Active) => new()
    {
        Id = "dsa-1", Parties = [], Recipients = ["afterschool"], Modes = [mode], EffectiveFrom = new DateOnly(2026, 1, 1), EndsOn = endsOn, Status = status,
    };

    [Fact]
    public void Draft_Valid_NoErrors_CanonicalCategories()
    {
        var errors = ConsentValidator.Draft(Valid(), Now, MaxDays, out var categories);

        Assert.Empty(errors);
        Assert.Equal(["identity", "enrollment"], categories);
    }

    [Fact]
    public void Draft_EveryRuleBroken_EveryErrorInOrder()
    {
        var draft = new ConsentDraft
        {
            LocalChildId = new string('x', ConsentValidator.MaxLocalIdLength + 1),
            Sources = [],
            Recipients = ["Not An Id!"],
            EffectiveFrom = Now.AddDays(MaxDays + 1),
            AgreementId = "NOT VALID",
            Categories = ["gossip"],
            Signature = new ConsentSignature(SignatureMethod.Electronic),
            DataFrom = new DateOnly(2026, 5, 1),
            DataTo = new DateOnly(2026, 4, 1),
            GivenAt = Now.AddMinutes(1),
        };

        var errors = ConsentValidator.Draft(draft, Now, MaxDays, out _);

        Assert.Collection(errors,
            e => Assert.StartsWith("localChildId", e, StringComparison.Ordinal),
            e => Assert.StartsWith("givenBy", e, StringComparison.Ordinal),
            e => Assert.Equal("sources names at least one organization.", e),
            e => Assert.Equal("'Not An Id!' in recipients is not a valid organization id.", e),
            e => Assert.Equal("A consent states its purpose.", e),
            e => Assert.Equal($"effectiveFrom is at most {MaxDays} days ahead.", e),
            e => Assert.Equal("agreementId is not a valid agreement id.", e),
            e => Assert.StartsWith("'gossip' is not a data category", e, StringComparison.Ordinal),
            e => Assert.StartsWith("disclosure names the document", e, StringComparison.Ordinal),
            e => Assert.StartsWith("An electronic signature needs its evidence", e, StringComparison.Ordinal),
            e => Assert.Equal("dataTo is before dataFrom.", e),
            e => Assert.Equal("givenAt is in the future.", e),
            e => Assert.Equal("expiresAt is required: every consent expires.", e));
    }

    [Fact]
    public void Draft_LongFreeText_RefusedWithoutQuotingIt()
    {
        var longText = new string('z', ConsentValidator.MaxTextLength + 1);
        var draft = Valid() with { Purpose = longText, GivenBy = new ConsentGrantor(longText, "mother"), Sources = ["district", new string('q', 300)] };

        var errors = ConsentValidator.Draft(draft, Now, MaxDays, out _);

        Assert.Contains($"purpose is at most {ConsentValidator.MaxTextLength} characters.", errors);
        Assert.Contains($"givenBy.name is at most {ConsentValidator.MaxNameLength} characters.", errors);
        Assert.All(errors, e => Assert.True(e.Length < 200, e));
    }

    [Fact]
    public void Organizations_TooMany_OneError()
    {
        var errors = new List<string>();

        ConsentValidator.Organizations(Enumerable.Range(0, ConsentValidator.MaxOrganizations + 1).Select(i => $"org-{i}").ToList(), "sources", errors);

        Assert.Equal([$"sources names at most {ConsentValidator.MaxOrganizations} organizations."], errors);
    }

    [Fact]
    public void Categories_DuplicatesAndCase_EachCanonicalOnce()
    {
        var errors = new List<string>();

        var categories = ConsentValidator.Categories(["academic", "ACADEMIC", " Academic "], errors);

        Assert.Empty(errors);
        Assert.Equal(["academic"], categories);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-hex-not-hex-not-hex-not-hex-not-hex-not-hex-not-hex-not-hexx")]
    [InlineData("abc")]
    public void Disclosure_BadHash_Refused(string sha256)
    {
        var errors = new List<string>();

        ConsentValidator.Disclosure(new ConsentDisclosure("doc", "1", sha256), errors);

        Assert.Equal(["disclosure.sha256 is the SHA-256 of the disclosure text, 64 hex digits."], errors);
    }

    [Fact]
    public void Signature_SignedFormWithoutBlob_Refused()
    {
        var errors = new List<string>();

        ConsentValidator.Signature(new ConsentSignature(SignatureMethod.SignedForm), errors);

        Assert.Equal(["A signed form is kept as a blob: signature.blobReference is required."], errors);
    }

    [Fact]
    public void Expiry_PastOrBeyondTheCap_Refused()
    {
        var past = new List<string>();
        var beyond = new List<string>();
        var atCap = new List<string>();

        ConsentValidator.Expiry(Now.AddSeconds(-1), Now, Now, MaxDays, past);
        ConsentValidator.Expiry(Now.AddDays(MaxDays).AddSeconds(1), Now, Now, MaxDays, beyond);
        ConsentValidator.Expiry(Now.AddDays(MaxDays), Now, Now, MaxDays, atCap);

        Assert.Equal(["expiresAt must be after now and after effectiveFrom."], past);
        Assert.StartsWith($"A consent may run at most {MaxDays} days", Assert.Single(beyond), StringComparison.Ordinal);
        Assert.Empty(atCap);
    }

    [Fact]
    public void Expiry_EffectiveNearTheEndOfTime_NoOverflow()
    {
        var errors = new List<string>();

        ConsentValidator.Expiry(DateTimeOffset.MaxValue, DateTimeOffset.MaxValue.AddDays(-1), Now, MaxDays, errors);

        Assert.Empty(errors);
    }

    [Fact]
    public void Agreement_MissingTerminatedNotIdentifiableOrEndingFirst_Refused()
    {
        string[] Errors(DataSharingAgreement? agreement)
        {
            var errors = new List<string>();
            ConsentValidator.Agreement("dsa-1", agreement, Now.AddDays(40), errors);
            return [.. errors];
        }

        Assert.Equal(["Agreement dsa-1 does not exist or is terminated."], Errors(null));
        Assert.Equal(["Agreement dsa-1 does not exist or is terminated."], Errors(Agreement(status: AgreementStatus.Terminated)));
        Assert.Equal(["Agreement dsa-1 does not permit identifiable sharing."], Errors(Agreement(SharingMode.Aggregate)));
        Assert.Equal(["Agreement dsa-1 ends on 2026-12-31: the consent may not run past it."], Errors(Agreement(endsOn: new DateOnly(2026, 12, 31))));
        Assert.Empty(Errors(Agreement(endsOn: new DateOnly(2027, 1, 10))));
    }

    [Fact]
    public void Renewal_NoCategories_KeepsTheOld_ChecksSignatureAndExpiry()
    {
        var old = Record();

        var errors = ConsentValidator.Renewal(new ConsentRenewal { ExpiresAt = Now.AddDays(30) }, old, Now, MaxDays, out var categories);

        Assert.Equal(old.Categories, categories);
        Assert.Equal(["signature states how the parent signed (method SignedForm with blobReference, or Electronic with evidence)."], errors);
    }

    [Fact]
    public void Renewal_GivenDisclosureAndCategories_Checked()
    {
        var renewal = new ConsentRenewal
        {
            ExpiresAt = Now.AddDays(30), Categories = ["services"], Disclosure = new ConsentDisclosure("", "1", new string('a', 64)),
            Signature = new ConsentSignature(SignatureMethod.Electronic, Evidence: "typed name"), GivenAt = Now.AddDays(1),
        };

        var errors = ConsentValidator.Renewal(renewal, Record(), Now, MaxDays, out var categories);

        Assert.Equal(["services"], categories);
        Assert.Equal(["disclosure names the document shown to the parent (documentId, version, sha256).", "givenAt is in the future."], errors);
    }

    [Theory]
    [InlineData(ConsentStatus.Revoked, "revoked")]
    [InlineData(ConsentStatus.Superseded, "already renewed")]
    [InlineData(ConsentStatus.Expired, "expired")]
    [InlineData(ConsentStatus.Pending, "not active")]
    public void RenewalProblem_NotActive_Named(ConsentStatus status, string expected)
    {
        Assert.Contains(expected, ConsentValidator.RenewalProblem(Record(status), Now), StringComparison.Ordinal);
    }

    [Fact]
    public void RenewalProblem_ActiveUntilItsExpiry()
    {
        var consent = Record();

        Assert.Null(ConsentValidator.RenewalProblem(consent, Now));
        Assert.Contains("expired", ConsentValidator.RenewalProblem(consent, consent.ExpiresAt), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(" ")]
    public void RevocationReason_Missing_Refused(string? reason)
    {
        Assert.Single(ConsentValidator.RevocationReason(reason));
        Assert.Empty(ConsentValidator.RevocationReason("parent asked"));
        Assert.Single(ConsentValidator.RevocationReason(new string('r', ConsentValidator.MaxTextLength + 1)));
    }
}

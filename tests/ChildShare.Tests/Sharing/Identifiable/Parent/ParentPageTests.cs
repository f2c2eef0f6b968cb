using System.Text.Json;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Callers;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Sharing.Identifiable.Parent;
using ChildShare.Core.Storage;
using ChildShare.Functions.Consent;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Identifiable.Parent;

/// <summary>
/// Issue 14: the parent's signed-link page, over the function classes on Azurite (the browser tests drive
/// the same page in Chromium). Each test uses its own child and its own client address, so the hourly limits
/// of one test never meet another's.
/// </summary>
public sealed class ParentPageTests(ConsentHarnessFixture fixture) : IClassFixture<ConsentHarnessFixture>
{
    private const string DisclosureText = "We will share your child's tutoring and health records with Afterschool\nso they can coordinate care.\nYou may revoke at any time.";

    private readonly ConsentHarness _h = fixture.Harness;

    private ParentLinkService Links => _h.Services.GetRequiredService<ParentLinkService>();

    private ParentPageCalls Calls => new(_h.Services);

    private static string Client() => "198.51.100." + Random.Shared.Next(1, 254) + "-" + Guid.NewGuid().ToString("N")[..6];

    private Task<(VersionedConsent Consent, string Token)> GrantWithLinkAsync(int child, IReadOnlyList<string>? categories = null) =>
        _h.GrantWithParentLinkAsync(child, categories);

    [Fact]
    public async Task View_ValidLink_ShowsFirstNameTermsAndStatusAndNoOtherIdentity()
    {
        var child = _h.NextChild();
        var (consent, token) = await GrantWithLinkAsync(child);

        var page = await Calls.GetAsync(token, client: Client());

        Assert.Equal(200, page.Status);
        var (first, last, dob) = ConsentHarness.Child(child);
        Assert.Contains(first, page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain(last, page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain(dob, page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain($"D{child:D3}", page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("Parent Of-Child", page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain(consent.Consent.Id, page.Html, StringComparison.Ordinal);
        Assert.Contains("Coordinate tutoring and health follow-up", page.Html, StringComparison.Ordinal);
        Assert.Contains("In force", page.Html, StringComparison.Ordinal);
        Assert.Contains("Hours and days attended", page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page.Html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Link_TokenRidesInTheQuery_NoPathOfTheLinkThePageOrItsFormsCarriesIt()
    {
        // The Functions host's request telemetry records each request's path and drops its query (infra/DEPLOY.md): a
        // token in the path would put the parent's credential into Application Insights.
        var child = _h.NextChild();
        var consent = await _h.GrantAsync(child);
        var link = (await Links.IssueAsync(ConsentHarness.District, consent.Consent.Id))!;
        var token = ParentPageCalls.TokenOf(link.Url);
        var client = Client();
        var page = await Calls.GetAsync(token, client: client);
        var step = await Calls.GetAsync(token, "?step=revoke", client: client);
        var posted = await Calls.PostAsync(token, "revoke", ParentPageCalls.FormTokenIn(step.Html, "revoke"), client);

        var targets = System.Text.RegularExpressions.Regex.Matches(page.Html + step.Html, "(?:href|action)=\"([^\"]+)\"")
            .Select(m => System.Net.WebUtility.HtmlDecode(m.Groups[1].Value)).Append(posted.Header("Location")!).Append(link.Url).ToList();
        Assert.NotEmpty(targets);
        Assert.All(targets, target =>
        {
            Assert.DoesNotContain(token, target.Split('?')[0], StringComparison.Ordinal);
            Assert.Contains("link=" + token, target, StringComparison.Ordinal);
        });
        Assert.Equal(303, posted.Status);
    }

    [Fact]
    public async Task View_AnyPage_SendsStrictSecurityHeaders()
    {
        var (_, token) = await GrantWithLinkAsync(_h.NextChild());

        var page = await Calls.GetAsync(token, client: Client());
        var refused = await Calls.GetAsync(token[..^2] + "AA", client: Client());

        foreach (var answer in new[] { page, refused })
        {
            var csp = answer.Header("Content-Security-Policy");
            Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("script-src", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            var nonce = csp.Split("'nonce-")[1].Split('\'')[0];
            Assert.Contains($"<style nonce=\"{nonce}\">", answer.Html, StringComparison.Ordinal);
            Assert.Equal("DENY", answer.Header("X-Frame-Options"));
            Assert.Equal("no-store", answer.Header("Cache-Control"));
            Assert.Equal("no-referrer", answer.Header("Referrer-Policy"));
            Assert.Equal("nosniff", answer.Header("X-Content-Type-Options"));
        }
    }

    [Fact]
    public async Task View_TamperedExpiredRevokedOrWrongPurposeLink_OnePlainErrorPageThatRevealsNothing()
    {
        var child = _h.NextChild();
        var (consent, token) = await GrantWithLinkAsync(child);
        var key = await _h.Services.GetRequiredService<ParentLinkKeys>().GetKeyAsync();
        var linkId = (await _h.Storage.ReadAllAsync(TableNames.ParentLinks)).Single(r => r.GetString("ConsentId") == consent.Consent.Id).PartitionKey;
        var revoked = (await Links.IssueAsync(ConsentHarness.District, consent.Consent.Id))!;
        await Links.RevokeAsync(ConsentHarness.District, consent.Consent.Id, revoked.LinkId);
        var tampered = token[..10] + (token[10] == 'A' ? 'B' : 'A') + token[11..];
        var expired = ParentLinkToken.Create(key, ParentTokenPurpose.Page, linkId, _h.Time.GetUtcNow().AddMinutes(-1));
        var wrongPurpose = ParentLinkToken.Create(key, ParentTokenPurpose.RevokeForm, linkId, _h.Time.GetUtcNow().AddHours(1));
        var underPseudonymKey = ParentLinkToken.Create(
            Convert.FromBase64String(ChildShare.Cli.CliHost.DevelopmentKey), ParentTokenPurpose.Page, linkId, _h.Time.GetUtcNow().AddDays(1));
        var (first, _, _) = ConsentHarness.Child(child);

        var answers = new List<PageAnswer>();
        foreach (var bad in new[] { tampered, expired, ParentPageCalls.TokenOf(revoked.Url), wrongPurpose, underPseudonymKey, "not-a-token", token + "x" })
        {
            answers.Add(await Calls.GetAsync(bad, client: Client()));
        }

        Assert.All(answers, a => Assert.Equal(404, a.Status));
        var bodies = answers.Select(a => a.Html.Split("nonce=\"")[0] + a.Html.Split("</style>")[1]).Distinct().ToList();
        var body = Assert.Single(bodies);
        Assert.Contains("This link cannot be used", body, StringComparison.Ordinal);
        foreach (var secret in new[] { first, "afterschool", "district", "clinic", consent.Consent.Id, linkId, "Coordinate" })
        {
            Assert.DoesNotContain(secret, body, StringComparison.OrdinalIgnoreCase);
        }

        var refusals = (await _h.Storage.ReadAllAsync(TableNames.Audit)).Where(e => e.GetString("Event") == AuditEvents.ParentPageRefused)
            .Select(e => JsonDocument.Parse(e.GetString("Parameters")!).RootElement.GetProperty("reason").GetString()).ToList();
        Assert.Contains("tampered", refusals);
        Assert.Contains("expired", refusals);
        Assert.Contains("link-revoked", refusals);
        Assert.Contains("wrong-purpose", refusals);
    }

    [Fact]
    public async Task Revoke_ConfirmedFormPost_RevokesAsTheParentAndTheReportIsRefusedAtOnce()
    {
        var child = _h.NextChild();
        var (consent, token) = await GrantWithLinkAsync(child);
        var client = Client();
        Assert.Equal(IdentifiableReportStatus.Ok, (await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child))).Status);

        var step = await Calls.GetAsync(token, "?step=revoke", client: client);
        var posted = await Calls.PostAsync(token, "revoke", ParentPageCalls.FormTokenIn(step.Html, "revoke"), client);
        var report = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));
        var after = await Calls.GetAsync(token, client: client);
        var seenByRecorder = await _h.Consents.GetAsync(ConsentActor.Of(ConsentHarness.District), consent.Consent.Id);

        Assert.Contains("Revoke this consent?", step.Html, StringComparison.Ordinal);
        Assert.Equal(303, posted.Status);
        Assert.StartsWith($"/api/parent?link={token}&lang=en", posted.Header("Location"), StringComparison.Ordinal);
        Assert.Equal(IdentifiableReportStatus.Forbidden, report.Status);
        Assert.Equal(ConsentDenialReasons.Revoked, report.Reason);
        Assert.Contains("You revoked this consent", after.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("revoke-start", after.Html, StringComparison.Ordinal);
        Assert.Equal(ConsentStatus.Revoked, seenByRecorder!.Consent.Status);
        Assert.StartsWith("parent/link/", seenByRecorder.Consent.RevokedBy, StringComparison.Ordinal);
        var revokedEntry = (await _h.Storage.ReadAllAsync(TableNames.Audit)).Single(e => e.GetString("Event") == AuditEvents.ConsentRevoked
            && e.GetString("Parameters")!.Contains(consent.Consent.Id, StringComparison.Ordinal));
        Assert.StartsWith("parent/link/", revokedEntry.GetString("Actor"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoke_SameFormTwice_IdempotentOneRevocation()
    {
        var (consent, token) = await GrantWithLinkAsync(_h.NextChild());
        var client = Client();
        var form = ParentPageCalls.FormTokenIn((await Calls.GetAsync(token, "?step=revoke", client: client)).Html, "revoke");

        var first = await Calls.PostAsync(token, "revoke", form, client);
        var second = await Calls.PostAsync(token, "revoke", form, client);

        Assert.Equal(303, first.Status);
        Assert.Equal(303, second.Status);
        var history = await _h.Store.HistoryAsync(consent.Consent.Id);
        Assert.Single(history, v => v.Status == ConsentStatus.Revoked);
    }

    [Fact]
    public async Task Revoke_WithoutAValidFormTokenOrFromAnotherSite_ChangesNothing()
    {
        var (consent, token) = await GrantWithLinkAsync(_h.NextChild());
        var other = await GrantWithLinkAsync(_h.NextChild());
        var client = Client();
        var key = await _h.Services.GetRequiredService<ParentLinkKeys>().GetKeyAsync();
        var linkId = (await _h.Storage.ReadAllAsync(TableNames.ParentLinks)).Single(r => r.GetString("ConsentId") == consent.Consent.Id).PartitionKey;
        var good = ParentPageCalls.FormTokenIn((await Calls.GetAsync(token, "?step=revoke", client: client)).Html, "revoke");
        var othersForm = ParentPageCalls.FormTokenIn((await Calls.GetAsync(other.Token, "?step=revoke", client: client)).Html, "revoke");

        var answers = new[]
        {
            await Calls.PostAsync(token, "revoke", null, client),
            await Calls.PostAsync(token, "revoke", othersForm, client),
            await Calls.PostAsync(token, "revoke", ParentLinkToken.Create(key, ParentTokenPurpose.ConfirmForm, linkId, _h.Time.GetUtcNow().AddMinutes(5)), client),
            await Calls.PostAsync(token, "revoke", ParentLinkToken.Create(key, ParentTokenPurpose.RevokeForm, linkId, _h.Time.GetUtcNow().AddMinutes(-1)), client),
            await Calls.PostAsync(token, "revoke", good, client, headers: new() { ["Sec-Fetch-Site"] = "cross-site" }),
            await Calls.PostAsync(token, "revoke", good, client, headers: new() { ["Origin"] = "https://attacker.example" }),
        };

        Assert.All(answers, a => Assert.Equal(400, a.Status));
        Assert.Equal(ConsentStatus.Active, (await _h.Store.GetAsync(consent.Consent.Id))!.Consent.Status);
        Assert.Equal(ConsentStatus.Active, (await _h.Store.GetAsync(other.Consent.Consent.Id))!.Consent.Status);
    }

    [Fact]
    public async Task View_AfterReports_ListsEveryDisclosureNewestFirstFromTheIndex()
    {
        var child = _h.NextChild();
        var (consent, token) = await GrantWithLinkAsync(child);
        await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child, "identity"));
        _h.Time.Advance(TimeSpan.FromMinutes(5));
        await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child, "enrollment", "attendance"));

        var (disclosures, more) = await _h.Services.GetRequiredService<DisclosureRecord>().ReadAsync(consent.Consent.Id);
        var page = await Calls.GetAsync(token, client: Client());

        Assert.False(more);
        Assert.Equal(2, disclosures.Count);
        Assert.True(disclosures[0].At > disclosures[1].At);
        Assert.Equal(["attendance", "enrollment"], disclosures[0].Categories.Order());
        Assert.Equal(["identity"], disclosures[1].Categories);
        Assert.All(disclosures, d => Assert.Equal("afterschool", d.Recipient));
        Assert.All(disclosures, d => Assert.Equal(["clinic", "district"], d.Sources.Order()));
        var newest = page.Html.IndexOf("Hours and days attended", page.Html.IndexOf("Every time", StringComparison.Ordinal), StringComparison.Ordinal);
        var oldest = page.Html.IndexOf("Name, date of birth and ID numbers<", page.Html.IndexOf("Every time", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.True(newest > 0 && oldest > newest, "The newest disclosure comes first.");
        var viewed = (await _h.Storage.ReadAllAsync(TableNames.Audit)).Last(e => e.GetString("Event") == AuditEvents.ParentPageViewed
            && e.GetString("Parameters")!.Contains(consent.Consent.Id, StringComparison.Ordinal));
        Assert.Equal(2, viewed.GetInt64("RowsReturned"));
    }

    [Fact]
    public async Task View_DisclosureText_ShownOnlyWhenItsSha256IsTheConsents()
    {
        var documents = _h.Services.GetRequiredService<DisclosureDocuments>();
        var sha = await documents.UploadAsync(ConsentHarness.District, "care-notice", "v1", DisclosureText);
        await documents.UploadAsync(ConsentHarness.District, "care-notice", "v2", DisclosureText + " Changed.");
        var child = _h.NextChild();
        var draft = _h.Draft(child);
        var verified = await _h.Consents.RecordAsync(ConsentHarness.District, draft with { Disclosure = new ConsentDisclosure("care-notice", "v1", sha) });
        var mismatch = await _h.Consents.RecordAsync(ConsentHarness.District, draft with { Disclosure = new ConsentDisclosure("care-notice", "v2", sha) });
        var missing = await _h.Consents.RecordAsync(ConsentHarness.District, draft with { Disclosure = new ConsentDisclosure("care-notice", "v9", sha) });

        async Task<string> PageOf(VersionedConsent consent) =>
            (await Calls.GetAsync(ParentPageCalls.TokenOf((await Links.IssueAsync(ConsentHarness.District, consent.Consent.Id))!.Url), client: Client())).Html;

        var shown = await PageOf(verified);
        var notShown = await PageOf(mismatch);
        var absent = await PageOf(missing);

        Assert.Contains("We will share your child&#x27;s tutoring", shown, StringComparison.Ordinal);
        Assert.Contains("This is the exact text you were shown", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("We will share", notShown, StringComparison.Ordinal);
        Assert.Contains("does not match", notShown, StringComparison.Ordinal);
        Assert.Contains("is not available here", absent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UploadDisclosure_AnotherTextUnderTheSameVersion_Refused()
    {
        var documents = _h.Services.GetRequiredService<DisclosureDocuments>();
        await documents.UploadAsync(ConsentHarness.Clinic, "clinic-notice", "1", "First text.");

        await documents.UploadAsync(ConsentHarness.Clinic, "clinic-notice", "1", "First text.");
        await Assert.ThrowsAsync<ConsentConflictException>(() => documents.UploadAsync(ConsentHarness.Clinic, "clinic-notice", "1", "Another text."));
        await Assert.ThrowsAsync<ConsentValidationException>(() => documents.UploadAsync(ConsentHarness.Clinic, "../x", "1", "Text."));
    }

    [Fact]
    public async Task View_NameWithMarkup_EncodedAsText()
    {
        await _h.IngestDistrictChildAsync("D901", "<script>alert(1)</script><b>Zoë", "Markup-Family", "2015-03-04", "markup.csv");
        var consent = await _h.Consents.RecordAsync(ConsentHarness.District, _h.Draft(0, sources: ["district"]) with
        {
            LocalChildId = "D901",
            Purpose = "Purpose with <img src=x onerror=alert(2)> & \"quotes\"",
        });
        var token = ParentPageCalls.TokenOf((await Links.IssueAsync(ConsentHarness.District, consent.Consent.Id))!.Url);

        var page = await Calls.GetAsync(token, client: Client());

        Assert.Equal(200, page.Status);
        Assert.DoesNotContain("<script", page.Html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<b>", page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", page.Html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;Zo", page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("Markup-Family", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task View_AcceptLanguageSpanish_RendersSpanishAndTheSwitchOverridesIt()
    {
        var (_, token) = await GrantWithLinkAsync(_h.NextChild());
        var client = Client();

        var spanish = await Calls.GetAsync(token, acceptLanguage: "es-MX,es;q=0.9,en;q=0.5", client: client);
        var switched = await Calls.GetAsync(token, "?lang=en", acceptLanguage: "es-MX,es;q=0.9", client: client);
        var unknown = await Calls.GetAsync(token, acceptLanguage: "tlh,fr;q=0.4", client: client);

        Assert.Contains("<html lang=\"es\">", spanish.Html, StringComparison.Ordinal);
        Assert.Contains("Su consentimiento para", spanish.Html, StringComparison.Ordinal);
        Assert.Contains("Vigente", spanish.Html, StringComparison.Ordinal);
        Assert.Contains("<html lang=\"en\">", switched.Html, StringComparison.Ordinal);
        Assert.Contains("<html lang=\"en\">", unknown.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void Texts_EveryLanguageHasEveryStringOfEnglish()
    {
        var english = ParentPageText.All[ParentPageText.DefaultLanguage];

        Assert.True(ParentPageText.All.Count >= 2);
        foreach (var language in ParentPageText.All.Values)
        {
            Assert.Empty(english.Keys.Except(language.Keys));
        }

        foreach (var category in ConsentCategories.All)
        {
            Assert.NotEqual("category." + category, english["category." + category]);
        }
    }

    [Fact]
    public async Task View_OverTheLinkLimit_429AuditedOnceThenNotWritten()
    {
        var (_, token) = await GrantWithLinkAsync(_h.NextChild());
        var limit = _h.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ParentLinkOptions>>().Value.RequestsPerLinkPerHour;
        var answers = new List<int>();
        for (var i = 0; i < limit + 3; i++)
        {
            // A new client address each time: only the per-link limit is in play.
            answers.Add((await Calls.GetAsync(token, client: Client())).Status);
        }

        Assert.All(answers.Take(limit), s => Assert.Equal(200, s));
        Assert.All(answers.Skip(limit), s => Assert.Equal(429, s));
        var linkId = (await _h.Storage.ReadAllAsync(TableNames.Audit)).Where(e => e.GetString("Event") == AuditEvents.ParentPageRefused)
            .Count(e => e.GetString("Parameters")!.Contains("rate-limited-link", StringComparison.Ordinal));
        Assert.Equal(1, linkId);
    }

    [Fact]
    public async Task View_OneClientOverItsLimit_429EvenWithGarbageTokens()
    {
        var limit = _h.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ParentLinkOptions>>().Value.RequestsPerClientPerHour;
        var client = Client();
        var statuses = new List<int>();
        for (var i = 0; i < limit + 2; i++)
        {
            statuses.Add((await Calls.GetAsync(new string('A', ParentLinkToken.Length), client: client)).Status);
        }

        Assert.All(statuses.Take(limit), s => Assert.Equal(404, s));
        Assert.All(statuses.Skip(limit), s => Assert.Equal(429, s));
    }

    [Fact]
    public async Task IssueLink_ByARecipientOrAStranger_Refused_AndRevokeOnlyByTheIssuer()
    {
        var consent = await _h.GrantAsync(_h.NextChild());
        var link = (await Links.IssueAsync(ConsentHarness.Clinic, consent.Consent.Id))!;

        await Assert.ThrowsAsync<ConsentForbiddenException>(() => Links.IssueAsync(ConsentHarness.Afterschool, consent.Consent.Id));
        Assert.Null(await Links.IssueAsync(ConsentHarness.SchoolBoard, consent.Consent.Id));
        Assert.Null(await Links.RevokeAsync(ConsentHarness.District, consent.Consent.Id, link.LinkId));
        Assert.NotNull((await Links.RevokeAsync(ConsentHarness.Clinic, consent.Consent.Id, link.LinkId))!.RevokedAt);
        Assert.StartsWith("http://localhost:7071/api/parent?link=", link.Url, StringComparison.Ordinal);
        Assert.Equal(ParentLinkToken.Length, ParentPageCalls.TokenOf(link.Url).Length);
        Assert.Equal([0x89, 0x50, 0x4E, 0x47], Convert.FromBase64String(link.QrCodePng)[..4]);
    }

    [Fact]
    public async Task RecordConsentHttp_ReturnsAParentLinkThatOpensThePage()
    {
        var child = _h.NextChild();
        var (status, body, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.RecordAsync(r, CancellationToken.None), "POST", "/api/consents", _h.Draft(child),
            _h.DistrictKey);
        var link = JsonDocument.Parse(body).RootElement.GetProperty("parentLink");

        var page = await Calls.GetAsync(ParentPageCalls.TokenOf(link.GetProperty("url").GetString()!), client: Client());

        Assert.Equal(201, status);
        Assert.Equal(200, page.Status);
        Assert.Contains(ConsentHarness.Child(child).First, page.Html, StringComparison.Ordinal);
        Assert.NotEmpty(link.GetProperty("qrCodePng").GetString()!);
    }

    [Fact]
    public async Task ParentConfirmation_RequiredByTheAgreement_PendingUntilTheParentConfirms()
    {
        var agreements = _h.Services.GetRequiredService<AgreementStore>();
        var terms = (await agreements.GetAsync("dsa-identifiable"))!;
        await agreements.CreateAsync(terms with { Id = "dsa-confirmed", RequireParentConfirmation = true, Recipients = ["school-board"] }, "test");
        var child = _h.NextChild();
        var consent = await _h.Consents.RecordAsync(ConsentHarness.District, _h.Draft(child, recipients: ["school-board"], sources: ["district"]) with
        {
            AgreementId = "dsa-confirmed",
        });
        var token = ParentPageCalls.TokenOf((await Links.IssueAsync(ConsentHarness.District, consent.Consent.Id))!.Url);
        var client = Client();

        var before = await Calls.GetAsync(token, client: client);
        var posted = await Calls.PostAsync(token, "confirm", ParentPageCalls.FormTokenIn(before.Html, "confirm"), client, userAgent: "Mozilla/5.0 (Parent phone)");
        var after = await _h.Store.GetAsync(consent.Consent.Id);

        Assert.Equal(ConsentStatus.Pending, consent.Consent.Status);
        Assert.True(consent.Consent.ParentConfirmationRequired);
        Assert.Contains("Waiting for your confirmation", before.Html, StringComparison.Ordinal);
        Assert.Equal(303, posted.Status);
        Assert.Equal(ConsentStatus.Active, after!.Consent.Status);
        var evidence = after.Consent.ParentConfirmation!;
        Assert.Equal(DisclosureDocuments.Sha256("Mozilla/5.0 (Parent phone)"), evidence.UserAgentSha256);
        Assert.Equal(_h.Time.GetUtcNow(), evidence.ConfirmedAt);
        Assert.True(ParentLinkToken.IsValidLinkId(evidence.LinkId));
        Assert.Contains("you confirmed this consent", (await Calls.GetAsync(token, client: client)).Html, StringComparison.Ordinal);
        Assert.Contains((await _h.Storage.ReadAllAsync(TableNames.Audit)), e => e.GetString("Event") == AuditEvents.ConsentConfirmedByParent);
    }
}

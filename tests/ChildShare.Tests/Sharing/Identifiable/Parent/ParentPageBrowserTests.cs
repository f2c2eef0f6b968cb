using System.Drawing;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Sharing.Identifiable.Parent;
using ChildShare.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace ChildShare.Tests.Sharing.Identifiable.Parent;

/// <summary>
/// Issue 14 in a real browser: headless Chromium (Debian's package, by path) on the parent page served over
/// HTTP by <see cref="ParentPageHost"/> from the application's services on Azurite. Screenshots of the page in
/// each language are saved to <see cref="Chromium.ArtifactsFolder"/>.
/// </summary>
public sealed class ParentPageBrowserTests(ParentPageBrowserTests.Fixture fixture) : IClassFixture<ParentPageBrowserTests.Fixture>
{
    private const string Notice = """
        Coordinated care notice (2026)

        North Valley School District will share your child's name, date of birth, tutoring enrolment and attendance, and Valley Community Clinic will share the dates of your child's check-ups, with Bright Futures Afterschool, so that tutoring and health follow-up can be planned together.

        You can revoke this consent at any time on this page, or by calling the district office. Revoking stops any further sharing at once; it does not take back what was already shared.
        """;

    private readonly ConsentHarness _h = fixture.Harness;

    private ChromeDriver Browser => fixture.English;

    [Fact]
    public async Task Link_OpenReadTheDisclosureAndRecordRevoke_IdentifiableReportRefusedRightAfter()
    {
        var child = _h.NextChild();
        var url = await fixture.GrantWithLinkAsync(child, withDisclosureText: true);
        await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child, "identity", "enrollment"));

        Browser.Navigate().GoToUrl(url);
        var body = Browser.FindElement(By.TagName("body")).Text;
        fixture.Screenshot(Browser, "parent-page-en.png");

        var (first, last, _) = ConsentHarness.Child(child);
        Assert.Equal("Your consent for " + first, Browser.FindElement(By.TagName("h1")).Text);
        Assert.DoesNotContain(last, body, StringComparison.Ordinal);
        Assert.Contains("In force", Browser.FindElement(By.CssSelector(".status")).Text, StringComparison.Ordinal);
        Assert.Contains("so that tutoring and health follow-up can be planned together", Browser.FindElement(By.CssSelector(".document")).Text, StringComparison.Ordinal);
        Assert.Contains("This is the exact text you were shown", body, StringComparison.Ordinal);
        var disclosure = Assert.Single(Browser.FindElements(By.CssSelector("#record ~ ol li")));
        Assert.Contains("Bright Futures Afterschool received records from", disclosure.Text, StringComparison.Ordinal);
        Assert.Contains("Name, date of birth and ID numbers", disclosure.Text, StringComparison.Ordinal);

        // Keyboard only: the revoke step is reachable and operable without a pointer.
        var revoke = Browser.FindElement(By.Id("revoke-start"));
        revoke.SendKeys(Keys.Enter);
        Assert.Equal("Revoke this consent?", TextOnceLoaded(Browser, By.TagName("h1"), "Revoke this consent?"));
        Browser.FindElement(By.CssSelector("form[action*='/revoke?link='] button")).Click();

        Assert.Equal("Revoked", TextOnceLoaded(Browser, By.CssSelector(".status"), "Revoked"));
        Assert.Contains("Your consent is revoked", Browser.FindElement(By.TagName("body")).Text, StringComparison.Ordinal);
        Assert.Empty(Browser.FindElements(By.Id("revoke-start")));
        var report = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));
        Assert.Equal(IdentifiableReportStatus.Forbidden, report.Status);
        Assert.Equal(ConsentDenialReasons.Revoked, report.Reason);
    }

    /// <summary>
    /// The text of an element on the page a key press or click navigates to. The driver returns from a form's submit
    /// before the next page has loaded, so this waits until the element shows <paramref name="expected"/> (or 15 s
    /// have passed) and returns what it shows then; the caller asserts on it.
    /// </summary>
    private static string? TextOnceLoaded(ChromeDriver browser, By by, string expected)
    {
        string? text = null;
        for (var attempt = 0; attempt < 150 && text != expected; attempt++)
        {
            if (attempt > 0)
            {
                Thread.Sleep(100);
            }

            try
            {
                text = browser.FindElements(by) is [var element, ..] ? element.Text : null;
            }
            catch (StaleElementReferenceException)
            {
                text = null; // the old page went away between finding the element and reading it
            }
        }

        return text;
    }

    [Fact]
    public async Task ExpiredTamperedRevokedOrWrongPurposeLink_PlainErrorPageThatRevealsNothing()
    {
        var child = _h.NextChild();
        var url = await fixture.GrantWithLinkAsync(child);
        var token = ParentPageCalls.TokenOf(url);
        var linkId = ParentLinkToken.Verify(fixture.Key, token, ParentTokenPurpose.Page, _h.Time.GetUtcNow()).Token!.LinkId;
        var consentId = (await _h.Services.GetRequiredService<ParentLinkService>().GetAsync(linkId))!.ConsentId;
        var links = _h.Services.GetRequiredService<ParentLinkService>();
        var revoked = (await links.IssueAsync(ConsentHarness.District, consentId))!;
        await links.RevokeAsync(ConsentHarness.District, consentId, revoked.LinkId);
        var bad = new Dictionary<string, string>
        {
            ["expired"] = ParentLinkToken.Create(fixture.Key, ParentTokenPurpose.Page, linkId, _h.Time.GetUtcNow().AddSeconds(-1)),
            ["tampered"] = token[..20] + (token[20] == 'x' ? 'y' : 'x') + token[21..],
            ["revoked"] = ParentPageCalls.TokenOf(revoked.Url),
            ["wrong purpose"] = ParentLinkToken.Create(fixture.Key, ParentTokenPurpose.ConfirmForm, linkId, _h.Time.GetUtcNow().AddHours(1)),
        };
        var (first, _, _) = ConsentHarness.Child(child);

        var pages = new Dictionary<string, string>();
        foreach (var (kind, badToken) in bad)
        {
            Browser.Navigate().GoToUrl(fixture.Host.BaseUrl + "/" + ParentLinkService.Route + "?link=" + badToken);
            pages[kind] = Browser.FindElement(By.TagName("body")).Text;
        }

        Assert.Single(pages.Values.Distinct());
        var text = pages.Values.First();
        Assert.StartsWith("This link cannot be used", text, StringComparison.Ordinal);
        foreach (var secret in new[] { first, "North Valley", "Clinic", "Afterschool", "Coordinate", consentId, linkId })
        {
            Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Empty(Browser.FindElements(By.TagName("form")));
        Assert.Empty(Browser.FindElements(By.TagName("a")));
    }

    [Fact]
    public async Task SpanishBrowser_PageRendersInSpanish()
    {
        var child = _h.NextChild();
        var url = await fixture.GrantWithLinkAsync(child, withDisclosureText: true);
        await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child, "enrollment", "attendance"));

        fixture.Spanish.Navigate().GoToUrl(url);
        fixture.Screenshot(fixture.Spanish, "parent-page-es.png");

        Assert.Equal("es", fixture.Spanish.FindElement(By.TagName("html")).GetAttribute("lang"));
        Assert.Equal("Su consentimiento para " + ConsentHarness.Child(child).First, fixture.Spanish.FindElement(By.TagName("h1")).Text);
        Assert.Equal("Vigente", fixture.Spanish.FindElement(By.CssSelector(".status")).Text);
        Assert.Contains("Horas y días de asistencia", fixture.Spanish.FindElement(By.TagName("body")).Text, StringComparison.Ordinal);

        // The switch: English on request, and the confirmation step keeps the chosen language.
        fixture.Spanish.FindElement(By.CssSelector("nav a[lang='en']")).Click();
        var english = "Your consent for " + ConsentHarness.Child(child).First;
        Assert.Equal(english, TextOnceLoaded(fixture.Spanish, By.TagName("h1"), english));
        fixture.Spanish.FindElement(By.CssSelector("nav a[lang='es']")).Click();
        var spanish = "Su consentimiento para " + ConsentHarness.Child(child).First;
        Assert.Equal(spanish, TextOnceLoaded(fixture.Spanish, By.TagName("h1"), spanish));
        fixture.Spanish.FindElement(By.Id("revoke-start")).Click();
        Assert.Equal("¿Revocar este consentimiento?", TextOnceLoaded(fixture.Spanish, By.TagName("h1"), "¿Revocar este consentimiento?"));
    }

    [Fact]
    public async Task NameWithScriptTag_ShownAsTextNeverRun()
    {
        const string name = "<script>document.title='pwned'</script>Zoë";
        await _h.IngestDistrictChildAsync("D950", name, "Tagged", "2014-05-06", "browser-markup.csv");
        var consent = await _h.Consents.RecordAsync(ConsentHarness.District, _h.Draft(0, sources: ["district"]) with { LocalChildId = "D950" });
        var link = (await _h.Services.GetRequiredService<ParentLinkService>().IssueAsync(ConsentHarness.District, consent.Consent.Id))!;

        Browser.Navigate().GoToUrl(fixture.Host.BaseUrl + "/" + ParentLinkService.Route + "?link=" + ParentPageCalls.TokenOf(link.Url));

        Assert.Equal("Your consent for " + name, Browser.FindElement(By.TagName("h1")).Text);
        Assert.Equal("Your consent", Browser.Title);
        Assert.Empty(Browser.FindElements(By.CssSelector("main script")));
    }

    [Fact]
    public async Task Page_At320PixelsWide_NeedsNoHorizontalScrolling()
    {
        var url = await fixture.GrantWithLinkAsync(_h.NextChild(), withDisclosureText: true);
        var size = Browser.Manage().Window.Size;
        try
        {
            Browser.Manage().Window.Size = new Size(320, 800);
            Browser.Navigate().GoToUrl(url);

            var (scrollWidth, viewport) = ((long)Browser.ExecuteScript("return document.documentElement.scrollWidth")!,
                (long)Browser.ExecuteScript("return document.documentElement.clientWidth")!);
            Assert.True(scrollWidth <= viewport, $"The page is {scrollWidth} px wide in a {viewport} px window.");
        }
        finally
        {
            Browser.Manage().Window.Size = size;
        }
    }

    public sealed class Fixture : IAsyncLifetime
    {
        private readonly string _profiles = Directory.CreateTempSubdirectory("childshare-chromium-").FullName;
        private string _disclosureSha = "";

        public ConsentHarness Harness { get; } = new();

        public ParentPageHost Host { get; private set; } = null!;

        public ChromeDriver English { get; private set; } = null!;

        public ChromeDriver Spanish { get; private set; } = null!;

        public byte[] Key { get; private set; } = [];

        public async Task InitializeAsync()
        {
            await Harness.InitializeAsync();
            var registry = Harness.Services.GetRequiredService<ProviderRegistry>();
            await registry.RegisterAsync("district", "North Valley School District", "SchoolDistrict");
            await registry.RegisterAsync("clinic", "Valley Community Clinic", "HealthClinic");
            await registry.RegisterAsync("afterschool", "Bright Futures Afterschool", "AfterSchoolProgram");
            _disclosureSha = await Harness.Services.GetRequiredService<DisclosureDocuments>().UploadAsync(ConsentHarness.District, "coordinated-care", "2026.1", Notice);
            Key = await Harness.Services.GetRequiredService<ParentLinkKeys>().GetKeyAsync();
            Host = await ParentPageHost.StartAsync(Harness.Services);
            English = Chromium.Start(Path.Combine(_profiles, "en"));
            Spanish = Chromium.Start(Path.Combine(_profiles, "es"), "es-ES,es");
        }

        /// <summary>A consent for the child (district and clinic approve), and the URL of a new parent link to it on this host.</summary>
        public async Task<string> GrantWithLinkAsync(int child, bool withDisclosureText = false)
        {
            var consent = await Harness.GrantAsync(child);
            if (withDisclosureText)
            {
                var draft = Harness.Draft(child) with { Disclosure = new ConsentDisclosure("coordinated-care", "2026.1", _disclosureSha) };
                await Harness.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.District), consent.Consent.Id, "replaced by the test");
                consent = await Harness.Consents.RecordAsync(ConsentHarness.District, draft);
                consent = await Harness.ApproveAsync(ConsentHarness.Clinic, consent.Consent.Id);
            }

            var link = (await Harness.Services.GetRequiredService<ParentLinkService>().IssueAsync(ConsentHarness.District, consent.Consent.Id))!;
            return Host.BaseUrl + "/" + ParentLinkService.Route + "?link=" + ParentPageCalls.TokenOf(link.Url);
        }

        /// <summary>Saves a screenshot of the whole page (the window made as tall as the page for it).</summary>
        public void Screenshot(ChromeDriver browser, string name)
        {
            var size = browser.Manage().Window.Size;
            var height = (long)browser.ExecuteScript("return document.documentElement.scrollHeight")!;
            browser.Manage().Window.Size = new Size(size.Width, (int)Math.Min(height + 20, 6000));
            browser.GetScreenshot().SaveAsFile(Path.Combine(Chromium.ArtifactsFolder, name));
            browser.Manage().Window.Size = size;
        }

        public async Task DisposeAsync()
        {
            English?.Quit();
            Spanish?.Quit();
            English?.Dispose();
            Spanish?.Dispose();
            if (Host is not null)
            {
                await Host.DisposeAsync();
            }

            await Harness.DisposeAsync();
            try
            {
                Directory.Delete(_profiles, recursive: true);
            }
            catch (IOException)
            {
                // A profile still locked by an exiting browser: the temp folder is cleaned later.
            }
        }
    }
}

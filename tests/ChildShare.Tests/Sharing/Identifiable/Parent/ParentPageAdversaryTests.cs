using System.Globalization;
using System.Text;
using System.Text.Json;
using ChildShare.Core.Audit;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Sharing.Identifiable.Parent;
using ChildShare.Core.Storage;
using ChildShare.Functions.Consent;
using ChildShare.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChildShare.Tests.Sharing.Identifiable.Parent;

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

    [Theory]
    // A multipart content type without its boundary: the form cannot be parsed.
    [InlineData("multipart/form-data", "form=x")]
    // A field name over the form reader's limit (2048).
    [InlineData("application/x-www-form-urlencoded", "lang=en&")]
    public async Task Post_UnreadableFormBody_PlainBadFormPageAuditedNotAnException(string contentType, string body)
    {
        var (consent, token, linkId) = await GrantWithLinkAsync();
        var page = ActivatorUtilities.CreateInstance<ParentPage>(_h.Services);
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("childshare.example.org");
        context.Request.Path = "/api/parent/revoke";
        context.Request.QueryString = new QueryString("?link=" + token);
        context.Request.Headers["X-Forwarded-For"] = "192.0.2.77";
        context.Request.ContentType = contentType;
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body.EndsWith('&') ? body + new string('k', 3000) + "=v" : body));

        var result = await page.RevokeAsync(context.Request, CancellationToken.None);

        var content = Assert.IsType<ContentResult>(result);
        Assert.Equal(400, content.StatusCode);
        Assert.Contains("default-src 'none'", context.Response.Headers.ContentSecurityPolicy.ToString(), StringComparison.Ordinal);
        Assert.Equal(ConsentStatus.Active, (await _h.Store.GetAsync(consent.Consent.Id))!.Consent.Status);
        Assert.Contains("bad-form", await RefusalReasonsAsync(linkId));
    }

    [Fact]
    public async Task View_ManyAddressesOfOneIpv6Prefix_ShareOneClientLimit()
    {
        var limit = _h.Services.GetRequiredService<IOptions<ParentLinkOptions>>().Value.RequestsPerClientPerHour;
        // One household's /64: a device picks a new address in it whenever it likes (privacy extensions).
        var prefix = "2001:db8:" + Random.Shared.Next(1, 0xffff).ToString("x", CultureInfo.InvariantCulture) + ":" + Random.Shared.Next(1, 0xffff).ToString("x", CultureInfo.InvariantCulture) + ":";
        var statuses = new List<int>();
        for (var i = 0; i < limit + 2; i++)
        {
            statuses.Add((await Calls.GetAsync(new string('A', ParentLinkToken.Length), client: prefix + ":" + (i + 1).ToString("x", CultureInfo.InvariantCulture))).Status);
        }

        Assert.All(statuses.Take(limit), s => Assert.Equal(404, s));
        Assert.All(statuses.Skip(limit), s => Assert.Equal(429, s));
    }

    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe")]
    [InlineData("[2001:db8:1:2::1]:443", "2001:db8:1:2::9")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    public void ClientAddress_OneIpv6PrefixOrAMappedIpv4_OneClient(string first, string second)
    {
        Assert.Equal(ClientOf(first), ClientOf(second));
        Assert.NotEqual(ClientOf("2001:db8:1:2::1"), ClientOf("2001:db8:1:3::1"));
    }

    [Fact]
    public async Task View_AuditUnavailable_Plain503PageShowsNothing()
    {
        // Held on review (no fix needed): covered here because no other test exercised the outage path.
        var (_, token, _) = await GrantWithLinkAsync();
        var outage = new OutageAudit(_h.Services.GetRequiredService<ChildShareStorage>(), _h.Time);
        var pages = ActivatorUtilities.CreateInstance<ParentPageService>(_h.Services, (AuditLog)outage);

        var answer = await pages.HandleAsync(new ParentPageRequest { Token = token, PagePath = "/api/parent", ClientAddress = "192.0.2.78" });
        var tampered = await pages.HandleAsync(new ParentPageRequest { Token = new string('A', ParentLinkToken.Length), PagePath = "/x", ClientAddress = "192.0.2.79" });

        Assert.Equal(503, answer.Status);
        Assert.Equal(503, tampered.Status);
        Assert.Equal(answer.Html.Replace(answer.Nonce, "", StringComparison.Ordinal), tampered.Html.Replace(tampered.Nonce, "", StringComparison.Ordinal));
        Assert.DoesNotContain("Coordinate", answer.Html, StringComparison.Ordinal);
    }

    private sealed class OutageAudit(ChildShareStorage storage, TimeProvider time)
        : AuditLog(storage, time, Microsoft.Extensions.Logging.Abstractions.NullLogger<AuditLog>.Instance)
    {
        public override Task<(string PartitionKey, string RowKey)> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default) =>
            throw new AuditUnavailableException(new InvalidOperationException("audit table down"));
    }

    private static string? ClientOf(string forwarded)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["X-Forwarded-For"] = forwarded;
        return ParentPage.ClientAddress(context.Request);
    }
}

using System.Text;
using System.Text.Json;
using ChildShare.Core.Agreements;
using ChildShare.Core.Callers;
using ChildShare.Core.Organizations;
using ChildShare.Functions.Admin;
using ChildShare.Tests.Agreements;
using ChildShare.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Admin;

public sealed class AgreementsAdminTests : AppTests
{
    private string _adminKey = "";
    private string _readerKey = "";

    protected override async Task StartAsync()
    {
        var keys = Services.GetRequiredService<ApiKeyStore>();
        _adminKey = (await keys.IssueAsync("childshare-ops", CallerRoles.Admin, "ops", TimeSpan.FromDays(30), "test")).Key;
        _readerKey = (await keys.IssueAsync("county-health", CallerRoles.Reader, "bi", TimeSpan.FromDays(30), "test")).Key;
    }

    private AgreementsAdmin Admin => ActivatorUtilities.CreateInstance<AgreementsAdmin>(Services);

    private static HttpRequest Request(string? key, object? body = null)
    {
        var context = new DefaultHttpContext();
        if (key is not null)
        {
            context.Request.Headers["X-Api-Key"] = key;
        }

        context.Request.Body = new MemoryStream(body is null ? [] : Encoding.UTF8.GetBytes(body as string ?? JsonSerializer.Serialize(body, ChildShare.Functions.Http.JsonBodies.Options)));
        return context.Request;
    }

    private static int Status(IActionResult result) => (result as ObjectResult)?.StatusCode ?? 200;

    [Fact]
    public async Task CreateAsync_Admin_201ThenListed()
    {
        var created = await TestHttp.RunAsync(Services, Request(_adminKey, AgreementTestData.Aggregate("dsa-http", "county-health", "district")), r => Admin.CreateAsync(r, CancellationToken.None));
        var list = await TestHttp.RunAsync(Services, Request(_adminKey), r => Admin.ListAsync(r, CancellationToken.None));

        Assert.Equal(201, Status(created));
        Assert.Contains("dsa-http", JsonSerializer.Serialize(((ObjectResult)list).Value), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateAsync_ReaderOrAnonymous_403Or401()
    {
        var body = AgreementTestData.Aggregate("dsa-nope", "county-health", "district");

        Assert.Equal(403, Status(await TestHttp.RunAsync(Services, Request(_readerKey, body), r => Admin.CreateAsync(r, CancellationToken.None))));
        Assert.Equal(401, Status(await TestHttp.RunAsync(Services, Request(null, body), r => Admin.CreateAsync(r, CancellationToken.None))));
        Assert.Null(await Services.GetRequiredService<AgreementStore>().GetAsync("dsa-nope"));
    }

    [Fact]
    public async Task CreateAsync_InvalidBody_400Problem()
    {
        Assert.Equal(400, Status(await TestHttp.RunAsync(Services, Request(_adminKey, "{not json"), r => Admin.CreateAsync(r, CancellationToken.None))));
        Assert.Equal(400, Status(await TestHttp.RunAsync(Services, Request(_adminKey, AgreementTestData.Aggregate("dsa-bad", "county-health", "district") with { MinimumCellSize = 1 }), r => Admin.CreateAsync(r, CancellationToken.None))));
    }

    [Fact]
    public async Task AmendAndTerminate_Admin_NewVersions()
    {
        await TestHttp.RunAsync(Services, Request(_adminKey, AgreementTestData.Aggregate("dsa-life", "county-health", "district")), r => Admin.CreateAsync(r, CancellationToken.None));

        var amended = await TestHttp.RunAsync(Services, Request(_adminKey, AgreementTestData.Aggregate("dsa-life", "county-health", "district") with { MinimumCellSize = 25 }), r => Admin.AmendAsync(r, "dsa-life", CancellationToken.None));
        var terminated = await TestHttp.RunAsync(Services, Request(_adminKey, new TerminationRequest("Ended by the board", null)), r => Admin.TerminateAsync(r, "dsa-life", CancellationToken.None));

        Assert.Equal(25, ((DataSharingAgreement)((ObjectResult)amended).Value!).MinimumCellSize);
        Assert.Equal(AgreementStatus.Terminated, ((DataSharingAgreement)((ObjectResult)terminated).Value!).Status);
        Assert.Equal(404, Status(await TestHttp.RunAsync(Services, Request(_adminKey, AgreementTestData.Aggregate("dsa-none", "county-health", "district")), r => Admin.AmendAsync(r, "dsa-none", CancellationToken.None))));
    }
}

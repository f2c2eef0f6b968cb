using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Agreements;

/// <summary>Who may manage agreements, decided in Core for the HTTP admin API and the command line alike; against Azurite.</summary>
public sealed class AgreementAdminServiceTests : AppTests
{
    private AgreementAdminService Admin => Services.GetRequiredService<AgreementAdminService>();

    public static TheoryData<string> NotAdmins => ["reader", "operator-for-an-organization", "none"];

    private static Caller? NotAdmin(string kind) => kind switch
    {
        "reader" => new Caller("county-health", CallerRoles.Reader, CallerAuthMethod.ApiKey, "0123456789abcdef"),
        "operator-for-an-organization" => Caller.OperatorFor("county-health", "alice"),
        _ => null,
    };

    [Theory]
    [MemberData(nameof(NotAdmins))]
    public void Authorize_CallerWithoutTheAdminRole_GivesNoSession(string kind)
    {
        Assert.False(AgreementAdminService.MayManage(NotAdmin(kind)));
        Assert.Null(Admin.Authorize(NotAdmin(kind)));
    }

    [Fact]
    public async Task Authorize_AdminKey_SessionActsAndIsAuditedAsThatCredential()
    {
        var session = Admin.Authorize(new Caller("childshare-ops", CallerRoles.Admin, CallerAuthMethod.ApiKey, "0123456789abcdef"));

        await session!.CreateAsync(AgreementTestData.Aggregate("dsa-admin", "county-health", "district"));

        Assert.Equal("childshare-ops/ApiKey/0123456789abcdef", session.Actor);
        Assert.Equal(["dsa-admin"], (await session.ListAsync()).Select(a => a.Id));
        var created = (await Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10")).Single(e => e.GetString("Event") == AuditEvents.AgreementCreated);
        Assert.Equal("childshare-ops/ApiKey/0123456789abcdef", created.GetString("Actor"));
    }

    [Fact]
    public async Task Authorize_CommunityOperator_SessionIsAuditedAsTheOperator()
    {
        var session = Admin.Authorize(Caller.CommunityOperator("alice"));

        await session!.CreateAsync(AgreementTestData.Aggregate("dsa-cli", "county-health", "district"));
        await session.TerminateAsync("dsa-cli", "Ended by the board");

        Assert.Equal("operator:alice", session.Actor);
        var changes = (await Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10")).Where(e => e.GetString("Event") is AuditEvents.AgreementCreated or AuditEvents.AgreementTerminated);
        Assert.All(changes, e => Assert.Equal("operator:alice", e.GetString("Actor")));
        Assert.Equal(AgreementStatus.Terminated, (await session.GetAsync("dsa-cli"))!.Status);
    }
}

using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Storage;
using Moq;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Agreements;

public sealed class AgreementStoreTests : AppTests
{

    private AgreementStore Store => Services.GetRequiredService<AgreementStore>();

    [Fact]
    public async Task CreateAmendTerminate_Always_VersionedAndAudited()
    {
        await Store.CreateAsync(AgreementTestData.Aggregate("dsa-life", "county-health", "district"), "admin-org");
        var amended = await Store.AmendAsync("dsa-life", AgreementTestData.Aggregate("dsa-life", "county-health", "district", "clinic") with { MinimumCellSize = 20 }, "admin-org");
        var terminated = await Store.TerminateAsync("dsa-life", "Partner withdrew", "admin-org");

        Assert.Equal(2, amended?.Version);
        Assert.Equal(AgreementStatus.Terminated, terminated?.Status);
        Assert.Equal(new DateOnly(2026, 10, 15), terminated?.TerminatedOn);
        Assert.Equal([1, 2, 3], (await Store.HistoryAsync("dsa-life")).Select(a => a.Version));
        var events = (await Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10")).Select(e => e.GetString("Event")).ToList();
        Assert.Equal([AuditEvents.AgreementCreated, AuditEvents.AgreementAmended, AuditEvents.AgreementTerminated], events);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100_001)]
    public async Task CreateAsync_MinimumCellSizeOutOfRange_Rejected(int minimum)
    {
        var error = await Assert.ThrowsAsync<AgreementValidationException>(() =>
            Store.CreateAsync(AgreementTestData.Aggregate("dsa-bad", "county-health", "district") with { MinimumCellSize = minimum }, "admin"));

        Assert.Contains(error.Errors, e => e.Contains("minimum cell size", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CreateAsync_DefaultMinimumCellSize_Is11()
    {
        var created = await Store.CreateAsync(AgreementTestData.Aggregate("dsa-default", "county-health", "district"), "admin");

        Assert.Equal(11, (await Store.GetAsync(created.Id))?.MinimumCellSize);
    }

    [Fact]
    public async Task CreateAsync_AuditWriteFails_AgreementNotSaved()
    {
        var broken = new AuditLog(new AuditOutageStorage(Storage), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<AuditLog>.Instance);
        var store = new AgreementStore(new AgreementTable(Storage.Storage), broken, TimeProvider.System);

        await Assert.ThrowsAsync<AuditUnavailableException>(() => store.CreateAsync(AgreementTestData.Aggregate("dsa-unaudited", "county-health", "district"), "admin"));

        Assert.Null(await Store.GetAsync("dsa-unaudited"));
    }
}

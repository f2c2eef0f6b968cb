using Azure.Data.Tables;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Storage;
using ChildShare.Tests.Agreements;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>
/// What a year's report reads (issue 13, goal 2), through the services only (the same test runs on
/// the month-summary design): at most one entity per 50 provider children of the period, and the
/// next page of the same report reads nothing. 3,200 provider children, each active every month of 2026.
/// </summary>
public sealed class ReportReadCostTests : AppTests
{
    private const int ProviderChildren = 3200;

    protected override async Task StartAsync()
    {
        await Services.GetRequiredService<ProviderRegistry>().RegisterAsync("p1", "Provider one", "Other");
        await Services.GetRequiredService<AgreementStore>().CreateAsync(AgreementTestData.Aggregate("dsa-year", "year-org", "p1") with
        {
            Protection = DifferencingProtection.Round5,
        }, "test");
        var staging = Storage.Storage.Table(TableNames.UploadStaging);
        var rows = new List<TableEntity>();
        for (var i = 0; i < ProviderChildren; i++)
        {
            var providerChild = $"p1|token{i:D5}";
            rows.Add(new TableEntity("upload-year", providerChild) { ["ChildKey"] = $"child{i:D5}", ["KeyVersion"] = "v1", ["Sex"] = i % 2 == 0 ? "Female" : "Male" });
            rows.Add(new TableEntity("upload-year", providerChild + "|" + RecordKeys.ServiceKey("Tutoring", "Academic", new DateOnly(2026, 1, 5)))
            {
                ["Program"] = "Tutoring", ["ServiceType"] = "Academic", ["StartDate"] = "2026-01-05", ["EndDate"] = "2026-12-20", ["AsOf"] = "2026-12-20",
            });
        }

        foreach (var batch in rows.OrderBy(r => r.RowKey, StringComparer.Ordinal).Chunk(100))
        {
            await staging.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)));
        }

        await Services.GetRequiredService<ActivitySummaryBuilder>().RebuildForUploadAsync("upload-year", TestApp.Now, ReuploadPolicy.Upsert);
    }

    private Task<ReportResult> YearAsync(string? skip = null)
    {
        var parameters = new Dictionary<string, string?> { ["from"] = "2026-01-01", ["to"] = "2026-12-31", ["groupBy"] = "provider,sex", ["$top"] = "2" };
        if (skip is not null)
        {
            parameters["$skip"] = skip;
        }

        return Services.GetRequiredService<AggregateReportService>().RunAsync(
            new Caller("year-org", CallerRoles.Reader, CallerAuthMethod.ApiKey, "k"), parameters, null);
    }

    [Fact]
    public async Task Report_YearOfThousandsOfChildren_ReadsAtMostOneEntityPerFiftyProviderChildrenAndPagesReadNothing()
    {
        var first = await YearAsync();
        var next = await YearAsync(skip: "2");

        Assert.Equal(ReportStatus.Ok, first.Status);
        Assert.Equal(3200, first.Page!.Metadata.TotalRows > 0 ? first.Stats!.Children : -1);
        Assert.InRange(first.Stats!.EntitiesRead, 1, ProviderChildren / 50);
        Assert.Equal(ReportStatus.Ok, next.Status);
        Assert.Equal(0, next.Stats!.EntitiesRead);
        Assert.Equal(first.Page.Metadata.TotalRows, next.Page!.Metadata.TotalRows);
    }
}

using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;
using ChildShare.Tests.Ingestion;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Linkage;

/// <summary>
/// The linkage row cache through the real upload path (blob, manifest, staging, linking, summaries): uploads redone by the instance that
/// linked them, its cache warm, change no count, and the instance then links like one that never redid them.
/// </summary>
[Collection(SlowTests.Name)]
public sealed class LinkageRowCacheIngestionTests
{
    private const string Header = "Id,First,Last,DOB,Sex,Race,Zip,Grade,Program,Start,End";
    private const string Other = "other-district";

    private static readonly string September = $"""
        {Header}
        A1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-09-01,2026-09-30
        A2,Ben,Okafor,2014-07-19,M,5,12345,4,Tutoring,2026-09-01,2026-09-30
        A3,Cy,Tupou,2013-01-11,M,5,12345,5,Arts,2026-09-03,2026-09-28
        """;

    private static readonly string OtherRoster = $"""
        {Header}
        X9,Ana,Lopez,2015-03-02,F,5,12345,3,Arts,2026-09-01,2026-09-30
        X8,Ben,Okafor,2014-07-19,M,5,12345,4,Arts,2026-09-05,2026-10-30
        X7,Di,Begay,2012-05-05,F,5,12345,6,Arts,2026-09-01,2026-09-30
        """;

    private static readonly string October = $"""
        {Header}
        A1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-10-01,2026-10-30
        A4,Di,Begay,2012-05-05,F,5,12345,6,Tutoring,2026-10-01,2026-10-30
        """;

    [Fact]
    public async Task IngestAsync_UploadsRedoneByTheInstanceThatLinkedThem_ChangeNoCountAndTheNextUploadEndsLikeWithoutTheRedo()
    {
        await using var redone = new IngestionHarness();
        await redone.InitializeAsync();
        await RegisterOtherAsync(redone);
        var september = await redone.IngestTextAsync($"{IngestionHarness.ProviderId}/september.csv", September);
        var other = await redone.IngestTextAsync($"{Other}/roster.csv", OtherRoster);
        var before = await CountsAsync(redone.Storage);
        Assert.Contains("child keys 4", before); // Ana and Ben are each one child of both providers

        // As if the host died before each manifest was final: the blob trigger delivers both again, to the instance that linked them.
        var manifests = new ManifestStore(new ManifestTable(redone.Storage.Storage), redone.Storage.Storage);
        foreach (var (manifest, blob) in new[] { (september, $"{IngestionHarness.ProviderId}/september.csv"), (other, $"{Other}/roster.csv") })
        {
            await manifests.SaveAsync(manifest with { Status = UploadStatus.Processing });
            Assert.Equal(UploadStatus.Completed, (await redone.Ingestion.IngestAsync(redone.Storage.Storage.Uploads.GetBlobClient(blob))).Status);
            Assert.Equal(before, await CountsAsync(redone.Storage));
        }

        await redone.IngestTextAsync($"{IngestionHarness.ProviderId}/october.csv", October);

        await using var clean = new IngestionHarness();
        await clean.InitializeAsync();
        await RegisterOtherAsync(clean);
        await clean.IngestTextAsync($"{IngestionHarness.ProviderId}/september.csv", September);
        await clean.IngestTextAsync($"{Other}/roster.csv", OtherRoster);
        await clean.IngestTextAsync($"{IngestionHarness.ProviderId}/october.csv", October);
        Assert.Equal(await CountsAsync(clean.Storage), await CountsAsync(redone.Storage));
    }

    private static async Task RegisterOtherAsync(IngestionHarness harness)
    {
        await harness.Providers.RegisterAsync(Other, "Other District", "SchoolDistrict");
        await harness.Providers.SaveProfileAsync(Other, IngestionHarness.DefaultProfile);
    }

    /// <summary>Each provider child's child key and services, the community's children and the activity months.</summary>
    private static async Task<List<string>> CountsAsync(TestStorage storage) =>
    [
        .. (await storage.ReadAllAsync(TableNames.Records))
            .Select(r => $"{r.PartitionKey} {r.RowKey} {r.GetString("ChildKey")} {StoredService.Deserialize(r.GetString("Services")).Count}")
            .Order(StringComparer.Ordinal),
        $"children {(await storage.ReadAllAsync(TableNames.Children)).Count}",
        $"child keys {(await storage.ReadAllAsync(TableNames.Records)).Select(r => r.GetString("ChildKey")).Distinct().Count()}",
        $"activity {(await storage.ReadActivityMonthsAsync()).Count}",
    ];
}

using Azure.Data.Tables;
using ChildShare.Tests.Support;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;

namespace ChildShare.Tests.Ingestion;

public sealed class IngestionServiceTests : IClassFixture<IngestionHarnessFixture>
{
    private readonly IngestionHarness _harness;

    public IngestionServiceTests(IngestionHarnessFixture fixture) => _harness = fixture.Harness;

    [Fact]
    public async Task IngestAsync_CleanFile_StoresIdentitiesServicesAndSummaries()
    {
        var manifest = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/clean.csv", """
            Id,First,Last,DOB,Sex,Race,Zip,Grade,Program,Start,End
            A1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-09-01,2026-09-30
            A2,Ben,Okafor,2014-07-19,M,4,12345-6789,04,Tutoring,2026-09-15,
            """);

        Assert.Equal(UploadStatus.Completed, manifest.Status);
        Assert.Equal(2, manifest.RowsAccepted);
        Assert.Equal(2, manifest.ChildrenTouched);
        var identities = await _harness.Storage.ReadAllAsync(TableNames.Identities);
        Assert.Contains(identities, i => i.GetString("FirstName") == "Ana" && i.GetString("BirthDate") == "2015-03-02");
        var records = await _harness.Storage.ReadAllAsync(TableNames.Records);
        Assert.Contains(records, r => r.GetString("Zip") == "12345" && r.GetString("Zip3") == "123" && r.GetString("Grade") == "4");
        var september = (await _harness.Storage.ReadActivityMonthsAsync()).Where(a => a.PartitionKey == "2026-09").ToList();
        Assert.Contains(september, s => s.GetString("Race") == "NativeHawaiianOrOtherPacificIslander");
    }
}

/// <summary>One harness per test class: a registered provider on a private corner of Azurite.</summary>
public sealed class IngestionHarnessFixture : IAsyncLifetime
{
    public IngestionHarness Harness { get; } = new();

    public Task InitializeAsync() => Harness.InitializeAsync();

    public Task DisposeAsync() => Harness.DisposeAsync();
}

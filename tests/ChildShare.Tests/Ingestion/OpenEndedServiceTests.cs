using ChildShare.Core.Activity;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Ingestion;

/// <summary>
/// Service end dates far in the future, such as the 9999-12-31 many systems write for "no end date". Taken as dates they made the
/// service active in every year to 9999: 9999-12-31 threw in the month walk (ArgumentOutOfRangeException, the upload failed), and
/// 9998-12-31 wrote about 8,000 bucket-years and then a records row whose ActivityYears (about 40,000 characters) Azure refuses,
/// so the upload failed after its buckets were written. Such an end is now read as no end.
/// </summary>
public sealed class OpenEndedServiceTests : IAsyncLifetime
{
    private const string Header = "Id,First,Last,DOB,Sex,Race,Zip,Grade,Program,Start,End";

    private readonly IngestionHarness _harness = new();

    public Task InitializeAsync() => _harness.InitializeAsync();

    public Task DisposeAsync() => _harness.DisposeAsync();

    [Theory]
    [InlineData("9999-12-31")]
    [InlineData("9998-12-31")]
    public async Task IngestAsync_AServiceEndingFarInTheFuture_CompletesWithTheServiceOpen(string end)
    {
        var manifest = await _harness.IngestTextAsync($"{IngestionHarness.ProviderId}/open.csv",
            Header + $"\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-01-05,{end}\nB1,Ben,Ortiz,2014-05-01,M,5,12345,4,Arts,2026-01-05,\n");

        Assert.True(manifest.Status is UploadStatus.Completed or UploadStatus.CompletedWithRejections, manifest.Reason);
        var records = await _harness.Storage.ReadAllAsync(TableNames.Records);
        Assert.All(records, r => Assert.Equal("2026", r.GetString("ActivityYears")));
        var activity = _harness.Services.GetRequiredService<ActivityStore>();
        Assert.Empty((await activity.ReadAsync([2027, 2030])).Children);
    }
}

using ChildShare.Cli;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Cli;

/// <summary>README command 1, on a private corner of Azurite: the sample providers end to end, twice.</summary>
public sealed class DemoTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    [Fact]
    public async Task Demo_SampleProviders_IngestWithRejectionsAndASecondRunCountsNothingTwice()
    {
        await using var services = TestApp.Build(_storage);
        var output = new StringWriter();
        var op = ActivatorUtilities.CreateInstance<Operator>(services, (TextWriter)output);
        var samples = Path.Combine(AppContext.BaseDirectory, "samples");

        var exit = await Demo.RunAsync(op, samples, output, CancellationToken.None);
        var identityRows = await _storage.ReadAllAsync(TableNames.Identities);
        var identities = identityRows.Count;
        var activity = (await _storage.ReadActivityMonthsAsync()).Count;
        var again = await Demo.RunAsync(op, samples, output, CancellationToken.None);

        Assert.Equal(0, exit);
        Assert.Equal(0, again);
        var parentLinks = (await _storage.ReadAllAsync(TableNames.ParentLinks)).Select(l => l.GetString("ConsentId")).ToList();
        Assert.Equal(2, parentLinks.Count);
        Assert.Single(parentLinks.Distinct());
        Assert.Contains("/api/parent/", output.ToString(), StringComparison.Ordinal);
        var manifests = (await _storage.ReadAllAsync(TableNames.Manifests)).Where(m => m.RowKey == "manifest").ToList();
        Assert.Equal(4, manifests.Count);
        // Rows whose birth date cannot be used are kept (an incomplete identity, noted), so a file may complete without rejections.
        Assert.Equal(3, manifests.Count(m => m.GetString("Status") is nameof(UploadStatus.CompletedWithRejections) or nameof(UploadStatus.Completed)));
        Assert.Contains(manifests, m => m.GetString("Status") == nameof(UploadStatus.CompletedWithRejections));
        Assert.Single(manifests, m => m.GetString("Status") == nameof(UploadStatus.NotProcessed));
        Assert.InRange(identities, 300, 700);
        Assert.All(identityRows.Where(i => i.PartitionKey == "valley-clinic"), i => Assert.False(string.IsNullOrEmpty(i.GetString("StreetAddress"))));
        Assert.DoesNotContain(identityRows, i => i.PartitionKey != "valley-clinic" && !string.IsNullOrEmpty(i.GetString("StreetAddress")));
        Assert.Equal(identities, (await _storage.ReadAllAsync(TableNames.Identities)).Count);
        Assert.Equal(activity, (await _storage.ReadActivityMonthsAsync()).Count);
        Assert.Contains("CompletedWithRejections", output.ToString(), StringComparison.Ordinal);
        var (records, children) = await op.CountChildrenAsync(CancellationToken.None);
        Assert.Equal(identities, records);
        Assert.InRange(children, 250, 300);
        Assert.Contains($"{records} provider records link into {children} community children", output.ToString(), StringComparison.Ordinal);
    }
}

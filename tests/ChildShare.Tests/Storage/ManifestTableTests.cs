using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>The manifests table's store against Azurite: manifest rows under the same keys and columns, the two listings, the content index.</summary>
public sealed class ManifestTableTests : IAsyncLifetime
{
    private const string UploadA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", UploadB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    private readonly TestStorage _storage = new();

    private ManifestTable Table => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    private static ManifestRow Row(string uploadId, string provider = "p1", string status = "Completed") => new(uploadId)
    {
        Json = "{\"uploadId\":\"" + uploadId + "\"}", ProviderId = provider, BlobName = provider + "/roster.csv", Status = status, BlobETag = "0x8D" + uploadId[..4],
    };

    [Fact]
    public async Task SaveAsync_ThenGetAsync_ReturnsTheRowUnderTheSameKeysAndColumns()
    {
        await Table.SaveAsync(Row(UploadA));

        Assert.Equal(Row(UploadA), await Table.GetAsync(UploadA));
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Manifests));
        Assert.Equal((UploadA, "manifest", "p1", "p1/roster.csv", "Completed", "0x8Daaaa"),
            (stored.PartitionKey, stored.RowKey, stored.GetString("ProviderId"), stored.GetString("BlobName"), stored.GetString("Status"), stored.GetString("BlobETag")));
        Assert.Null(await Table.GetAsync(UploadB));
    }

    [Fact]
    public async Task SaveAsync_Again_ReplacesTheRow()
    {
        await Table.SaveAsync(Row(UploadA, status: "Processing"));

        await Table.SaveAsync(Row(UploadA) with { BlobETag = null });

        var read = await Table.GetAsync(UploadA);
        Assert.Equal(("Completed", null), (read!.Status, read.BlobETag));
    }

    [Fact]
    public async Task ListBlobVersionsAsync_ManifestsAndContentEntries_ListsOnlyTheManifestsBlobColumns()
    {
        await Table.SaveAsync(Row(UploadA));
        await Table.SaveAsync(Row(UploadB, "p2", "Processing"));
        await Table.AddContentAsync("p1", "sha", UploadA);

        var versions = await Table.ListBlobVersionsAsync();

        Assert.Equal([(UploadA, "p1/roster.csv", "Completed", "0x8Daaaa", (string?)null), (UploadB, "p2/roster.csv", "Processing", "0x8Dbbbb", null)],
            versions.Select(v => (v.UploadId, v.BlobName, v.Status, v.BlobETag, v.Json)).OrderBy(v => v.UploadId, StringComparer.Ordinal));
    }

    [Fact]
    public async Task ListJsonByProviderAsync_TwoProviders_ReturnsOnlyThatProvidersDocuments()
    {
        await Table.SaveAsync(Row(UploadA));
        await Table.SaveAsync(Row(UploadB, "p2"));

        Assert.Equal([Row(UploadB).Json!], await Table.ListJsonByProviderAsync("p2"));
    }

    [Fact]
    public async Task AddContentAsync_SameContentTwice_KeepsTheFirstUpload()
    {
        Assert.True(await Table.AddContentAsync("p1", "sha", UploadA));
        Assert.False(await Table.AddContentAsync("p1", "sha", UploadB));

        Assert.Equal(UploadA, await Table.FindContentAsync("p1", "sha"));
        Assert.Null(await Table.FindContentAsync("p2", "sha"));
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Manifests));
        Assert.Equal(("content-p1", "sha", UploadA), (stored.PartitionKey, stored.RowKey, stored.GetString("UploadId")));
    }
}

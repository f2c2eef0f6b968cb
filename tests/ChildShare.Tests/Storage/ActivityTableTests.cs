using Azure;
using Azure.Data.Tables;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>
/// The activity table's store against Azurite: the layout row and bucket-years under the same keys and columns, a payload split over
/// binary chunks and joined again, writes only over the version read (a stale ETag or an add over an existing row is refused as today).
/// </summary>
public sealed class ActivityTableTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    private ActivityTable Table => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    [Fact]
    public async Task WriteLayoutAsync_AddThenReplaceWithTheETagRead_ReadsBackTheLastVersion()
    {
        Assert.Null(await Table.ReadLayoutAsync());
        await Table.WriteLayoutAsync(64, 1, writing: true, format: 1, etag: null);
        var first = (await Table.ReadLayoutAsync())!;

        await Table.WriteLayoutAsync(64, 2, writing: false, format: 1, first.ETag);

        var layout = (await Table.ReadLayoutAsync())!;
        Assert.Equal((64, 2L, false), (layout.Buckets, layout.Version, layout.Writing));
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Activity));
        Assert.Equal(("layout", "layout", 1), (stored.PartitionKey, stored.RowKey, stored.GetInt32("Format")));
    }

    [Fact]
    public async Task WriteLayoutAsync_AStaleETag_Throws412()
    {
        await Table.WriteLayoutAsync(64, 1, writing: true, format: 1, etag: null);
        var stale = (await Table.ReadLayoutAsync())!;
        await Table.WriteLayoutAsync(64, 2, writing: false, format: 1, stale.ETag);

        var refused = await Assert.ThrowsAsync<RequestFailedException>(() => Table.WriteLayoutAsync(64, 3, writing: true, format: 1, stale.ETag));

        Assert.Equal(412, refused.Status);
        Assert.Equal(2, (await Table.ReadLayoutAsync())!.Version);
    }

    [Fact]
    public async Task WriteLayoutAsync_AnAddOverAnExistingLayout_Throws409()
    {
        await Table.WriteLayoutAsync(64, 1, writing: true, format: 1, etag: null);

        var refused = await Assert.ThrowsAsync<RequestFailedException>(() => Table.WriteLayoutAsync(16, 1, writing: true, format: 1, etag: null));

        Assert.Equal(409, refused.Status);
    }

    [Fact]
    public async Task WriteBucketAsync_APayloadOverSeveralChunks_ReadsBackTheSameBytesUnderTheSameKeys()
    {
        var payload = Enumerable.Range(0, 130_000).Select(i => (byte)(i % 251)).ToArray();

        await Table.WriteBucketAsync(5, 2024, format: 1, children: 3, payload, etag: null);

        var row = (await Table.ReadBucketAsync(5, 2024))!;
        Assert.Equal(3, row.Children);
        Assert.Equal(payload, row.Payload);
        Assert.Null(await Table.ReadBucketAsync(5, 2023));
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Activity));
        Assert.Equal(("b005", "2024", 5, 30_000, 10_000), (stored.PartitionKey, stored.RowKey, stored.GetInt32("Chunks"), stored.GetBinary("D00")!.Length,
            stored.GetBinary("D04")!.Length));
    }

    [Fact]
    public async Task ReadBucketAsync_ABucketYearWrittenIn60000ByteChunks_ReadsThePayload()
    {
        // The shape written before the chunks were halved (so that their base64 text stays off the large object heap).
        var payload = Enumerable.Range(0, 130_000).Select(i => (byte)(i % 251)).ToArray();
        var earlier = new TableEntity("b006", "2024") { ["Format"] = 1, ["Children"] = 3, ["Chunks"] = 3 };
        for (var c = 0; c < 3; c++)
        {
            earlier["D0" + c] = payload.AsSpan(c * 60_000, Math.Min(60_000, payload.Length - (c * 60_000))).ToArray();
        }

        await _storage.Storage.Table(TableNames.Activity).AddEntityAsync(earlier);

        var row = (await Table.ReadBucketAsync(6, 2024))!;
        Assert.Equal(payload, row.Payload);
        Assert.Equal(3, row.Children);
    }

    [Fact]
    public async Task WriteBucketAsync_APayloadOfTheMostBytes_IsOneEntityThatReadsBack()
    {
        var payload = Enumerable.Range(0, ActivityTable.MaxPayloadBytes).Select(i => (byte)(i % 253)).ToArray();

        await Table.WriteBucketAsync(7, 2024, format: 1, children: 1, payload, etag: null);

        Assert.Equal(payload, (await Table.ReadBucketAsync(7, 2024))!.Payload);
        Assert.Equal(25, Assert.Single(await _storage.ReadAllAsync(TableNames.Activity)).GetInt32("Chunks"));
    }

    [Theory]
    [InlineData(16, 100_000)]
    [InlineData(3, 700_000)]
    public async Task WriteBucketAsync_OverABucketYearIn60000ByteChunks_LeavesNoPropertyOfTheOldShape(int oldChunks, int newBytes)
    {
        // Adversary 30: a bucket-year written before the chunks were halved, rewritten in 30,000-byte chunks under the ETag read (a
        // replace): fewer chunks must leave no D04..D15 behind, more must leave nothing of the 60,000-byte D00..D02.
        var old = Enumerable.Range(0, oldChunks * 60_000).Select(i => (byte)(i % 251)).ToArray();
        var earlier = new TableEntity("b008", "2024") { ["Format"] = 1, ["Children"] = 9, ["Chunks"] = oldChunks };
        for (var c = 0; c < oldChunks; c++)
        {
            earlier["D" + c.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)] = old.AsSpan(c * 60_000, 60_000).ToArray();
        }

        await _storage.Storage.Table(TableNames.Activity).AddEntityAsync(earlier);
        var read = (await Table.ReadBucketAsync(8, 2024))!;
        Assert.Equal(old, read.Payload);
        var payload = Enumerable.Range(0, newBytes).Select(i => (byte)(i % 241)).ToArray();

        await Table.WriteBucketAsync(8, 2024, format: 1, children: 2, payload, read.ETag);

        Assert.Equal(payload, (await Table.ReadBucketAsync(8, 2024))!.Payload);
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Activity));
        var chunks = (newBytes + 29_999) / 30_000;
        Assert.Equal(chunks, stored.GetInt32("Chunks"));
        Assert.Equal(Enumerable.Range(0, chunks).Select(c => "D" + c.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)),
            stored.Keys.Where(k => k.StartsWith('D')).Order(StringComparer.Ordinal));
        Assert.All(Enumerable.Range(0, chunks - 1), c => Assert.Equal(30_000, stored.GetBinary("D" + c.ToString("D2", System.Globalization.CultureInfo.InvariantCulture))!.Length));
    }

    [Fact]
    public async Task WriteBucketAsync_ReplacingABucketYearOfTheMostBytesUnderTheETagRead_IsAccepted()
    {
        // Adversary 30 (not new in 38cf9cf: 16 x 60,000 bytes sent the same base64 text): Azure sizes an entity by its formula (about
        // 960,700 bytes here, within 1 MiB), but Azurite refuses an update or merge whose JSON body is over 1 MiB (400 EntityTooLarge;
        // an insert is held to 4 MiB only). So against Azurite (the tests, infra/local) a bucket-year past about 785,000 bytes is added
        // once and can never be written again: the store's retries take 409, 412 and 404 only, so the upload that changes it fails.
        // The limit is now 750,000 bytes, which both take.
        var payload = Enumerable.Range(0, ActivityTable.MaxPayloadBytes).Select(i => (byte)(i % 253)).ToArray();
        await Table.WriteBucketAsync(7, 2024, format: 1, children: 1, payload, etag: null);
        var read = (await Table.ReadBucketAsync(7, 2024))!;
        payload[^1] ^= 0xFF;

        await Table.WriteBucketAsync(7, 2024, format: 1, children: 1, payload, read.ETag);

        Assert.Equal(payload, (await Table.ReadBucketAsync(7, 2024))!.Payload);
    }

    [Fact]
    public async Task WriteBucketAsync_APayloadOfTheMostBytes_IsWithinAzuresEntitySizeAndPropertyCount()
    {
        // Adversary 30: Azure's formula over the entity as stored (the pipeline's check holds the request to the same limits): 4 bytes,
        // the keys at 2 bytes a character, and per property 8 bytes, its name at 2 bytes a character and its value (binary: length + 4).
        var payload = new byte[ActivityTable.MaxPayloadBytes];

        await Table.WriteBucketAsync(4095, 9999, format: int.MaxValue, children: int.MaxValue, payload, etag: null);

        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Activity));
        var properties = stored.Keys.Where(k => k is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag")).ToList();
        long size = 4 + ((stored.PartitionKey.Length + stored.RowKey.Length) * 2) + properties.Sum(k => 8L + (k.Length * 2) + stored[k] switch
        {
            byte[] bytes => bytes.Length + 4,
            BinaryData data => data.ToMemory().Length + 4,
            int => 4,
            _ => 8,
        });
        Assert.InRange(size, 0, AzureTableLimits.MaxEntityBytes);
        Assert.InRange(properties.Count + 3, 0, AzureTableLimits.MaxProperties);
        Assert.Equal(payload.Length, properties.Where(k => k.StartsWith('D')).Sum(k => stored.GetBinary(k)!.Length));
    }

    [Fact]
    public async Task WriteBucketAsync_AStaleETag_Throws412AndKeepsTheNewerBucket()
    {
        await Table.WriteBucketAsync(1, 2024, 1, 1, [1], etag: null);
        var stale = (await Table.ReadBucketAsync(1, 2024))!;
        await Table.WriteBucketAsync(1, 2024, 1, 2, [2], stale.ETag);

        var refused = await Assert.ThrowsAsync<RequestFailedException>(() => Table.WriteBucketAsync(1, 2024, 1, 1, [3], stale.ETag));

        Assert.Equal(412, refused.Status);
        Assert.Equal([2], (await Table.ReadBucketAsync(1, 2024))!.Payload);
    }

    [Fact]
    public async Task WriteBucketAsync_APayloadOverTheLimit_IsRefusedBeforeAnyRequest()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Table.WriteBucketAsync(1, 2024, 1, 1, new byte[ActivityTable.MaxPayloadBytes + 1], etag: null));

        Assert.Empty(await _storage.ReadAllAsync(TableNames.Activity));
    }

    [Fact]
    public async Task DeleteBucketAsync_TheVersionRead_RemovesIt()
    {
        await Table.WriteBucketAsync(1, 2024, 1, 1, [1], etag: null);
        var row = (await Table.ReadBucketAsync(1, 2024))!;

        await Table.DeleteBucketAsync(1, 2024, row.ETag);

        Assert.Null(await Table.ReadBucketAsync(1, 2024));
    }

    [Fact]
    public async Task DeleteAllBucketsAsync_BucketsAndALayout_KeepsOnlyTheLayout()
    {
        await Table.WriteLayoutAsync(4, 1, writing: false, format: 1, etag: null);
        await Table.WriteBucketAsync(0, 2024, 1, 1, [1], etag: null);
        await Table.WriteBucketAsync(3, 2025, 1, 1, [1], etag: null);

        await Table.DeleteAllBucketsAsync();
        await Table.ReplaceLayoutAsync(16, 2, writing: true, format: 1);

        Assert.Equal("layout", Assert.Single(await _storage.ReadAllAsync(TableNames.Activity)).PartitionKey);
        Assert.Equal((16, 2L, true), ((await Table.ReadLayoutAsync())!.Buckets, (await Table.ReadLayoutAsync())!.Version, (await Table.ReadLayoutAsync())!.Writing));
    }
}

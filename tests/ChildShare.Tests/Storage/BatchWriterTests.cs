using Azure.Data.Tables;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>
/// The batch writer against Azurite, with every request held to Azure's table limits (<see cref="AzureTableLimits"/>), which
/// Azurite does not enforce: transactions of large entities stay under 4 MiB, and the limits themselves are live in the pipeline.
/// </summary>
public sealed class BatchWriterTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    private TableClient Table => _storage.Storage.Table(TableNames.UploadStaging);

    [Fact]
    public async Task FlushAsync_AHundredLargeEntitiesOfOnePartition_WritesThemAllInTransactionsUnderFourMiB()
    {
        // 100 rows of 30,000 quotes each: JSON escapes every one, so one transaction of them would be far past Azure's 4 MiB.
        var writer = new BatchWriter();
        for (var i = 0; i < 100; i++)
        {
            await writer.UpsertAsync(Table, new TableEntity("p", $"r{i:D3}") { ["Payload"] = new string('"', 30_000) });
        }

        await writer.FlushAsync();

        var rows = await _storage.ReadAllAsync(TableNames.UploadStaging);
        Assert.Equal(100, rows.Count);
        Assert.All(rows, row => Assert.Equal(30_000, row.GetString("Payload").Length));
    }

    [Fact]
    public async Task FlushAsync_SmallEntities_StillWritesAHundredATransaction()
    {
        var counter = new TransactionCounter();
        var table = _storage.StorageWithTablePolicy(counter).Table(TableNames.UploadStaging);
        var writer = new BatchWriter();
        for (var i = 0; i < 300; i++)
        {
            await writer.UpsertAsync(table, new TableEntity("p", $"r{i:D3}") { ["Payload"] = "short" });
        }

        await writer.FlushAsync();

        Assert.Equal(3, counter.Transactions);
    }

    [Fact]
    public void EstimatedBytes_ALargeEscapedEntity_IsAtLeastWhatTheSdkSends()
    {
        var entity = new TableEntity("p", "r") { ["Payload"] = new string('"', 10_000) + "é\u0001<>&'+" };
        var estimate = BatchWriter.EstimatedBytes(new TableTransactionAction(TableTransactionActionType.UpsertMerge, entity));

        var sent = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object> { ["PartitionKey"] = "p", ["RowKey"] = "r", ["Payload"] = entity["Payload"] });
        Assert.True(estimate >= sent.Length, $"estimated {estimate} bytes for {sent.Length} sent");
    }

    [Fact]
    public async Task AzureTableLimits_AStringPropertyPastAzuresLimit_IsRefusedBeforeItIsSent()
    {
        var tooLong = new TableEntity("p", "r") { ["Payload"] = new string('x', AzureTableLimits.MaxStringChars + 1) };
        var tooMany = new TableEntity("p", "r2");
        for (var i = 0; i < AzureTableLimits.MaxProperties; i++)
        {
            tooMany["P" + i] = i;
        }

        await Assert.ThrowsAsync<AzureLimitException>(() => Table.UpsertEntityAsync(tooLong));
        await Assert.ThrowsAsync<AzureLimitException>(() => Table.UpsertEntityAsync(tooMany));
        var writer = new BatchWriter();
        await writer.UpsertAsync(Table, tooLong);
        await Assert.ThrowsAsync<AzureLimitException>(() => writer.FlushAsync());
        await Table.UpsertEntityAsync(new TableEntity("p", "fits") { ["Payload"] = new string('x', AzureTableLimits.MaxStringChars) });
    }

    /// <summary>Counts the transactions (<c>$batch</c> requests) a table client sends.</summary>
    private sealed class TransactionCounter : Azure.Core.Pipeline.HttpPipelinePolicy
    {
        private int _transactions;

        public int Transactions => _transactions;

        public override void Process(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            Count(message);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            Count(message);
            return ProcessNextAsync(message, pipeline);
        }

        private void Count(Azure.Core.HttpMessage message)
        {
            if (message.Request.Uri.Path.EndsWith("/$batch", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _transactions);
            }
        }
    }
}

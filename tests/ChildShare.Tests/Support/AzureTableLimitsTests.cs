using Azure;
using Azure.Data.Tables;
using ChildShare.Core.Storage;

namespace ChildShare.Tests.Support;

/// <summary>
/// The test pipeline's own check of Azure's table limits (<see cref="AzureTableLimits"/>) against the requests the SDK really sends:
/// every other storage test trusts it to refuse what Azure would, so a check that misreads a transaction's body would pass writes
/// Azure refuses. Each test puts the one entity past a limit among entities that fit, in one transaction.
/// </summary>
public sealed class AzureTableLimitsTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    private TableClient Table => _storage.Storage.Table(TableNames.UploadStaging);

    private static TableTransactionAction Upsert(TableEntity entity) => new(TableTransactionActionType.UpsertMerge, entity);

    private static TableEntity Small(int i) => new("p", $"r{i:D3}") { ["Payload"] = "fits" };

    // The offending entity in the middle of several that fit: a check that saw only the first or the last JSON part would miss it.
    private async Task<AzureLimitException> RefusedAmongOthersAsync(TableEntity offending)
    {
        TableTransactionAction[] actions = [Upsert(Small(1)), Upsert(Small(2)), Upsert(offending), Upsert(Small(4)), Upsert(Small(5))];
        var error = await Assert.ThrowsAsync<AzureLimitException>(() => Table.SubmitTransactionAsync(actions));
        Assert.Empty(await _storage.ReadAllAsync(TableNames.UploadStaging));
        return error;
    }

    [Fact]
    public async Task SubmitTransactionAsync_OneEntityOfTooManyPropertiesAmongOthers_IsRefused()
    {
        var wide = new TableEntity("p", "r003");
        for (var i = 0; i < AzureTableLimits.MaxProperties - 2; i++)
        {
            wide["P" + i] = i;
        }

        var error = await RefusedAmongOthersAsync(wide);

        Assert.Contains("properties", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitTransactionAsync_OneEntityPastOneMiBAmongOthers_IsRefused()
    {
        // 40 strings of 20,000 characters each fit a string property but are 1.6 MB by Azure's formula (2 bytes a character).
        var large = new TableEntity("p", "r003");
        for (var i = 0; i < 40; i++)
        {
            large["S" + i] = new string('x', 20_000);
        }

        var error = await RefusedAmongOthersAsync(large);

        Assert.Contains("bytes by Azure's formula", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitTransactionAsync_OneLongStringOfEscapedCharactersAmongOthers_IsRefused()
    {
        // Quotes and accents the SDK escapes in its JSON: the limit is on the characters of the value, not of its JSON.
        var error = await RefusedAmongOthersAsync(new TableEntity("p", "r003") { ["Payload"] = new string('é', AzureTableLimits.MaxStringChars / 2) + new string('"', AzureTableLimits.MaxStringChars / 2 + 1) });

        Assert.Contains("string property Payload", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitTransactionAsync_OneRowKeyPastOneKiBAmongOthers_IsRefused()
    {
        var error = await RefusedAmongOthersAsync(new TableEntity("p", new string('k', AzureTableLimits.MaxKeyBytes / 2 + 1)) { ["Payload"] = "fits" });

        Assert.Contains("RowKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitTransactionAsync_AHundredUpsertsAndADelete_IsRefusedForItsOperations()
    {
        // A delete part has no JSON body: it must still count as an operation.
        var actions = Enumerable.Range(0, AzureTableLimits.MaxTransactionOperations).Select(i => Upsert(Small(i)))
            .Append(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity("p", "gone"), ETag.All)).ToList();

        var error = await Assert.ThrowsAsync<AzureLimitException>(() => Table.SubmitTransactionAsync(actions));

        Assert.Contains("101 operations", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitTransactionAsync_EntitiesAtEveryLimit_IsSent()
    {
        // The check must not refuse what Azure takes: 255 properties with the three system ones, a 32,768-character string, a
        // 512-character key, and 100 operations.
        var wide = new TableEntity("p", new string('k', AzureTableLimits.MaxKeyBytes / 2));
        for (var i = 0; i < AzureTableLimits.MaxProperties - 3; i++)
        {
            wide["P" + i] = i;
        }

        var actions = Enumerable.Range(0, AzureTableLimits.MaxTransactionOperations - 2).Select(i => Upsert(Small(i)))
            .Append(Upsert(wide)).Append(Upsert(new TableEntity("p", "long") { ["Payload"] = new string('"', AzureTableLimits.MaxStringChars) })).ToList();

        await Table.SubmitTransactionAsync(actions);

        Assert.Equal(AzureTableLimits.MaxTransactionOperations, (await _storage.ReadAllAsync(TableNames.UploadStaging)).Count);
    }

    [Fact]
    public async Task SubmitTransactionAsync_TwoPartitions_IsRefused()
    {
        // Azure refuses a transaction of more than one partition; Azurite writes it.
        TableTransactionAction[] actions = [Upsert(Small(1)), new(TableTransactionActionType.Add, new TableEntity("other", "r002") { ["Payload"] = "fits" })];

        var error = await Assert.ThrowsAsync<AzureLimitException>(() => Table.SubmitTransactionAsync(actions));

        Assert.Contains("more than one partition", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitTransactionAsync_OneEntityTwice_IsRefused()
    {
        // An insert names its keys in its JSON, a delete in its URL: the same entity either way.
        TableTransactionAction[] actions = [new(TableTransactionActionType.Add, Small(1)), new(TableTransactionActionType.Delete, Small(1), ETag.All)];

        var error = await Assert.ThrowsAsync<AzureLimitException>(() => Table.SubmitTransactionAsync(actions));

        Assert.Contains("more than once", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitTransactionAsync_KeysThatUrlsEscape_IsSentForDistinctEntities()
    {
        // Quotes are doubled and other characters percent-encoded in an operation's URL: the keys must still read as themselves.
        TableTransactionAction[] actions =
        [
            new(TableTransactionActionType.Add, new TableEntity("p|é 'q'", "a'b|c") { ["Payload"] = "fits" }),
            Upsert(new TableEntity("p|é 'q'", "a''b|c") { ["Payload"] = "fits" }),
            Upsert(new TableEntity("p|é 'q'", "a b%c") { ["Payload"] = "fits" }),
            new(TableTransactionActionType.Delete, new TableEntity("p|é 'q'", "a'b|c"), ETag.All),
        ];

        await Table.SubmitTransactionAsync(actions.Take(2));
        await Table.SubmitTransactionAsync(actions.Skip(2));

        Assert.Equal(2, (await _storage.ReadAllAsync(TableNames.UploadStaging)).Count);
    }

    [Fact]
    public async Task UpdateEntityAsync_AMergeOfAStringPastTheLimit_IsRefused()
    {
        // A single-entity merge (MERGE/PATCH, not a transaction) goes through the same check.
        await Table.AddEntityAsync(Small(1));

        await Assert.ThrowsAsync<AzureLimitException>(() => Table.UpdateEntityAsync(
            new TableEntity("p", "r001") { ["Payload"] = new string('x', AzureTableLimits.MaxStringChars + 1) }, ETag.All, TableUpdateMode.Merge));
        await Assert.ThrowsAsync<AzureLimitException>(() => Table.UpdateEntityAsync(
            new TableEntity("p", "r001") { ["Payload"] = new string('x', AzureTableLimits.MaxStringChars + 1) }, ETag.All, TableUpdateMode.Replace));

        Assert.Equal("fits", Assert.Single(await _storage.ReadAllAsync(TableNames.UploadStaging)).GetString("Payload"));
    }
}

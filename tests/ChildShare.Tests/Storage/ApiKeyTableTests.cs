using Azure;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>The apikeys table's store against Azurite: a round trip under the same keys and columns, a list, and a revocation with the ETag.</summary>
public sealed class ApiKeyTableTests : IAsyncLifetime
{
    private static readonly DateTimeOffset At = new(2026, 10, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TestStorage _storage = new();

    private ApiKeyTable Table => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    private static ApiKeyRow Row(string keyId) => new(keyId, "county-health", "Reader", "power-bi", "ab12") { CreatedAt = At, ExpiresAt = At.AddDays(90) };

    [Fact]
    public async Task AddAsync_ThenGetAsync_ReturnsTheRowUnderTheSameKeysAndColumns()
    {
        await Table.AddAsync(Row("0123456789abcdef"));

        var read = await Table.GetAsync("0123456789abcdef");

        Assert.Equal(Row("0123456789abcdef"), read! with { ETag = default });
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.ApiKeys));
        Assert.Equal(("key", "0123456789abcdef", "county-health", "Reader", "power-bi", "ab12", At, false),
            (stored.PartitionKey, stored.RowKey, stored.GetString("OrganizationId"), stored.GetString("Role"), stored.GetString("Label"), stored.GetString("Hash"),
                stored.GetDateTimeOffset("CreatedAt"), stored.ContainsKey("RevokedAt")));
        Assert.Null(await Table.GetAsync("ffffffffffffffff"));
    }

    [Fact]
    public async Task AddAsync_KeyIdInUse_FailsWith409()
    {
        await Table.AddAsync(Row("0123456789abcdef"));

        var conflict = await Assert.ThrowsAsync<RequestFailedException>(() => Table.AddAsync(Row("0123456789abcdef") with { Hash = "other" }));

        Assert.Equal(409, conflict.Status);
    }

    [Fact]
    public async Task RevokeAsync_CurrentETag_SetsRevokedAtAndKeepsTheRest()
    {
        await Table.AddAsync(Row("0123456789abcdef"));
        var read = (await Table.GetAsync("0123456789abcdef"))!;

        await Table.RevokeAsync("0123456789abcdef", At.AddDays(1), read.ETag);

        Assert.Equal(Row("0123456789abcdef") with { RevokedAt = At.AddDays(1) }, (await Table.GetAsync("0123456789abcdef"))! with { ETag = default });
    }

    [Fact]
    public async Task RevokeAsync_StaleETag_FailsWith412()
    {
        await Table.AddAsync(Row("0123456789abcdef"));
        var read = (await Table.GetAsync("0123456789abcdef"))!;
        await Table.RevokeAsync("0123456789abcdef", At.AddDays(1), read.ETag);

        var stale = await Assert.ThrowsAsync<RequestFailedException>(() => Table.RevokeAsync("0123456789abcdef", At.AddDays(2), read.ETag));

        Assert.Equal(412, stale.Status);
    }

    [Fact]
    public async Task ListAsync_TwoKeys_ReturnsBoth()
    {
        await Table.AddAsync(Row("0123456789abcdef"));
        await Table.AddAsync(Row("fedcba9876543210") with { OrganizationId = "district" });

        var keys = await Table.ListAsync();

        Assert.Equal(["0123456789abcdef", "fedcba9876543210"], keys.Select(k => k.KeyId).Order(StringComparer.Ordinal));
    }
}

using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>The principals table's store against Azurite: a round trip under the same keys and columns, a replace, a delete.</summary>
public sealed class PrincipalTableTests : IAsyncLifetime
{
    private const string Tenant = "11111111-1111-1111-1111-111111111111", Object = "22222222-2222-2222-2222-222222222222";
    private static readonly DateTimeOffset At = new(2026, 10, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TestStorage _storage = new();

    private PrincipalTable Table => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    [Fact]
    public async Task ReplaceAsync_ThenGetAsync_ReturnsTheRowUnderTheSameKeysAndColumns()
    {
        var row = new PrincipalRow(Tenant, Object, "county-health", "Reader") { UpdatedAt = At };

        await Table.ReplaceAsync(row);

        Assert.Equal(row, await Table.GetAsync(Tenant, Object));
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Principals));
        Assert.Equal((Tenant, Object, "county-health", "Reader", At),
            (stored.PartitionKey, stored.RowKey, stored.GetString("OrganizationId"), stored.GetString("Role"), stored.GetDateTimeOffset("UpdatedAt")));
        Assert.Null(await Table.GetAsync(Tenant, Tenant));
    }

    [Fact]
    public async Task ReplaceAsync_MappedAgain_LastWriteWins()
    {
        await Table.ReplaceAsync(new PrincipalRow(Tenant, Object, "county-health", "Reader") { UpdatedAt = At });

        await Table.ReplaceAsync(new PrincipalRow(Tenant, Object, "childshare-ops", "Admin"));

        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Principals));
        Assert.Equal(("childshare-ops", "Admin", false), (stored.GetString("OrganizationId"), stored.GetString("Role"), stored.ContainsKey("UpdatedAt")));
    }

    [Fact]
    public async Task DeleteAsync_KnownThenGone_TrueThenFalse()
    {
        await Table.ReplaceAsync(new PrincipalRow(Tenant, Object, "county-health", "Reader"));

        Assert.True(await Table.DeleteAsync(Tenant, Object));
        Assert.False(await Table.DeleteAsync(Tenant, Object));
        Assert.Null(await Table.GetAsync(Tenant, Object));
    }
}

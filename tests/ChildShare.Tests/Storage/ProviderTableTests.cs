using Azure;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>The providers table's store against Azurite: registrations under the same keys and columns, merges, profile versions added once.</summary>
public sealed class ProviderTableTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    private ProviderTable Table => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    [Fact]
    public async Task MergeAsync_ThenGetAsync_ReturnsTheRowUnderTheSameKeysAndColumns()
    {
        var row = new ProviderRow("district") { DisplayName = "District", Kind = "SchoolDistrict", ActiveProfileVersion = 0 };

        await Table.MergeAsync(row);

        Assert.Equal(row, await Table.GetAsync("district"));
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Providers));
        Assert.Equal(("district", "provider", "District", "SchoolDistrict", 0),
            (stored.PartitionKey, stored.RowKey, stored.GetString("DisplayName"), stored.GetString("Kind"), stored.GetInt32("ActiveProfileVersion")));
        Assert.Null(await Table.GetAsync("clinic"));
    }

    [Fact]
    public async Task MergeAsync_RowWithoutAColumn_KeepsTheStoredValue()
    {
        await Table.MergeAsync(new ProviderRow("district") { DisplayName = "District", Kind = "SchoolDistrict", ActiveProfileVersion = 3 });

        await Table.MergeAsync(new ProviderRow("district") { DisplayName = "North district" });

        Assert.Equal(new ProviderRow("district") { DisplayName = "North district", Kind = "SchoolDistrict", ActiveProfileVersion = 3 }, await Table.GetAsync("district"));
    }

    [Fact]
    public async Task ListAsync_RegistrationsAndProfiles_ListsOnlyTheRegistrations()
    {
        await Table.MergeAsync(new ProviderRow("district") { DisplayName = "District" });
        await Table.MergeAsync(new ProviderRow("clinic") { DisplayName = "Clinic" });
        await Table.AddProfileAsync("district", 1, "{}");

        Assert.Equal(["clinic", "district"], (await Table.ListAsync()).Select(p => p.ProviderId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AddProfileAsync_ThenSetActive_StoresTheVersionAndPointsTheRegistrationAtIt()
    {
        await Table.MergeAsync(new ProviderRow("district") { DisplayName = "District", Kind = "Other", ActiveProfileVersion = 0 });

        await Table.AddProfileAsync("district", 1, "{\"columns\":{}}");
        await Table.SetActiveProfileAsync("district", 1);

        Assert.Equal("{\"columns\":{}}", await Table.GetProfileAsync("district", 1));
        Assert.Null(await Table.GetProfileAsync("district", 2));
        Assert.Equal(("District", 1), ((await Table.GetAsync("district"))!.DisplayName, (await Table.GetAsync("district"))!.ActiveProfileVersion));
        Assert.Contains(await _storage.ReadAllAsync(TableNames.Providers), e => e.RowKey == "profile-000001" && e.GetString("Json") == "{\"columns\":{}}");
    }

    [Fact]
    public async Task AddProfileAsync_VersionTakenAlready_FailsWith409AndKeepsTheFirst()
    {
        await Table.AddProfileAsync("district", 1, "{\"first\":1}");

        var conflict = await Assert.ThrowsAsync<RequestFailedException>(() => Table.AddProfileAsync("district", 1, "{\"second\":1}"));

        Assert.Equal(409, conflict.Status);
        Assert.Equal("{\"first\":1}", await Table.GetProfileAsync("district", 1));
    }

    [Fact]
    public async Task SetActiveProfileAsync_UnregisteredProvider_FailsWith404()
    {
        var missing = await Assert.ThrowsAsync<RequestFailedException>(() => Table.SetActiveProfileAsync("nobody", 1));

        Assert.Equal(404, missing.Status);
    }
}

using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>The identity vault against Azurite: what it writes is what it reads, and a relink changes only the link.</summary>
public sealed class IdentityVaultTests : IAsyncLifetime
{
    private static readonly DateTimeOffset At = new(2026, 10, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TestStorage _storage = new();

    private IdentityVault Vault => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    private static ChildIdentityRow Ana => new("p1", "tok1")
    {
        LocalChildId = "K1", FirstName = "Ana", LastName = "Núñez", BirthDate = "2016-04-02", MiddleName = "", Suffix = "Jr",
        StateStudentId = "S1", StreetAddress = "1 Main St", ChildKey = "c1", KeyVersion = "v1", LastUploadId = "u1", UpdatedAt = At,
    };

    [Fact]
    public async Task WriteAsync_ThenReadAsync_ReturnsTheSameRowUnderTheSameKeysAndColumns()
    {
        var writer = new BatchWriter();
        await Vault.WriteAsync(writer, Ana);
        await writer.FlushAsync();

        Assert.Equal(Ana, await Vault.ReadAsync("p1", "tok1"));
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.Identities));
        Assert.Equal(("p1", "tok1"), (stored.PartitionKey, stored.RowKey));
        Assert.Equal("Núñez", stored.GetString("LastName"));
        Assert.Equal("", stored.GetString("MiddleName"));
        Assert.Equal(At, stored.GetDateTimeOffset("UpdatedAt"));
        Assert.False(stored.ContainsKey("LinkRule"));
    }

    [Fact]
    public async Task ReadAsync_UnknownRecord_ReturnsNull() => Assert.Null(await Vault.ReadAsync("p1", "nobody"));

    [Fact]
    public async Task RelinkAsync_KnownRecord_ChangesOnlyTheChildKeyAndRule()
    {
        var writer = new BatchWriter();
        await Vault.WriteAsync(writer, Ana);
        await writer.FlushAsync();

        await Vault.RelinkAsync(writer, "p1", "tok1", "c2", "probabilistic");
        await writer.FlushAsync();

        Assert.Equal(Ana with { ChildKey = "c2", LinkRule = "probabilistic" }, await Vault.ReadAsync("p1", "tok1"));
    }

    [Fact]
    public async Task WriteAsync_LaterUploadWithoutAnOptionalField_ClearsItAndKeepsTheLinkRule()
    {
        var writer = new BatchWriter();
        await Vault.WriteAsync(writer, Ana);
        await Vault.RelinkAsync(writer, "p1", "tok1", "c1", "exact");
        await writer.FlushAsync();

        await Vault.WriteAsync(writer, Ana with { StreetAddress = "", LastUploadId = "u2" });
        await writer.FlushAsync();

        var row = await Vault.ReadAsync("p1", "tok1");
        Assert.Equal(("", "exact", "u2"), (row!.StreetAddress, row.LinkRule, row.LastUploadId));
    }

    [Fact]
    public void Released_BlankFields_AreLeftOutAndNamesAreCamelCaseInTheOrderAsked()
    {
        var released = (Ana with { FirstName = "  " }).Released(IdentityField.StreetAddress, IdentityField.FirstName, IdentityField.MiddleName, IdentityField.LocalChildId);

        Assert.Equal([new("streetAddress", "1 Main St"), new("localChildId", "K1")], released.ToList());
    }

    [Fact]
    public void ToString_AnyRow_HoldsNoIdentifier()
    {
        var text = Ana.ToString();

        Assert.DoesNotContain("Ana", text, StringComparison.Ordinal);
        Assert.DoesNotContain("K1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Main", text, StringComparison.Ordinal);
        Assert.DoesNotContain("2016", text, StringComparison.Ordinal);
    }
}

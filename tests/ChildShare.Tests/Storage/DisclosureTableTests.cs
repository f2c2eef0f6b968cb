using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Storage;

/// <summary>The disclosure record's table against Azurite: a round trip under the keys and columns on disk, newest first, the page limit.</summary>
public sealed class DisclosureTableTests : IAsyncLifetime
{
    private const string Consent = "a0000000000000000000000000000001";
    private static readonly DateTimeOffset At = new(2026, 10, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TestStorage _storage = new();

    private DisclosureTable Table => new(_storage.Storage);

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    private static DisclosureRow Row(int minutes, string consent = Consent) =>
        new(consent, At.AddMinutes(minutes), "afterschool", ["district", "clinic"], ["identity", "enrollment"], "2026-10", $"audit{minutes:D3}");

    [Fact]
    public async Task PutAsync_ThenNewestAsync_ReturnsTheRowUnderTheKeysAndColumnsOnDisk()
    {
        await Table.PutAsync(Row(0));
        await Table.PutAsync(Row(0));

        var (rows, more) = await Table.NewestAsync(Consent, 10);

        var read = Assert.Single(rows);
        Assert.False(more);
        Assert.Equal((Row(0).At, Row(0).Recipient, Row(0).AuditPartition, Row(0).AuditRow), (read.At, read.Recipient, read.AuditPartition, read.AuditRow));
        Assert.Equal(["district", "clinic"], read.Sources);
        Assert.Equal(["identity", "enrollment"], read.Categories);
        var stored = Assert.Single(await _storage.ReadAllAsync(TableNames.ConsentDisclosures));
        Assert.Equal((Consent, (DateTimeOffset.MaxValue.UtcTicks - At.UtcTicks).ToString("D19", System.Globalization.CultureInfo.InvariantCulture) + "|audit000"),
            (stored.PartitionKey, stored.RowKey));
        Assert.Equal(("district,clinic", "identity,enrollment", "2026-10", "audit000"),
            (stored.GetString("Sources"), stored.GetString("Categories"), stored.GetString("AuditPartition"), stored.GetString("AuditRow")));
    }

    [Fact]
    public async Task NewestAsync_MoreThanMax_ReturnsTheNewestOfThatConsentAndSaysThereAreMore()
    {
        foreach (var minutes in new[] { 5, 1, 3, 2, 4 })
        {
            await Table.PutAsync(Row(minutes));
        }

        await Table.PutAsync(Row(9, "a0000000000000000000000000000002"));

        var (rows, more) = await Table.NewestAsync(Consent, 3);
        var (all, none) = await Table.NewestAsync(Consent, 5);

        Assert.Equal([At.AddMinutes(5), At.AddMinutes(4), At.AddMinutes(3)], rows.Select(r => r.At));
        Assert.True(more);
        Assert.Equal((5, false), (all.Count, none));
    }
}

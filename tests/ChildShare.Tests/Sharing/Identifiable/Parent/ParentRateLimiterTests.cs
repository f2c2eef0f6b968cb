using Azure.Data.Tables;
using ChildShare.Core.Sharing.Identifiable.Parent;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.Sharing.Identifiable.Parent;

/// <summary>The parent page's rate-limit windows on Azurite: counted per hour, and past hours purged.</summary>
public sealed class ParentRateLimiterTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero));
    private ParentRateLimiter _rates = null!;

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        _rates = new ParentRateLimiter(new ParentRateTable(_storage.Storage), _time);
    }

    public Task DisposeAsync() => _storage.DisposeAsync();

    [Fact]
    public async Task PurgeAsync_WindowsOfPastHours_DeletedAndThePreviousAndCurrentHourKept()
    {
        // 150 keys in one old hour (more than one transaction of 100), 3 in another, then the previous and the current hour.
        foreach (var key in Enumerable.Range(0, 150).Select(i => ParentRateLimiter.ClientKey($"c{i}")))
        {
            await _rates.CountAsync(key, limit: 5);
        }

        _time.Advance(TimeSpan.FromHours(1));
        for (var i = 0; i < 3; i++)
        {
            await _rates.CountAsync(ParentRateLimiter.LinkKey($"l{i}"), limit: 5);
        }

        _time.Advance(TimeSpan.FromHours(1));
        await _rates.CountAsync(ParentRateLimiter.LinkKey("previous"), limit: 5);
        _time.Advance(TimeSpan.FromHours(1));
        await _rates.CountAsync(ParentRateLimiter.LinkKey("current"), limit: 5);

        Assert.Equal(153, await _rates.PurgeAsync());

        var left = await _storage.ReadAllAsync(TableNames.ParentLinkRate);
        Assert.Equal(["link|current", "link|previous"], left.Select(r => r.RowKey).Order(StringComparer.Ordinal));
        Assert.Equal(0, await _rates.PurgeAsync());
    }

    [Fact]
    public async Task PurgeAsync_TheCurrentHoursCount_StillCountsAfterwards()
    {
        var key = ParentRateLimiter.LinkKey("busy");
        Assert.Equal(RateDecision.Allowed, await _rates.CountAsync(key, limit: 2));
        Assert.Equal(RateDecision.Allowed, await _rates.CountAsync(key, limit: 2));

        await _rates.PurgeAsync();

        Assert.Equal(RateDecision.FirstRefusal, await _rates.CountAsync(key, limit: 2));
    }

    [Fact]
    public async Task PurgeAsync_TableNeverCreated_NothingToDo()
    {
        await _storage.Tables.DeleteTableAsync(_storage.Options.TablePrefix + TableNames.ParentLinkRate);

        Assert.Equal(0, await _rates.PurgeAsync());
    }
}

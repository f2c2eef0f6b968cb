using System.CommandLine;
using System.Reflection;
using ChildShare.Cli;
using ChildShare.Core.Audit;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Storage;
using ChildShare.Functions.Consent;
using ChildShare.Tests.Support;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace ChildShare.Tests.Sharing.Identifiable;

/// <summary>The expiry job on Azurite, each test on its own tables, consents bulk-loaded in batches.</summary>
public sealed class ConsentExpiryJobTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestStorage _storage = new();
    private readonly FakeTimeProvider _time = new(TestApp.Now.AddDays(-5)); // moved to TestApp.Now once the consents are loaded
    private ServiceProvider _services = null!;

    private ConsentStore Store => _services.GetRequiredService<ConsentStore>();

    private ConsentExpiryJob Job => _services.GetRequiredService<ConsentExpiryJob>();

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        _services = TestApp.Build(_storage, _time);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _storage.DisposeAsync();
    }

    private ConsentRecord Consent(int i, DateTimeOffset expires, ConsentStatus status = ConsentStatus.Active) => new()
    {
        Id = ConsentStore.NewId(),
        ChildKey = $"{i % 40:x2}child{i % 40:D3}", // forty children, so the child index batches too
        OwnerProviderId = "district",
        OwnerLocalToken = $"token{i:D6}",
        GivenBy = new ConsentGrantor("A Parent", "guardian"),
        Sources = ["district"],
        Recipients = [i % 2 == 0 ? "afterschool" : "clinic"],
        Purpose = "Coordination",
        Categories = ["enrollment"],
        Disclosure = new ConsentDisclosure("doc", "1", new string('b', 64)),
        Signature = new ConsentSignature(SignatureMethod.SignedForm, "forms/x.pdf"),
        GivenAt = expires.AddDays(-200),
        EffectiveFrom = expires.AddDays(-200),
        ExpiresAt = expires,
        Status = status,
    };

    /// <summary>Loads consents as if recorded five days ago (the job's cursor starts then), and moves to today.</summary>
    private async Task LoadAsync(IEnumerable<ConsentRecord> consents)
    {
        await Store.ImportAsync(consents);
        _time.SetUtcNow(TestApp.Now);
    }

    [Fact]
    public async Task TimerRunTwice_SameResult_AndOnlyDueActiveConsentsChange()
    {
        var due = Enumerable.Range(0, 5).Select(i => Consent(i, TestApp.Now.AddHours(-i * 20 - 1))).ToList();
        var notDue = Enumerable.Range(5, 3).Select(i => Consent(i, TestApp.Now.AddDays(i))).ToList();
        var revoked = Consent(9, TestApp.Now.AddHours(-2), ConsentStatus.Revoked);
        await LoadAsync([.. due, .. notDue, revoked]);

        var first = await Job.RunAsync("test");
        var second = await Job.RunAsync("test");

        Assert.Equal(5, first.Expired);
        Assert.Equal(0, second.Expired);
        foreach (var consent in due)
        {
            var stored = (await Store.GetAsync(consent.Id))!.Consent;
            Assert.Equal(ConsentStatus.Expired, stored.Status);
            Assert.Equal(2, stored.Version);
            Assert.Equal(TestApp.Now, stored.ExpiredAt);
        }

        Assert.All(notDue, c => Assert.Equal(ConsentStatus.Active, Store.GetAsync(c.Id).Result!.Consent.Status));
        Assert.Equal(ConsentStatus.Revoked, (await Store.GetAsync(revoked.Id))!.Consent.Status);
        var audit = await _services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10");
        Assert.Equal(5, audit.Count(a => a.GetString("Event") == AuditEvents.ConsentExpired));
        Assert.Equal(2, audit.Count(a => a.GetString("Event") == AuditEvents.ConsentExpiryRun));
        Assert.Equal(6, first.DaysRead);   // from the cursor (five days ago) to today
        Assert.Equal(1, second.DaysRead);  // the cursor moved to today
    }

    [Fact]
    public async Task ThousandExpiringConsents_OneRun_ExpiresAll()
    {
        var due = Enumerable.Range(0, 1000).Select(i => Consent(i, TestApp.Now.AddMinutes(-1 - (i * 7 % 4000)))).ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await LoadAsync([.. due, Consent(1000, TestApp.Now.AddMinutes(5))]);
        output.WriteLine($"loaded in {clock.ElapsedMilliseconds} ms");
        clock.Restart();

        var result = await Job.RunAsync("test");
        output.WriteLine($"expired in {clock.ElapsedMilliseconds} ms");

        Assert.Equal(1000, result.Expired);
        Assert.Equal(1000, result.IndexRowsRead);
        var current = (await _storage.ReadAllAsync(TableNames.Consents)).Where(r => !r.RowKey.Contains('|', StringComparison.Ordinal)).ToList();
        Assert.Equal(1000, current.Count(r => r.GetString("Status") == nameof(ConsentStatus.Expired)));
        Assert.Equal(1, current.Count(r => r.GetString("Status") == nameof(ConsentStatus.Active)));
        Assert.Equal(0, (await Job.RunAsync("test")).Expired);
    }

    [Fact]
    public async Task RenewalWindow_ListsConsentsExpiringWithinIt_ToTheirParties()
    {
        var soon = Consent(0, TestApp.Now.AddDays(10));
        var later = Consent(2, TestApp.Now.AddDays(40));
        var otherRecipient = Consent(1, TestApp.Now.AddDays(12));
        await LoadAsync([soon, later, otherRecipient]);

        var result = await Job.RunAsync("test");
        var afterschool = await _services.GetRequiredService<ConsentService>().ExpiringAsync("afterschool", 30);
        var wider = await _services.GetRequiredService<ConsentService>().ExpiringAsync("afterschool", 45);

        Assert.Equal(0, result.Expired);
        Assert.Equal([soon.Id, otherRecipient.Id], result.ExpiringSoon.Select(s => s.ConsentId));
        Assert.Equal([soon.Id], afterschool.Select(c => c.Consent.Id));
        Assert.Equal([soon.Id, later.Id], wider.Select(c => c.Consent.Id));
    }

    [Fact]
    public async Task NoConsentsYet_RunReadsNothing()
    {
        var result = await Job.RunAsync("test");

        Assert.Equal(0, result.DaysRead);
        Assert.Equal(0, result.Expired);
    }

    [Fact]
    public void Timer_ScheduleComesFromTheSetting_HourlyByDefault()
    {
        var trigger = typeof(ExpireConsents).GetMethod(nameof(ExpireConsents.RunAsync))!
            .GetParameters().Select(p => p.GetCustomAttribute<TimerTriggerAttribute>()).Single(a => a is not null)!;

        Assert.Equal("%Consent:ExpirySchedule%", trigger.Schedule);
        Assert.Equal("0 0 * * * *", new ConsentOptions().ExpirySchedule);
    }

    [Fact]
    public void Cli_HasTheExpireConsentsCommand()
    {
        var root = new RootCommand();
        ConsentCommands.AddTo(root, new Option<bool>("--verbose"));

        Assert.Contains(root.Subcommands, c => c.Name == "expire-consents");
    }
}

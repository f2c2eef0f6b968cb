using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Storage;
using ChildShare.Tests.Agreements;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChildShare.Tests.Activity;

/// <summary>
/// The activity buckets (one entity per bucket and year, binary bitsets) and the report snapshots
/// keyed on their data version, against Azurite: re-delivery, merge and split, a crash between the
/// buckets and the records, a stale snapshot, a writer with a stale ETag.
/// </summary>
public sealed class ActivityStoreTests : AppTests
{
    private const string Upload1 = "upload-one";
    private const string Upload2 = "upload-two";


    protected override async Task StartAsync()
    {
        await Services.GetRequiredService<ProviderRegistry>().RegisterAsync("p1", "Provider one", "Other");
        await Services.GetRequiredService<ProviderRegistry>().RegisterAsync("p2", "Provider two", "Other");
        await Services.GetRequiredService<AgreementStore>().CreateAsync(AgreementTestData.Aggregate("dsa-none", "none-org", "p1", "p2") with
        {
            Protection = DifferencingProtection.None, MinimumCellSize = 2,
        }, "test");
    }

    private ActivitySummaryBuilder Builder(ChildShareStorage storage) =>
        new(new UploadStagingStore(storage), new ChildRecordStore(storage), new MembershipStore(storage), new ActivityStore(new ActivityTable(storage)), Options.Create(new IngestionOptions()));

    private Task StageAsync(string uploadId, string providerChild, string childKey, params (string Start, string End)[] services) =>
        StageAsync(Storage.Storage, uploadId, providerChild, childKey, services);

    private static async Task StageAsync(ChildShareStorage storage, string uploadId, string providerChild, string childKey, params (string Start, string End)[] services)
    {
        var staging = storage.Table(TableNames.UploadStaging);
        await staging.UpsertEntityAsync(new TableEntity(uploadId, providerChild)
        {
            ["ChildKey"] = childKey, ["KeyVersion"] = "v1", ["Sex"] = "Female", ["BirthDate"] = "2016-03-15",
        });
        foreach (var (start, end) in services)
        {
            var key = RecordKeys.ServiceKey("Tutoring", "Academic", RecordKeys.ParseIsoDate(start)!.Value);
            await staging.UpsertEntityAsync(new TableEntity(uploadId, providerChild + "|" + key)
            {
                ["Program"] = "Tutoring", ["ServiceType"] = "Academic", ["StartDate"] = start, ["EndDate"] = end, ["AsOf"] = end,
            });
        }
    }

    private async Task<(long? Total, ReportRunStats Stats)> SeptemberAsync(string groupBy = "provider")
    {
        var caller = new Caller("none-org", CallerRoles.Reader, CallerAuthMethod.ApiKey, "k");
        var result = await Services.GetRequiredService<AggregateReportService>().RunAsync(caller,
            new Dictionary<string, string?> { ["from"] = "2026-09-01", ["to"] = "2026-09-30", ["groupBy"] = groupBy }, null);
        Assert.Equal(ReportStatus.Ok, result.Status);
        // The children counted (before suppression: a total of 1 is hidden under the minimum of 2).
        Assert.Single(result.Page!.Value, r => r.RowType == "total");
        return (result.Stats!.Children, result.Stats);
    }

    [Fact]
    public async Task RebuildForUpload_SameUploadTwice_SameBucketBytes()
    {
        await StageAsync(Upload1, "p1|t1", "child-a", ("2026-09-01", "2026-09-30"));
        await StageAsync(Upload1, "p1|t2", "child-b", ("2026-09-10", "2026-10-05"));
        var builder = Builder(Storage.Storage);
        await builder.RebuildForUploadAsync(Upload1, TestApp.Now, ReuploadPolicy.Upsert);
        var first = await BucketsAsync(Storage);

        await builder.RebuildForUploadAsync(Upload1, TestApp.Now, ReuploadPolicy.Upsert);

        var second = await BucketsAsync(Storage);
        Assert.Equal(first.Keys.Order(), second.Keys.Order());
        Assert.All(first, f => Assert.Equal(f.Value, second[f.Key]));
        Assert.Equal(2, (await SeptemberAsync()).Total);
    }

    [Fact]
    public async Task RebuildForUpload_AServiceStagedInTwoRoundsAndOneARow_KeepsItOnceWithTheLastRoundsValue()
    {
        // The writer's later round (a child whose rows came after 50,000 others were written) and a row of code before the packing.
        await StageAsync(Upload1, "p1|t1", "child-a", ("2026-09-01", "2026-09-05"));
        var key = RecordKeys.ServiceKey("Tutoring", "Academic", new DateOnly(2026, 9, 1));
        var writer = new BatchWriter();
        var staging = new UploadStagingStore(Storage.Storage);
        await staging.StageServicesAsync(writer, Upload1, "p1|t1", 0, [new StoredService(key, "Tutoring", "Academic", "2026-09-01", "2026-09-10", "2026-09-10", Upload1)]);
        await staging.StageServicesAsync(writer, Upload1, "p1|t1", 1, [new StoredService(key, "Tutoring", "Academic", "2026-09-01", "2026-09-30", "2026-09-30", Upload1)]);
        await writer.FlushAsync();

        await Builder(Storage.Storage).RebuildForUploadAsync(Upload1, TestApp.Now, ReuploadPolicy.Upsert);

        var record = (await Storage.Storage.Table(TableNames.Records).GetEntityAsync<TableEntity>("p1", "t1")).Value;
        var service = Assert.Single(StoredService.Deserialize(record.GetString("Services")));
        Assert.Equal((key, "2026-09-30"), (service.Key, service.End));
    }

    [Fact]
    public async Task Report_ChildAtTwoProvidersThenSplit_CountedOnceThenTwice()
    {
        await StageAsync(Upload1, "p1|t1", "child-a", ("2026-09-01", "2026-09-30"));
        await StageAsync(Upload1, "p2|t9", "child-a", ("2026-09-03", "2026-09-04"));
        await Builder(Storage.Storage).RebuildForUploadAsync(Upload1, TestApp.Now, ReuploadPolicy.Upsert);
        Assert.Equal(1, (await SeptemberAsync()).Total);

        // A split gives the second record its own child key, as LinkageAdmin does, and rebuilds it from its record.
        var records = Storage.Storage.Table(TableNames.Records);
        var record = (await records.GetEntityAsync<TableEntity>("p2", "t9")).Value;
        record["ChildKey"] = "child-z";
        await records.UpdateEntityAsync(record, record.ETag);
        await Builder(Storage.Storage).RebuildChildrenAsync(["p2|t9"]);

        Assert.Equal(2, (await SeptemberAsync()).Total);

        // And a merge back.
        record = (await records.GetEntityAsync<TableEntity>("p2", "t9")).Value;
        record["ChildKey"] = "child-a";
        await records.UpdateEntityAsync(record, record.ETag);
        await Builder(Storage.Storage).RebuildChildrenAsync(["p2|t9"]);

        Assert.Equal(1, (await SeptemberAsync()).Total);
    }

    [Fact]
    public async Task RebuildForUpload_CrashAfterBucketsBeforeRecords_RedeliveryGivesTheCleanResult()
    {
        await StageAsync(Upload1, "p1|t1", "child-a", ("2025-01-10", "2025-01-20"));
        await Builder(Storage.Storage).RebuildForUploadAsync(Upload1, TestApp.Now, ReuploadPolicy.Upsert);
        // The second file replaces the child's services: January 2025 withdrawn, September 2026 instead.
        await StageAsync(Upload2, "p1|t1", "child-a", ("2026-09-01", "2026-09-30"));

        var crashing = new RecordsFailStorage(Storage);
        await Assert.ThrowsAsync<RequestFailedException>(() => Builder(crashing).RebuildForUploadAsync(Upload2, TestApp.Now, ReuploadPolicy.ReplaceChildServices));
        Assert.True((await new ActivityStore(new ActivityTable(Storage.Storage)).LayoutAsync())!.Writing);
        await Builder(Storage.Storage).RebuildForUploadAsync(Upload2, TestApp.Now, ReuploadPolicy.ReplaceChildServices);

        var months = (await Storage.ReadActivityMonthsAsync()).Select(m => m.PartitionKey).ToList();
        Assert.Equal(["2026-09"], months);
        var record = (await Storage.Storage.Table(TableNames.Records).GetEntityAsync<TableEntity>("p1", "t1")).Value;
        Assert.Equal("2026", record.GetString("ActivityYears"));
        Assert.False((await new ActivityStore(new ActivityTable(Storage.Storage)).LayoutAsync())!.Writing);
    }

    [Fact]
    public async Task RebuildForUpload_CrashBetweenBucketWrites_RedeliveryGivesWhatACleanRunGives()
    {
        // Children in many buckets and two years, so one flush writes dozens of bucket-years in parallel and the crash lands among them.
        var children = Enumerable.Range(0, 40).Select(i => ($"p1|t{i}", $"child-{i % 30}")).ToList();
        await using var reference = new TestStorage();
        await reference.InitializeAsync();
        foreach (var storage in new[] { Storage.Storage, reference.Storage })
        {
            foreach (var (providerChild, childKey) in children)
            {
                await StageAsync(storage, Upload1, providerChild, childKey, ("2025-01-10", "2025-01-20"), ("2026-09-01", "2026-09-30"));
            }
        }

        await Builder(reference.Storage).RebuildForUploadAsync(Upload1, TestApp.Now, ReuploadPolicy.Upsert);
        var crash = new FailActivityWritesAfter(allowed: 6);
        await Assert.ThrowsAsync<RequestFailedException>(() =>
            Builder(Storage.StorageWithTablePolicy(crash)).RebuildForUploadAsync(Upload1, TestApp.Now, ReuploadPolicy.Upsert));
        var expected = await BucketsAsync(reference);
        var leftByTheCrash = await BucketsAsync(Storage);
        Assert.InRange(leftByTheCrash.Count, 1, expected.Count - 1);

        await Builder(Storage.Storage).RebuildForUploadAsync(Upload1, TestApp.Now, ReuploadPolicy.Upsert);

        var redelivered = await BucketsAsync(Storage);
        Assert.Equal(expected.Keys.Order(), redelivered.Keys.Order());
        Assert.All(expected, bucket => Assert.Equal(bucket.Value, redelivered[bucket.Key]));
        Assert.Equal(30, (await SeptemberAsync()).Total);
    }

    /// <summary>Every bucket-year of the store: its key, and its children count with its payload.</summary>
    private static async Task<Dictionary<string, (int? Children, string Payload)>> BucketsAsync(TestStorage storage) =>
        (await storage.ReadAllAsync(TableNames.Activity)).Where(e => e.PartitionKey != "layout")
            .ToDictionary(e => e.PartitionKey + "/" + e.RowKey, e => (e.GetInt32("Children"), Convert.ToHexString(ActivityTable.PayloadOf(e))));

    [Fact]
    public async Task Report_SamePageAgain_ServedFromSnapshotUntilNewDataLands()
    {
        await StageAsync(Upload1, "p1|t1", "child-a", ("2026-09-01", "2026-09-30"));
        await StageAsync(Upload1, "p1|t2", "child-b", ("2026-09-01", "2026-09-30"));
        await Builder(Storage.Storage).RebuildForUploadAsync(Upload1, TestApp.Now, ReuploadPolicy.Upsert);

        var computed = await SeptemberAsync();
        var again = await SeptemberAsync();
        Assert.False(computed.Stats.FromSnapshot);
        Assert.True(computed.Stats.EntitiesRead > 0);
        Assert.True(again.Stats.FromSnapshot);
        Assert.Equal(0, again.Stats.EntitiesRead);
        Assert.Equal(computed.Total, again.Total);

        await StageAsync(Upload2, "p2|t5", "child-c", ("2026-09-02", "2026-09-02"));
        await Builder(Storage.Storage).RebuildForUploadAsync(Upload2, TestApp.Now, ReuploadPolicy.Upsert);

        var after = await SeptemberAsync();
        Assert.False(after.Stats.FromSnapshot);
        Assert.Equal(3, after.Total);
    }

    [Fact]
    public async Task Report_WhileAWriterIsBetweenItsVersionBumps_NeitherServesNorKeepsASnapshot()
    {
        await StageAsync(Upload1, "p1|t1", "child-a", ("2026-09-01", "2026-09-30"));
        await Builder(Storage.Storage).RebuildForUploadAsync(Upload1, TestApp.Now, ReuploadPolicy.Upsert);
        await SeptemberAsync();
        var store = new ActivityStore(new ActivityTable(Storage.Storage));
        await store.BeginWriteAsync();

        Assert.False((await SeptemberAsync()).Stats.FromSnapshot);
        Assert.False((await SeptemberAsync()).Stats.FromSnapshot);
        await store.EndWriteAsync();
        Assert.False((await SeptemberAsync()).Stats.FromSnapshot);
        Assert.True((await SeptemberAsync()).Stats.FromSnapshot);
    }

    [Fact]
    public async Task Report_GroupedDifferently_NotServedFromTheOtherSnapshot()
    {
        await StageAsync(Upload1, "p1|t1", "child-a", ("2026-09-01", "2026-09-30"));
        await Builder(Storage.Storage).RebuildForUploadAsync(Upload1, TestApp.Now, ReuploadPolicy.Upsert);
        await SeptemberAsync("provider");

        Assert.False((await SeptemberAsync("sex")).Stats.FromSnapshot);
    }

    [Fact]
    public async Task RebuildAll_MonthSummaryShape_MigratedAndOldEntitiesGone()
    {
        await StageAsync(Upload1, "p1|t1", "child-a", ("2026-09-01", "2026-09-30"));
        await Builder(Storage.Storage).RebuildForUploadAsync(Upload1, TestApp.Now, ReuploadPolicy.Upsert);
        // What main wrote: a month summary (PK yyyy-MM).
        await Storage.Storage.Table(TableNames.Activity).AddEntityAsync(new TableEntity("2026-09", "p1|t1") { ["ChildKey"] = "child-a", ["DayMask"] = 1L });

        var rebuilt = await Builder(Storage.Storage).RebuildAllAsync(16);

        Assert.Equal(1, rebuilt.Children);
        var entities = await Storage.ReadAllAsync(TableNames.Activity);
        Assert.DoesNotContain(entities, e => e.PartitionKey == "2026-09");
        Assert.Equal(16, (await new ActivityStore(new ActivityTable(Storage.Storage)).LayoutAsync())!.Buckets);
        Assert.Equal(["2026-09"], (await Storage.ReadActivityMonthsAsync()).Select(m => m.PartitionKey));
        Assert.Equal(1, (await SeptemberAsync()).Total);
    }

    [Fact]
    public async Task ApplyAsync_BucketChangedSinceRead_ReadAgainAndBothChangesKept()
    {
        var store = new ActivityStore(new ActivityTable(Storage.Storage));
        var layout = await store.BeginWriteAsync(bucketsIfNew: 1);
        ProviderChildYear Child(string pc) => new(pc, "key-" + pc, 0, new string?[ActivityStore.Demographics.Count],
            [new YearActivity("Tutoring", "Academic", [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])]);
        await store.ApplyAsync(layout, [new ActivityChange("p1|a", new Dictionary<int, ProviderChildYear> { [2026] = Child("p1|a") }, [])]);
        // Two writers at once on the one bucket: each write is a replacement under the ETag it read.
        await Task.WhenAll(
            store.ApplyAsync(layout, [new ActivityChange("p1|b", new Dictionary<int, ProviderChildYear> { [2026] = Child("p1|b") }, [])]),
            store.ApplyAsync(layout, [new ActivityChange("p1|c", new Dictionary<int, ProviderChildYear> { [2026] = Child("p1|c") }, [])]));

        var read = await store.ReadAsync([2026]);
        Assert.Equal(["p1|a", "p1|b", "p1|c"], read.Children.Select(c => c.Child.ProviderChild).Order());
        Assert.Equal(1, read.EntitiesRead);
    }

    [Fact]
    public async Task ApplyAsync_OneBucketYearOverfilledByChildrenThatEachFit_WritesNoBucketYearAndSaysToRebuild()
    {
        // Finding (stop 24 adversary): the check was made as each bucket-year was written, so the small years of the change were
        // written before the full one threw, and they counted children whose records the flush then never wrote.
        var store = new ActivityStore(new ActivityTable(Storage.Storage));
        var layout = await store.BeginWriteAsync(bucketsIfNew: 1);
        var every = Enumerable.Range(0, 12).Select(_ => 0xFFFF_FFFFu).ToArray();
        ProviderChildYear Child(string pc, int programs) => new(pc, "key-" + pc, 0, ["2016-03-15", "Female", "5", "1", "123", "3", "School"],
            Enumerable.Range(0, programs).Select(p => new YearActivity("Program " + p, "Academic", every)).ToList());
        var changes = Enumerable.Range(0, 4_000).Select(i =>
        {
            var pc = $"p1|child-{i:D5}";
            // Every child active in 2020-2025 lightly; in 2026 each holds 10 programs, about 500 bytes: 4,000 of them overfill the year.
            var years = Enumerable.Range(2020, 6).ToDictionary(y => y, _ => Child(pc, 1));
            years[2026] = Child(pc, 10);
            return new ActivityChange(pc, years, []);
        }).ToList();

        var error = await Assert.ThrowsAsync<ActivityBucketFullException>(() => store.ApplyAsync(layout, changes));

        Assert.Equal(1, error.BucketYears);
        Assert.Contains(ActivityStore.Rebuilding, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("child-", error.Message, StringComparison.Ordinal);
        Assert.Empty((await store.ReadAsync(Enumerable.Range(2020, 7))).Children);
        Assert.DoesNotContain(await Storage.ReadAllAsync(TableNames.Activity), e => e.PartitionKey != "layout");
    }

    [Fact]
    public async Task ApplyAsync_ABucketYearOfExactlyTheMostBytes_IsWrittenAndOfOneByteMoreWritesNothing()
    {
        // Adversary 30: the check and the table's refusal agree at the limit (a payload of the most bytes is written, one past it is not).
        var table = new ActivityTable(Storage.Storage);
        var layout = await new ActivityStore(table).BeginWriteAsync(bucketsIfNew: 1);
        var every = Enumerable.Range(0, 12).Select(_ => 0xFFFF_FFFFu).ToArray();
        var changes = Enumerable.Range(0, 50).Select(i => new ActivityChange($"p1|c{i:D3}", new Dictionary<int, ProviderChildYear>
        {
            [2026] = new($"p1|c{i:D3}", "key-" + i, i, ["2016-03-15", "Female", "5", "1", "123", "3", "School"],
                Enumerable.Range(0, 1 + (i % 3)).Select(p => new YearActivity("Program " + p, "Academic", every)).ToList()),
        }, [])).ToList();
        var bytes = ActivityStore.Encode(changes.Select(c => c.Years[2026]).OrderBy(c => c.ProviderChild, StringComparer.Ordinal)).Length;

        var error = await Assert.ThrowsAsync<ActivityBucketFullException>(() => new ActivityStore(table) { MaxPayloadBytes = bytes - 1 }.ApplyAsync(layout, changes));
        Assert.Equal((1, bytes, bytes - 1), (error.BucketYears, error.LargestBytes, error.MaxBytes));
        Assert.DoesNotContain(await Storage.ReadAllAsync(TableNames.Activity), e => e.PartitionKey != "layout");

        await new ActivityStore(table) { MaxPayloadBytes = bytes }.ApplyAsync(layout, changes);

        var stored = Assert.Single(await Storage.ReadAllAsync(TableNames.Activity), e => e.PartitionKey != "layout");
        Assert.Equal((50, bytes), (stored.GetInt32("Children"), ActivityTable.PayloadOf(stored).Length));
    }

    [Fact]
    public async Task ApplyAsync_ABucketYearEmptiedWhileAnotherWriterAddedToIt_DeletesNothingAndKeepsTheOthersChild()
    {
        // Adversary 30: the delete of an emptied bucket-year is conditional on the version kept from the read; another writer's change
        // between them makes it a 412, and the bucket-year is read and changed again (the other writer's child kept, not deleted with it).
        var store = new ActivityStore(new ActivityTable(Storage.Storage));
        var layout = await store.BeginWriteAsync(bucketsIfNew: 1);
        ProviderChildYear Child(string pc) => new(pc, "key-" + pc, 0, new string?[ActivityStore.Demographics.Count],
            [new YearActivity("Tutoring", "Academic", [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])]);
        await store.ApplyAsync(layout, [new ActivityChange("p1|a", new Dictionary<int, ProviderChildYear> { [2026] = Child("p1|a") }, [])]);
        var between = new BeforeTheFirstDelete(() =>
            store.ApplyAsync(layout, [new ActivityChange("p1|z", new Dictionary<int, ProviderChildYear> { [2026] = Child("p1|z") }, [])]));

        await new ActivityStore(new ActivityTable(Storage.StorageWithTablePolicy(between)))
            .ApplyAsync(layout, [new ActivityChange("p1|a", new Dictionary<int, ProviderChildYear>(), [2026])]);

        Assert.True(between.Ran);
        Assert.Equal(["p1|z"], (await store.ReadAsync([2026])).Children.Select(c => c.Child.ProviderChild));
    }

    /// <summary>Runs another writer's work once, just before the first delete request is sent.</summary>
    private sealed class BeforeTheFirstDelete(Func<Task> work) : HttpPipelinePolicy
    {
        public bool Ran { get; private set; }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) => throw new NotSupportedException();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (message.Request.Method == RequestMethod.Delete && !Ran)
            {
                Ran = true;
                await work().ConfigureAwait(false);
            }

            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        }
    }

    [Fact]
    public async Task ApplyAsync_PayloadsPastTheKeptBudget_WritesTheSameBucketsAsWithinIt()
    {
        // Past the budget a bucket-year is read and changed again when written: the same result, including a year left empty.
        ProviderChildYear Child(string pc) => new(pc, "key-" + pc, 0, new string?[ActivityStore.Demographics.Count],
            [new YearActivity("Tutoring", "Academic", [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])]);
        ActivityChange Change(string pc, int[] years, int[] removed) => new(pc, years.ToDictionary(y => y, _ => Child(pc)), removed);
        async Task<Dictionary<string, string>> RunAsync(ActivityStore store)
        {
            var layout = await store.BeginWriteAsync(bucketsIfNew: 4);
            await store.ApplyAsync(layout, Enumerable.Range(0, 40).Select(i => Change($"p1|c{i}", [2024, 2025], [])).ToList());
            await store.ApplyAsync(layout, Enumerable.Range(0, 40).Select(i => Change($"p1|c{i}", i % 2 == 0 ? [2026] : [2025], [2024, 2025])).ToList());
            return (await Storage.ReadAllAsync(TableNames.Activity)).Where(e => e.PartitionKey != "layout")
                .ToDictionary(e => e.PartitionKey + "/" + e.RowKey, e => Convert.ToHexString(e.GetBinary("D00")!));
        }

        var withinBudget = await RunAsync(new ActivityStore(new ActivityTable(Storage.Storage)));
        await new ActivityTable(Storage.Storage).DeleteAllBucketsAsync();
        var pastBudget = await RunAsync(new ActivityStore(new ActivityTable(Storage.Storage)) { MaxKeptPayloadBytes = 0 });

        Assert.Equal(withinBudget, pastBudget);
        Assert.DoesNotContain(pastBudget.Keys, k => k.EndsWith("/2024", StringComparison.Ordinal));
        Assert.Contains(pastBudget.Keys, k => k.EndsWith("/2026", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RebuildForUpload_AChildWhoseServicesNoLongerFitAndWhomTheUploadReLinks_KeepsItsServicesUnderItsNewChildKey()
    {
        // Finding (stop 25 adversary): a child past its row's capacity was skipped whole, so a re-link by the same upload's linkage
        // (its new child key, already on its records row) never reached its buckets and membership: the report counted it under the
        // old key, beside the child it had been joined to.
        await StageAsync(Upload1, "p1|t1", "child-a", ("2026-09-01", "2026-09-30"));
        var builder = Builder(Storage.Storage);
        await builder.RebuildForUploadAsync(Upload1, TestApp.Now, ReuploadPolicy.Upsert);
        var staging = Storage.Storage.Table(TableNames.UploadStaging);
        await staging.UpsertEntityAsync(new TableEntity(Upload2, "p1|t1")
        {
            ["ChildKey"] = "child-b", ["KeyVersion"] = "v1", ["Sex"] = "Female", ["BirthDate"] = "2016-03-15",
        });
        var program = new string('p', 190);
        foreach (var chunk in Enumerable.Range(0, 2_000).Chunk(100))
        {
            await staging.SubmitTransactionAsync(chunk.Select(i =>
            {
                var start = new DateOnly(2020, 1, 1).AddDays(i);
                return new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(Upload2, "p1|t1|" + RecordKeys.ServiceKey(program, "Academic", start))
                {
                    ["Program"] = program, ["ServiceType"] = "Academic", ["StartDate"] = RecordKeys.IsoDate(start), ["EndDate"] = RecordKeys.IsoDate(start),
                    ["AsOf"] = RecordKeys.IsoDate(start),
                });
            }));
        }

        var result = await builder.RebuildForUploadAsync(Upload2, TestApp.Now.AddDays(1), ReuploadPolicy.Upsert);

        Assert.Equal(1, result.ChildrenNotStored);
        var record = await new ChildRecordStore(Storage.Storage).ReadAsync("p1", "t1");
        Assert.Equal(("child-b", 1), (record!.LinkedChildKey, record.Services!.Count));
        var read = await new ActivityStore(new ActivityTable(Storage.Storage)).ReadAsync(Enumerable.Range(2020, 7));
        Assert.Equal(["child-b"], read.Children.Select(c => c.Child.ChildKey).Distinct());
        var memberships = new MembershipStore(Storage.Storage);
        Assert.Empty(await memberships.MembershipsAsync("child-a"));
        Assert.NotEmpty(await memberships.MembershipsAsync("child-b"));
    }

    [Fact]
    public void BucketOf_ProviderChildKey_StableAndWithinTheCount()
    {
        Assert.Equal(ActivityStore.BucketOf("p1|abc", 64), ActivityStore.BucketOf("p1|abc", 64));
        Assert.All(Enumerable.Range(0, 1000), i => Assert.InRange(ActivityStore.BucketOf($"p1|{i}", 64), 0, 63));
        Assert.Equal(64, Enumerable.Range(0, 5000).Select(i => ActivityStore.BucketOf($"p1|{i}", 64)).Distinct().Count());
    }

    /// <summary>
    /// A crash in the middle of the bucket writes: the activity table's first <paramref name="allowed"/> writes are sent (the layout's
    /// version bump and some bucket-years), every later one fails before it leaves the process, as a process killed there would leave it.
    /// </summary>
    private sealed class FailActivityWritesAfter(int allowed) : HttpPipelinePolicy
    {
        private int _writes;

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Check(message);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Check(message);
            return ProcessNextAsync(message, pipeline);
        }

        private void Check(HttpMessage message)
        {
            var isActivityWrite = message.Request.Method != RequestMethod.Get
                && message.Request.Uri.Path.Contains(TableNames.Activity, StringComparison.Ordinal);
            if (isActivityWrite && Interlocked.Increment(ref _writes) > allowed)
            {
                throw new RequestFailedException(503, "simulated crash");
            }
        }
    }

    /// <summary>Storage whose records table fails every batch: a crash after the buckets were written, before the records.</summary>
    private sealed class RecordsFailStorage(TestStorage storage) : ChildShareStorage(storage.Tables, storage.Blobs, Options.Create(storage.Options))
    {
        public override TableClient Table(string logicalName) =>
            logicalName == TableNames.Records ? new FailingBatches(TestStorage.ConnectionString, storage.Options.TablePrefix + logicalName) : base.Table(logicalName);
    }

    private sealed class FailingBatches(string connectionString, string table) : TableClient(connectionString, table)
    {
        public override Task<Response<IReadOnlyList<Response>>> SubmitTransactionAsync(
            IEnumerable<TableTransactionAction> transactionActions, CancellationToken cancellationToken = default) =>
            throw new RequestFailedException(503, "simulated crash");

        public override Task<Response> UpsertEntityAsync<T>(T entity, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default) =>
            throw new RequestFailedException(503, "simulated crash");
    }
}

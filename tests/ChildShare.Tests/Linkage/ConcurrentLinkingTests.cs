using Azure.Data.Tables;
using ChildShare.Cli;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChildShare.Tests.Linkage;

/// <summary>
/// Two Function instances on the same tables: two service providers built by the application's own
/// wiring, so two <see cref="IncrementalLinker"/> objects and two linkage locks that share only storage
/// (Azurite). The locks run on the system clock like the app's own (the rest of each app keeps the tests'
/// fake clock), with a 15 s lease and a shorter timeout than the app's.
/// </summary>
public sealed class ConcurrentLinkingTests : IAsyncLifetime
{
    private static readonly Pseudonymizer Pseudonymizer = new(PseudonymKey.FromBase64("local-dev-1", CliHost.DevelopmentKey));

    private readonly TestStorage _storage = new();
    private readonly LogEvents<BlobLeaseLinkageLock> _secondLock = new();
    private ServiceProvider _first = null!;
    private ServiceProvider _second = null!;

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        _first = Instance();
        _second = Instance(lockEvents: _secondLock);
    }

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
        await _storage.DisposeAsync();
    }

    [Fact]
    public async Task CompleteUploadAsync_TwoInstancesLinkingAtOnce_KeepTheMergeOfEveryBridgingRecord()
    {
        // Four families. In each, A and B are one child seen by two providers, too different to link on
        // their own; C (to come) bridges A (name, birth date, zip) and B (state id, birth date); D links
        // to B. The C of families 0 and 1 and the D of families 2 and 3 arrive on one instance, the others
        // on the other, so whichever instance writes last, a family would lose its merge without the lock.
        var families = Enumerable.Range(0, 4).Select(Family).ToList();
        foreach (var family in families)
        {
            await LinkAsync(_first, "u-a" + family.Number, family.A);
            await LinkAsync(_first, "u-b" + family.Number, family.B);
            Assert.NotEqual(await ClusterOf(family.A.Key), await ClusterOf(family.B.Key));
        }

        var first = Linker(_first);
        var second = Linker(_second);
        foreach (var family in families)
        {
            var (bridging, joining) = family.Number < 2 ? (first, second) : (second, first);
            await bridging.LinkAsync(family.C.Subject(bridging == first ? "u-first" : "u-second"), Pseudonymizer);
            await joining.LinkAsync(family.D.Subject(joining == first ? "u-first" : "u-second"), Pseudonymizer);
        }

        var completions = await Task.WhenAll(first.CompleteUploadAsync("u-first").AsTask(), second.CompleteUploadAsync("u-second").AsTask());

        Assert.Equal(8, completions.Sum(c => c.Records));
        var clusters = await _storage.ReadAllAsync(LinkageTables.Clusters);
        var records = await _storage.ReadAllAsync(TableNames.Records);
        foreach (var family in families)
        {
            // The cluster is keyed by A's seed (the smallest): B and D, which the other instance also
            // linked, carry it too, in the linkage tables and in the records reports read.
            var members = family.All.Select(m => m.Key).Order(StringComparer.Ordinal).ToList();
            foreach (var member in family.All)
            {
                Assert.Equal(family.A.Seed, await ClusterOf(member.Key));
                Assert.Equal(family.A.Seed, records.Single(r => RecordKeys.ProviderChild(r.PartitionKey, r.RowKey) == member.Key).GetString("ChildKey"));
            }

            Assert.Equal(members, LinkageRowStore.MembersOf(clusters.Single(c => c.RowKey == family.A.Seed)).Order(StringComparer.Ordinal));
        }

        Assert.Equal(families.Count, clusters.Count);
        Assert.Equal(families.Count * 4, clusters.Sum(c => LinkageRowStore.MembersOf(c).Count));
    }

    [Fact]
    public async Task SplitAsync_WhileAnotherInstanceLinks_WaitsForTheLockAndStillSplits()
    {
        var a = await LinkAsync(_first, "u-a", Child("prov-a", "A1", "Maria", "Gonzalez"));
        var b = await LinkAsync(_first, "u-b", Child("prov-b", "B1", "Tina", "Whitfield", "S9988"));
        var c = await LinkAsync(_first, "u-c", Child("prov-c", "C1", "Maria", "Gonzalez", "S9988"));
        Assert.Equal(await ClusterOf(a), await ClusterOf(b));

        // The other instance holds the linkage lock (as while it links a chunk).
        var held = await _first.GetRequiredService<ILinkageLock>().AcquireAsync();
        var split = _second.GetRequiredService<LinkageAdmin>().SplitAsync(a, b, "operator:test", default);
        await _secondLock.WaitForAsync(LinkageLockTests.Waiting);
        Assert.False(split.IsCompleted, "the split ran while another instance held the linkage lock");
        Assert.Equal(await ClusterOf(a), await ClusterOf(b));

        await held.DisposeAsync();
        var result = await split.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(result.ClusterA, result.ClusterB);
        Assert.NotEqual(await ClusterOf(a), await ClusterOf(b));
        Assert.Equal(await ClusterOf(b), await ClusterOf(c));
    }

    [Fact]
    public async Task IngestAsync_WhileAnotherInstanceHoldsTheLock_StagesButSummarizesOnlyAfterIt()
    {
        var blob = await UploadRosterAsync();

        // Another instance holds the lock (as while it links and summarizes an upload): this upload is parsed and
        // staged, but not summarized, so its rebuild cannot interleave with the other's merge. The exact-match
        // linker takes no lock of its own, so what waits here is the summary rebuild itself.
        var held = await _first.GetRequiredService<ILinkageLock>().AcquireAsync();
        var exactLock = new LogEvents<BlobLeaseLinkageLock>();
        await using var exact = Instance(services => services.AddSingleton<IChildLinker, ExactMatchLinker>(), lockEvents: exactLock);
        var ingest = exact.GetRequiredService<IngestionService>().IngestAsync(blob);

        // Refused by the lock: the upload reached its second phase, so its first (parse and stage) is done.
        await exactLock.WaitForAsync(LinkageLockTests.Waiting, TimeSpan.FromMinutes(2));
        Assert.False(ingest.IsCompleted, "the upload completed while another instance held the linkage lock");
        Assert.NotEmpty(await _storage.ReadAllAsync(TableNames.UploadStaging));
        Assert.Empty(await _storage.ReadActivityMonthsAsync());

        await held.DisposeAsync();
        var manifest = await ingest.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(UploadStatus.Completed, manifest.Status);
        Assert.Single(await _storage.ReadActivityMonthsAsync());
    }

    [Fact]
    public async Task IngestAsync_SecondDeliveryWhileTheFirstIsInProgressInThisInstance_AsksForARetryAndTouchesNothing()
    {
        var blob = await UploadRosterAsync();

        // The first delivery waits for the lock in its second phase; a twin delivery to the same instance must not
        // share (or abandon) the first one's buffered records, so it asks to be delivered again later.
        var held = await _first.GetRequiredService<ILinkageLock>().AcquireAsync();
        var ingestion = _second.GetRequiredService<IngestionService>();
        var first = ingestion.IngestAsync(blob);
        await _secondLock.WaitForAsync(LinkageLockTests.Waiting, TimeSpan.FromMinutes(2));
        var twin = await Assert.ThrowsAsync<UploadRetryException>(() => ingestion.IngestAsync(blob));
        Assert.Contains("already being ingested", twin.Message, StringComparison.Ordinal);

        await held.DisposeAsync();
        var manifest = await first.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(UploadStatus.Completed, manifest.Status);
        Assert.Equal(1, manifest.Attempts);
        Assert.Equal(manifest, await ingestion.IngestAsync(blob));
    }

    [Fact]
    public async Task IngestPending_PicksUpAnUploadLeftWaitingForTheLock_AndNothingOnceItIsFinal()
    {
        // An upload that ran out of trigger deliveries while waiting stays Processing; the operator's ingest-pending finishes it.
        var blob = await UploadRosterAsync();
        var held = await _first.GetRequiredService<ILinkageLock>().AcquireAsync();
        await using var impatient = Instance(lockTimeoutSeconds: 1);
        await Assert.ThrowsAsync<UploadRetryException>(() => impatient.GetRequiredService<IngestionService>().IngestAsync(blob));
        await held.DisposeAsync();

        var op = ActivatorUtilities.CreateInstance<Operator>(impatient, (TextWriter)new StringWriter());
        var results = await op.IngestPendingAsync(CancellationToken.None);

        Assert.Equal(UploadStatus.Completed, Assert.Single(results).Status);
        Assert.Empty(await op.IngestPendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task IngestAsync_LockHeldLongerThanTheTimeout_RetriesWithoutCountingAnAttempt()
    {
        var blob = await UploadRosterAsync();

        // A burst of uploads: another instance keeps the lock longer than this instance waits, on every delivery.
        // With one attempt allowed, a counted timeout would fail the upload at once.
        var held = await _first.GetRequiredService<ILinkageLock>().AcquireAsync();
        await using var impatient = Instance(lockTimeoutSeconds: 1, settings: [new("Ingestion:MaxAttempts", "1")]);
        var ingestion = impatient.GetRequiredService<IngestionService>();
        var manifests = impatient.GetRequiredService<ManifestStore>();

        var first = await Assert.ThrowsAsync<UploadRetryException>(() => ingestion.IngestAsync(blob));
        var afterFirst = await manifests.GetAsync(first.UploadId);
        var second = await Assert.ThrowsAsync<UploadRetryException>(() => ingestion.IngestAsync(blob));
        var afterSecond = await manifests.GetAsync(second.UploadId);
        await held.DisposeAsync();
        var done = await ingestion.IngestAsync(blob);

        Assert.IsType<LinkageLockTimeoutException>(first.InnerException);
        foreach (var waiting in new[] { afterFirst, afterSecond })
        {
            Assert.NotNull(waiting);
            Assert.Equal(UploadStatus.Processing, waiting.Status);
            Assert.Equal(0, waiting.Attempts);
            Assert.Contains("waiting for the linkage lock", waiting.Reason, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Equal(UploadStatus.Completed, done.Status);
        Assert.Equal(1, done.Attempts);
        Assert.Single(await _storage.ReadActivityMonthsAsync());
    }

    [Fact]
    public async Task AbandonUpload_BeforeTheUploadIsCompleted_DropsItsBufferedRecords()
    {
        var linker = Linker(_first);
        var child = Child("prov-a", "A1", "Maria", "Gonzalez");
        await linker.LinkAsync(child.Subject("u-abandoned"), Pseudonymizer);
        await linker.LinkAsync(child.Subject("u-kept"), Pseudonymizer);

        linker.AbandonUpload("u-abandoned");

        Assert.Equal(LinkCompletion.None, await linker.CompleteUploadAsync("u-abandoned"));
        Assert.Equal(1, (await linker.CompleteUploadAsync("u-kept")).Records);
    }

    /// <summary>One instance of the app; <paramref name="lockEvents"/>, when given, receives what its linkage lock logs.</summary>
    private ServiceProvider Instance(
        Action<IServiceCollection>? configure = null, int lockTimeoutSeconds = 60, IEnumerable<KeyValuePair<string, string?>>? settings = null,
        LogEvents<BlobLeaseLinkageLock>? lockEvents = null) =>
        TestApp.Build(_storage, settings: settings, configure: services =>
        {
            configure?.Invoke(services);
            services.AddSingleton<ILinkageLock>(sp =>
                new BlobLeaseLinkageLock(_storage.Storage.Locks, _storage.Storage.LockName(BlobLeaseLinkageLock.LinkageBlobName),
                    new LinkageOptions { LockLeaseSeconds = 15, LockTimeoutSeconds = lockTimeoutSeconds }, TimeProvider.System,
                    (ILogger<BlobLeaseLinkageLock>?)lockEvents ?? NullLogger<BlobLeaseLinkageLock>.Instance));
        });

    /// <summary>Registers provider prov-c with a profile and drops a one-row roster into its folder.</summary>
    private async Task<Azure.Storage.Blobs.BlobClient> UploadRosterAsync()
    {
        const string profile = """
            {
              "dateFormats": ["yyyy-MM-dd"],
              "columns": {
                "Id": "LocalChildId", "First": "FirstName", "Last": "LastName", "DOB": "BirthDate", "Zip": "Zip",
                "Program": "Program", "Start": "ServiceStart", "End": "ServiceEnd"
              }
            }
            """;
        var providers = _first.GetRequiredService<ProviderRegistry>();
        await providers.RegisterAsync("prov-c", "prov-c", "Other");
        await providers.SaveProfileAsync("prov-c", profile);
        return await _storage.UploadAsync("prov-c/roster.csv",
            System.Text.Encoding.UTF8.GetBytes("Id,First,Last,DOB,Zip,Program,Start,End\nC1,Maria,Gonzalez,2015-03-02,12345,Meals,2026-09-01,2026-09-30\n"));
    }

    private static IncrementalLinker Linker(ServiceProvider instance) => Assert.IsType<IncrementalLinker>(instance.GetRequiredService<IChildLinker>());

    private static async Task<string> LinkAsync(ServiceProvider instance, string uploadId, TestChild child)
    {
        var linker = Linker(instance);
        await linker.LinkAsync(child.Subject(uploadId), Pseudonymizer);
        await linker.CompleteUploadAsync(uploadId);
        return child.Key;
    }

    private async Task<string> ClusterOf(string providerChild)
    {
        var (partitionKey, rowKey) = LinkageTables.NodeKeys(providerChild, LinkageLayout.Current);
        var row = await _storage.Storage.Table(LinkageTables.Records).GetEntityAsync<TableEntity>(partitionKey, rowKey);
        return row.Value.GetString("ClusterKey") ?? "";
    }

    /// <summary>
    /// Family <paramref name="number"/>: its own names and birth date, and A's local id taken so that A's
    /// seed is the family's smallest (a cluster's key is its smallest seed): C's merge keys the cluster
    /// by A while D alone would key B's cluster by B or D, so a lost merge shows in the keys.
    /// </summary>
    private static TestFamily Family(int number)
    {
        string[] firstA = ["Maria", "Sofia", "Elena", "Laura"];
        string[] lastA = ["Gonzalez", "Castillo", "Moreno", "Delgado"];
        string[] firstB = ["Tina", "Karen", "Wendy", "Brenda"];
        string[] lastB = ["Whitfield", "Holloway", "Pritchard", "Ashworth"];
        var born = new DateOnly(2010 + number, 1 + (3 * number), 2 + (5 * number));
        var stateId = $"S99{number}8";
        var b = Child("prov-b", $"B{number}", firstB[number], lastB[number], stateId, born);
        var c = Child("prov-c", $"C{number}", firstA[number], lastA[number], stateId, born);
        var d = Child("prov-d", $"D{number}", firstB[number], lastB[number], stateId, born);
        var a = Enumerable.Range(0, 200).Select(i => Child("prov-a", $"A{number}-{i}", firstA[number], lastA[number], null, born))
            .First(x => new[] { b, c, d }.All(other => string.CompareOrdinal(x.Seed, other.Seed) < 0));
        return new TestFamily(number, a, b, c, d);
    }

    private static TestChild Child(string providerId, string localId, string first, string last, string? stateId = null, DateOnly? born = null)
    {
        var identity = new ChildIdentity
        {
            LocalChildId = localId,
            StateStudentId = stateId,
            FirstName = NameNormalizer.Name(first),
            LastName = NameNormalizer.Name(last),
            BirthDate = born ?? new DateOnly(2015, 3, 2),
        };
        return new TestChild(providerId, RecordKeys.LocalToken(Pseudonymizer, providerId, localId), identity, new Demographics { Zip = "12345" });
    }

    private sealed record TestFamily(int Number, TestChild A, TestChild B, TestChild C, TestChild D)
    {
        public IReadOnlyList<TestChild> All => [A, B, C, D];
    }

    private sealed record TestChild(string ProviderId, string LocalToken, ChildIdentity Identity, Demographics Demographics)
    {
        public string Key => RecordKeys.ProviderChild(ProviderId, LocalToken);

        public string Seed => IncrementalLinker.SeedOf(Pseudonymizer, Key);

        public LinkSubject Subject(string uploadId) => new(ProviderId, LocalToken, LinkInputs.From(Identity, Demographics)) { UploadId = uploadId };
    }
}

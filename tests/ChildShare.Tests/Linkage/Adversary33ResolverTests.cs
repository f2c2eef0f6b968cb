using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using Xunit.Abstractions;
using static ChildShare.Tests.Linkage.EngineHarness;

namespace ChildShare.Tests.Linkage;

/// <summary>Adversary 33: the household resolver's undo of its own joins, the split's resolver pass, the re-queued review pairs.</summary>
public sealed class Adversary33ResolverTests(ITestOutputHelper output)
{
    private static readonly LinkModelOptions WithResolver = LinkModelOptions.Default with { HouseholdResolver = true };

    private void Dump(LinkageEngine engine, string label)
    {
        output.WriteLine(label + ": " + Partition(engine));
        foreach (var c in engine.Clusters())
        {
            foreach (var k in c)
            {
                output.WriteLine($"  {k} -> {engine.ClusterKeyOf(k)} {engine.RuleOf(k)}");
            }
        }
    }

    // ---- Finding candidate 1: a later accepted link overwrites the resolver's mark, so a rival arriving after it undoes nothing.
    private static readonly Dictionary<string, LinkEncoding> MarkHousehold = new()
    {
        ["a|liam"] = Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male),
        ["d|liam"] = Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male),
        ["c|1"] = Enc(null, "Dinnison", "2015-03-02", ssid: "S77"),
        ["e|1"] = Enc(null, "Dinnison", "2015-03-02", ssid: "S77"),
        ["b|emma"] = Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female),
    };

    [Theory]
    [InlineData("a|liam d|liam c|1 e|1 b|emma")]
    [InlineData("b|emma a|liam d|liam c|1 e|1")]
    [InlineData("a|liam d|liam c|1 b|emma e|1")]
    public void MarkLost_ARivalAfterALaterAcceptedLink_StillUndoesTheJoin(string order)
    {
        var engine = new LinkageEngine(WithResolver);
        foreach (var key in order.Split(' '))
        {
            Add(engine, key, MarkHousehold[key]);
            engine.ResolveHouseholds();
            Dump(engine, "after " + key);
        }

        Assert.NotEqual(engine.ClusterKeyOf("c|1"), engine.ClusterKeyOf("a|liam"));
        Assert.NotEqual(engine.ClusterKeyOf("c|1"), engine.ClusterKeyOf("b|emma"));
    }

    // ---- Candidate 2: the undo's re-forming separates records that had an ACCEPTED link (a provider's duplicate joined by a strong link).
    private static readonly Dictionary<string, LinkEncoding> DuplicateHousehold = new()
    {
        ["p|a"] = Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male),
        ["q|b"] = Enc("Liam", "Dinnison", "2015-03-02", ssid: "S1", sex: Sex.Male),
        ["p|c"] = Enc("Liam", "Dinnison", "2015-03-02", ssid: "S1", sex: Sex.Male),
        ["r|x"] = Enc(null, "Dinnison", "2015-03-02"),
        ["s|emma"] = Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female),
    };

    [Theory]
    [InlineData("p|a q|b p|c r|x s|emma")]
    [InlineData("p|a q|b p|c s|emma r|x")]
    public void Reopen_AClusterWithAProvidersDuplicate_KeepsItsAcceptedLinks(string order)
    {
        var engine = new LinkageEngine(WithResolver);
        foreach (var key in order.Split(' '))
        {
            Add(engine, key, DuplicateHousehold[key]);
            engine.ResolveHouseholds();
            Dump(engine, "after " + key);
        }

        foreach (var r in engine.Reviews())
        {
            output.WriteLine($"review {r.KeyA} {r.KeyB} {r.Weight:F1} {MatchScorer.Describe(r.Pattern)} amb={r.Ambiguous}");
        }

        Assert.Equal(engine.ClusterKeyOf("p|a"), engine.ClusterKeyOf("q|b"));
        Assert.Equal(engine.ClusterKeyOf("p|c"), engine.ClusterKeyOf("q|b"));
        Assert.Equal(3, engine.ClusterCount);
    }

    // ---- Candidate 3: an identical re-delivery of a provider's upload challenges the resolver's join (the provider's other twin is
    // "added since"), re-forms the cluster and so re-decides it: it must change nothing.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Redelivery_OfAnUploadWithTheOtherTwin_ChangesNoClusterOrRule(bool withProvidersDuplicate)
    {
        var records = new List<(string Key, LinkEncoding Encoding)>
        {
            ("p|a", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("q|b", Enc("Liam", "Dinnison", "2015-03-02", ssid: "S1", sex: Sex.Male)),
        };
        if (withProvidersDuplicate)
        {
            records.Add(("p|c", Enc("Liam", "Dinnison", "2015-03-02", ssid: "S1", sex: Sex.Male)));
        }

        // Provider r holds the record without first name or sex and Emma: two local ids of one provider are two children, so the
        // record is not Emma and joins Liam (the one-to-one assignment).
        var providerR = new List<(string Key, LinkEncoding Encoding)>
        {
            ("r|x", Enc(null, "Dinnison", "2015-03-02")),
            ("r|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
        };
        var engine = new LinkageEngine(WithResolver);
        foreach (var (key, encoding) in records)
        {
            Add(engine, key, encoding);
        }

        engine.ResolveHouseholds();
        foreach (var (key, encoding) in providerR)
        {
            Add(engine, key, encoding);
        }

        engine.ResolveHouseholds();
        Dump(engine, "first delivery");
        var before = engine.Clusters().SelectMany(c => c).ToDictionary(k => k, k => (engine.ClusterKeyOf(k), engine.RuleOf(k)));

        // The same upload of provider r again, in another engine loaded from the stored state (as the production linker would).
        var again = new LinkageEngine(WithResolver);
        foreach (var key in before.Keys.Order(StringComparer.Ordinal))
        {
            again.Load(engine.StateOf(key));
        }

        foreach (var (key, encoding) in providerR)
        {
            Add(again, key, encoding);
        }

        again.ResolveHouseholds();
        Dump(again, "re-delivery");

        Assert.Empty(again.Changes());
        Assert.DoesNotContain(again.Reviews(), r => again.ClusterKeyOf(r.KeyA) == again.ClusterKeyOf(r.KeyB));
    }

    // ---- Candidate 4: order independence over every permutation of a household's records (the resolver run after each record).
    // Two households the adversary also tried depend on the order of arrival in the first pass itself, resolver on or off, and are
    // not here: twins with a Liam of mistyped sex and a record without first name; triplets (two brothers) with records without
    // first name. LINKAGE.md ("6 Dec 2026: the resolver's order dependence fixed") describes them as open.
    private static readonly Dictionary<string, (string Key, LinkEncoding Encoding)[]> Households = new()
    {
        ["twins+noname+liam2"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("d|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male, address: null)),
        ],
        ["siblings+nodob"] =
        [
            ("a|naomi", Enc("Naomi", "Dinnison", "2015-03-02", sex: Sex.Female)),
            ("b|nora", Enc("Nora", "Dinnison", "2017-06-09", sex: Sex.Female)),
            ("c|1", Enc(null, "Dinnison", null, sex: Sex.Female)),
            ("d|naomi", Enc("Naomi", "Dinnison", "2015-03-02", sex: Sex.Female, address: "7OXLEYPLACE")),
        ],
        ["noaddress+alike"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male, address: null)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female, address: "12BANNERSTRET")),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("d|lliam", Enc("Lliam", "Dinnison", "2015-03-20", sex: Sex.Male)),
        ],
        ["twin-at-two-providers"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("a|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
            ("b|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male, address: "7OXLEYPLACE")),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("c|2", Enc(null, "Dinnison", "2015-03-02", sex: Sex.Female)),
        ],
    };

    public static TheoryData<string> HouseholdNames() => [.. Households.Keys];

    [Theory]
    [MemberData(nameof(HouseholdNames))]
    public void AnyArrivalOrder_GivesOnePartition(string household) => AssertOnePartition(household, WithResolver);

    // The same with the resolver off (the default): which order dependences are the first pass's own.
    [Theory]
    [MemberData(nameof(HouseholdNames))]
    public void AnyArrivalOrder_ResolverOff_GivesOnePartition(string household) => AssertOnePartition(household, LinkModelOptions.Default);

    private void AssertOnePartition(string household, LinkModelOptions options)
    {
        var results = new Dictionary<string, List<string>>();
        foreach (var order in Permutations(Households[household]))
        {
            var engine = new LinkageEngine(options);
            foreach (var (key, encoding) in order)
            {
                Add(engine, key, encoding);
                engine.ResolveHouseholds();
            }

            var partition = Partition(engine);
            if (!results.TryGetValue(partition, out var orders))
            {
                results[partition] = orders = [];
            }

            orders.Add(string.Join(" ", order.Select(o => o.Key)));
        }

        foreach (var (partition, orders) in results)
        {
            output.WriteLine($"{partition}  <- {orders.Count} orders, e.g. {orders[0]}");
        }

        Assert.Single(results);
    }

    // ---- Finding 4: the resolver joins twin brothers (another first name, one birth date, one home) through a record without a first
    // name that the first pass had linked to one of them; the resolver off never joins them.
    [Fact]
    public void Resolver_DoesNotJoinTwinBrothersThroughARecordWithoutFirstName()
    {
        var engine = new LinkageEngine(WithResolver);
        Add(engine, "a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male));
        Add(engine, "d|1", Enc(null, "Dinnison", "2015-03-02", sex: Sex.Male));
        engine.ResolveHouseholds();
        Add(engine, "c|noah", Enc("Noah", "Dinnison", "2015-03-02", sex: Sex.Male));
        engine.ResolveHouseholds();
        Dump(engine, "end");

        Assert.NotEqual(engine.ClusterKeyOf("a|liam"), engine.ClusterKeyOf("c|noah"));
    }

    // ---- Finding 5: the undo re-forms only the challenged cluster; an accepted link the resolver's join had blocked (a shared
    // provider) is never tried again, so the household stays apart in this order while every other order (and the resolver off)
    // assigns provider c's two records one to each twin.
    [Fact]
    public void Undo_RetriesTheAcceptedLinkTheJoinHadBlocked()
    {
        var records = Households["twin-at-two-providers"].ToDictionary(r => r.Key, r => r.Encoding);
        var engine = new LinkageEngine(WithResolver);
        foreach (var key in new[] { "a|emma", "c|1", "b|liam", "c|2", "a|liam" })
        {
            Add(engine, key, records[key]);
            engine.ResolveHouseholds();
        }

        Dump(engine, "end");
        Assert.Equal(engine.ClusterKeyOf("a|emma"), engine.ClusterKeyOf("c|2"));
        Assert.Equal(engine.ClusterKeyOf("a|liam"), engine.ClusterKeyOf("c|1"));
    }

    // ---- Candidate 6: "the weaker side now gets the resolver reason" also when both sides were merged by an operator: the reason code
    // operator-merge (and its infinite weight) is replaced by the resolver's.
    [Fact]
    public void ResolverJoinOfTwoOperatorMergedClusters_KeepsTheOperatorMergeReason()
    {
        var engine = new LinkageEngine(WithResolver);
        Add(engine, "a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male));
        Add(engine, "d|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male, address: "7OXLEYPLACE", zip: "99999"));
        Add(engine, "c|1", Enc(null, "Dinnison", "2015-03-02"));
        Add(engine, "e|1", Enc(null, "Dinnison", "2015-03-02", address: "7OXLEYPLACE", zip: "99999"));
        engine.Merge("a|liam", "d|liam");
        engine.Merge("c|1", "e|1");
        engine.ResolveHouseholds();
        Dump(engine, "end");

        Assert.All(new[] { "a|liam", "d|liam", "c|1", "e|1" }, k => Assert.Equal(LinkageEngine.OperatorMerge, engine.RuleOf(k)));
    }
}

/// <summary>Adversary 33: findings 1 and 3 through the production path (IncrementalLinker on Azurite, one engine a chunk).</summary>
public sealed class Adversary33ResolverStorageTests(ITestOutputHelper output) : Xunit.IAsyncLifetime
{
    private static readonly Pseudonymizer Pseudonymizer = new(PseudonymKey.FromBase64("local-dev-1", ChildShare.Cli.CliHost.DevelopmentKey));
    private static readonly LinkModelOptions WithResolver = LinkModelOptions.Default with { HouseholdResolver = true };

    private readonly ChildShare.Tests.Support.TestStorage _storage = new();
    private Microsoft.Extensions.DependencyInjection.ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        _services = ChildShare.Tests.Support.TestApp.Build(_storage, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(ChildShare.Tests.Support.TestApp.Now));
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _storage.DisposeAsync();
    }

    private static LinkSubject Subject(string provider, string localId, string? first, string? sex, string? ssid = null, string? street = Street) =>
        new(provider, RecordKeys.LocalToken(Pseudonymizer, provider, localId),
            new LinkInput(first, "DINNISON", "2015", "03", "02", sex, "12345", ssid, street));

    private static string Key(LinkSubject subject) => RecordKeys.ProviderChild(subject.ProviderId, subject.LocalToken);

    private T Get<T>() where T : notnull => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<T>(_services);

    private IncrementalLinker Linker() =>
        new(Get<ChildShare.Core.Storage.UploadStagingStore>(), Get<LinkageStore>(), Get<ILinkageLock>(), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<IncrementalLinker>.Instance) { Options = WithResolver };

    private static async Task LinkAsync(IncrementalLinker linker, string uploadId, IEnumerable<LinkSubject> subjects)
    {
        foreach (var subject in subjects)
        {
            await linker.LinkAsync(subject with { UploadId = uploadId }, Pseudonymizer);
        }

        await linker.CompleteUploadAsync(uploadId);
    }

    private async Task<Dictionary<string, (string Cluster, string Rule)>> NodesAsync() =>
        (await _storage.ReadAllAsync(ChildShare.Core.Storage.LinkageTables.Records)).Where(n => n.GetString("ClusterKey") is not null)
            .ToDictionary(n => n.RowKey, n => (n.GetString("ClusterKey"), n.GetString("Rule") ?? ""), StringComparer.Ordinal);

    private void Dump(string label, Dictionary<string, (string Cluster, string Rule)> nodes, Dictionary<string, string> names)
    {
        output.WriteLine(label);
        foreach (var (key, (cluster, rule)) in nodes.OrderBy(n => n.Value.Cluster, StringComparer.Ordinal))
        {
            output.WriteLine($"  {names[key]} -> {names.GetValueOrDefault(cluster, cluster)} {rule}");
        }
    }

    // Finding 3 through storage: the same upload of provider r delivered twice.
    [Fact]
    public async Task CompleteUploadAsync_TheSameUploadDeliveredAgain_MovesNoRecord()
    {
        var pa = Subject("prov-p", "a", "LIAM", "Male");
        var qb = Subject("prov-q", "b", "LIAM", "Male", ssid: "S1");
        var pc = Subject("prov-p", "c", "LIAM", "Male", ssid: "S1");
        var rx = Subject("prov-r", "x", null, null);
        var re = Subject("prov-r", "emma", "EMMA", "Female");
        var names = new[] { (pa, "p|a"), (qb, "q|b"), (pc, "p|c"), (rx, "r|x"), (re, "r|emma") }.ToDictionary(s => Key(s.Item1), s => s.Item2);
        var linker = Linker();
        await LinkAsync(linker, "u-pa", [pa]);
        await LinkAsync(linker, "u-q", [qb]);
        await LinkAsync(linker, "u-pc", [pc]);
        await LinkAsync(linker, "u-r", [rx, re]);
        var before = await NodesAsync();
        Dump("first delivery", before, names);
        foreach (var n in before.Values.Select(v => v.Cluster).Distinct())
        {
            names.TryAdd(n, names.GetValueOrDefault(n, n));
        }

        await LinkAsync(linker, "u-r-again", [rx, re]);
        var after = await NodesAsync();
        Dump("re-delivery", after, names);

        Assert.Equal(before.Values.Select(v => v.Cluster).Distinct().Count(), after.Values.Select(v => v.Cluster).Distinct().Count());
        Assert.Equal(before.ToDictionary(b => b.Key, b => b.Value.Cluster), after.ToDictionary(a => a.Key, a => a.Value.Cluster));
    }

    // Finding 1 through storage: the resolver's mark is overwritten by a later strong link, so the rival's upload undoes nothing; with
    // the rival uploaded first the record joins neither twin.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CompleteUploadAsync_RivalUploadedLastOrFirst_GivesOneCount(bool rivalFirst)
    {
        var aLiam = Subject("prov-a", "liam", "LIAM", "Male");
        var dLiam = Subject("prov-d", "liam", "LIAM", "Male");
        var c1 = Subject("prov-c", "1", null, null, ssid: "S77");
        var e1 = Subject("prov-e", "1", null, null, ssid: "S77");
        var emma = Subject("prov-b", "emma", "EMMA", "Female");
        var linker = Linker();
        if (rivalFirst)
        {
            await LinkAsync(linker, "u-b", [emma]);
        }

        await LinkAsync(linker, "u-a", [aLiam]);
        await LinkAsync(linker, "u-d", [dLiam]);
        await LinkAsync(linker, "u-c", [c1]);
        await LinkAsync(linker, "u-e", [e1]);
        if (!rivalFirst)
        {
            await LinkAsync(linker, "u-b", [emma]);
        }

        var nodes = await NodesAsync();
        var names = new[] { (aLiam, "a|liam"), (dLiam, "d|liam"), (c1, "c|1"), (e1, "e|1"), (emma, "b|emma") }.ToDictionary(s => Key(s.Item1), s => s.Item2);
        Dump(rivalFirst ? "rival first" : "rival last", nodes, names);

        Assert.Equal(3, nodes.Values.Select(v => v.Cluster).Distinct().Count());
        Assert.NotEqual(nodes[Key(c1)].Cluster, nodes[Key(aLiam)].Cluster);
    }
}

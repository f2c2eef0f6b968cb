using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using Xunit.Abstractions;
using static ChildShare.Tests.Linkage.EngineHarness;

namespace ChildShare.Tests.Linkage;

/// <summary>Adversary 33, round 4: the same-provider challenge, Detach's refusal of weak same-provider pairs, larger households.</summary>
public sealed class Adversary33Round4Tests(ITestOutputHelper output)
{
    private static readonly LinkModelOptions WithResolver = LinkModelOptions.Default with { HouseholdResolver = true };

    private static readonly LinkModelOptions WithoutResolver = LinkModelOptions.Default with { HouseholdResolver = false };

    private void Dump(LinkageEngine engine, string label)
    {
        output.WriteLine(label + ": " + Partition(engine));
        foreach (var c in engine.Clusters())
        {
            foreach (var k in c)
            {
                output.WriteLine($"  {k} -> {engine.ClusterKeyOf(k)} {engine.RuleOf(k)} joined={engine.StateOf(k).ResolverJoined}");
            }
        }
    }

    internal static readonly Dictionary<string, (string Key, LinkEncoding Encoding)[]> Households = new()
    {
        ["liam+dup-noname-at-c-ssid"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02", ssid: "S9")),
            ("c|2", Enc(null, "Dinnison", "2015-03-02", ssid: "S9")),
            ("b|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
        ],
        ["liam-ssid+two-noname-at-c-one-ssid+noname-d"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("c|2", Enc(null, "Dinnison", "2015-03-02", ssid: "L1")),
            ("d|1", Enc(null, "Dinnison", "2015-03-02")),
        ],
        ["twins-ssid+noname-ssid-emma+liam-c-noaddress+noname-d"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", ssid: "E1", sex: Sex.Female)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02", ssid: "E1")),
            ("c|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male, address: null)),
            ("d|1", Enc(null, "Dinnison", "2015-03-02")),
        ],
        ["twins-emma-noaddress+noname-pair-ssid+liam-at-d"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female, address: null)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02", ssid: "X1")),
            ("d|1", Enc(null, "Dinnison", "2015-03-02", ssid: "X1")),
            ("d|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
        ],
        ["liam+liam-c-noaddress+noname-c+noname-d-ssid"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male)),
            ("c|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male, address: null)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("d|1", Enc(null, "Dinnison", "2015-03-02", ssid: "L1")),
        ],
        ["liam+noname-c+noname-d-noaddress+sibling"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("a|noah", Enc("Noah", "Dinnison", "2012-07-19", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("d|1", Enc(null, "Dinnison", "2015-03-02", address: null)),
            ("d|noah", Enc("Noah", "Dinnison", "2012-07-19", sex: Sex.Male, address: null)),
        ],
        ["twins+noname-c-ssid-liam+noname-d+emma-at-c"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02", ssid: "L1")),
            ("c|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
            ("d|1", Enc(null, "Dinnison", "2015-03-02")),
        ],
        // Records sent twice (a new version): c's duplicates gain a sex; a record without first name gains one.
        ["liam+dup-noname-at-c-ssid+new-version-male+emma"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02", ssid: "S9")),
            ("c|2", Enc(null, "Dinnison", "2015-03-02", ssid: "S9")),
            ("c|2", Enc(null, "Dinnison", "2015-03-02", ssid: "S9", sex: Sex.Male)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
        ],
        ["twins+noname-c+new-version-female+liam-d"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("c|1", Enc(null, "Dinnison", "2015-03-02", sex: Sex.Female)),
            ("d|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
        ],
        ["liam+noname-c+new-version-address+noname-d"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("c|1", Enc(null, "Dinnison", "2015-03-02", address: "99ELMAVENUE")),
            ("d|1", Enc(null, "Dinnison", "2015-03-02")),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female, address: null)),
        ],
        ["six:twins-ssid+noname-c-ssid-emma+noname-d-noaddress+liam-d+noah"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", ssid: "E1", sex: Sex.Female)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02", ssid: "E1")),
            ("d|1", Enc(null, "Dinnison", "2015-03-02", address: null)),
            ("d|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("a|noah", Enc("Noah", "Dinnison", "2012-07-19", sex: Sex.Male)),
        ],
        ["six:liam-ssid+noname-c+noname-c-ssid+noname-d+liam-e-noaddress-ssid+noah-e"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("c|2", Enc(null, "Dinnison", "2015-03-02", ssid: "L1")),
            ("d|1", Enc(null, "Dinnison", "2015-03-02")),
            ("e|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male, address: null)),
            ("e|noah", Enc("Noah", "Dinnison", "2012-07-19", sex: Sex.Male)),
        ],
    };

    public static TheoryData<string> HouseholdNames() => [.. Households.Keys];

    private (Dictionary<string, List<string>> Results, List<string> Problems) Run(IReadOnlyList<(string Key, LinkEncoding Encoding)> records, LinkModelOptions options)
    {
        var results = new Dictionary<string, List<string>>();
        var problems = new List<string>();
        foreach (var order in Permutations(records))
        {
            var label = string.Join(" ", order.Select(o => o.Key));
            var engine = new LinkageEngine(options);
            var reloaded = new LinkageEngine(options);
            foreach (var (key, encoding) in order)
            {
                Add(engine, key, encoding);
                engine.ResolveHouseholds();
                reloaded = Reload(reloaded);
                Add(reloaded, key, encoding);
                reloaded.ResolveHouseholds();
            }

            foreach (var (name, e) in new[] { ("mem", engine), ("reload", reloaded) })
            {
                var partition = Partition(e);
                if (!results.TryGetValue(partition, out var orders))
                {
                    results[partition] = orders = [];
                }

                orders.Add(name + ": " + label);
            }

            if (Partition(engine) == Partition(reloaded))
            {
                foreach (var (key, _) in order)
                {
                    if (engine.RuleOf(key) != reloaded.RuleOf(key))
                    {
                        problems.Add($"rule {label}: {key} mem '{engine.RuleOf(key)}' reload '{reloaded.RuleOf(key)}'");
                    }
                }
            }

            var again = Reload(reloaded);
            foreach (var (key, encoding) in order)
            {
                Add(again, key, encoding);
            }

            again.ResolveHouseholds();
            foreach (var change in again.Changes())
            {
                problems.Add($"redelivery {label}: {change.Key} -> {change.ClusterKey} {change.Rule}");
            }

            foreach (var c in engine.Clusters().Concat(reloaded.Clusters()))
            {
                if (c.Any(k => k.EndsWith("liam", StringComparison.Ordinal)) && c.Any(k => k.EndsWith("emma", StringComparison.Ordinal)))
                {
                    problems.Add($"twins joined {label}: {string.Join(",", c)}");
                }

                if (c.Any(x => c.Any(y => string.CompareOrdinal(x, y) < 0 && x[..x.IndexOf('|')] == y[..y.IndexOf('|')] && !engine.ScoreOf(x, y).Strong)))
                {
                    problems.Add($"two ids of one provider beside a resolver join {label}: {string.Join(",", c)}");
                }
            }
        }

        foreach (var (partition, orders) in results)
        {
            output.WriteLine($"{partition}  <- {orders.Count} runs, e.g. {orders[0]}");
        }

        foreach (var p in problems.Take(30))
        {
            output.WriteLine(p);
        }

        return (results, problems);
    }

    [Theory]
    [MemberData(nameof(HouseholdNames))]
    public void AnyArrivalOrder_InMemoryAndReloaded_GivesOnePartition(string household)
    {
        output.WriteLine("resolver off:");
        var (off, _) = Run(Households[household], WithoutResolver);
        output.WriteLine("resolver on:");
        var (results, problems) = Run(Households[household], WithResolver);
        Assert.Single(off);
        Assert.Single(results);
        Assert.Empty(problems);
    }
}

/// <summary>The same-provider challenge on later uploads, and the stored mark of rows written before its column.</summary>
public sealed class Adversary33Round4LoopTests(ITestOutputHelper output)
{
    private static readonly LinkModelOptions WithResolver = LinkModelOptions.Default with { HouseholdResolver = true };

    private void Dump(LinkageEngine engine, string label)
    {
        output.WriteLine(label + ": " + Partition(engine));
        foreach (var c in engine.Clusters())
        {
            foreach (var k in c)
            {
                output.WriteLine($"  {k} -> {engine.ClusterKeyOf(k)} {engine.RuleOf(k)} joined={engine.StateOf(k).ResolverJoined}");
            }
        }
    }

    /// <summary>
    /// Provider c's two records of one child (one state id: a strong link) joined by the resolver to a's Liam; c then sends a new
    /// version of one record on every upload. Each upload should move nothing but that record.
    /// </summary>
    [Fact]
    public void NewVersionOfAProviderDuplicate_OnEveryUpload_MovesNoOtherRecord()
    {
        var engine = new LinkageEngine(WithResolver);
        foreach (var (key, enc) in new[]
        {
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02", ssid: "S9")),
            ("c|2", Enc(null, "Dinnison", "2015-03-02", ssid: "S9")),
        })
        {
            Add(engine, key, enc);
            engine.ResolveHouseholds();
        }

        Dump(engine, "start");
        var problems = new List<string>();
        var versions = new[]
        {
            Enc(null, "Dinnison", "2015-03-02", ssid: "S9", sex: Sex.Male),
            Enc(null, "Dinnison", "2015-03-02", ssid: "S9", zip: "12346"),
            Enc(null, "Dinnison", "2015-03-02", ssid: "S9"),
            Enc(null, "Dinnison", "2015-03-02", ssid: "S9", sex: Sex.Male),
        };
        foreach (var (version, i) in versions.Select((v, i) => (v, i)))
        {
            var before = Partition(engine);
            var reloaded = Reload(engine);
            Add(reloaded, "c|2", version);
            reloaded.ResolveHouseholds();
            Dump(reloaded, "upload " + i);
            // No other record moves; the first new version may correct a|liam's reason once (the join it named no longer holds it:
            // its own link does, Finding 2), after that nothing else is rewritten.
            foreach (var change in reloaded.Changes().Where(c => c.Key != "c|2" && (i > 0 || c.ClusterKey != engine.ClusterKeyOf(c.Key))))
            {
                problems.Add($"upload {i}: {change.Key} -> {change.ClusterKey} {change.Rule}");
            }

            if (Partition(reloaded) != before)
            {
                problems.Add($"upload {i}: {before} became {Partition(reloaded)}");
            }

            engine = reloaded;
        }

        foreach (var p in problems)
        {
            output.WriteLine(p);
        }

        Assert.Empty(problems);
    }

    /// <summary>
    /// Rows written before the ResolverJoined column carry the join only in their rule ("... household-resolved"); they read as
    /// false. A rival arriving after the upgrade should still undo the join, as one engine does.
    /// </summary>
    [Fact]
    public void RowsWrittenBeforeTheColumn_ARivalStillUndoesTheJoin()
    {
        var memory = new LinkageEngine(WithResolver);
        foreach (var (key, enc) in new[]
        {
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
        })
        {
            Add(memory, key, enc);
            memory.ResolveHouseholds();
        }

        Dump(memory, "joined");
        var old = new LinkageEngine(WithResolver);
        foreach (var key in memory.Clusters().SelectMany(c => c).Order(StringComparer.Ordinal))
        {
            old.Load(memory.StateOf(key) with { ResolverJoined = false });
        }

        var emma = Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female);
        Add(memory, "b|emma", emma);
        memory.ResolveHouseholds();
        Add(old, "b|emma", emma);
        old.ResolveHouseholds();
        Dump(memory, "one engine, Emma arrived");
        Dump(old, "engine loaded from old rows, Emma arrived");
        Assert.Equal(Partition(memory), Partition(old));
    }

    /// <summary>
    /// The resolver joins a's Liam to c's two records of one child (a state id); c sends a new version of c|2 with its sex (male).
    /// The same-provider challenge detaches, Detach finds the cluster held together (the new version is accepted against Liam),
    /// clears the mark, yet a's Liam keeps the resolver's join as its reason. Emma arriving then should undo the join as when she
    /// arrives before the new version.
    /// </summary>
    [Fact]
    public void NewVersionThenRival_DecidesAsRivalThenNewVersion()
    {
        var records = new[]
        {
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02", ssid: "S9")),
            ("c|2", Enc(null, "Dinnison", "2015-03-02", ssid: "S9")),
        };
        var male = Enc(null, "Dinnison", "2015-03-02", ssid: "S9", sex: Sex.Male);
        var emma = Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female);
        var partitions = new List<string>();
        foreach (var emmaFirst in new[] { true, false })
        {
            var engine = new LinkageEngine(WithResolver);
            foreach (var (key, enc) in records)
            {
                Add(engine, key, enc);
                engine.ResolveHouseholds();
                engine = Reload(engine);
            }

            foreach (var (key, enc) in emmaFirst ? new[] { ("b|emma", emma), ("c|2", male) } : new[] { ("c|2", male), ("b|emma", emma) })
            {
                Add(engine, key, enc);
                engine.ResolveHouseholds();
                Dump(engine, (emmaFirst ? "emma first" : "new version first") + ", after " + key);
                engine = Reload(engine);
            }

            output.WriteLine($"score a|liam c|2: {engine.ScoreOf("a|liam", "c|2").Weight} {engine.ScoreOf("a|liam", "c|2").Pattern}");
            partitions.Add(Partition(engine) + " | a|liam: " + engine.RuleOf("a|liam"));
        }

        // The same partition either way; the stored reason of a's Liam should not depend on the order either.
        Assert.Equal(partitions[0], partitions[1]);
    }
}

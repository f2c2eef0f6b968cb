using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using Xunit.Abstractions;
using static ChildShare.Tests.Linkage.EngineHarness;

namespace ChildShare.Tests.Linkage;

/// <summary>Adversary 33 (final review): AddUnlinkedNeighbours, the key-ordered tie-break and the single mark of TryResolve.</summary>
public sealed class Adversary33FinalTests(ITestOutputHelper output)
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
                output.WriteLine($"  {k} -> {engine.ClusterKeyOf(k)} {engine.RuleOf(k)}");
            }
        }
    }

    internal static readonly Dictionary<string, (string Key, LinkEncoding Encoding)[]> Households = new()
    {
        // Twins; c and d hold one child without first name (the same state id: a strong link); c also holds Liam.
        ["twins+noname-pair-ssid+liam-at-c"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02", ssid: "S9")),
            ("d|1", Enc(null, "Dinnison", "2015-03-02", ssid: "S9")),
            ("c|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
        ],
        // Twins; two records without first name linked by their state id; Emma at the second one's provider.
        ["twins+noname-pair-ssid+emma-at-d"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02", ssid: "S9")),
            ("d|1", Enc(null, "Dinnison", "2015-03-02", ssid: "S9")),
            ("d|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
        ],
        // Twins, a sibling born another year, records without first name at c (two) and d.
        ["twins+sibling+three-noname"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
            ("a|noah", Enc("Noah", "Dinnison", "2012-07-19", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("c|2", Enc(null, "Dinnison", "2015-03-02")),
            ("d|1", Enc(null, "Dinnison", "2012-07-19")),
        ],
        // Finding 2 (lead: AddUnlinkedNeighbours looks only in the arrivals' address blocks): c's Liam has no address but the state
        // id of a's Liam (a strong link), so c's record without first name can only be Emma.
        ["twins+noname+liam-at-c-noaddress-ssid"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("c|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male, address: null)),
        ],
        // The same with c's Liam at a mistyped address (another address block).
        ["twins+noname+liam-at-c-otheraddress-ssid"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("c|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male, address: "99ELMAVENUE")),
        ],
        // Finding 4: no twin at all; c's Liam strong-links (state id) to a's Liam after the resolver joined c's record without
        // first name to a's Liam: two local ids of c in one cluster, depending on the order.
        ["liam+noname-at-c+liam-at-c-ssid"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("c|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male)),
        ],
        // The same without the state id (an accepted link, not a strong one).
        ["liam+noname-at-c+liam-at-c"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("c|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
        ],
        // Twins both at a, Liam at b, two records without first name at c, a female one without first name at d.
        ["twins-at-a+liam-at-b+two-noname-at-c+female-noname-at-d"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("a|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
            ("b|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("c|2", Enc(null, "Dinnison", "2015-03-02")),
            ("d|1", Enc(null, "Dinnison", "2015-03-02", sex: Sex.Female)),
        ],
        // Twins with Emma only visible by her birth date (no address), a record without first name at c, a Liam at c.
        ["twins-emma-noaddress+noname+liam-at-c"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female, address: null)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("c|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("d|1", Enc(null, "Dinnison", "2015-03-02")),
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

            // A different-sex pair in one cluster.
            foreach (var c in engine.Clusters().Concat(reloaded.Clusters()))
            {
                if (c.Any(k => k.EndsWith("liam", StringComparison.Ordinal)) && c.Any(k => k.EndsWith("emma", StringComparison.Ordinal)))
                {
                    problems.Add($"twins joined {label}: {string.Join(",", c)}");
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

    /// <summary>
    /// Finding 3: the resolver joins c's record without first name to a's Liam; c's Liam then arrives with a's Liam's state id (a
    /// strong link) and joins the cluster too: two local ids of provider c in one cluster, though a provider's two local ids are two
    /// children. Emma arriving later does not take the join apart. Resolver off: c|1 stays alone.
    /// </summary>
    [Theory]
    [InlineData(null)]
    [InlineData("99ELMAVENUE")]
    [InlineData(Street)]
    public void ResolverJoinThenAStrongLinkFromTheSameProvider_NeverHoldsTwoLocalIdsOfOneProvider(string? cLiamAddress)
    {
        var engine = new LinkageEngine(WithResolver);
        foreach (var (key, enc) in new[]
        {
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("c|liam", Enc("Liam", "Dinnison", "2015-03-02", ssid: "L1", sex: Sex.Male, address: cLiamAddress)),
            ("b|emma", Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female)),
        })
        {
            Add(engine, key, enc);
            engine.ResolveHouseholds();
            Dump(engine, "after " + key);
        }

        foreach (var (x, y) in new[] { ("c|1", "a|liam"), ("c|1", "c|liam"), ("c|1", "b|emma"), ("a|liam", "c|liam") })
        {
            var score = engine.ScoreOf(x, y);
            output.WriteLine($"score {x} {y}: {score.Weight} strong={score.Strong} {score.Pattern}");
        }

        Assert.All(engine.Clusters(), c => Assert.Equal(c.Count, c.Select(k => k[..k.IndexOf('|')]).Distinct().Count()));
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

/// <summary>
/// Finding 1: the mark lives only on the side whose reason became the join; an operator merge of that side with a record outside
/// the household replaces its stored rule by "operator-merge" (Node.Rule drops the mark), so the stored rows no longer tell that the
/// cluster holds a resolver join. One engine still undoes the join when a rival (Emma) arrives; an engine loaded from storage cannot.
/// </summary>
public sealed class Adversary33FinalMarkTests(ITestOutputHelper output)
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

    [Fact]
    public void OperatorMergeOfTheMarkedSide_ThenARival_OneEngineAndAReloadedEngineAgree()
    {
        var memory = new LinkageEngine(WithResolver);
        foreach (var (key, enc) in new[]
        {
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("b|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("c|1", Enc(null, "Dinnison", "2015-03-02")),
            ("d|1", Enc(null, "Dinnison", "2015-03-02", zip: "99999", address: "7OTHERROAD")),
        })
        {
            Add(memory, key, enc);
            memory.ResolveHouseholds();
        }

        Dump(memory, "joined");
        memory.Merge("c|1", "d|1");
        memory.ResolveHouseholds();
        Dump(memory, "after the operator's merge of c|1 and d|1");
        var reloaded = Reload(memory);

        var emma = Enc("Emma", "Dinnison", "2015-03-02", sex: Sex.Female);
        Add(memory, "e|emma", emma);
        memory.ResolveHouseholds();
        Add(reloaded, "e|emma", emma);
        reloaded.ResolveHouseholds();
        Dump(memory, "one engine, Emma arrived");
        Dump(reloaded, "reloaded engine, Emma arrived");
        Assert.Equal(Partition(memory), Partition(reloaded));
    }
}

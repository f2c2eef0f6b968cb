using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using Xunit.Abstractions;
using static ChildShare.Tests.Linkage.EngineHarness;

namespace ChildShare.Tests.Linkage;

/// <summary>Adversary 33, round 5: Detach's "held" test against the first pass's whole-cluster contradiction.</summary>
public sealed class Adversary33Round5Tests(ITestOutputHelper output)
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

    private string RunOrder(IEnumerable<(string Key, LinkEncoding Enc)> order, bool reload, string label)
    {
        var engine = new LinkageEngine(WithResolver);
        foreach (var (key, enc) in order)
        {
            Add(engine, key, enc);
            engine.ResolveHouseholds();
            Dump(engine, label + " after " + key);
            if (reload)
            {
                engine = Reload(engine);
            }
        }

        var keys = order.Select(o => o.Key).Order(StringComparer.Ordinal).ToList();
        foreach (var x in keys)
        {
            foreach (var y in keys.Where(y => string.CompareOrdinal(x, y) < 0))
            {
                var sc = engine.ScoreOf(x, y);
                output.WriteLine($"  score {x} {y}: {sc.Weight:0.0} strong={sc.Strong} guarded={sc.Guarded} {sc.Pattern} contradicts={MatchScorer.Contradicts(sc.Pattern, WithResolver)} eligible={LinkageEngine.HouseholdEligible(sc.Pattern)}");
            }
        }

        return Partition(engine);
    }

    internal static readonly Dictionary<string, (string Key, LinkEncoding Encoding)[]> Households = new()
    {
        // a's Liam (male) and c's Liam (no sex) link; d's record has the names exchanged and is female: against c's Liam it is
        // accepted and no contradiction, against a's Liam a contradiction (sex different, and not MistypedSex as the names are
        // swapped) that Compatible tolerates (first exact, dob exact). e's record without a first name is the rival.
        ["swapped-female+liam-pair+noname-e"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("c|liam", Enc("Liam", "Dinnison", "2015-03-02")),
            ("d|swap", Enc("Dinnison", "Liam", "2015-03-02", sex: Sex.Female)),
            ("e|1", Enc(null, "Dinnison", "2015-03-02")),
        ],
        // The same, with c's record swapped instead: d's female record has c's spelling exactly (no sex on c), a's male Liam swapped.
        ["swapped-c+liam-a+female-d+noname-e"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("c|liam", Enc("Dinnison", "Liam", "2015-03-02")),
            ("d|swap", Enc("Dinnison", "Liam", "2015-03-02", sex: Sex.Female)),
            ("e|1", Enc(null, "Dinnison", "2015-03-02")),
        ],
        ["swapped-c+liam-a+female-d+noname-e-swapped"] =
        [
            ("a|liam", Enc("Liam", "Dinnison", "2015-03-02", sex: Sex.Male)),
            ("c|liam", Enc("Dinnison", "Liam", "2015-03-02")),
            ("d|swap", Enc("Dinnison", "Liam", "2015-03-02", sex: Sex.Female)),
            ("e|1", Enc(null, "Liam", "2015-03-02")),
        ],
    };

    public static TheoryData<string> HouseholdNames() => [.. Households.Keys];

    [Theory]
    [MemberData(nameof(HouseholdNames))]
    public void RivalLast_DecidesAsRivalFirst(string household)
    {
        var records = Households[household];
        var rival = records[^1];
        var rest = records[..^1];
        var first = RunOrder([rival, .. rest], reload: false, "rival first");
        var last = RunOrder([.. rest, rival], reload: false, "rival last");
        var lastReloaded = RunOrder([.. rest, rival], reload: true, "rival last, reloaded");
        output.WriteLine($"rival first: {first}\nrival last: {last}\nrival last reloaded: {lastReloaded}");
        Assert.Equal(first, last);
        Assert.Equal(first, lastReloaded);
    }
}

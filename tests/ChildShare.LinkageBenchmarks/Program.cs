using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ChildShare.Cli.Synthetic;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using ChildShare.LinkageBenchmarks;

// Two benchmarks of record linkage on the synthetic community (the generator of the ingestion issue).
//   memory [children] [resolver|no-resolver]  links 100,000 children (default) from 5 providers with the in-memory engine, against
//                                hashing the tokens alone in the same run: time, allocations, peak working set, quality.
//   storage [children] [probe]   links the community through table storage (Azurite) upload by upload and, as the
//                                store grows, times linking a probe upload of the same size each time: the ratio to
//                                the first probe shows whether linking grows with the upload or with the community.
//   production [fresh2|fresh|reporting] [small]  the generated sets linked through table storage (Azurite) by the production
//                                linker, default and household resolver on, beside the in-memory figures of the same sets.
//   quality [tuning|reporting|fresh|fresh2]  linkage quality on generated rosters (tuning, reporting or fresh seeds) and FEBRL, the ablation of the
//                                model's comparisons, the twin guard's effect and the cost of each Bloom hardening.
//   diagnose [two|six|twins]     tuning seed only: the patterns of the true pairs missed and the false pairs joined.
//   diagnose causes [patterns]   tuning seeds and dataset2 (TUNED-ON): why each missed true pair was missed, per set (and by pattern).
//   twins [summary]              tuning seeds only: how each joined twin pair was joined (keyed agreement patterns only).
//   guards [sets]                tuning seeds only: each twin guard with the household resolver off and on.
//   grid [all]                   tuning seeds only: the twin guard's household weight against the accept weight.
//   estimate                     estimates the model (EM) on the tuning seeds' rosters and prints it as the C# of MatchModel.Default.
string[] modes = ["storage", "memory", "quality", "production", "estimate", "diagnose", "grid", "twins", "guards"];
var mode = modes.Contains(args.FirstOrDefault()) ? args[0] : "memory";
var rest = args.SkipWhile(modes.Contains).ToArray();
switch (mode)
{
    case "storage":
        return await StorageBenchmark.RunAsync(rest);
    case "quality":
        return QualityBenchmark.Run(rest);
    case "production":
        return await ProductionQualityBenchmark.RunAsync(rest);
    case "estimate":
        return QualityBenchmark.Estimate(rest);
    case "diagnose":
        return QualityBenchmark.Diagnose(rest);
    case "grid":
        return QualityBenchmark.Grid(rest);
    case "twins":
        return QualityBenchmark.Twins(rest);
    case "guards":
        return QualityBenchmark.Guards(rest);
}

// "memory resolver" / "memory no-resolver": the household resolver switched on or off whatever the default says.
var engineOptions = rest.Contains("resolver") ? LinkModelOptions.Default with { HouseholdResolver = true }
    : rest.Contains("no-resolver") ? LinkModelOptions.Default with { HouseholdResolver = false } : LinkModelOptions.Default;
rest = rest.Where(a => a is not "resolver" and not "no-resolver").ToArray();
var children = rest.Length > 0 ? int.Parse(rest[0], CultureInfo.InvariantCulture) : CommunitySpec.Benchmark.Children;
var spec = CommunitySpec.Benchmark with { Children = children, ServiceRows = children * 10 };
var subjects = await Community.LoadSubjectsAsync(spec);
var pseudonymizer = new Pseudonymizer(new PseudonymKey("bench-1", SHA256.HashData(Encoding.UTF8.GetBytes("linkage benchmark key"))));
var providerChildren = subjects.Select(s => s.Provider + "|" + s.LocalId).Distinct().Count();
Console.WriteLine($"{subjects.Count:N0} distinct provider-child identities ({providerChildren:N0} provider children) from {spec.Providers} providers, {children:N0} children; household resolver {(engineOptions.HouseholdResolver ? "on" : "off")}");

// Warm-up (JIT, HMAC) on the first 2,000.
RunHashing(subjects.Take(2000).ToList(), pseudonymizer);
RunLinking(subjects.Take(2000).ToList(), pseudonymizer);
Collect();

var baseMemory = GC.GetTotalMemory(true);
// CPU time of the process beside wall time: on a shared machine (other builds running) the wall time of a phase depends on the
// scheduler, its CPU time much less (every phase is single-threaded; the GC's own threads are counted too).
var hashCpu = Cpu();
var hashing = Stopwatch.StartNew();
var hashAllocated = GC.GetTotalAllocatedBytes(true);
var exactTokens = RunHashing(subjects, pseudonymizer);
hashing.Stop();
hashCpu = Cpu() - hashCpu;
hashAllocated = GC.GetTotalAllocatedBytes(true) - hashAllocated;
var hashRetained = GC.GetTotalMemory(true) - baseMemory;
GC.KeepAlive(exactTokens);
exactTokens = null;
Collect();
var peakAfterHashing = Process.GetCurrentProcess().PeakWorkingSet64;

baseMemory = GC.GetTotalMemory(true);
var linkAllocated = GC.GetTotalAllocatedBytes(true);
var linkCpu = Cpu();
var encoding = Stopwatch.StartNew();
var encoder = new LinkEncoder(pseudonymizer);
var encodings = subjects.Select(s => encoder.Encode(LinkInputs.From(s.Identity, s.Demographics))).ToList();
encoding.Stop();
var encodingCpu = Cpu() - linkCpu;
var linking = Stopwatch.StartNew();
var engine = new LinkageEngine(engineOptions);
var keys = new string[subjects.Count];
for (var n = 0; n < subjects.Count; n++)
{
    var (provider, localId, _, _) = subjects[n];
    keys[n] = RecordKeys.ProviderChild(provider, RecordKeys.LocalToken(pseudonymizer, provider, localId));
    engine.Add(keys[n], provider, IncrementalLinker.SeedOf(pseudonymizer, keys[n]), encodings[n]);
}

engine.ResolveHouseholds();

linking.Stop();
linkCpu = Cpu() - linkCpu;
linkAllocated = GC.GetTotalAllocatedBytes(true) - linkAllocated;
var linkRetained = GC.GetTotalMemory(true) - baseMemory;
var peak = Process.GetCurrentProcess().PeakWorkingSet64;

// Quality against the generator's truth (the local ids encode the synthetic child).
var truth = subjects.Select(s => TruthOf(s.Provider, s.LocalId)).ToArray();
var clusterOf = keys.Select(engine.ClusterKeyOf).ToArray();
var byNode = new Dictionary<string, (int Truth, string Cluster)>(StringComparer.Ordinal);
for (var n = 0; n < keys.Length; n++)
{
    byNode[keys[n]] = (truth[n], clusterOf[n]);
}

var trueChildren = byNode.Values.Select(v => v.Truth).Distinct().Count();
var found = byNode.Values.Select(v => v.Cluster).Distinct().Count();
var (precision, recall) = PairQuality(byNode.Values.ToList());

// The engine's decisions as a digest (every provider child's cluster key and reason code, every review pair): a change made for
// speed must print the same digest as the build before it.
var decisions = byNode.Keys.Select(k => $"{k} {engine.ClusterKeyOf(k)} {engine.RuleOf(k)}")
    .Concat(engine.Reviews().Select(r => string.Create(CultureInfo.InvariantCulture, $"review {r.KeyA} {r.KeyB} {r.Weight:F9} {r.Pattern.Packed} {r.Ambiguous}")))
    .Order(StringComparer.Ordinal);
var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', decisions))));

var total = encoding.Elapsed + linking.Elapsed;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
    token hashing alone (local token + exact token per identity): {hashing.Elapsed.TotalSeconds:F2} s, allocated {hashAllocated / 1e6:F0} MB, retained {hashRetained / 1e6:F0} MB
    linkage encoding (up to {LinkEncoding.KindCount} tokens + 2 name Bloom filters):    {encoding.Elapsed.TotalSeconds:F2} s
    linkage engine (index, candidates, rules, clusters):           {linking.Elapsed.TotalSeconds:F2} s
    linkage total:                                                 {total.TotalSeconds:F2} s = {total / hashing.Elapsed:F1} x hashing alone; allocated {linkAllocated / 1e6:F0} MB, retained {linkRetained / 1e6:F0} MB
    CPU time: hashing alone {hashCpu.TotalSeconds:F2} s, linkage (encoding and engine) {linkCpu.TotalSeconds:F2} s = {linkCpu / hashCpu:F1} x hashing alone (encoding {encodingCpu.TotalSeconds:F2} s, engine {(linkCpu - encodingCpu).TotalSeconds:F2} s)
    peak working set: {peakAfterHashing / 1e6:F0} MB after hashing alone, {peak / 1e6:F0} MB after linking (whole process, parsed rows included)
    clusters {found:N0} for {trueChildren:N0} true children present (count error {(double)(found - trueChildren) / trueChildren:+0.00%;-0.00%}); pairwise precision {precision:F4}, recall {recall:F4}
    decisions digest {digest}
    """));
return 0;

static List<string> RunHashing(List<Subject> subjects, Pseudonymizer pseudonymizer)
{
    // What ingestion does per record with the exact-match linker: the local token and one child token.
    var tokens = new List<string>(subjects.Count * 2);
    foreach (var (provider, localId, identity, _) in subjects)
    {
        tokens.Add(RecordKeys.LocalToken(pseudonymizer, provider, localId));
        tokens.Add(pseudonymizer.Token("child-exact-v1", identity.FirstName.Match ?? "", identity.LastName.Match ?? "",
            identity.BirthDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? ""));
    }

    return tokens;
}

static void RunLinking(List<Subject> subjects, Pseudonymizer pseudonymizer)
{
    var encoder = new LinkEncoder(pseudonymizer);
    var engine = new LinkageEngine();
    foreach (var (provider, localId, identity, demographics) in subjects)
    {
        engine.Add(provider + "|" + localId, provider, provider + localId, encoder.Encode(LinkInputs.From(identity, demographics)));
    }
}

static TimeSpan Cpu() => Process.GetCurrentProcess().TotalProcessorTime;

static void Collect()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
}

static int TruthOf(string provider, string localId) => provider switch
{
    "district-north" => int.Parse(localId[1..], CultureInfo.InvariantCulture) - 100_000,
    "bright-futures" => int.Parse(localId[3..], CultureInfo.InvariantCulture) / 7,
    "valley-clinic" => (int.Parse(localId[3..], CultureInfo.InvariantCulture) - 5) / 13,
    "early-steps" => int.Parse(localId[2..], CultureInfo.InvariantCulture),
    _ => int.Parse(localId[2..], CultureInfo.InvariantCulture) - 500_000,
};

static (double Precision, double Recall) PairQuality(List<(int Truth, string Cluster)> nodes)
{
    // Pairs counted per group: C(n,2) over clusters, over truths, and over (cluster, truth) cells.
    static long Pairs(IEnumerable<int> sizes) => sizes.Sum(n => (long)n * (n - 1) / 2);
    var found = Pairs(nodes.GroupBy(n => n.Cluster, StringComparer.Ordinal).Select(g => g.Count()));
    var truePairs = Pairs(nodes.GroupBy(n => n.Truth).Select(g => g.Count()));
    var correct = Pairs(nodes.GroupBy(n => (n.Cluster, n.Truth)).Select(g => g.Count()));
    return (found == 0 ? 1 : (double)correct / found, truePairs == 0 ? 1 : (double)correct / truePairs);
}

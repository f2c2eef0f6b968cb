using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ChildShare.Cli.Synthetic;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;

// Links the synthetic benchmark community (100,000 children, 5 providers, 1,000,000 service rows)
// with the in-memory linkage engine, and compares it with hashing the tokens alone in the same run.
// Rows are read through the real parser and normalizer; each distinct provider child identity
// (a row with a typo is a second variant) is one linkage input. Usage: [children] (default 100000).
var children = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : CommunitySpec.Benchmark.Children;
var spec = CommunitySpec.Benchmark with { Children = children, ServiceRows = children * 10 };
var dir = Path.Combine(Path.GetTempPath(), $"childshare-linkage-bench-{children}");
if (!File.Exists(Path.Combine(dir, "providers.json")))
{
    Console.WriteLine($"writing the synthetic community to {dir} ...");
    new SyntheticCommunity(spec).WriteTo(dir);
}

var today = new DateOnly(2026, 10, 15);
var subjects = new List<(string Provider, string LocalId, ChildIdentity Identity, Demographics Demographics)>();
var seen = new HashSet<string>(StringComparer.Ordinal);
foreach (var (id, _, _) in SyntheticCommunity.ProviderCatalog.Take(spec.Providers))
{
    var file = Directory.GetFiles(dir, id + ".*").Single(f => !f.EndsWith(".json", StringComparison.Ordinal));
    var profile = MappingProfile.Parse(File.ReadAllText(Path.Combine(dir, id + ".profile.json")));
    UploadFingerprint fingerprint;
    using (var stream = File.OpenRead(file))
    {
        fingerprint = await UploadFileReader.FingerprintAsync(stream);
    }

    var normalizer = new RowNormalizer(profile, new IngestionOptions(), today);
    using var content = File.OpenRead(file);
    foreach (var row in UploadFileReader.ReadRows(content, UploadFileReader.EncodingFor(profile, fingerprint), profile.DelimiterFor(Path.GetFileName(file)), profile))
    {
        if (normalizer.Normalize(row.LineNumber, field => row[field]).Record is { } record)
        {
            var i = record.Identity;
            var variant = $"{id}|{i.LocalChildId}|{i.FirstName.Match}|{i.LastName.Match}|{i.BirthDate}|{i.StateStudentId}|{record.Demographics.Sex}|{record.Demographics.Zip}";
            if (seen.Add(variant))
            {
                subjects.Add((id, i.LocalChildId, i, record.Demographics));
            }
        }
    }
}

seen.Clear();
var pseudonymizer = new Pseudonymizer(new PseudonymKey("bench-1", SHA256.HashData(Encoding.UTF8.GetBytes("linkage benchmark key"))));
var providerChildren = subjects.Select(s => s.Provider + "|" + s.LocalId).Distinct().Count();
Console.WriteLine($"{subjects.Count:N0} distinct provider-child identities ({providerChildren:N0} provider children) from {spec.Providers} providers, {children:N0} children");

// Warm-up (JIT, HMAC) on the first 2,000.
RunHashing(subjects.Take(2000).ToList(), pseudonymizer);
RunLinking(subjects.Take(2000).ToList(), pseudonymizer);
Collect();

var baseMemory = GC.GetTotalMemory(true);
var hashing = Stopwatch.StartNew();
var hashAllocated = GC.GetTotalAllocatedBytes(true);
var exactTokens = RunHashing(subjects, pseudonymizer);
hashing.Stop();
hashAllocated = GC.GetTotalAllocatedBytes(true) - hashAllocated;
var hashRetained = GC.GetTotalMemory(true) - baseMemory;
GC.KeepAlive(exactTokens);
exactTokens = null;
Collect();
var peakAfterHashing = Process.GetCurrentProcess().PeakWorkingSet64;

baseMemory = GC.GetTotalMemory(true);
var linkAllocated = GC.GetTotalAllocatedBytes(true);
var encoding = Stopwatch.StartNew();
var encoder = new LinkEncoder(pseudonymizer);
var encodings = subjects.Select(s => encoder.Encode(LinkInput.From(s.Identity, s.Demographics))).ToList();
encoding.Stop();
var linking = Stopwatch.StartNew();
var engine = new LinkageEngine();
var keys = new string[subjects.Count];
for (var n = 0; n < subjects.Count; n++)
{
    var (provider, localId, _, _) = subjects[n];
    keys[n] = RecordKeys.ProviderChild(provider, RecordKeys.LocalToken(pseudonymizer, provider, localId));
    engine.Add(keys[n], provider, IncrementalLinker.SeedOf(pseudonymizer, keys[n]), encodings[n]);
}

linking.Stop();
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

var total = encoding.Elapsed + linking.Elapsed;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
    token hashing alone (local token + exact token per identity): {hashing.Elapsed.TotalSeconds:F2} s, allocated {hashAllocated / 1e6:F0} MB, retained {hashRetained / 1e6:F0} MB
    linkage encoding (13 tokens + 2 name Bloom filters):          {encoding.Elapsed.TotalSeconds:F2} s
    linkage engine (index, candidates, rules, clusters):           {linking.Elapsed.TotalSeconds:F2} s
    linkage total:                                                 {total.TotalSeconds:F2} s = {total / hashing.Elapsed:F1} x hashing alone; allocated {linkAllocated / 1e6:F0} MB, retained {linkRetained / 1e6:F0} MB
    peak working set: {peakAfterHashing / 1e6:F0} MB after hashing alone, {peak / 1e6:F0} MB after linking (whole process, parsed rows included)
    clusters {found:N0} for {trueChildren:N0} true children present (count error {(double)(found - trueChildren) / trueChildren:+0.00%;-0.00%}); pairwise precision {precision:F4}, recall {recall:F4}
    """));

static List<string> RunHashing(List<(string Provider, string LocalId, ChildIdentity Identity, Demographics Demographics)> subjects, Pseudonymizer pseudonymizer)
{
    // What ingestion does per record with the exact-match linker: the local token and one child token.
    var tokens = new List<string>(subjects.Count * 2);
    foreach (var (provider, localId, identity, _) in subjects)
    {
        tokens.Add(RecordKeys.LocalToken(pseudonymizer, provider, localId));
        tokens.Add(pseudonymizer.Token("child-exact-v1", identity.FirstName.Match ?? "", identity.LastName.Match ?? "",
            identity.BirthDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
    }

    return tokens;
}

static void RunLinking(List<(string Provider, string LocalId, ChildIdentity Identity, Demographics Demographics)> subjects, Pseudonymizer pseudonymizer)
{
    var encoder = new LinkEncoder(pseudonymizer);
    var engine = new LinkageEngine();
    foreach (var (provider, localId, identity, demographics) in subjects)
    {
        engine.Add(provider + "|" + localId, provider, provider + localId, encoder.Encode(LinkInput.From(identity, demographics)));
    }
}

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

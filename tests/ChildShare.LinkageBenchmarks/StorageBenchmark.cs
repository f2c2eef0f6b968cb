using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Data.Tables;
using ChildShare.Cli;
using ChildShare.Cli.Synthetic;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChildShare.LinkageBenchmarks;

/// <summary>
/// Incremental linkage through table storage: the community is linked upload by upload with the
/// production <see cref="IChildLinker"/>, and each time the store has doubled, a probe upload of a fixed
/// size (children never seen before) is linked and timed. The baseline is the first probe, measured in
/// the same run on the smallest store; a ratio near 1 at a store 8 or 16 times larger is what "grows with
/// the upload, not with the community" means. Storage is whatever <c>ChildShareStorage</c> names (Azurite
/// by default); tables get a fresh prefix and are left for inspection (delete them or restart Azurite).
/// </summary>
public static class StorageBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var children = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
        var probeSize = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000;
        const int uploadSize = 2_500;
        var spec = CommunitySpec.Benchmark with { Children = children, ServiceRows = children * 10 };
        var subjects = await Community.LoadSubjectsAsync(spec);

        // Provider children in a deterministic mixed order; the probes are reserved from the end and never in the community.
        var providerChildren = subjects.GroupBy(s => s.Provider + "|" + s.LocalId, StringComparer.Ordinal)
            .OrderBy(g => BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(g.Key)), 0))
            .Select(g => g.ToList()).ToList();
        const int probes = 6;
        var probeSets = Enumerable.Range(0, probes).Select(i => providerChildren.Skip(providerChildren.Count - (i + 1) * probeSize).Take(probeSize).ToList()).ToList();
        var community = providerChildren.Take(providerChildren.Count - probes * probeSize).ToList();
        Console.WriteLine($"{children:N0} children: {community.Count:N0} provider children in the community (uploads of {uploadSize:N0}), probes of {probeSize:N0}");

        var prefix = "lb" + Guid.NewGuid().ToString("N")[..8];
        var counter = new RequestCounter();
        await using var services = CliHost.Build([new("Storage:TablePrefix", prefix), new("Storage:UploadsContainer", prefix + "-up"),
            new("Storage:RejectsContainer", prefix + "-rj"), new("Storage:ExportsContainer", prefix + "-ex"),
            new("Storage:LocksContainer", prefix + "-lk")], configure: s => s.AddSingleton(sp =>
            {
                // The same storage the linker would get, with the request counter in the table pipeline.
                var options = new TableClientOptions();
                options.AddPolicy(counter, HttpPipelinePosition.PerCall);
                var (tables, blobs) = StorageClientFactory.Create(sp.GetRequiredService<IConfiguration>(), options);
                return new ChildShareStorage(tables, blobs, sp.GetRequiredService<IOptions<StorageOptions>>());
            }));
        var storage = services.GetRequiredService<ChildShareStorage>();
        await storage.EnsureCreatedAsync();
        var linker = services.GetRequiredService<IChildLinker>();
        var pseudonymizer = new Pseudonymizer(new PseudonymKey("bench-1", SHA256.HashData(Encoding.UTF8.GetBytes("linkage benchmark key"))));
        Console.WriteLine($"linker {linker.GetType().Name}, tables prefixed {prefix}");

        var linked = 0;
        var nextProbeAt = probeSize * 2;
        var probe = 0;
        double? baseline = null;
        var communityTime = TimeSpan.Zero;
        Console.WriteLine("store (provider children)  probe time  ratio to first  candidates  point reads  queries  batches");
        foreach (var upload in community.Chunk(uploadSize))
        {
            var (time, _) = await LinkAsync(linker, pseudonymizer, "community-" + linked, upload);
            communityTime += time;
            linked += upload.Length;
            if (linked >= nextProbeAt && probe < probes)
            {
                var before = counter.Snapshot();
                var (probeTime, completion) = await LinkAsync(linker, pseudonymizer, "probe-" + probe, probeSets[probe]);
                var after = counter.Snapshot();
                baseline ??= probeTime.TotalSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{linked,25:N0}  {probeTime.TotalSeconds,8:F2} s  {probeTime.TotalSeconds / baseline.Value,14:F2}  {completion.Candidates,10:N0}  {after.PointReads - before.PointReads,11:N0}  {after.Queries - before.Queries,7:N0}  {after.Batches - before.Batches,7:N0}"));
                probe++;
                nextProbeAt *= 2;
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"community linked through storage: {linked:N0} provider children in {communityTime.TotalSeconds:F1} s ({linked / communityTime.TotalSeconds:F0} per second)"));
        return 0;
    }

    private static async Task<(TimeSpan Time, LinkCompletion Completion)> LinkAsync(
        IChildLinker linker, Pseudonymizer pseudonymizer, string uploadId, IEnumerable<List<Subject>> upload)
    {
        var watch = Stopwatch.StartNew();
        foreach (var variants in upload)
        {
            foreach (var s in variants)
            {
                var localToken = RecordKeys.LocalToken(pseudonymizer, s.Provider, s.LocalId);
                await linker.LinkAsync(new LinkSubject(s.Provider, localToken, LinkInputs.From(s.Identity, s.Demographics)) { UploadId = uploadId }, pseudonymizer);
            }
        }

        var completion = await linker.CompleteUploadAsync(uploadId);
        return (watch.Elapsed, completion);
    }
}

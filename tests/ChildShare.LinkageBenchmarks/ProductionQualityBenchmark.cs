using System.Diagnostics;
using ChildShare.Cli;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using ChildShare.Tests.Linkage.Evaluation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChildShare.LinkageBenchmarks;

/// <summary>
/// Linkage quality through the production path: each generated set linked upload by upload (one per provider) by the incremental
/// linker on table storage (Azurite unless <c>ChildShareStorage</c> names another), in chunks of 2,000 provider children, each chunk
/// an engine loaded with the stored neighbourhood, then the stored cluster keys scored as <c>quality</c> scores the in-memory engine.
/// It shows what the in-memory evaluation leaves out (chunks, what a chunk loads). Each set and setting gets fresh tables, left for
/// inspection (restart Azurite to drop them).
/// <c>production [fresh2|fresh|reporting] [small]</c>: the default and the household resolver on, side by side with the in-memory figures.
/// </summary>
public static class ProductionQualityBenchmark
{
    private static readonly Pseudonymizer Pseudonymizer = new(Febrl.TestKey());

    public static async Task<int> RunAsync(string[] args)
    {
        var seeds = args.Contains("fresh2") ? RosterSeeds.Fresh2 : args.Contains("fresh") ? RosterSeeds.Fresh : args.Contains("reporting") ? RosterSeeds.Reporting : RosterSeeds.Tuning;
        Console.WriteLine($"seeds {string.Join(", ", seeds)}: in memory, then through storage (production linker)");
        Console.WriteLine("| set | setting | precision | recall | children found / true | count error | twin pairs joined |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var set in QualityBenchmark.GeneratedSets(seeds, args.Contains("small")))
        {
            var rows = RosterEvaluation.Normalize(set);
            var encodings = RosterEvaluation.Encode(rows, new LinkEncoder(Pseudonymizer));
            foreach (var (setting, options) in new[] { ("default", LinkModelOptions.Default), ("resolver on", LinkModelOptions.Default with { HouseholdResolver = true }) })
            {
                var memory = RosterEvaluation.Measure(set.Spec.Name, set, rows, options, encodings, Pseudonymizer);
                var stored = await ThroughStorageAsync(set, rows, options);
                Console.WriteLine(Row(set.Spec.Name, setting + ", in memory", memory));
                Console.WriteLine(Row(set.Spec.Name, setting + ", through storage", stored));
            }
        }

        return 0;
    }

    private static string Row(string set, string setting, RosterQuality q)
    {
        var row = (q with { Label = set }).TableRow();
        var cells = row.Split('|', StringSplitOptions.TrimEntries);

        // TableRow: | set | precision | recall | found / true | count error | rejected | twins |: the setting goes second.
        return $"| {cells[1]} | {setting} | {cells[2]} | {cells[3]} | {cells[4]} | {cells[5]} | {cells[7]} |";
    }

    private static async Task<RosterQuality> ThroughStorageAsync(RosterSet set, IReadOnlyList<EvaluatedRow> rows, LinkModelOptions options)
    {
        var prefix = "pq" + Guid.NewGuid().ToString("N")[..8];
        await using var services = CliHost.Build([new("Storage:TablePrefix", prefix), new("Storage:UploadsContainer", prefix + "-up"),
            new("Storage:RejectsContainer", prefix + "-rj"), new("Storage:ExportsContainer", prefix + "-ex"),
            new("Storage:LocksContainer", prefix + "-lk")]);
        var storage = services.GetRequiredService<ChildShareStorage>();
        await storage.EnsureCreatedAsync();
        var linker = new IncrementalLinker(services.GetRequiredService<UploadStagingStore>(), services.GetRequiredService<LinkageStore>(),
            services.GetRequiredService<ILinkageLock>(), TimeProvider.System, NullLogger<IncrementalLinker>.Instance) { Options = options };
        var watch = Stopwatch.StartNew();
        var nodeKeys = new string?[rows.Count];
        foreach (var upload in rows.Select((row, index) => (row, index)).Where(x => x.row.Input is not null).GroupBy(x => x.row.Row.ProviderId))
        {
            var uploadId = "u-" + upload.Key;
            foreach (var (row, index) in upload)
            {
                var localToken = RecordKeys.LocalToken(Pseudonymizer, row.Row.ProviderId, row.Row.LocalId);
                nodeKeys[index] = RecordKeys.ProviderChild(row.Row.ProviderId, localToken);
                await linker.LinkAsync(new LinkSubject(row.Row.ProviderId, localToken, row.Input!) { UploadId = uploadId }, Pseudonymizer);
            }

            await linker.CompleteUploadAsync(uploadId);
        }

        var clusterOf = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var node in storage.Table(LinkageTables.Records).QueryAsync<Azure.Data.Tables.TableEntity>(select: ["RowKey", "ClusterKey"]))
        {
            if (node.GetString("ClusterKey") is { } cluster)
            {
                clusterOf[node.RowKey] = cluster;
            }
        }

        var clusters = nodeKeys.Select(k => k is null ? null : clusterOf.GetValueOrDefault(k)).ToArray();
        return RosterEvaluation.Score(set.Spec.Name, set, rows, clusters, watch.Elapsed.TotalSeconds);
    }
}

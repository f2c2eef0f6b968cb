using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using ChildShare.Cli;
using ChildShare.Cli.Synthetic;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using nietras.SeparatedValues;

namespace ChildShare.Benchmarks;

/// <summary>
/// Ingestion at community scale, each measurement against a baseline measured in the same run:
/// <list type="bullet">
/// <item><c>cpu</c>: normalization and pseudonymization of the whole synthetic community
/// (1,000,000 rows, 5 providers), no storage, against a bare parse of the same files (every cell
/// read as text) plus one HMAC per row.</item>
/// <item><c>azurite</c>: end-to-end ingestion (IngestionService, as the blob trigger runs it) of a
/// tenth of the community into Azurite, against raw 100-entity batch inserts of the very entities
/// ingestion wrote, with the same keys, into fresh tables of the same Azurite.</item>
/// <item><c>memory</c>: peak working set while a 1 GB provider file streams through the reader,
/// normalizer and pseudonymizer (storage writes excluded: see the closing note).</item>
/// </list>
/// </summary>
public static class IngestionBenchmark
{
    private static readonly string Cache = Path.Combine(Path.GetTempPath(), "childshare-bench-community");

    public static async Task<int> RunAsync(string[] args)
    {
        var mode = args.FirstOrDefault() ?? "cpu";
        return mode switch
        {
            "cpu" => RunCpu(),
            "azurite" => await RunAzuriteAsync(),
            "breakdown" => RunBreakdown(),
            "memory" => RunMemory(args.Skip(1).FirstOrDefault() is { } gb ? double.Parse(gb, CultureInfo.InvariantCulture) : 1.0),
            _ => throw new ArgumentException("ingest mode is cpu, azurite or memory"),
        };
    }

    private static string EnsureCommunity()
    {
        if (!File.Exists(Path.Combine(Cache, "providers.json")))
        {
            var watch = Stopwatch.StartNew();
            new SyntheticCommunity(CommunitySpec.Benchmark).WriteTo(Cache);
            Console.WriteLine($"generated the benchmark community in {watch.Elapsed.TotalSeconds:F1} s at {Cache}");
        }

        return Cache;
    }

    private static List<(string File, MappingProfile Profile, string ProviderId)> ProviderFiles(string directory) =>
        SyntheticCommunity.ProviderCatalog.Take(CommunitySpec.Benchmark.Providers)
            .Select(p => (File: Directory.GetFiles(directory, p.Id + ".*").Single(f => !f.EndsWith(".json", StringComparison.Ordinal)),
                Profile: MappingProfile.Parse(File.ReadAllText(Path.Combine(directory, p.Id + ".profile.json"))), ProviderId: p.Id))
            .ToList();

    private static int RunCpu()
    {
        var files = ProviderFiles(EnsureCommunity());
        var key = new PseudonymKey("bench", RandomNumberGenerator.GetBytes(32));
        Console.WriteLine("run  baseline rows/s  measured rows/s  time ratio (measured / baseline)");
        var ratios = new List<double>();
        for (var run = 0; run < 4; run++)
        {
            var (baselineRows, baselineTime) = Time(() => files.Sum(f => BareParseAndHmac(f.File, f.Profile, key)));
            var (rows, time) = Time(() => files.Sum(f => NormalizeAndPseudonymize(f.File, f.Profile, f.ProviderId, key)));
            if (rows != baselineRows)
            {
                throw new InvalidOperationException($"row counts differ: {rows} against {baselineRows}");
            }

            var ratio = time.TotalSeconds / baselineTime.TotalSeconds;
            Console.WriteLine($"{run,3}  {baselineRows / baselineTime.TotalSeconds,15:N0}  {rows / time.TotalSeconds,15:N0}  {ratio,6:F2}{(run == 0 ? "  (warm-up)" : "")}");
            if (run > 0)
            {
                ratios.Add(ratio);
            }
        }

        Console.WriteLine($"median ratio over {ratios.Count} runs: {Median(ratios):F2} (goal: at most 1.5)");
        return 0;
    }

    /// <summary>Where the time per row goes: reading and mapping, then normalizing, then the keyed tokens.</summary>
    private static int RunBreakdown()
    {
        var files = ProviderFiles(EnsureCommunity());
        var key = new PseudonymKey("bench", RandomNumberGenerator.GetBytes(32));
        for (var run = 0; run < 2; run++)
        {
            var (rows, read) = Time(() => files.Sum(f => Stage(f.File, f.Profile, f.ProviderId, key, 0)));
            var (_, normalized) = Time(() => files.Sum(f => Stage(f.File, f.Profile, f.ProviderId, key, 1)));
            var (_, tokens) = Time(() => files.Sum(f => Stage(f.File, f.Profile, f.ProviderId, key, 2)));
            Console.WriteLine($"per row: read and map {read.TotalMicroseconds / rows:F2} µs, + normalize {(normalized - read).TotalMicroseconds / rows:F2} µs, + tokens {(tokens - normalized).TotalMicroseconds / rows:F2} µs");
        }

        return 0;
    }

    /// <summary>Ingestion's per-row work before storage, stopped after reading (0), normalizing (1) or the keyed tokens (2).</summary>
    private static int Stage(string file, MappingProfile profile, string providerId, PseudonymKey key, int depth)
    {
        var pseudonymizer = new Pseudonymizer(key);
        var linker = new ExactMatchLinker();
        var normalizer = new RowNormalizer(profile, new IngestionOptions(), new DateOnly(2026, 10, 15));
        using var stream = File.OpenRead(file);
        var fingerprint = new UploadFingerprint("", 0, IsValidUtf8: profile.Encoding != "windows-1252");
        var rows = 0;
        foreach (var row in UploadFileReader.ReadRows(stream, UploadFileReader.EncodingFor(profile, fingerprint), profile.DelimiterFor(file), profile))
        {
            rows++;
            if (depth == 0 || normalizer.Normalize(row.LineNumber, field => row[field]).Record is not { } record || depth == 1)
            {
                continue;
            }

            var localToken = RecordKeys.LocalToken(pseudonymizer, providerId, record.Identity.LocalChildId);

            // The exact linker completes synchronously: it only hashes.
            _ = linker.LinkAsync(new LinkSubject(providerId, localToken, record.Identity, record.Demographics), pseudonymizer).AsTask().Result;
            if (record.Service is { } service)
            {
                _ = RecordKeys.ServiceKey(service.Program, service.ServiceType, service.Start);
            }
        }

        return rows;
    }

    /// <summary>The baseline: Sep reads every cell of every row as text, and one HMAC per row.</summary>
    private static int BareParseAndHmac(string file, MappingProfile profile, PseudonymKey key)
    {
        using var text = new StreamReader(file, Encoding.Latin1, detectEncodingFromByteOrderMarks: true);
        using var reader = Sep.New(profile.DelimiterFor(file)).Reader(o => o with { Unescape = true, DisableColCountCheck = true }).From(text);
        var pseudonymizer = new Pseudonymizer(key);
        var rows = 0;
        var sink = 0;
        foreach (var row in reader)
        {
            for (var i = 0; i < row.ColCount; i++)
            {
                sink += row[i].ToString().Length;
            }

            sink += pseudonymizer.Token("bench", row[0].ToString()).Length;
            rows++;
        }

        return sink > 0 ? rows : rows;
    }

    /// <summary>What ingestion does to each row before storage: read, map, validate, normalize, the keyed tokens.</summary>
    private static int NormalizeAndPseudonymize(string file, MappingProfile profile, string providerId, PseudonymKey key) =>
        Stage(file, profile, providerId, key, depth: 2);

    private static async Task<int> RunAzuriteAsync()
    {
        var files = ProviderFiles(EnsureCommunity());
        var prefix = "bi" + Guid.NewGuid().ToString("N")[..8];
        var rawPrefix = "br" + prefix[2..];
        await using var services = CliHost.Build([new("Storage:TablePrefix", prefix), new("Storage:UploadsContainer", prefix + "-up"),
            new("Storage:RejectsContainer", prefix + "-rj"), new("Storage:ExportsContainer", prefix + "-ex")]);
        var storage = services.GetRequiredService<ChildShareStorage>();
        var registry = services.GetRequiredService<ProviderRegistry>();
        var ingestion = services.GetRequiredService<IngestionService>();
        await storage.EnsureCreatedAsync();

        // A tenth of the community: the first tenth of each provider's rows.
        var uploads = new List<(string ProviderId, string BlobName)>();
        var rowsTotal = 0;
        foreach (var (file, profile, providerId) in files)
        {
            await registry.RegisterAsync(providerId, providerId, "Other");
            await registry.SaveProfileAsync(providerId, profile.ToJson());
            var lines = File.ReadLines(file, Encoding.Latin1).ToList();
            var tenth = lines.Take(1 + (lines.Count - 1) / 10).ToList();
            rowsTotal += tenth.Count - 1;
            var bytes = Encoding.Latin1.GetBytes(string.Join("\n", tenth) + "\n");
            var blobName = $"{providerId}/tenth{Path.GetExtension(file)}";
            await storage.Uploads.GetBlobClient(blobName).UploadAsync(new BinaryData(bytes), overwrite: true);
            uploads.Add((providerId, blobName));
        }

        var memoryBefore = Process.GetCurrentProcess().PeakWorkingSet64;
        var watch = Stopwatch.StartNew();
        foreach (var (_, blobName) in uploads)
        {
            var manifest = await ingestion.IngestAsync(storage.Uploads.GetBlobClient(blobName));
            Console.WriteLine($"  {blobName}: {manifest.Status}, {manifest.RowsAccepted:N0} accepted, {manifest.RowsRejected:N0} rejected, {manifest.ChildrenTouched:N0} children, {manifest.DurationSeconds:F1} s");
        }

        var ingestTime = watch.Elapsed;
        var peak = Process.GetCurrentProcess().PeakWorkingSet64;

        // The same entities with the same keys, read back and written again as raw 100-entity batches into fresh tables.
        var tables = new[] { TableNames.Identities, TableNames.UploadStaging, TableNames.Records, TableNames.Activity, TableNames.Children };
        var entities = new Dictionary<string, List<TableEntity>>();
        foreach (var table in tables)
        {
            var list = new List<TableEntity>();
            await foreach (var entity in storage.Table(table).QueryAsync<TableEntity>())
            {
                entity.ETag = default;
                entity.Timestamp = null;
                list.Add(entity);
            }

            entities[table] = list;
        }

        var tableService = new TableServiceClient(TableServiceConnection());
        watch.Restart();
        long transactions = 0;
        foreach (var (table, list) in entities)
        {
            var client = tableService.GetTableClient(rawPrefix + table);
            await client.CreateIfNotExistsAsync();
            foreach (var partition in list.GroupBy(e => e.PartitionKey))
            {
                foreach (var chunk in partition.Chunk(100))
                {
                    await client.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertMerge, e)));
                    transactions++;
                }
            }
        }

        var rawTime = watch.Elapsed;
        var entityCount = entities.Sum(e => e.Value.Count);
        Console.WriteLine($"rows ingested: {rowsTotal:N0}; entities written: {entityCount:N0} ({string.Join(", ", entities.Select(e => $"{e.Key} {e.Value.Count:N0}"))})");
        Console.WriteLine($"end-to-end ingestion: {ingestTime.TotalSeconds:F1} s ({rowsTotal / ingestTime.TotalSeconds:N0} rows/s); peak working set {peak / 1048576.0:N0} MiB (before: {memoryBefore / 1048576.0:N0} MiB)");
        Console.WriteLine($"raw 100-entity batches of the same entities: {rawTime.TotalSeconds:F1} s in {transactions:N0} transactions");
        Console.WriteLine($"ratio (ingestion / raw): {ingestTime.TotalSeconds / rawTime.TotalSeconds:F2} (goal: at most 1.25)");

        foreach (var table in tables)
        {
            await storage.Table(table).DeleteAsync();
            await tableService.GetTableClient(rawPrefix + table).DeleteAsync();
        }

        return 0;
    }

    private static int RunMemory(double gigabytes)
    {
        var directory = EnsureCommunity();
        var (file, profile, providerId) = ProviderFiles(directory)[0];
        var big = Path.Combine(Cache, $"big-{gigabytes:F1}gb{Path.GetExtension(file)}");
        if (!File.Exists(big))
        {
            // The district's file repeated, local ids made distinct per copy, to the size asked.
            var lines = File.ReadAllLines(file);
            using var writer = new StreamWriter(big, append: false, new UTF8Encoding(false));
            writer.WriteLine(lines[0]);
            long written = 0;
            for (var copy = 0; written < gigabytes * 1024 * 1024 * 1024; copy++)
            {
                foreach (var line in lines.Skip(1))
                {
                    var row = copy.ToString(CultureInfo.InvariantCulture) + line;
                    writer.WriteLine(row);
                    written += row.Length + 1;
                }
            }
        }

        var key = new PseudonymKey("bench", RandomNumberGenerator.GetBytes(32));
        var baseline = Process.GetCurrentProcess().WorkingSet64;
        var watch = Stopwatch.StartNew();
        var rows = NormalizeAndPseudonymize(big, profile, providerId, key);
        var peak = Process.GetCurrentProcess().PeakWorkingSet64;
        Console.WriteLine($"{new FileInfo(big).Length / 1073741824.0:F2} GiB, {rows:N0} rows streamed in {watch.Elapsed.TotalSeconds:F1} s; working set before {baseline / 1048576.0:N0} MiB, peak {peak / 1048576.0:N0} MiB");
        return 0;
    }

    private static string TableServiceConnection() =>
        Environment.GetEnvironmentVariable("ChildShareStorage") is { Length: > 0 } connection ? connection : "UseDevelopmentStorage=true";

    private static (int Rows, TimeSpan Time) Time(Func<int> action)
    {
        var watch = Stopwatch.StartNew();
        var rows = action();
        return (rows, watch.Elapsed);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

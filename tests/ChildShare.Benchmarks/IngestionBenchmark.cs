using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Tracing;
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
/// Ingestion at community scale (issue 13), each measurement against a baseline measured in the same run:
/// <list type="bullet">
/// <item><c>cpu</c> (goal 4): the per-row work of ingestion on the whole synthetic community (1,000,000 rows, 5 providers),
/// no storage, against a bare parse of the same files (every cell read as text) plus one HMAC per row; both the issue's
/// definition (normalize and pseudonymize) and production's (with the linkage encodings).</item>
/// <item><c>azurite</c> (goal 1): end-to-end ingestion (IngestionService, as the blob trigger runs it) of every provider's
/// file into Azurite, against one entity per input row in 100-entity batches into a fresh table of the same Azurite.</item>
/// <item><c>memory</c> (goal 5): peak working set while the largest file is ingested end to end with the other providers
/// already linked. <c>memory-stream GB</c>: the earlier check, a file of that size through the reader and normalizer only.</item>
/// </list>
/// </summary>
public static class IngestionBenchmark
{
    private static readonly string Cache = Path.Combine(Path.GetTempPath(), "childshare-bench-community");

    public static async Task<int> RunAsync(string[] args)
    {
        var mode = args.FirstOrDefault() ?? "cpu";
        var children = int.TryParse(Option(args, "--children"), out var n) ? n : CommunitySpec.Benchmark.Children;
        var runs = int.TryParse(Option(args, "--runs"), out var r) ? r : 3;
        return mode switch
        {
            "cpu" => RunCpu(runs),
            "azurite" => await RunAzuriteAsync(children, memoryOnly: false),
            "breakdown" => RunBreakdown(),
            "memory" => await RunAzuriteAsync(children, memoryOnly: true, profileAllocations: args.Contains("--allocations")),
            "memory-stream" => RunMemoryStream(args.Skip(1).FirstOrDefault() is { } gb ? double.Parse(gb, CultureInfo.InvariantCulture) : 1.0),
            _ => throw new ArgumentException("ingest mode is cpu, breakdown, azurite, memory or memory-stream"),
        };
    }

    private static string? Option(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

    private static CommunitySpec SpecOf(int children) =>
        children == CommunitySpec.Benchmark.Children ? CommunitySpec.Benchmark : CommunitySpec.Benchmark with { Children = children, ServiceRows = children * 10 };

    private static string EnsureCommunity(int children = 100_000)
    {
        var directory = children == CommunitySpec.Benchmark.Children ? Cache : Cache + "-" + children.ToString(CultureInfo.InvariantCulture);
        if (!File.Exists(Path.Combine(directory, "providers.json")))
        {
            var watch = Stopwatch.StartNew();
            new SyntheticCommunity(SpecOf(children)).WriteTo(directory);
            Console.WriteLine($"generated a community of {children:N0} children in {watch.Elapsed.TotalSeconds:F1} s at {directory}");
        }

        return directory;
    }

    private static List<(string File, MappingProfile Profile, string ProviderId)> ProviderFiles(string directory) =>
        SyntheticCommunity.ProviderCatalog.Take(CommunitySpec.Benchmark.Providers)
            .Select(p => (File: Directory.GetFiles(directory, p.Id + ".*").Single(f => !f.EndsWith(".json", StringComparison.Ordinal)),
                Profile: MappingProfile.Parse(File.ReadAllText(Path.Combine(directory, p.Id + ".profile.json"))), ProviderId: p.Id))
            .ToList();

    /// <summary>
    /// Goal 4. Per run, in this order: the baseline (a bare parse plus one HMAC per row), the issue's work (read, map, normalize,
    /// the local token, the exact child key, the service key) and production's per-row work (the same plus what the
    /// incremental linker adds per row: the cluster seed token and the linkage encoding with its three Bloom filters).
    /// Wall time and this process's CPU time are both reported: on a shared machine the CPU time is the steadier of the two.
    /// </summary>
    private static int RunCpu(int runs)
    {
        var files = ProviderFiles(EnsureCommunity());
        var material = RandomNumberGenerator.GetBytes(32);
        var key = new PseudonymKey("bench", material);
        Console.WriteLine("run  baseline rows/s  issue's work rows/s  with encodings rows/s  wall ratio (issue / with encodings)  cpu ratio (issue / with encodings)");
        var (wallIssue, wallFull, cpuIssue, cpuFull) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        var (cpuIssueUncached, cpuFullUncached) = (new List<double>(), new List<double>());
        for (var run = 0; run <= runs; run++)
        {
            var baseline = Time(() => files.Sum(f => BareParseAndHmac(f.File, f.Profile, key)));
            var uncached = Time(() => files.Sum(f => BareParseAndUncachedHmac(f.File, f.Profile, material)));
            var issue = Time(() => files.Sum(f => Stage(f.File, f.Profile, f.ProviderId, key, Depth.Tokens)));
            var full = Time(() => files.Sum(f => Stage(f.File, f.Profile, f.ProviderId, key, Depth.Encodings)));
            if (issue.Rows != baseline.Rows || full.Rows != baseline.Rows)
            {
                throw new InvalidOperationException($"row counts differ: {issue.Rows} and {full.Rows} against {baseline.Rows}");
            }

            var ratios = (WallIssue: issue.Wall / baseline.Wall, WallFull: full.Wall / baseline.Wall, CpuIssue: issue.Cpu / baseline.Cpu, CpuFull: full.Cpu / baseline.Cpu);
            Console.WriteLine($"{run,3}  {baseline.Rows / baseline.Wall.TotalSeconds,15:N0}  {issue.Rows / issue.Wall.TotalSeconds,19:N0}  {full.Rows / full.Wall.TotalSeconds,21:N0}  {ratios.WallIssue,6:F2} / {ratios.WallFull,6:F2}  {ratios.CpuIssue,6:F2} / {ratios.CpuFull,6:F2}{(run == 0 ? "  (warm-up)" : "")}");
            if (run > 0)
            {
                cpuIssueUncached.Add(issue.Cpu / uncached.Cpu);
                cpuFullUncached.Add(full.Cpu / uncached.Cpu);
                wallIssue.Add(ratios.WallIssue);
                wallFull.Add(ratios.WallFull);
                cpuIssue.Add(ratios.CpuIssue);
                cpuFull.Add(ratios.CpuFull);
            }
        }

        Console.WriteLine($"issue's work / baseline over {runs} runs: wall median {Median(wallIssue):F2} (min {wallIssue.Min():F2}, max {wallIssue.Max():F2}), cpu median {Median(cpuIssue):F2} (min {cpuIssue.Min():F2}, max {cpuIssue.Max():F2}) (goal: at most 1.5)");
        Console.WriteLine($"with encodings / baseline over {runs} runs: wall median {Median(wallFull):F2} (min {wallFull.Min():F2}, max {wallFull.Max():F2}), cpu median {Median(cpuFull):F2} (min {cpuFull.Min():F2}, max {cpuFull.Max():F2})");
        Console.WriteLine($"against a parse plus one uncached HMAC a row (the baseline above MACs through the pseudonymizer's cache, so a repeated id costs a lookup): cpu median issue's work {Median(cpuIssueUncached):F2} (min {cpuIssueUncached.Min():F2}, max {cpuIssueUncached.Max():F2}), with encodings {Median(cpuFullUncached):F2} (min {cpuFullUncached.Min():F2}, max {cpuFullUncached.Max():F2})");
        return 0;
    }

    /// <summary>Where the time per row goes: reading and mapping, then normalizing, then the keyed tokens, then the linkage encodings.</summary>
    private static int RunBreakdown()
    {
        var files = ProviderFiles(EnsureCommunity());
        var key = new PseudonymKey("bench", RandomNumberGenerator.GetBytes(32));
        for (var run = 0; run < 3; run++)
        {
            var baseline = Time(() => files.Sum(f => BareParseAndHmac(f.File, f.Profile, key)));
            var read = Time(() => files.Sum(f => Stage(f.File, f.Profile, f.ProviderId, key, Depth.Read)));
            var normalized = Time(() => files.Sum(f => Stage(f.File, f.Profile, f.ProviderId, key, Depth.Normalized)));
            var tokens = Time(() => files.Sum(f => Stage(f.File, f.Profile, f.ProviderId, key, Depth.Tokens)));
            var encodings = Time(() => files.Sum(f => Stage(f.File, f.Profile, f.ProviderId, key, Depth.Encodings)));
            var rows = (double)read.Rows;
            Console.WriteLine($"cpu µs per row: baseline {baseline.Cpu.TotalMicroseconds / rows:F2}; read and map {read.Cpu.TotalMicroseconds / rows:F2}, + normalize {(normalized.Cpu - read.Cpu).TotalMicroseconds / rows:F2}, + tokens {(tokens.Cpu - normalized.Cpu).TotalMicroseconds / rows:F2}, + encodings {(encodings.Cpu - tokens.Cpu).TotalMicroseconds / rows:F2}{(run == 0 ? "  (warm-up)" : "")}");
        }

        return 0;
    }

    private enum Depth
    {
        Read,
        Normalized,
        Tokens,
        Encodings,
    }

    /// <summary>Ingestion's per-row work before storage, stopped after reading, normalizing, the keyed tokens or the linkage encodings.</summary>
    private static int Stage(string file, MappingProfile profile, string providerId, PseudonymKey key, Depth depth)
    {
        var pseudonymizer = new Pseudonymizer(key);
        var linker = new ExactMatchLinker();
        var encoder = new LinkEncoder(pseudonymizer, LinkEncoder.DefaultHardening);
        var normalizer = new RowNormalizer(profile, new IngestionOptions(), new DateOnly(2026, 10, 15));
        using var stream = File.OpenRead(file);
        var fingerprint = new UploadFingerprint("", 0, IsValidUtf8: profile.Encoding != "windows-1252");
        var rows = 0;
        foreach (var row in UploadFileReader.ReadRows(stream, UploadFileReader.EncodingFor(profile, fingerprint), profile.DelimiterFor(file), profile))
        {
            rows++;
            if (depth == Depth.Read || normalizer.Normalize(row).Record is not { } record || depth == Depth.Normalized)
            {
                continue;
            }

            var localToken = RecordKeys.LocalToken(pseudonymizer, providerId, record.Identity.LocalChildId);

            // The exact linker completes synchronously (it only hashes): its result is read as an await would, with no Task made.
            var link = linker.LinkAsync(new LinkSubject(providerId, localToken, LinkInputs.From(record.Identity, record.Demographics)), pseudonymizer);
            _ = link.IsCompleted ? link.Result : throw new InvalidOperationException("the exact linker is expected to complete synchronously");
            if (record.Service is { } service)
            {
                _ = RecordKeys.ServiceKey(service.Program, service.ServiceType, service.Start);
            }

            if (depth == Depth.Encodings)
            {
                // What IncrementalLinker.LinkAsync computes per row (it then buffers them for the upload's linkage).
                _ = IncrementalLinker.SeedOf(pseudonymizer, RecordKeys.ProviderChild(providerId, localToken));
                _ = encoder.Encode(LinkInputs.From(record.Identity, record.Demographics));
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

    /// <summary>
    /// The goal's words taken literally: Sep reads every cell as text, and every row's first cell is MACed (HMAC-SHA256, one reused
    /// instance, as the pseudonymizer does on a cache miss), with no cache. <see cref="BareParseAndHmac"/> goes through the
    /// pseudonymizer, whose cache turns the MAC of a repeated id into a lookup.
    /// </summary>
    private static int BareParseAndUncachedHmac(string file, MappingProfile profile, byte[] key)
    {
        using var text = new StreamReader(file, Encoding.Latin1, detectEncodingFromByteOrderMarks: true);
        using var reader = Sep.New(profile.DelimiterFor(file)).Reader(o => o with { Unescape = true, DisableColCountCheck = true }).From(text);
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        Span<byte> mac = stackalloc byte[32];
        var bytes = new byte[4096];
        var rows = 0;
        var sink = 0;
        foreach (var row in reader)
        {
            for (var i = 0; i < row.ColCount; i++)
            {
                sink += row[i].ToString().Length;
            }

            var id = row[0].ToString();
            hmac.AppendData(bytes.AsSpan(0, Encoding.UTF8.GetBytes(id, bytes)));
            hmac.GetHashAndReset(mac);
            sink += mac[0];
            rows++;
        }

        return sink > 0 ? rows : rows;
    }

    /// <summary>
    /// Goals 1 and 5 on Azurite, through the real path (IngestionService as the blob trigger runs it: blob, manifest,
    /// normalization, pseudonymization, the incremental linker, the activity buckets) for a community of
    /// <paramref name="children"/> children. <c>azurite</c>: every provider's file in catalog order, each provider's time per
    /// row, against the baseline of goal 1 (one entity per input row, its cells as properties, in 100-entity batches into a
    /// fresh table of the same Azurite, same run). <c>memory</c> (goal 5): the other providers first, so the community is
    /// linked, then the largest file, sampling this process's working set while it is ingested.
    /// </summary>
    private static async Task<int> RunAzuriteAsync(int children, bool memoryOnly, bool profileAllocations = false)
    {
        var files = ProviderFiles(EnsureCommunity(children));
        var prefix = "bi" + Guid.NewGuid().ToString("N")[..8];
        var rawTable = "br" + prefix[2..] + "rows";
        await using var services = CliHost.Build([new("Storage:TablePrefix", prefix), new("Storage:UploadsContainer", prefix + "-up"),
            new("Storage:RejectsContainer", prefix + "-rj"), new("Storage:ExportsContainer", prefix + "-ex")]);
        var storage = services.GetRequiredService<ChildShareStorage>();
        var registry = services.GetRequiredService<ProviderRegistry>();
        var ingestion = services.GetRequiredService<IngestionService>();
        await storage.EnsureCreatedAsync();
        var tableService = new TableServiceClient(TableServiceConnection());
        try
        {
            // The largest file last for the memory run; catalog order otherwise.
            var largest = files.MaxBy(f => new FileInfo(f.File).Length);
            var order = memoryOnly ? files.Where(f => f != largest).Append(largest).ToList() : files;
            var uploads = new List<(string ProviderId, string BlobName, string File)>();
            var rowsRead = new List<int>();
            foreach (var (file, profile, providerId) in order)
            {
                await registry.RegisterAsync(providerId, providerId, "Other");
                await registry.SaveProfileAsync(providerId, profile.ToJson());
                var blobName = $"{providerId}/{Path.GetFileName(file)}";
                await using (var content = File.OpenRead(file))
                {
                    await storage.Uploads.GetBlobClient(blobName).UploadAsync(content, overwrite: true);
                }

                uploads.Add((providerId, blobName, file));
            }

            Console.WriteLine($"{children:N0} children, {uploads.Count} files; working set before ingestion {WorkingSetMiB():N0} MiB");
            var watch = Stopwatch.StartNew();
            var perRow = new List<double>();
            long peakOfLast = 0;
            for (var i = 0; i < uploads.Count; i++)
            {
                var blobName = uploads[i].BlobName;
                var last = i == uploads.Count - 1;
                using var sampler = last && memoryOnly ? new WorkingSetSampler() : null;
                using var allocationProfile = sampler is not null && profileAllocations ? new AllocationProfile(sampler) : null;
                var started = watch.Elapsed;
                var manifest = await ingestion.IngestAsync(storage.Uploads.GetBlobClient(blobName), sampler, CancellationToken.None);
                var seconds = (watch.Elapsed - started).TotalSeconds;
                perRow.Add(seconds * 1e6 / Math.Max(1, manifest.RowsRead));
                peakOfLast = sampler?.Peak ?? 0;
                if (sampler is not null)
                {
                    Console.WriteLine($"  at the peak: phase {sampler.PhaseAtPeak}, GC committed {sampler.GcCommittedAtPeak / 1048576.0:N0} MiB, GC heap (live and not yet collected) {sampler.GcHeapAtPeak / 1048576.0:N0} MiB");
                    Console.WriteLine($"  at the peak, {sampler.GenerationsAtPeak}");
                    Console.WriteLine($"  highest working set in each phase: {string.Join(", ", sampler.PeakByPhase.Select(p => $"{p.Key} {p.Value / 1048576.0:N0} MiB"))}");
                    foreach (var (phase, allocations) in sampler.AllocationsByPhase)
                    {
                        Console.WriteLine($"  {phase}: {allocations}");
                    }

                    allocationProfile?.Print(topPerPhase: 12);
                }

                rowsRead.Add(manifest.RowsRead);
                Console.WriteLine($"  {blobName}: {manifest.Status}, {manifest.RowsAccepted:N0} accepted, {manifest.RowsRejected:N0} rejected, {manifest.ChildrenTouched:N0} children, {seconds:F1} s, {perRow[^1]:F0} µs a row; working set {WorkingSetMiB():N0} MiB");
                if (memoryOnly)
                {
                    // A full collection only after the largest file: one before it would hand that file a compacted heap.
                    var heap = last ? $"heap after a full collection {GC.GetTotalMemory(forceFullCollection: true) / 1048576.0:N0} MiB"
                        : $"GC committed {GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0:N0} MiB";
                    Console.WriteLine($"  after it: {heap}, linkage row cache {services.GetRequiredService<LinkageRowCache>().Count:N0} rows");
                }
            }

            var ingestTime = watch.Elapsed;
            var rowsTotal = rowsRead.Sum();
            Console.WriteLine($"end-to-end ingestion: {ingestTime.TotalSeconds:F1} s ({rowsTotal / ingestTime.TotalSeconds:N0} rows/s); process peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:N0} MiB");
            Console.WriteLine($"last provider's time per row / first's: {perRow[^1] / perRow[0]:F2} (goal: at most 1.25)");
            if (memoryOnly)
            {
                Console.WriteLine($"peak working set while ingesting the largest file ({Path.GetFileName(largest.File)}, {rowsRead[^1]:N0} rows) with the other {uploads.Count - 1} providers linked: {peakOfLast / 1048576.0:N0} MiB (goal: at most 1,024 MiB)");
                return 0;
            }

            // The baseline of goal 1: one entity per input row (its cells as string properties) in 100-entity batches, same Azurite.
            var raw = tableService.GetTableClient(rawTable);
            await raw.CreateIfNotExistsAsync();
            watch.Restart();
            long transactions = 0;
            foreach (var (providerId, _, file) in uploads)
            {
                foreach (var chunk in RawRows(file, providerId).Chunk(100))
                {
                    await raw.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)));
                    transactions++;
                }
            }

            var rawTime = watch.Elapsed;
            Console.WriteLine($"baseline, one entity per input row in 100-entity batches: {rawTime.TotalSeconds:F1} s in {transactions:N0} transactions");
            Console.WriteLine($"ratio (ingestion / baseline): {ingestTime.TotalSeconds / rawTime.TotalSeconds:F2} (goal: at most 1.5)");
            return 0;
        }
        finally
        {
            foreach (var table in new[] { TableNames.Identities, TableNames.UploadStaging, TableNames.Records, TableNames.Activity, TableNames.Children })
            {
                await storage.Table(table).DeleteAsync();
            }

            await tableService.GetTableClient(rawTable).DeleteAsync();
        }
    }

    /// <summary>The rows of a provider file as entities: the provider's partition, the line number, each cell as a string property.</summary>
    private static IEnumerable<TableEntity> RawRows(string file, string providerId)
    {
        var delimiter = file.EndsWith(".tsv", StringComparison.Ordinal) ? '\t' : ',';
        using var text = new StreamReader(file, Encoding.Latin1, detectEncodingFromByteOrderMarks: true);
        using var reader = Sep.New(delimiter).Reader(o => o with { Unescape = true, DisableColCountCheck = true }).From(text);
        var line = 1;
        foreach (var row in reader)
        {
            var entity = new TableEntity(providerId, (++line).ToString("D9", CultureInfo.InvariantCulture));
            for (var i = 0; i < row.ColCount; i++)
            {
                entity["C" + i.ToString(CultureInfo.InvariantCulture)] = row[i].ToString();
            }

            yield return entity;
        }
    }

    private static double WorkingSetMiB()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64 / 1048576.0;
    }

    /// <summary>
    /// Samples the process's working set every 100 ms until disposed (the peak of one file, which PeakWorkingSet64 cannot give),
    /// and is told the ingestion's phase (as the command line's progress is), so the peak can be put down to a phase. At the highest
    /// sample it keeps what the collector held then (its committed memory, and the heap live and not yet collected): the part of the
    /// peak that is neither is the runtime's own and native memory. Per phase it counts the bytes allocated and the collections of
    /// each generation: garbage is what the peak is mostly made of, and the phase that allocates most is where to look.
    /// </summary>
    private sealed class WorkingSetSampler : IDisposable, IProgress<IngestionProgress>
    {
        private readonly Timer _timer;
        private readonly Lock _lock = new();
        private readonly SortedDictionary<IngestionPhase, long> _peakByPhase = [];
        private readonly SortedDictionary<IngestionPhase, PhaseAllocations> _allocationsByPhase = [];
        private IngestionPhase _phase = IngestionPhase.Fingerprint;
        private PhaseAllocations _phaseStart = PhaseAllocations.Now();

        public WorkingSetSampler() => _timer = new Timer(_ => Sample(), null, 0, 100);

        public long Peak { get; private set; }

        public IngestionPhase PhaseAtPeak { get; private set; }

        public IngestionPhase CurrentPhase
        {
            get
            {
                lock (_lock)
                {
                    return _phase;
                }
            }
        }

        public IReadOnlyDictionary<IngestionPhase, long> PeakByPhase
        {
            get
            {
                lock (_lock)
                {
                    return new SortedDictionary<IngestionPhase, long>(_peakByPhase);
                }
            }
        }

        /// <summary>Per phase: bytes allocated, and collections of gen0, gen1 and gen2, while it ran (summed if it ran more than once).</summary>
        public IReadOnlyDictionary<IngestionPhase, PhaseAllocations> AllocationsByPhase
        {
            get
            {
                lock (_lock)
                {
                    return new SortedDictionary<IngestionPhase, PhaseAllocations>(_allocationsByPhase);
                }
            }
        }

        public void Report(IngestionProgress value)
        {
            // The phase changes before its work starts: the samples taken from here on are that phase's.
            Sample();
            lock (_lock)
            {
                if (value.Phase != _phase)
                {
                    EndPhase();
                    _phase = value.Phase;
                }
            }
        }

        private void EndPhase()
        {
            var now = PhaseAllocations.Now();
            _allocationsByPhase[_phase] = _allocationsByPhase.GetValueOrDefault(_phase) + (now - _phaseStart);
            _phaseStart = now;
        }

        public long GcCommittedAtPeak { get; private set; }

        public long GcHeapAtPeak { get; private set; }

        /// <summary>
        /// At the peak, what the last collection before it left in each generation (gen0, gen1, gen2, the large and the pinned object
        /// heaps) and how much of that was free space: where the garbage the peak is made of had been promoted to.
        /// </summary>
        public string GenerationsAtPeak { get; private set; } = "";

        private static string Generations(GCMemoryInfo info)
        {
            string[] names = ["gen0", "gen1", "gen2", "LOH", "POH"];
            var sizes = info.GenerationInfo.ToArray().Select((g, i) =>
                $"{names[i]} {g.SizeAfterBytes / 1048576.0:N0} MiB ({g.FragmentationAfterBytes / 1048576.0:N0} free)");
            return $"last collection #{info.Index} (gen{info.Generation}{(info.Compacted ? ", compacted" : "")}) left {string.Join(", ", sizes)}; "
                + $"promoted {info.PromotedBytes / 1048576.0:N0} MiB";
        }

        private void Sample()
        {
            using var process = Process.GetCurrentProcess();
            var now = process.WorkingSet64;
            lock (_lock)
            {
                _peakByPhase[_phase] = Math.Max(now, _peakByPhase.GetValueOrDefault(_phase));
                if (now > Peak)
                {
                    Peak = now;
                    PhaseAtPeak = _phase;
                    GcCommittedAtPeak = GC.GetGCMemoryInfo().TotalCommittedBytes;
                    GcHeapAtPeak = GC.GetTotalMemory(forceFullCollection: false);
                    GenerationsAtPeak = Generations(GC.GetGCMemoryInfo(GCKind.Any));
                }
            }
        }

        public void Dispose()
        {
            _timer.Dispose();
            Sample();
            lock (_lock)
            {
                EndPhase();
            }
        }
    }

    /// <summary>
    /// <c>--allocations</c>: the runtime's allocation sample (an AllocationTick event about every 100 KB allocated, naming the type
    /// whose allocation crossed it) summed per phase and type, so the bytes that become the peak's garbage can be put down to what
    /// allocates them. Sampling slows the run a little; the peak it prints is then not goal 5's figure.
    /// </summary>
    private sealed class AllocationProfile(WorkingSetSampler sampler) : EventListener
    {
        private const EventKeywords GcKeyword = (EventKeywords)0x1;
        private readonly ConcurrentDictionary<(IngestionPhase Phase, string Type, bool Large), long> _bytes = new();

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName != "GCAllocationTick_V4" || eventData.Payload is not { } payload || eventData.PayloadNames is not { } names)
            {
                return;
            }

            var amount = Convert.ToInt64(payload[names.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
            var large = Convert.ToInt32(payload[names.IndexOf("AllocationKind")], CultureInfo.InvariantCulture) == 1;
            var type = payload[names.IndexOf("TypeName")] as string ?? "?";
            _bytes.AddOrUpdate((sampler.CurrentPhase, type, large), amount, (_, sum) => sum + amount);
        }

        public void Print(int topPerPhase)
        {
            foreach (var phase in _bytes.GroupBy(e => e.Key.Phase).OrderBy(g => g.Key))
            {
                Console.WriteLine($"  sampled allocations in {phase.Key} (top {topPerPhase} types, LOH marked):");
                foreach (var entry in phase.OrderByDescending(e => e.Value).Take(topPerPhase))
                {
                    Console.WriteLine($"    {entry.Value / 1048576.0,9:N0} MiB  {(entry.Key.Large ? "LOH " : "")}{entry.Key.Type}");
                }
            }
        }
    }

    /// <summary>Bytes allocated by every thread and the collections of each generation, as running totals or as a phase's share.</summary>
    private readonly record struct PhaseAllocations(long Bytes, int Gen0, int Gen1, int Gen2)
    {
        public static PhaseAllocations Now() =>
            new(GC.GetTotalAllocatedBytes(precise: false), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));

        public static PhaseAllocations operator +(PhaseAllocations a, PhaseAllocations b) => new(a.Bytes + b.Bytes, a.Gen0 + b.Gen0, a.Gen1 + b.Gen1, a.Gen2 + b.Gen2);

        public static PhaseAllocations operator -(PhaseAllocations a, PhaseAllocations b) => new(a.Bytes - b.Bytes, a.Gen0 - b.Gen0, a.Gen1 - b.Gen1, a.Gen2 - b.Gen2);

        // Gen0's count includes the gen1 and gen2 collections (each collects the younger generations too).
        public override string ToString() =>
            $"{Bytes / 1048576.0:N0} MiB allocated, collections gen0 {Gen0 - Gen1:N0}, gen1 {Gen1 - Gen2:N0}, gen2 {Gen2:N0}";
    }

    /// <summary>
    /// The earlier memory check, kept: peak working set while a file of <paramref name="gigabytes"/> streams through the reader,
    /// normalizer and pseudonymizer (no storage, no linker buffer: not goal 5, which <c>memory</c> measures).
    /// </summary>
    private static int RunMemoryStream(double gigabytes)
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
        var rows = Stage(big, profile, providerId, key, Depth.Tokens);
        var peak = Process.GetCurrentProcess().PeakWorkingSet64;
        Console.WriteLine($"{new FileInfo(big).Length / 1073741824.0:F2} GiB, {rows:N0} rows streamed in {watch.Elapsed.TotalSeconds:F1} s; working set before {baseline / 1048576.0:N0} MiB, peak {peak / 1048576.0:N0} MiB");
        return 0;
    }

    private static string TableServiceConnection() =>
        Environment.GetEnvironmentVariable("ChildShareStorage") is { Length: > 0 } connection ? connection : "UseDevelopmentStorage=true";

    private static (int Rows, TimeSpan Wall, TimeSpan Cpu) Time(Func<int> action)
    {
        GC.Collect();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var rows = action();
        return (rows, watch.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

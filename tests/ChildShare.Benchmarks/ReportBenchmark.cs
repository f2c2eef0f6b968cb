using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using ChildShare.Cli;
using ChildShare.Cli.Synthetic;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Benchmarks;

/// <summary>
/// The aggregate report at community scale (100,000 children, 5 providers, 1,000,000 service
/// records) on the local Azurite. The community's children come from <see cref="SyntheticCommunity"/>
/// (<see cref="CommunitySpec.Benchmark"/>); their services are generated with a fixed seed and
/// written DIRECTLY, not through IngestionService: the activity summaries exactly as ingestion writes
/// them (built with <see cref="ActivityMonths.Build"/>), and the raw service records in a benchmark
/// table <c>rawservices</c> with the services table's properties plus the child key on every row,
/// partitioned by provider and bucket of about 100 rows (Azurite manages only about a hundred
/// small transactions a second, so the real one-partition-per-child layout would take most of an
/// hour to load; the raw scan reads the same number of service entities either way, and the
/// denormalized child key spares it the state rows, which favours the raw scan). For each period it measures the
/// report (AggregateReportService, the HTTP function's service, with decisions and audit) against
/// a raw scan of the services table computing the same distinct counts, and checks both against a
/// naive in-memory distinct count of the generated data.
/// </summary>
public static class ReportBenchmark
{
    private const string RawServices = "rawservices";

    private static readonly double[] Shares = [0.85, 0.35, 0.3, 0.15, 0.2];

    private static readonly string[][] Programs =
    [
        ["Attendance", "Tutoring", "EnglishLearners"], ["AfterSchool", "SummerCamp"], ["Checkup", "Immunization", "Dental"],
        ["PreK", "HomeVisit"], ["CaseManagement", "FoodAssistance"],
    ];

    private static readonly string[] ServiceTypes = ["Education", "Recreation", "Health", "EarlyLearning", "SocialServices"];

    private static readonly (DateOnly From, DateOnly To, string GroupBy)[] Periods =
    [
        (new DateOnly(2026, 3, 1), new DateOnly(2026, 3, 31), "provider"),
        (new DateOnly(2026, 4, 1), new DateOnly(2026, 6, 30), "provider,ageBand"),
        (new DateOnly(2025, 7, 1), new DateOnly(2026, 6, 30), "provider,sex,race"),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var keep = args.Contains("--keep");
        var reuse = args.SkipWhile(a => a != "--reuse").Skip(1).FirstOrDefault();
        var prefix = reuse ?? "bench" + Guid.NewGuid().ToString("N")[..8];
        await using var services = CliHost.Build([new("Storage:TablePrefix", prefix), new("Storage:UploadsContainer", prefix + "-up"),
            new("Storage:RejectsContainer", prefix + "-rj"), new("Storage:ExportsContainer", prefix + "-ex")]);
        var storage = services.GetRequiredService<ChildShareStorage>();
        Console.WriteLine($"table prefix {prefix}");
        var size = int.TryParse(args.SkipWhile(a => a != "--children").Skip(1).FirstOrDefault(), out var n) ? n : CommunitySpec.Benchmark.Children;
        var spec = CommunitySpec.Benchmark with { Children = size, ServiceRows = size * 10 };
        var data = Generate(spec);
        try
        {
            if (reuse is null)
            {
                await storage.EnsureCreatedAsync([RawServices]);
                await WriteAsync(services, data);
            }

            var caller = new Caller("bench-org", CallerRoles.Reader, CallerAuthMethod.ApiKey, "bench");
            var report = services.GetRequiredService<AggregateReportService>();
            var repetitions = int.TryParse(args.SkipWhile(a => a != "--repeat").Skip(1).FirstOrDefault(), out var r) ? r : 3;

            var lines = new List<string>
            {
                "| period | groupBy | report ms (median) | report runs | report entities read | provider-children in period | provider-children per entity read (goal >= 50) | raw scan ms | raw entities read | report/raw time | counts = naive | counts = raw |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|",
            };
            var allMatch = true;
            var measured = new List<(DateOnly From, DateOnly To, string GroupBy, List<double> Times, ReportRunStats Stats, IReadOnlyList<ReportRow> Rows)>();
            foreach (var (from, to, groupBy) in Periods)
            {
                var parameters = new Dictionary<string, string?> { ["from"] = Day(from), ["to"] = Day(to), ["groupBy"] = groupBy };
                var times = new List<double>();
                ReportResult? result = null;
                for (var i = 0; i <= repetitions; i++)
                {
                    // Every measured run computes the report: the snapshots of earlier runs are removed first.
                    await foreach (var blob in storage.Exports.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = ReportSnapshots.Prefix }))
                    {
                        await storage.Exports.DeleteBlobIfExistsAsync(blob.Name);
                    }

                    var watch = Stopwatch.StartNew();
                    result = await report.RunAsync(caller, parameters, null);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  report {Day(from)}..{Day(to)} run {i} ({(i == 0 ? "warm-up" : "measured")}): {watch.Elapsed.TotalMilliseconds:F0} ms, {result.Stats!.EntitiesRead:N0} entities"));
                    if (i > 0)
                    {
                        times.Add(watch.Elapsed.TotalMilliseconds);
                    }
                }

                var paged = Stopwatch.StartNew();
                var page = await report.RunAsync(caller, new Dictionary<string, string?>(parameters) { ["$skip"] = "10" }, null);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  next page of the same report: {paged.Elapsed.TotalMilliseconds:F0} ms, from snapshot: {page.Stats!.FromSnapshot}"));
                measured.Add((from, to, groupBy, times, result!.Stats!, result.Page!.Value));
            }

            // The raw way has no date index: every period needs the whole services table, so it is read once
            // (timed) and its rows are then counted for each period.
            var rawWatch = Stopwatch.StartNew();
            var rawRows = await RawScanAsync(storage);
            var rawMs = rawWatch.Elapsed.TotalMilliseconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"raw scan: {rawRows.Count:N0} service entities read in {rawMs:F0} ms"));

            foreach (var (from, to, groupBy, times, stats, rows) in measured)
            {
                var reportTotal = rows.Single(x => x.RowType == "total").Children;
                var reportByProvider = rows.Where(x => x.RowType != "total" && x.Provider != ReportDimensions.AllValues
                        && x.Sex == ReportDimensions.AllValues && x.Race == ReportDimensions.AllValues && x.AgeBand == ReportDimensions.AllValues)
                    .ToDictionary(x => x.Provider, x => x.Children);
                var raw = CountRaw(rawRows, from, to);
                var naive = Naive(data, from, to);
                var needed = data.ProviderChildren.Count(pc => pc.Services.Any(x => x.Start <= to && x.End >= from));
                // The agreement's Round5 protection shows every count rounded: the report must equal the naive count rounded.
                static long Shown(long count) => DifferencingGuard.Protect(count, DifferencingProtection.Round5, [], "");
                var matchNaive = reportTotal == Shown(naive.Total) && naive.ByProvider.All(p => reportByProvider.GetValueOrDefault(p.Key) == Shown(p.Value));
                var matchRaw = raw.Total == naive.Total && naive.ByProvider.All(p => raw.ByProvider.GetValueOrDefault(p.Key) == p.Value);
                allMatch &= matchNaive && matchRaw;
                var reportMs = Median(times);
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {Day(from)}..{Day(to)} | {groupBy} | {reportMs:F0} | {times.Count} | {stats.EntitiesRead:N0} | {needed:N0} | {(double)needed / Math.Max(1, stats.EntitiesRead):F1} | {rawMs:F0} | {rawRows.Count:N0} | {reportMs / rawMs:F3} | {(matchNaive ? "yes" : "NO")} ({naive.Total:N0} children) | {(matchRaw ? "yes" : "NO")} |"));
            }

            Console.WriteLine();
            foreach (var line in lines)
            {
                Console.WriteLine(line);
            }

            return allMatch ? 0 : 1;
        }
        finally
        {
            if (!keep)
            {
                await DeleteAsync(prefix);
            }
            else
            {
                Console.WriteLine($"kept tables with prefix {prefix}; remove with: -- cleanup --prefix {prefix}");
            }
        }
    }

    public static async Task<int> CleanupAsync(string[] args)
    {
        var prefix = args.SkipWhile(a => a != "--prefix").Skip(1).FirstOrDefault();
        if (string.IsNullOrEmpty(prefix) || prefix.Length < 6)
        {
            Console.Error.WriteLine("cleanup needs --prefix PREFIX (at least 6 characters)");
            return 2;
        }

        await DeleteAsync(prefix);
        return 0;
    }

    private static async Task DeleteAsync(string prefix)
    {
        // The Azurite the run used (the benchmark's own, when ChildShareStorage names one), never a default one by accident.
        var connection = Environment.GetEnvironmentVariable("ChildShareStorage") is { Length: > 0 } c ? c : "UseDevelopmentStorage=true";
        var tables = new TableServiceClient(connection);
        await foreach (var table in tables.QueryAsync(t => t.Name.CompareTo(prefix) >= 0 && t.Name.CompareTo(prefix + "~") < 0))
        {
            await tables.DeleteTableAsync(table.Name);
        }

        var blobs = new Azure.Storage.Blobs.BlobServiceClient(connection);
        foreach (var suffix in new[] { "-up", "-rj", "-ex" })
        {
            await blobs.GetBlobContainerClient(prefix + suffix).DeleteIfExistsAsync();
        }

        Console.WriteLine($"deleted tables and containers with prefix {prefix}");
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The naive answer: distinct children with any generated service overlapping the period, in total and per provider.</summary>
    private static (long Total, Dictionary<string, long> ByProvider) Naive(Community data, DateOnly from, DateOnly to)
    {
        var total = new HashSet<int>();
        var byProvider = new Dictionary<string, long>();
        foreach (var pc in data.ProviderChildren)
        {
            if (pc.Services.Any(s => s.Start <= to && s.End >= from))
            {
                total.Add(pc.Child);
                byProvider[pc.Provider] = byProvider.GetValueOrDefault(pc.Provider) + 1;
            }
        }

        return (total.Count, byProvider);
    }

    /// <summary>
    /// The raw way: read every service row in one unfiltered query (Azurite evaluates partition-range
    /// filters slowly, which would flatter the report), keeping what a distinct count needs.
    /// </summary>
    private static async Task<List<(string Provider, string Start, string End, string ChildKey)>> RawScanAsync(ChildShareStorage storage)
    {
        var table = storage.Table(RawServices);
        var rows = new List<(string, string, string, string)>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filter: (string?)null, maxPerPage: 1000, select: ["ProviderId", "StartDate", "EndDate", "AsOf", "ChildKey"]))
        {
            var end = entity.GetString("EndDate") is { Length: > 0 } e ? e : entity.GetString("AsOf") ?? "";
            rows.Add((entity.GetString("ProviderId") ?? "", entity.GetString("StartDate") ?? "", end, entity.GetString("ChildKey") ?? ""));
        }

        return rows;
    }

    /// <summary>Distinct child keys with a raw service row overlapping the period, in total and per provider.</summary>
    private static (long Total, Dictionary<string, long> ByProvider) CountRaw(List<(string Provider, string Start, string End, string ChildKey)> rows, DateOnly from, DateOnly to)
    {
        var fromText = Day(from);
        var toText = Day(to);
        var active = rows.Where(r => string.CompareOrdinal(r.Start, toText) <= 0 && string.CompareOrdinal(r.End, fromText) >= 0).ToList();
        return (active.Select(r => r.ChildKey).Distinct(StringComparer.Ordinal).LongCount(),
            active.GroupBy(r => r.Provider).ToDictionary(g => g.Key, g => g.Select(r => r.ChildKey).Distinct(StringComparer.Ordinal).LongCount()));
    }

    internal sealed record ProviderChild(string Provider, int ProviderIndex, int Child, string Token, List<ServiceInterval> Services);

    internal sealed class Community(SyntheticChild[] children, List<ProviderChild> providerChildren)
    {
        public SyntheticChild[] Children { get; } = children;

        public List<ProviderChild> ProviderChildren { get; } = providerChildren;

        /// <summary>The (provider, child, month) summaries with at least one active day in the period.</summary>
        public long ActivityEntitiesInPeriod(DateOnly from, DateOnly to)
        {
            long count = 0;
            foreach (var pc in ProviderChildren)
            {
                foreach (var (year, month) in ActivityMonths.MonthsBetween(from, to))
                {
                    var first = new DateOnly(year, month, 1);
                    var last = first.AddMonths(1).AddDays(-1);
                    var start = from > first ? from : first;
                    var end = to < last ? to : last;
                    if (pc.Services.Any(s => s.Start <= end && s.End >= start))
                    {
                        count++;
                    }
                }
            }

            return count;
        }
    }

    internal static Community Generate(CommunitySpec spec)
    {
        var watch = Stopwatch.StartNew();
        var community = new SyntheticCommunity(spec);
        var children = community.Children.ToArray();
        var random = new Random(20261126);
        var providerChildren = new List<ProviderChild>();
        var rowsPerProvider = spec.ServiceRows / spec.Providers;
        var epoch = new DateOnly(2025, 1, 1);
        for (var p = 0; p < spec.Providers; p++)
        {
            var provider = SyntheticCommunity.ProviderCatalog[p].Id;
            var members = children.Where(_ => random.NextDouble() < Shares[p]).Select(c => new ProviderChild(provider, p, c.Id, Token(provider, c.Id), [])).ToList();
            for (var i = 0; i < rowsPerProvider; i++)
            {
                var member = members[i < members.Count ? i : random.Next(members.Count)];
                var start = epoch.AddDays(random.Next(0, 640));
                var length = random.NextDouble() < 0.5 ? 0 : random.Next(1, 90);
                var program = Programs[p][random.Next(Programs[p].Length)];
                member.Services.Add(new ServiceInterval(program, ServiceTypes[p], start, start.AddDays(length)));
            }

            providerChildren.AddRange(members);
        }

        Console.WriteLine($"generated {children.Length:N0} children, {providerChildren.Count:N0} provider-children, {providerChildren.Sum(p => p.Services.Count):N0} services in {watch.Elapsed.TotalSeconds:F1} s");
        return new Community(children, providerChildren);
    }

    private static void Add(Dictionary<string, List<TableEntity>> groups, string key, TableEntity entity)
    {
        if (!groups.TryGetValue(key, out var list))
        {
            list = [];
            groups[key] = list;
        }

        list.Add(entity);
    }

    private static async Task WriteAllAsync(TableClient table, Dictionary<string, List<TableEntity>> partitions, Stopwatch watch, string what)
    {
        var batches = partitions.Values.SelectMany(p => p.OrderBy(e => e.RowKey, StringComparer.Ordinal).Chunk(BatchWriter.MaxBatchSize)).ToList();
        long written = 0;
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (batch, ct) =>
        {
            await table.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), ct);
            var done = Interlocked.Add(ref written, batch.Length);
            if (done / 100_000 != (done - batch.Length) / 100_000)
            {
                Console.WriteLine($"  {done:N0} {what} written ({watch.Elapsed.TotalSeconds:F0} s)");
            }
        });
    }

    private static string Token(string provider, int child) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{provider}/{child}")))[..32];

    private static string ChildKey(int child) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"child/{child}")))[..32];

    private static async Task WriteAsync(IServiceProvider services, Community data)
    {
        var watch = Stopwatch.StartNew();
        var storage = services.GetRequiredService<ChildShareStorage>();
        await RegisterAsync(services, Agreement("dsa-bench", SharingMode.Aggregate) with
        {
            Protection = DifferencingProtection.Round5, // quarters and years: exact counts (None) answer one calendar month at a time
        });

        var rawTable = storage.Table(RawServices);
        var changes = ActivityChanges(data);
        var byBucket = new Dictionary<string, List<TableEntity>>();
        var perProvider = new int[SyntheticCommunity.ProviderCatalog.Count];
        foreach (var pc in data.ProviderChildren)
        {
            var childKey = ChildKey(pc.Child);
            var bucket = $"{pc.Provider}|{perProvider[pc.ProviderIndex]++ / 18:D5}";
            for (var s = 0; s < pc.Services.Count; s++)
            {
                var service = pc.Services[s];
                Add(byBucket, bucket, new TableEntity(bucket, $"{pc.Token}|{s:D5}")
                {
                    ["ChildKey"] = childKey, ["ProviderId"] = pc.Provider, ["Program"] = service.Program, ["ServiceType"] = service.ServiceType,
                    ["StartDate"] = Day(service.Start), ["EndDate"] = Day(service.End), ["AsOf"] = "2026-09-30",
                });
            }
        }

        Console.WriteLine($"writing {byBucket.Values.Sum(b => b.Count):N0} raw service rows in {byBucket.Count:N0} partitions and {changes.Count:N0} provider children's activity into the buckets");
        await WriteAllAsync(rawTable, byBucket, watch, "raw service rows");
        await WriteActivityAsync(services, changes);
        Console.WriteLine($"data written in {watch.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>The benchmark's agreement: every provider of the catalog, for <c>bench-org</c>.</summary>
    internal static DataSharingAgreement Agreement(string id, SharingMode mode) => new()
    {
        Id = id,
        Parties = SyntheticCommunity.ProviderCatalog.Select(p => new AgreementParty(p.Id)).ToList(),
        Recipients = ["bench-org"],
        Modes = [mode],
        Purpose = "Benchmark",
        EffectiveFrom = new DateOnly(2024, 1, 1),
        AllowedDimensions = ReportDimensions.All,
        DocumentReference = "benchmark",
    };

    /// <summary>Registers the catalog's providers and creates the agreement.</summary>
    internal static async Task RegisterAsync(IServiceProvider services, DataSharingAgreement agreement)
    {
        var registry = services.GetRequiredService<ProviderRegistry>();
        foreach (var (id, name, kind) in SyntheticCommunity.ProviderCatalog)
        {
            await registry.RegisterAsync(id, name, kind);
        }

        await services.GetRequiredService<AgreementStore>().CreateAsync(agreement, "benchmark");
    }

    /// <summary>Each provider child's activity by year, as ingestion gives it to the activity store.</summary>
    internal static List<ActivityChange> ActivityChanges(Community data)
    {
        var changes = new List<ActivityChange>();
        var updatedBase = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        foreach (var pc in data.ProviderChildren)
        {
            var child = data.Children[pc.Child - 1];
            var updatedAt = updatedBase.AddMinutes(pc.ProviderIndex);
            string? Empty(string value) => value.Length == 0 ? null : value;
            var demographics = new[]
            {
                Day(child.BirthDate), Empty(child.Sex == Sex.Unknown ? "" : child.Sex.ToString()),
                Empty(child.Races.Length switch { 0 => "", 1 => child.Races[0].ToString(), _ => "TwoOrMore" }),
                Empty(child.Ethnicity == Ethnicity.Unknown ? "" : child.Ethnicity.ToString()), child.Zip[..3], child.Grade, child.School,
            };
            var key = RecordKeys.ProviderChild(pc.Provider, pc.Token);
            changes.Add(new ActivityChange(key, ActivityStore.Years(key, ChildKey(pc.Child), updatedAt.UtcTicks, demographics, pc.Services), []));
        }

        return changes;
    }

    /// <summary>As ingestion writes them (ActivityStore, between the version bumps), 20,000 provider children a flush.</summary>
    internal static async Task WriteActivityAsync(IServiceProvider services, IReadOnlyList<ActivityChange> changes)
    {
        var store = services.GetRequiredService<ActivityStore>();
        foreach (var chunk in changes.Chunk(ActivitySummaryBuilder.FlushChildren))
        {
            var layout = await store.BeginWriteAsync();
            await store.ApplyAsync(layout, chunk);
            await store.EndWriteAsync();
        }

        Console.WriteLine($"activity buckets written: {(await store.LayoutAsync())!.Buckets} buckets");
    }
}

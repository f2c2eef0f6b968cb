using System.Diagnostics;
using System.Globalization;
using ChildShare.Cli;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Benchmarks;

/// <summary>
/// Where the 12-month report's time goes, on data a <c>report --keep</c> run left (<c>report-profile --reuse PREFIX</c>): each
/// step of <see cref="AggregateReportService.RunAsync"/> timed on its own (wall and this process's CPU), repeated, median shown.
/// The CPU column tells the client's share from Azurite's: a step whose wall time is far above its CPU time waits on storage.
/// </summary>
public static class ReportProfile
{
    public static async Task<int> RunAsync(string[] args)
    {
        var prefix = args.SkipWhile(a => a != "--reuse").Skip(1).FirstOrDefault();
        if (prefix is null)
        {
            Console.Error.WriteLine("report-profile needs --reuse PREFIX (the tables of a report --keep run)");
            return 2;
        }

        var repetitions = int.TryParse(args.SkipWhile(a => a != "--repeat").Skip(1).FirstOrDefault(), out var r) ? r : 5;
        await using var services = CliHost.Build([new("Storage:TablePrefix", prefix), new("Storage:UploadsContainer", prefix + "-up"),
            new("Storage:RejectsContainer", prefix + "-rj"), new("Storage:ExportsContainer", prefix + "-ex")]);
        var storage = services.GetRequiredService<ChildShareStorage>();
        var activity = services.GetRequiredService<ActivityStore>();
        var table = services.GetRequiredService<ActivityTable>();
        var report = services.GetRequiredService<AggregateReportService>();
        var caller = new Caller("bench-org", CallerRoles.Reader, CallerAuthMethod.ApiKey, "bench");
        var from = new DateOnly(2025, 7, 1);
        var to = new DateOnly(2026, 6, 30);
        var parameters = new Dictionary<string, string?> { ["from"] = "2025-07-01", ["to"] = "2026-06-30", ["groupBy"] = "provider,sex,race" };
        var layout = (await activity.LayoutAsync())!;
        var timings = new Dictionary<string, List<(double Wall, double Cpu)>>(StringComparer.Ordinal);
        var order = new List<string>();

        async Task<T> Time<T>(string step, Func<Task<T>> action)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var result = await action();
            var wall = watch.Elapsed.TotalMilliseconds;
            var used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
            if (!timings.TryGetValue(step, out var list))
            {
                list = [];
                timings[step] = list;
                order.Add(step);
            }

            list.Add((wall, used));
            return result;
        }

        for (var i = 0; i <= repetitions; i++)
        {
            await DeleteSnapshotsAsync(storage);
            await Time("whole report (RunAsync, no snapshot)", () => report.RunAsync(caller, parameters, null));
            await Time("next page (RunAsync, from snapshot)", () => report.RunAsync(caller, new Dictionary<string, string?>(parameters) { ["$skip"] = "10" }, null));
            await Time("providers list", () => services.GetRequiredService<ProviderRegistry>().ListAsync());
            var registered = (await services.GetRequiredService<ProviderRegistry>().ListAsync()).Select(p => p.Id).ToList();
            await Time("sharing decisions", () => services.GetRequiredService<SharingDecisionPoint>().DecideAsync(caller,
                new SharingRequest(SharingMode.Aggregate, from, to, ["provider", "sex", "race"]), registered));
            await Time("layout read", () => activity.LayoutAsync());
            var rows = await Time("bucket point reads (128, 8 in flight, SDK entity + join)", async () =>
            {
                var work = new[] { 2025, 2026 }.SelectMany(y => Enumerable.Range(0, layout.Buckets).Select(b => (y, b))).ToList();
                var found = new ActivityBucketRow?[work.Count];
                await Parallel.ForEachAsync(Enumerable.Range(0, work.Count), new ParallelOptions { MaxDegreeOfParallelism = 8 },
                    async (k, ct) => found[k] = await table.ReadBucketAsync(work[k].b, work[k].y, ct));
                return found.Where(f => f is not null).Select(f => f!).ToList();
            });
            var decoded = await Time("decode payloads", () => Task.FromResult(rows.Select(row => ActivityStore.Decode(row.Payload)).ToList()));
            await Time("ActivityStore.ReadAsync (reads + decode)", () => activity.ReadAsync([2025, 2026]));
            var providers = registered.ToList();
            var agreement = (await services.GetRequiredService<SharingDecisionPoint>().DecideAsync(caller,
                new SharingRequest(SharingMode.Aggregate, from, to, ["provider", "sex", "race"]), registered)).First(v => v.Allowed).Agreement!;
            var (query, _) = AggregateReportQuery.Parse(parameters, null);
            await Time("fold payloads in place (ReportFold, no reads)", () =>
            {
                var fold = new ReportFold(from, to, needsActivities: false, ["sex", "race"], providers);
                foreach (var (row, k) in rows.Select((row, k) => (row, k)))
                {
                    fold.Add(k < rows.Count / 2 ? 2025 : 2026, row.Payload);
                }

                return Task.FromResult(fold.Children);
            });
            await Time("BuildAsync (read, fold, cells, suppression, protection)", () => report.BuildAsync(query!, providers, [agreement], agreement.MinimumCellSize,
                agreement.Protection, new AggregateReportService.BucketSource(activity, layout, keep: false), CancellationToken.None));
            var built = await report.BuildAsync(query!, providers, [agreement], agreement.MinimumCellSize, agreement.Protection,
                new AggregateReportService.BucketSource(activity, layout, keep: false), CancellationToken.None);
            var snapshots = services.GetRequiredService<ReportSnapshots>();
            await Time("snapshot write", async () =>
            {
                await snapshots.PutAsync("profile-" + i.ToString(CultureInfo.InvariantCulture), new ReportSnapshot(built.Rows, built.Receipt, built.Stats));
                return 0;
            });
            await Time("snapshot read", () => snapshots.GetAsync("profile-" + i.ToString(CultureInfo.InvariantCulture)));
            await Time("audit append", () => services.GetRequiredService<AuditLog>().AppendAsync(new AuditEntry(AuditEvents.AggregateReport, "Succeeded")
            {
                Caller = caller, RowsReturned = 1,
            }));
            if (i == 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{rows.Count} bucket-years, {rows.Sum(x => x.Payload.Length):N0} payload bytes, {decoded.Sum(d => d.Count):N0} provider-child years, {built.Rows.Count:N0} report rows"));
            }
        }

        Console.WriteLine($"| step (median of {repetitions} after a warm-up) | wall ms | CPU ms (this process) |");
        Console.WriteLine("|---|---|---|");
        foreach (var step in order)
        {
            var measured = timings[step].Skip(1).ToList();
            static double Median(IEnumerable<double> values) => values.Order().ElementAt(values.Count() / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {step} | {Median(measured.Select(m => m.Wall)):F0} | {Median(measured.Select(m => m.Cpu)):F0} |"));
        }

        return 0;
    }

    private static async Task DeleteSnapshotsAsync(ChildShareStorage storage)
    {
        await foreach (var blob in storage.Exports.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = ReportSnapshots.Prefix }))
        {
            await storage.Exports.DeleteBlobIfExistsAsync(blob.Name);
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Logging;

namespace ChildShare.Core.Sharing.Aggregate;

/// <summary>What a report run read: for the benchmark and the logs.</summary>
public sealed record ReportRunStats(long EntitiesRead, long EntitiesInPeriod, int Queries, int Children, bool FromSnapshot = false);

/// <summary>
/// The aggregate report: decides which providers the caller may see (<see cref="SharingDecisionPoint"/>),
/// reads the activity buckets of the period's years (<see cref="ActivityStore"/>, point reads) and
/// keeps those providers' children, counts unique children per cell and margin, suppresses small cells
/// with complementary suppression, applies the agreements' differencing protection, and audits
/// the request before anything is returned. A report is computed once per query and data version
/// and its pages are served from the snapshot (<see cref="ReportSnapshots"/>).
/// </summary>
public sealed partial class AggregateReportService(
    ActivityStore activity,
    ReportSnapshots snapshots,
    ProviderRegistry providers,
    SharingDecisionPoint decisions,
    AuditLog audit,
    IPseudonymKeyProvider keys,
    ILogger<AggregateReportService> logger)
{
    public const string CountedUnit =
        "Unique children (by community child key) with at least one day of service in the period. A child counts once in each cell, subtotal and total "
        + "it belongs to: a child served by three providers counts once in the total and once in each of the three provider rows, so rows of provider, "
        + "program or service type can add up to more than their total.";

    /// <summary>How a child's demographics are resolved across providers (the activity read model's rule, quoted in every report).</summary>
    public const string DemographicRule = ChildAggregator.DemographicRule;

    /// <summary>The largest table (cells, subtotals and total) a report builds; beyond it the request is refused as too fine.</summary>
    public const int MaxCells = 100_000;

    private static readonly string[] GradeOrder = ["PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"];
    private static readonly string[] AgeOrder = ["0-4", "5-9", "10-14", "15-17", "18+"];

    // Bits per dimension of a child's packed interior cell (value ids; a dimension with more values is refused as too many cells).
    private const int PackBits = 20;
    private const long PackMask = (1L << PackBits) - 1;

    public async Task<ReportResult> RunAsync(Caller caller, IReadOnlyDictionary<string, string?> parameters, string? accept, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(parameters);
        var watch = Stopwatch.StartNew();
        var auditParameters = AggregateReportQuery.ForAudit(parameters);
        var (query, errors) = AggregateReportQuery.Parse(parameters, accept);
        if (query is null)
        {
            await audit.AppendAsync(new AuditEntry(AuditEvents.AggregateReport, "BadRequest") { Caller = caller, Parameters = auditParameters, RowsReturned = 0 }, cancellationToken)
                .ConfigureAwait(false);
            LogBadRequest(logger, caller.OrganizationId, errors.Count);
            return new ReportResult(ReportStatus.BadRequest, null, errors, []);
        }

        // One decision per period counted: the whole period, or each calendar month of interval=month (a provider may join mid-way).
        var registered = (await providers.ListAsync(cancellationToken).ConfigureAwait(false)).Select(p => p.Id).ToList();
        var periods = new List<(AggregateReportQuery Query, List<SharingDecision> Allowed)>();
        var included = new List<IncludedProvider>();
        var refusals = new List<(string ProviderId, string Reason, string Month)>();
        foreach (var (periodFrom, periodTo) in query.Periods())
        {
            var request = new SharingRequest(SharingMode.Aggregate, periodFrom, periodTo, query.GroupBy);
            var verdicts = await decisions.DecideAsync(caller, request, registered, cancellationToken).ConfigureAwait(false);
            periods.Add((query with { From = periodFrom, To = periodTo }, verdicts.Where(v => v.Allowed).ToList()));
            included.AddRange(verdicts.Where(v => v.Allowed).Select(v => new IncludedProvider(v.ProviderId, v.Agreement!.Id, v.Agreement.Version)));
            refusals.AddRange(verdicts.Where(v => !v.Allowed).Select(v => (v.ProviderId, v.Reason, ActivityMonths.MonthKey(periodFrom))));
        }

        included = included.Distinct().ToList();

        // A time series names the months a provider was left out of, once per reason.
        var excluded = refusals.GroupBy(r => (r.ProviderId, r.Reason)).Select(g => new ExcludedProvider(g.Key.ProviderId,
            query.Interval == ReportInterval.Month ? $"{string.Join(", ", g.Select(r => r.Month))}: {g.Key.Reason}" : g.Key.Reason)).ToList();
        if (included.Count == 0)
        {
            await audit.AppendAsync(new AuditEntry(AuditEvents.AggregateReport, "Forbidden")
            {
                Caller = caller, Parameters = auditParameters, ProvidersExcluded = excluded.Select(e => e.ProviderId).Distinct().ToList(), RowsReturned = 0,
                Detail = string.Join(" ", excluded.Select(e => $"{e.ProviderId}: {e.Reason}")),
            }, cancellationToken).ConfigureAwait(false);
            LogForbidden(logger, caller.OrganizationId, excluded.Count);
            return new ReportResult(ReportStatus.Forbidden, null, [], excluded);
        }

        // The strictest minimum and protection of every agreement relied on, in every period: one series, one protection.
        var agreements = periods.SelectMany(p => p.Allowed).Select(v => v.Agreement!).DistinctBy(a => (a.Id, a.Version)).ToList();
        var minimum = agreements.Max(a => a.MinimumCellSize);
        var protection = agreements.Max(a => a.Protection);
        var rows = new List<ReportRow>();
        SuppressionReceipt receipt;
        ReportRunStats stats;
        try
        {
            var layout = await activity.LayoutAsync(cancellationToken).ConfigureAwait(false);
            ActivityStore.ThrowIfRebuilding(layout);
            var noiseVersion = protection == DifferencingProtection.Noise ? (await keys.GetCurrentKeyAsync(cancellationToken).ConfigureAwait(false)).Version : null;
            // A series' months may each allow other providers: the key names who was counted in which period.
            var keyParameters = new Dictionary<string, string?>(parameters, StringComparer.Ordinal)
            {
                ["#periods"] = string.Join(';', periods.Select(p => RecordKeys.IsoDate(p.Query.From) + ":" + string.Join(',', p.Allowed.Select(v => v.ProviderId).Order(StringComparer.Ordinal)))),
            };
            var snapshotKey = ReportSnapshots.Key(query, keyParameters, included, minimum, protection, noiseVersion, layout?.Version ?? 0);
            // Never served or kept while a writer is between its version bumps: the buckets may be half old, half new.
            var snapshot = layout is { Writing: false } ? await snapshots.GetAsync(snapshotKey, cancellationToken).ConfigureAwait(false) : null;
            if (snapshot is not null)
            {
                (rows, receipt, stats) = (snapshot.Rows.ToList(), snapshot.Receipt, snapshot.Stats with { EntitiesRead = 0, Queries = 0, FromSnapshot = true });
            }
            else
            {
                var built = new List<(SuppressionReceipt Receipt, ReportRunStats Stats)>();
                var buckets = new BucketSource(activity, layout, keep: periods.Count > 1);
                foreach (var (periodQuery, allowed) in periods.Where(p => p.Allowed.Count > 0))
                {
                    var (periodRows, periodReceipt, periodStats) = await BuildAsync(periodQuery, allowed.Select(v => v.ProviderId).ToList(),
                        allowed.Select(v => v.Agreement!).DistinctBy(a => a.Id).ToList(), minimum, protection, buckets, cancellationToken).ConfigureAwait(false);
                    rows.AddRange(periodRows);
                    built.Add((periodReceipt, periodStats));
                    if (rows.Count > MaxCells)
                    {
                        // A series is held whole for paging: bounded like one report's table.
                        throw new ReportTooLargeException(string.Create(CultureInfo.InvariantCulture,
                            $"This series makes more than {MaxCells:N0} rows; a report has at most {MaxCells:N0}. Ask for fewer months, or group by fewer or coarser dimensions."));
                    }
                }

                (receipt, stats) = built.Count == 1 && query.Interval == ReportInterval.None ? built[0] : Combine(built, minimum, protection);
                var after = await activity.LayoutAsync(cancellationToken).ConfigureAwait(false);

                // A rebuild that began while the report read (ended or not) may have shown its reads the emptied store.
                ActivityStore.ThrowIfRebuildBegan(layout, after);
                if (layout is { Writing: false } && after is { Writing: false } && after.Version == layout.Version)
                {
                    await snapshots.PutAsync(snapshotKey, new ReportSnapshot(rows, receipt, stats), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (ActivityRebuildingException ex)
        {
            await audit.AppendAsync(new AuditEntry(AuditEvents.AggregateReport, "Unavailable") { Caller = caller, Parameters = auditParameters, RowsReturned = 0, Detail = ex.Message },
                cancellationToken).ConfigureAwait(false);
            throw;
        }
        catch (ReportTooLargeException ex)
        {
            await audit.AppendAsync(new AuditEntry(AuditEvents.AggregateReport, "BadRequest") { Caller = caller, Parameters = auditParameters, RowsReturned = 0, Detail = ex.Message },
                cancellationToken).ConfigureAwait(false);
            return new ReportResult(ReportStatus.BadRequest, null, [ex.Message], excluded);
        }

        var pageRows = rows.Skip(query.Skip).Take(query.Top).ToList();
        var metadata = new ReportMetadata(RecordKeys.IsoDate(query.From), RecordKeys.IsoDate(query.To), query.GroupBy, CountedUnit, DemographicRule,
            included, excluded, receipt, rows.Count);
        await audit.AppendAsync(new AuditEntry(AuditEvents.AggregateReport, "Succeeded")
        {
            Caller = caller,
            Parameters = auditParameters,
            AgreementsRelied = agreements.Select(a => $"{a.Id}@{a.Version}").ToList(),
            ProvidersIncluded = included.Select(i => i.ProviderId).Distinct().ToList(),
            ProvidersExcluded = excluded.Select(e => e.ProviderId).Distinct().ToList(),
            RowsReturned = pageRows.Count,
            CellsSuppressed = receipt.CellsSuppressed,
        }, cancellationToken).ConfigureAwait(false);
        LogServed(logger, caller.OrganizationId, query.To.DayNumber - query.From.DayNumber + 1, included.Count, stats.EntitiesRead, pageRows.Count,
            receipt.CellsSuppressed, watch.ElapsedMilliseconds);
        return new ReportResult(ReportStatus.Ok, new ReportPage(pageRows, metadata, query.Skip, query.Top, query.Format), [], excluded) { Stats = stats };
    }


    internal async Task<(List<ReportRow> Rows, SuppressionReceipt Receipt, ReportRunStats Stats)> BuildAsync(
        AggregateReportQuery query, IReadOnlyList<string> providerIds, IReadOnlyList<DataSharingAgreement> agreements, int minimum,
        DifferencingProtection protection, BucketSource buckets, CancellationToken cancellationToken)
    {
        var dims = query.GroupBy;
        var demographics = dims.Where(ReportDimensions.DemographicColumns.ContainsKey).ToList();
        var needsActivities = dims.Contains(ReportDimensions.Program) || dims.Contains(ReportDimensions.ServiceType);
        var (fold, stats) = await ReadAsync(query, providerIds, demographics, needsActivities, buckets, cancellationToken).ConfigureAwait(false);

        // Each child's interior cells as packed tuples of per-dimension value ids (in order of first appearance; sorted below).
        var valueIds = dims.Select(_ => new Dictionary<string, int>(StringComparer.Ordinal)).ToArray();
        var seen = dims.Select(_ => new List<string>()).ToArray();
        var byId = dims.Select(_ => new Dictionary<int, int>()).ToArray();
        var byChild = dims.Select(_ => new Dictionary<int, int>()).ToArray();
        var ageBands = new Dictionary<int, string>();
        int ValueId(int i, string value)
        {
            if (!valueIds[i].TryGetValue(value, out var id))
            {
                id = seen[i].Count;
                valueIds[i][value] = id;
                seen[i].Add(value);
            }

            return id;
        }

        int Cached(Dictionary<int, int> cache, int i, int key, Func<string> value)
        {
            if (!cache.TryGetValue(key, out var id))
            {
                id = ValueId(i, value());
                cache[key] = id;
            }

            return id;
        }

        var interior = new HashSet<(int Child, long Tuple)>();
        foreach (var (child, provider, program, serviceType) in fold.Activities)
        {
            long tuple = 0;
            for (var i = 0; i < dims.Count; i++)
            {
                var id = dims[i] switch
                {
                    ReportDimensions.Provider => Cached(byId[i], i, provider, () => fold.Provider(provider)),
                    ReportDimensions.Program => Cached(byId[i], i, program, () => fold.ActivityValue(program)),
                    ReportDimensions.ServiceType => Cached(byId[i], i, serviceType, () => fold.ActivityValue(serviceType)),
                    _ => Cached(byChild[i], i, child, () => fold.Resolved(child, demographics.IndexOf(dims[i]), ageBands)),
                };
                tuple |= (long)id << (PackBits * i);
            }

            interior.Add((child, tuple));
        }

        var values = dims.Select((d, i) => (IReadOnlyList<string>)seen[i].Order(ValueComparer(d)).ToList()).ToList();
        var size = values.Aggregate(1L, (product, v) => product * (v.Count + 1));
        if (size > MaxCells)
        {
            throw new ReportTooLargeException(string.Create(CultureInfo.InvariantCulture,
                $"This grouping makes {size:N0} cells for the period; a report has at most {MaxCells:N0}. Group by fewer or coarser dimensions."));
        }

        // A value id to its place in the ordered values.
        var place = dims.Select((_, i) =>
        {
            var order = new int[seen[i].Count];
            for (var v = 0; v < values[i].Count; v++)
            {
                order[valueIds[i][values[i][v]]] = v;
            }

            return order;
        }).ToArray();
        var table = new CellTable(values);
        var counts = table.Keys.ToDictionary(k => k, _ => 0L);
        var masks = 1 << dims.Count;
        Span<int> coordinates = stackalloc int[dims.Count];
        var keysOfChild = new HashSet<long>();
        var cells = interior.ToArray();
        Array.Sort(cells, (a, b) => a.Child.CompareTo(b.Child));
        for (var start = 0; start < cells.Length;)
        {
            var end = start;
            keysOfChild.Clear();
            for (; end < cells.Length && cells[end].Child == cells[start].Child; end++)
            {
                for (var mask = 0; mask < masks; mask++)
                {
                    for (var i = 0; i < dims.Count; i++)
                    {
                        coordinates[i] = (mask & (1 << i)) != 0 ? CellTable.All : place[i][(int)((cells[end].Tuple >> (PackBits * i)) & PackMask)];
                    }

                    keysOfChild.Add(CellTable.Encode(coordinates));
                }
            }

            foreach (var key in keysOfChild)
            {
                counts[key]++;
            }

            start = end;
        }

        var hidden = CellSuppressor.Suppress(table, counts, minimum);
        var noiseKey = protection == DifferencingProtection.Noise ? await NoiseKeyAsync(cancellationToken).ConfigureAwait(false) : [];
        var from = RecordKeys.IsoDate(query.From);
        var to = RecordKeys.IsoDate(query.To);
        var queryScope = $"{from}|{to}|{string.Join(',', agreements.Select(a => a.Id).Order(StringComparer.Ordinal))}";
        var rows = new List<ReportRow>(table.Keys.Count);
        foreach (var key in table.Keys)
        {
            var shown = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < dims.Count; i++)
            {
                var c = table.Coordinate(key, i);
                shown[dims[i]] = c == CellTable.All ? ReportDimensions.AllValues : values[i][c];
            }

            string Column(string dimension) => shown.GetValueOrDefault(dimension, ReportDimensions.AllValues);
            var level = table.Level(key);
            var rowType = level == dims.Count ? "total" : level == 0 ? "cell" : "subtotal";
            var isHidden = hidden.ContainsKey(key);
            long? children = isHidden ? null
                : DifferencingGuard.Protect(counts[key], protection, noiseKey, queryScope + "|" + string.Join('|', dims.Select(Column)));
            rows.Add(new ReportRow(from, to, rowType, Column(ReportDimensions.Provider), Column(ReportDimensions.Program), Column(ReportDimensions.ServiceType),
                Column(ReportDimensions.Sex), Column(ReportDimensions.Race), Column(ReportDimensions.Ethnicity), Column(ReportDimensions.AgeBand),
                Column(ReportDimensions.Grade), Column(ReportDimensions.Zip3), children, isHidden,
                isHidden ? ReportRow.Suppression : ""));
        }

        var receipt = new SuppressionReceipt(minimum, hidden.Count, protection.ToString(),
        [
            SuppressionExplanation(hidden.Count, minimum),
            ProtectionExplanation(protection),
        ]);
        return (rows, receipt, stats with { Children = fold.Children });
    }

    /// <summary>The receipt and statistics of a time series: each month suppressed and protected on its own, under the same minimum and protection.</summary>
    private static (SuppressionReceipt Receipt, ReportRunStats Stats) Combine(
        IReadOnlyList<(SuppressionReceipt Receipt, ReportRunStats Stats)> months, int minimum, DifferencingProtection protection)
    {
        var hidden = months.Sum(m => m.Receipt.CellsSuppressed);
        var receipt = new SuppressionReceipt(minimum, hidden, protection.ToString(),
        [
            $"interval: month. Each of the {months.Count} month(s) is a report of that calendar month on its own (unique children active in it), "
            + "suppressed and protected like any report; months do not add up to the whole period, since a child active in several months counts in each.",
            SuppressionExplanation(hidden, minimum),
            ProtectionExplanation(protection),
        ]);
        var stats = new ReportRunStats(months.Sum(m => m.Stats.EntitiesRead), months.Sum(m => m.Stats.EntitiesInPeriod), months.Sum(m => m.Stats.Queries),
            months.Sum(m => m.Stats.Children));
        return (receipt, stats);
    }

    private static string SuppressionExplanation(int hidden, int minimum) =>
        $"suppression: {hidden} cell(s) hidden: every cell counting 1 to {minimum - 1} children (the agreements' minimum cell size is {minimum}), "
        + "and as many others as needed so that no hidden cell can be recomputed from the cells, subtotals and totals shown. Hidden cells are labelled alike; zero is shown as zero.";

    /// <summary>What the receipt says of the differencing protection that applied.</summary>
    public static string ProtectionExplanation(DifferencingProtection protection) => protection switch
    {
        DifferencingProtection.Round5 =>
            "differencing: Round5. Shown counts are rounded to a multiple of 5 (1 to 7 show as 5, zero stays zero), independently for cells and totals, "
            + "so reports of overlapping periods or of other groupings cannot be subtracted to recover a small or hidden count. Rows need not add up to totals.",
        DifferencingProtection.Noise =>
            "differencing: Noise. Shown counts carry keyed noise of -2 to +2 (never below 1, zero stays zero), identical for identical queries.",
        _ =>
            "differencing: None. Shown counts are exact; the agreement answers one whole calendar month at a time, so no two of its reports overlap and none can be subtracted from another.",
    };

    private static async Task<(ReportFold Fold, ReportRunStats Stats)> ReadAsync(AggregateReportQuery query, IReadOnlyList<string> providerIds,
        IReadOnlyList<string> demographics, bool needsActivities, BucketSource buckets, CancellationToken cancellationToken)
    {
        // Other providers' children share the buckets; the fold skips them.
        var fold = new ReportFold(query.From, query.To, needsActivities, demographics, providerIds);
        var (readBefore, queriesBefore) = (buckets.EntitiesRead, buckets.Queries);
        await foreach (var (year, payload) in buckets.ReadAsync(Enumerable.Range(query.From.Year, query.To.Year - query.From.Year + 1), cancellationToken)
            .ConfigureAwait(false))
        {
            fold.Add(year, payload);
        }

        return (fold, new ReportRunStats(buckets.EntitiesRead - readBefore, fold.ProviderChildYears, buckets.Queries - queriesBefore, fold.Children));
    }

    /// <summary>
    /// The bucket payloads one report run folds, each bucket-year read once per run: a time series (one period a month) keeps each
    /// year's payloads for the next month of the same year instead of reading them again; a single period streams them.
    /// </summary>
    internal sealed class BucketSource(ActivityStore activity, ActivityLayout? layout, bool keep)
    {
        private readonly Dictionary<int, List<byte[]?>> _kept = [];

        public int EntitiesRead { get; private set; }

        public int Queries { get; private set; }

        public async IAsyncEnumerable<(int Year, byte[] Payload)> ReadAsync(IEnumerable<int> years,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            if (layout is null)
            {
                yield break;
            }

            var wanted = years.Distinct().ToList();
            foreach (var year in wanted.Where(_kept.ContainsKey))
            {
                foreach (var payload in _kept[year].Where(p => p is not null))
                {
                    yield return (year, payload!);
                }
            }

            // The years not kept yet, in one stream (reads run ahead across the year boundary).
            var toRead = wanted.Where(y => !_kept.ContainsKey(y)).ToList();
            var keeping = keep ? toRead.ToDictionary(y => y, _ => new List<byte[]?>()) : null;
            await foreach (var (year, _, payload) in activity.ReadPayloadsAsync(layout, toRead, cancellationToken).ConfigureAwait(false))
            {
                Queries++;
                keeping?[year].Add(payload);
                if (payload is not null)
                {
                    EntitiesRead++;
                    yield return (year, payload);
                }
            }

            foreach (var (year, payloads) in keeping ?? [])
            {
                _kept[year] = payloads;
            }
        }
    }

    private async Task<byte[]> NoiseKeyAsync(CancellationToken cancellationToken)
    {
        var key = await keys.GetCurrentKeyAsync(cancellationToken).ConfigureAwait(false);
        return HMACSHA256.HashData(key.Material, Encoding.UTF8.GetBytes("report-noise-v1"));
    }

    private static IComparer<string> ValueComparer(string dimension) => Comparer<string>.Create((a, b) =>
    {
        static int Rank(string value, string[] order) => Array.IndexOf(order, value) is var i and >= 0 ? i : value == ReportDimensions.Unknown ? int.MaxValue : order.Length;
        var order = dimension == ReportDimensions.Grade ? GradeOrder : dimension == ReportDimensions.AgeBand ? AgeOrder : [];
        var byRank = Rank(a, order).CompareTo(Rank(b, order));
        return byRank != 0 ? byRank : string.CompareOrdinal(a, b);
    });

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information,
        Message = "Aggregate report for {OrganizationId}: {Days} days, {Providers} providers, {EntitiesRead} summaries read, {Rows} rows returned, {Suppressed} cells suppressed in {ElapsedMs} ms")]
    private static partial void LogServed(ILogger logger, string organizationId, int days, int providers, long entitiesRead, int rows, int suppressed, long elapsedMs);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Aggregate report for {OrganizationId} refused: no agreement permits any of {Providers} providers")]
    private static partial void LogForbidden(ILogger logger, string organizationId, int providers);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Aggregate report for {OrganizationId} rejected: {Errors} parameter error(s)")]
    private static partial void LogBadRequest(ILogger logger, string organizationId, int errors);
}

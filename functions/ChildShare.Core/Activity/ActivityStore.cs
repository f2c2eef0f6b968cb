using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Activity;

/// <summary>A provider child's activity in one program and service type during one calendar year: month m-1's day mask at index m-1 (bit d-1 = day d).</summary>
public sealed record YearActivity(string Program, string ServiceType, uint[] Months);

/// <summary>
/// What a bucket holds for one provider child in one year: its community child key, the
/// demographics its record gives (in <see cref="ActivityStore.Demographics"/> order, null when
/// unknown), when its record was last updated (for the demographic rule), and its activities.
/// </summary>
public sealed record ProviderChildYear(string ProviderChild, string ChildKey, long UpdatedTicks, string?[] Demographics, IReadOnlyList<YearActivity> Activities)
{
    public string ProviderId => RecordKeys.SplitProviderChild(ProviderChild).ProviderId;
}

/// <summary>A change to one provider child's activity: its new years (replacing what the buckets hold) and the years it no longer has.</summary>
public sealed record ActivityChange(string ProviderChild, IReadOnlyDictionary<int, ProviderChildYear> Years, IReadOnlyCollection<int> RemovedYears);

/// <summary>
/// The activity table's layout row: how many buckets, the data version readers key snapshots on, whether a writer is between its version
/// bumps, and whether a rebuild from the records (<see cref="ActivityStore.Rebuilding"/>) began and has not ended: the store then holds only
/// part of the activity, and reports and exports are refused until the rebuild ends; how many rebuilds ever began, so a reader whose reads
/// a whole rebuild happened within knows it read a part.
/// </summary>
public sealed record ActivityLayout(int Buckets, long Version, bool Writing, ETag ETag, bool Rebuilding = false, long Rebuilds = 0);

/// <summary>What a read of the buckets found: the provider-child years and how many entities it read.</summary>
public sealed record ActivityRead(IReadOnlyList<(int Year, ProviderChildYear Child)> Children, int EntitiesRead, int Queries, ActivityLayout? Layout);

/// <summary>
/// The activity summaries reports and exports read, in dense buckets (see STORAGE.md): provider
/// children are spread over a fixed number of buckets by a hash of their pseudonymous key
/// (<c>{provider}|{local token}</c>, never an identifier); one entity per bucket and calendar year
/// (PK <c>b{bucket}</c>, RK <c>{yyyy}</c>) holds, in binary properties, every provider child of the
/// bucket active that year with its day-exact activity bitsets per month, program and service type.
/// A year's report reads buckets x 2 entities by point reads, whatever the size of the community.
/// Writers (ingestion and re-links, under the linkage lock) read, change and write a bucket with
/// its ETag, so a writer that lost the lock fails instead of overwriting; every change is a
/// replacement keyed by provider child, so re-delivering an upload writes the same bytes again.
/// The layout row (PK <c>layout</c>) holds the bucket count and a data version that writers bump
/// before and after writing, which report snapshots are keyed on.
/// </summary>
public sealed class ActivityStore(ActivityTable table)
{
    /// <summary>Buckets of a new store: at the benchmark community's scale (185,000 provider children) about 2,900 a bucket, about 300 KB.</summary>
    public const int DefaultBuckets = 64;

    public const int MaxBuckets = 4096;

    /// <summary>Demographics a bucket keeps per provider child: those reports group by and exports generalize. No direct identifier, no full zip.</summary>
    public static readonly IReadOnlyList<string> Demographics = ["BirthDate", "Sex", "Race", "Ethnicity", "Zip3", "Grade", "School"];

    private const int Format = 1;
    private const int ParallelRequests = 8;
    private const int MaxConflictRetries = 8;

    /// <summary>The name of a bucket's partition.</summary>
    public static string BucketKey(int bucket) => ActivityTable.BucketKey(bucket);

    /// <summary>The bucket of a provider child: the first four bytes of a SHA-256 of its key (already pseudonymous), modulo the bucket count.</summary>
    public static int BucketOf(string providerChild, int buckets)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(providerChild), hash);
        return (int)(BinaryPrimitives.ReadUInt32BigEndian(hash) % (uint)buckets);
    }

    /// <summary>The layout row, or null before anything was written in this shape.</summary>
    public async Task<ActivityLayout?> LayoutAsync(CancellationToken cancellationToken = default)
    {
        return await table.ReadLayoutAsync(cancellationToken).ConfigureAwait(false) is { } row
            ? new ActivityLayout(row.Buckets ?? DefaultBuckets, row.Version, row.Writing, row.ETag, row.Rebuilding, row.Rebuilds)
            : null;
    }

    /// <summary>
    /// Marks the data as being written (the version changes, so no snapshot taken from now on is kept)
    /// and returns the layout writers use; creates it with <paramref name="bucketsIfNew"/> buckets when there is none.
    /// </summary>
    public Task<ActivityLayout> BeginWriteAsync(int bucketsIfNew = DefaultBuckets, CancellationToken cancellationToken = default) =>
        BumpAsync(writing: true, bucketsIfNew, endRebuild: false, cancellationToken);

    /// <summary>Marks the write done: a new version that snapshots may be kept for.</summary>
    public Task<ActivityLayout> EndWriteAsync(CancellationToken cancellationToken = default) => BumpAsync(writing: false, DefaultBuckets, endRebuild: false, cancellationToken);

    /// <summary>The rebuild begun by <see cref="ResetAsync"/> wrote every provider child: reports and exports are served again.</summary>
    public Task<ActivityLayout> EndRebuildAsync(CancellationToken cancellationToken = default) =>
        BumpAsync(writing: false, DefaultBuckets, endRebuild: true, cancellationToken);

    private async Task<ActivityLayout> BumpAsync(bool writing, int bucketsIfNew, bool endRebuild, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = await LayoutAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // A rebuild's mark outlives the writes in it (its own flushes, and an upload's between them or after a stopped rebuild):
                // only the end of a rebuild takes it off.
                await table.WriteLayoutAsync(current?.Buckets ?? ValidBuckets(bucketsIfNew), (current?.Version ?? 0) + 1, writing, Format, current?.ETag,
                        rebuilding: !endRebuild && current?.Rebuilding == true, rebuilds: current?.Rebuilds ?? 0, cancellationToken)
                    .ConfigureAwait(false);

                return (await LayoutAsync(cancellationToken).ConfigureAwait(false))!;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxConflictRetries)
            {
                // Another writer (or a reader creating nothing) moved it; read it again.
            }
        }
    }

    /// <summary>
    /// Replaces the layout with a new bucket count and empties the store: only for rebuilding a store from the records. The layout is
    /// marked as rebuilding before the first bucket-year is deleted, and stays so until <see cref="EndRebuildAsync"/>: a rebuild that
    /// stops anywhere (a crash, too few buckets) leaves reports and exports refused, not counting from a part of the store.
    /// </summary>
    public async Task ResetAsync(int buckets, CancellationToken cancellationToken = default)
    {
        var current = await LayoutAsync(cancellationToken).ConfigureAwait(false);
        await table.ReplaceLayoutAsync(ValidBuckets(buckets), (current?.Version ?? 0) + 1, writing: true, Format, rebuilding: true,
            rebuilds: (current?.Rebuilds ?? 0) + 1, cancellationToken).ConfigureAwait(false);
        await table.DeleteAllBucketsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Refuses a read of a store whose rebuild began and has not ended (<see cref="ActivityRebuildingException"/>).</summary>
    public static void ThrowIfRebuilding(ActivityLayout? layout)
    {
        if (layout is { Rebuilding: true })
        {
            throw new ActivityRebuildingException();
        }
    }

    /// <summary>
    /// Refuses what a reader read between two reads of the layout if a rebuild began in between: one that has not ended, or one that began
    /// and ended while the reader read (the rebuild count moved), for its reads may have met the emptied store.
    /// </summary>
    public static void ThrowIfRebuildBegan(ActivityLayout? before, ActivityLayout? after)
    {
        ThrowIfRebuilding(after);
        if ((after?.Rebuilds ?? 0) != (before?.Rebuilds ?? 0))
        {
            throw new ActivityRebuildingException();
        }
    }

    /// <summary>The operator command that rebuilds the store from the records (also the migration from the month-summary shape).</summary>
    public const string Rebuilding = "childshare activity-rebuild";

    private static int ValidBuckets(int buckets) =>
        buckets is >= 1 and <= MaxBuckets && (buckets & (buckets - 1)) == 0
            ? buckets
            : throw new ArgumentOutOfRangeException(nameof(buckets), buckets, $"The bucket count is a power of two from 1 to {MaxBuckets}.");

    /// <summary>
    /// Applies changes to the buckets: every touched bucket-year is read, changed and encoded before any is written, so a
    /// bucket-year the changes would overfill (<see cref="ActivityBucketFullException"/>) fails the whole call with nothing
    /// written: a partial write would count children whose records the caller never writes. Then each is written with the
    /// ETag it was read with (read, changed and written again on a conflict); a bucket-year left empty is deleted. Call
    /// between <see cref="BeginWriteAsync"/> and <see cref="EndWriteAsync"/>.
    /// </summary>
    public async Task ApplyAsync(ActivityLayout layout, IReadOnlyCollection<ActivityChange> changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(changes);
        var work = new Dictionary<(int Bucket, int Year), Dictionary<string, ProviderChildYear?>>();
        foreach (var change in changes)
        {
            var bucket = BucketOf(change.ProviderChild, layout.Buckets);
            foreach (var year in change.RemovedYears.Where(y => !change.Years.ContainsKey(y)))
            {
                Slot(work, bucket, year)[change.ProviderChild] = null;
            }

            foreach (var (year, child) in change.Years)
            {
                Slot(work, bucket, year)[change.ProviderChild] = child;
            }
        }

        var items = work.ToList();
        var prepared = new PreparedBucket[items.Count];
        long keptBytes = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, items.Count), new ParallelOptions { MaxDegreeOfParallelism = ParallelRequests, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var (bucket, year) = items[i].Key;
                var next = await PrepareAsync(bucket, year, items[i].Value, ct).ConfigureAwait(false);
                // The payloads are kept for the writes up to a budget; past it a bucket-year is read and changed again when written.
                prepared[i] = next.Payload is { } payload && Interlocked.Add(ref keptBytes, payload.Length) > MaxKeptPayloadBytes ? next with { Payload = null } : next;
            }).ConfigureAwait(false);

        if (prepared.Where(p => p.Bytes > MaxPayloadBytes).Select(p => p.Bytes).DefaultIfEmpty().Max() is var largest and > 0)
        {
            throw new ActivityBucketFullException(prepared.Count(p => p.Bytes > MaxPayloadBytes), largest, layout.Buckets, MaxPayloadBytes);
        }

        await Parallel.ForEachAsync(Enumerable.Range(0, items.Count), new ParallelOptions { MaxDegreeOfParallelism = ParallelRequests, CancellationToken = cancellationToken },
            async (i, ct) => await WriteBucketAsync(items[i].Key.Bucket, items[i].Key.Year, items[i].Value, prepared[i], ct).ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>
    /// Payload bytes one <see cref="ApplyAsync"/> keeps between checking and writing (a flush touches up to buckets x years of them):
    /// a bound on the memory it adds. Settable for the tests of the path past it.
    /// </summary>
    internal long MaxKeptPayloadBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>
    /// The most payload bytes a bucket-year may hold: what an entity can (<see cref="ActivityTable.MaxPayloadBytes"/>). Settable for
    /// the tests that fill a bucket-year through ingestion without writing a megabyte per year.
    /// </summary>
    internal int MaxPayloadBytes { get; init; } = ActivityTable.MaxPayloadBytes;

    private static Dictionary<string, ProviderChildYear?> Slot(Dictionary<(int, int), Dictionary<string, ProviderChildYear?>> work, int bucket, int year)
    {
        if (!work.TryGetValue((bucket, year), out var slot))
        {
            slot = new Dictionary<string, ProviderChildYear?>(StringComparer.Ordinal);
            work[(bucket, year)] = slot;
        }

        return slot;
    }

    /// <summary>
    /// A bucket-year's version as read (null when there was none), and its payload with the changes applied (null when it is left
    /// empty). Only the version is kept of what was read: a flush holds one of these for every bucket-year it touches until all are
    /// checked, and the payloads read are garbage once changed.
    /// </summary>
    private sealed record PreparedBucket(ETag? ExistingETag, int Children, byte[]? Payload, int Bytes);

    private async Task<PreparedBucket> PrepareAsync(int bucket, int year, Dictionary<string, ProviderChildYear?> changes, CancellationToken cancellationToken)
    {
        var existing = await table.ReadBucketAsync(bucket, year, cancellationToken).ConfigureAwait(false);
        var children = existing is null ? new SortedDictionary<string, ProviderChildYear>(StringComparer.Ordinal) : Decode(existing.Payload);
        foreach (var (providerChild, child) in changes)
        {
            if (child is null)
            {
                children.Remove(providerChild);
            }
            else
            {
                children[providerChild] = child;
            }
        }

        var payload = children.Count == 0 ? null : Encode(children.Values);
        return new PreparedBucket(existing?.ETag, children.Count, payload, payload?.Length ?? 0);
    }

    private async Task WriteBucketAsync(int bucket, int year, Dictionary<string, ProviderChildYear?> changes, PreparedBucket prepared, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (attempt > 0 || (prepared.Payload is null && prepared.Children > 0))
            {
                prepared = await PrepareAsync(bucket, year, changes, cancellationToken).ConfigureAwait(false);
                if (prepared.Bytes > MaxPayloadBytes)
                {
                    // Only a writer without the linkage lock could have grown it since the check; refuse rather than write a part. A race,
                    // not too few buckets (and other bucket-years of this write may be written): retried as any failed attempt is.
                    throw new InvalidOperationException("An activity bucket-year grew past an entity's size after this write checked it (a writer without the linkage lock); the work is retried.");
                }
            }

            try
            {
                if (prepared.Payload is null)
                {
                    if (prepared.ExistingETag is { } read)
                    {
                        await table.DeleteBucketAsync(bucket, year, read, cancellationToken).ConfigureAwait(false);
                    }
                }
                else
                {
                    await table.WriteBucketAsync(bucket, year, Format, prepared.Children, prepared.Payload, prepared.ExistingETag, cancellationToken).ConfigureAwait(false);
                }

                return;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 or 404 && attempt < MaxConflictRetries)
            {
                // Changed since it was read: read it again and reapply (every change is a replacement, so reapplying is safe).
            }
        }
    }

    /// <summary>
    /// Every provider child active in the given years, by point reads of each bucket-year; nothing when the store has no layout yet.
    /// </summary>
    /// <exception cref="ActivityRebuildingException">A rebuild began and has not ended.</exception>
    public async Task<ActivityRead> ReadAsync(IEnumerable<int> years, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(years);
        var layout = await LayoutAsync(cancellationToken).ConfigureAwait(false);
        if (layout is null)
        {
            return new ActivityRead([], 0, 0, null);
        }

        ThrowIfRebuilding(layout);

        var work = years.Distinct().SelectMany(y => Enumerable.Range(0, layout.Buckets).Select(b => (Year: y, Bucket: b))).ToList();
        var results = new List<(int, ProviderChildYear)>[work.Count];
        var read = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, work.Count), new ParallelOptions { MaxDegreeOfParallelism = ParallelRequests, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var (year, bucket) = work[i];
                var row = await table.ReadBucketAsync(bucket, year, ct).ConfigureAwait(false);
                results[i] = [];
                if (row is not null)
                {
                    Interlocked.Increment(ref read);
                    results[i].AddRange(Decode(row.Payload).Values.Select(c => (year, c)));
                }
            }).ConfigureAwait(false);

        ThrowIfRebuildBegan(layout, await LayoutAsync(cancellationToken).ConfigureAwait(false));

        // Work order (year, bucket), each bucket in provider-child order: the same data reads back in the same order.
        return new ActivityRead(results.SelectMany(r => r).ToList(), read, work.Count, layout);
    }

    /// <summary>
    /// The payload of every bucket-year of <paramref name="years"/> under <paramref name="layout"/> (null where a bucket-year does not
    /// exist), in the order <see cref="ReadAsync"/> gives them (year, then bucket), point-read up to 8 ahead of the caller, so a caller
    /// that folds one payload while the next are read overlaps its work with the storage's. For readers that walk payloads with
    /// <see cref="BucketPayloadReader"/> instead of decoding them into records.
    /// </summary>
    public async IAsyncEnumerable<(int Year, int Bucket, byte[]? Payload)> ReadPayloadsAsync(
        ActivityLayout layout, IEnumerable<int> years, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(years);
        ThrowIfRebuilding(layout);
        var work = years.Distinct().SelectMany(y => Enumerable.Range(0, layout.Buckets).Select(b => (Year: y, Bucket: b))).ToList();
        var inFlight = new Queue<Task<ActivityBucketRow?>>();
        var next = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            for (var i = 0; i < work.Count; i++)
            {
                while (next < work.Count && inFlight.Count < ParallelRequests)
                {
                    inFlight.Enqueue(table.ReadBucketAsync(work[next].Bucket, work[next].Year, stop.Token));
                    next++;
                }

                var row = await inFlight.Dequeue().ConfigureAwait(false);
                yield return (work[i].Year, work[i].Bucket, row?.Payload);
            }
        }
        finally
        {
            // A caller that stops early (or fails) leaves no read running unobserved.
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var pending in inFlight)
            {
                try
                {
                    await pending.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
                catch (Azure.RequestFailedException)
                {
                }
            }
        }
    }

    /// <summary>The payload of a bucket-year (format 1, see STORAGE.md); the caller checks it against <see cref="ActivityTable.MaxPayloadBytes"/>.</summary>
    internal static byte[] Encode(IEnumerable<ProviderChildYear> children)
    {
        var list = children.ToList();
        var strings = new Dictionary<string, int>(StringComparer.Ordinal);
        int Intern(string? value) => value is null ? 0 : strings.TryGetValue(value, out var i) ? i : strings[value] = strings.Count + 1;
        var (body, head) = Scratch();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write7BitEncodedInt(list.Count);
            foreach (var child in list)
            {
                w.Write(child.ProviderChild);
                w.Write(child.ChildKey);
                w.Write(child.UpdatedTicks);
                for (var d = 0; d < Demographics.Count; d++)
                {
                    w.Write7BitEncodedInt(Intern(d < child.Demographics.Length && !string.IsNullOrEmpty(child.Demographics[d]) ? child.Demographics[d] : null));
                }

                w.Write7BitEncodedInt(child.Activities.Count);
                foreach (var activity in child.Activities)
                {
                    w.Write7BitEncodedInt(Intern(activity.Program));
                    w.Write7BitEncodedInt(Intern(activity.ServiceType));
                    var present = 0;
                    for (var m = 0; m < 12; m++)
                    {
                        present |= activity.Months[m] != 0 ? 1 << m : 0;
                    }

                    w.Write((ushort)present);
                    for (var m = 0; m < 12; m++)
                    {
                        if (activity.Months[m] != 0)
                        {
                            w.Write(activity.Months[m]);
                        }
                    }
                }
            }
        }

        using (var w = new BinaryWriter(head, Encoding.UTF8, leaveOpen: true))
        {
            w.Write7BitEncodedInt(Format);
            w.Write7BitEncodedInt(strings.Count);
            foreach (var s in strings.OrderBy(p => p.Value).Select(p => p.Key))
            {
                w.Write(s);
            }
        }

        var payload = new byte[head.Length + body.Length];
        head.GetBuffer().AsSpan(0, (int)head.Length).CopyTo(payload);
        body.GetBuffer().AsSpan(0, (int)body.Length).CopyTo(payload.AsSpan((int)head.Length));
        if (body.Capacity > 2 * ActivityTable.MaxPayloadBytes)
        {
            // A bucket-year past what an entity holds (the write then refuses it): no thread keeps a buffer of that size.
            _scratch = null;
        }

        return payload;
    }

    // Encode's two buffers, one pair per thread and reused (Encode never awaits, so no other call on the thread can interleave): a
    // bucket-year's payload is up to a megabyte, and growing new streams for each made several large objects per bucket-year written.
    [ThreadStatic]
    private static (MemoryStream Body, MemoryStream Head)? _scratch;

    private static (MemoryStream Body, MemoryStream Head) Scratch()
    {
        var scratch = _scratch ??= (new MemoryStream(), new MemoryStream());
        scratch.Body.SetLength(0);
        scratch.Head.SetLength(0);
        return scratch;
    }

    /// <summary>The provider children of a bucket-year's payload, in key order.</summary>
    internal static SortedDictionary<string, ProviderChildYear> Decode(byte[] bytes)
    {
        using var payload = new MemoryStream(bytes);
        var result = new SortedDictionary<string, ProviderChildYear>(StringComparer.Ordinal);
        if (payload.Length == 0)
        {
            return result;
        }

        using var r = new BinaryReader(payload, Encoding.UTF8);
        var format = r.Read7BitEncodedInt();
        if (format != Format)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Activity bucket format {format} is not known; rebuild the activity store ({Rebuilding})."));
        }

        var strings = new string?[r.Read7BitEncodedInt() + 1];
        for (var i = 1; i < strings.Length; i++)
        {
            strings[i] = r.ReadString();
        }

        var count = r.Read7BitEncodedInt();
        for (var n = 0; n < count; n++)
        {
            var providerChild = r.ReadString();
            var childKey = r.ReadString();
            var ticks = r.ReadInt64();
            var demographics = new string?[Demographics.Count];
            for (var d = 0; d < demographics.Length; d++)
            {
                demographics[d] = strings[r.Read7BitEncodedInt()];
            }

            var activities = new YearActivity[r.Read7BitEncodedInt()];
            for (var a = 0; a < activities.Length; a++)
            {
                var program = strings[r.Read7BitEncodedInt()] ?? "";
                var serviceType = strings[r.Read7BitEncodedInt()] ?? "";
                var present = r.ReadUInt16();
                var months = new uint[12];
                for (var m = 0; m < 12; m++)
                {
                    if ((present & (1 << m)) != 0)
                    {
                        months[m] = r.ReadUInt32();
                    }
                }

                activities[a] = new YearActivity(program, serviceType, months);
            }

            result[providerChild] = new ProviderChildYear(providerChild, childKey, ticks, demographics, activities);
        }

        return result;
    }

    /// <summary>
    /// A provider child's activities by year, from its service intervals (month day masks per program and service type):
    /// the shape a bucket stores.
    /// </summary>
    public static Dictionary<int, ProviderChildYear> Years(
        string providerChild, string childKey, long updatedTicks, string?[] demographics, IEnumerable<ServiceInterval> services)
    {
        var byYear = new Dictionary<int, SortedDictionary<(string, string), uint[]>>();
        foreach (var (month, entries) in ActivityMonths.Build(services))
        {
            var year = int.Parse(month.AsSpan(0, 4), CultureInfo.InvariantCulture);
            var index = int.Parse(month.AsSpan(5, 2), CultureInfo.InvariantCulture) - 1;
            if (!byYear.TryGetValue(year, out var activities))
            {
                activities = new SortedDictionary<(string, string), uint[]>(Comparer<(string, string)>.Create((a, b) =>
                    string.CompareOrdinal(a.Item1, b.Item1) is var c and not 0 ? c : string.CompareOrdinal(a.Item2, b.Item2)));
                byYear[year] = activities;
            }

            foreach (var entry in entries)
            {
                if (!activities.TryGetValue((entry.Program, entry.ServiceType), out var months))
                {
                    months = new uint[12];
                    activities[(entry.Program, entry.ServiceType)] = months;
                }

                months[index] |= entry.DayMask;
            }
        }

        return byYear.ToDictionary(y => y.Key, y => new ProviderChildYear(providerChild, childKey, updatedTicks, demographics,
            y.Value.Select(a => new YearActivity(a.Key.Item1, a.Key.Item2, a.Value)).ToList()));
    }
}

/// <summary>
/// Changes would make bucket-years hold more than an entity may: none of that write's bucket-years was written (a rebuild, which
/// cleared the store before it, says so instead). Rebuilding the store with more buckets (<see cref="ActivityStore.Rebuilding"/>)
/// spreads the children over more entities. The message holds counts only.
/// </summary>
public sealed class ActivityBucketFullException(int bucketYears, int largestBytes, int buckets, int maxBytes = ActivityTable.MaxPayloadBytes, bool duringRebuild = false)
    : InvalidOperationException(Describe(bucketYears, largestBytes, buckets, maxBytes, duringRebuild))
{
    public int BucketYears { get; } = bucketYears;

    public int LargestBytes { get; } = largestBytes;

    public int MaxBytes { get; } = maxBytes;

    private static string Describe(int bucketYears, int largestBytes, int buckets, int maxBytes, bool duringRebuild)
    {
        var more = buckets > 0 ? string.Create(CultureInfo.InvariantCulture, $"more than {buckets} buckets") : "more buckets";
        var full = string.Create(CultureInfo.InvariantCulture,
            $"{bucketYears} activity bucket-year(s) would hold up to {largestBytes:N0} bytes, more than an entity may ({maxBytes:N0})");
        // A rebuild clears the store before it writes: unlike an upload's write, it leaves reports without the activity it had not yet written.
        return duringRebuild
            ? full + string.Create(CultureInfo.InvariantCulture,
                $"; the rebuild stopped. The store was cleared for it, so reports and exports show no or partial activity until {ActivityStore.Rebuilding} --buckets N with {more} runs to its end.")
            : full + string.Create(CultureInfo.InvariantCulture,
                $"; none of this write's bucket-years was written. Rebuild the activity store with {more} ({ActivityStore.Rebuilding} --buckets N).");
    }
}

/// <summary>
/// A rebuild of the activity store from the records (<see cref="ActivityStore.Rebuilding"/>) began and has not ended: the store holds only
/// part of the activity, so a report or export would count part of the children as if they were all. Reports and exports are refused
/// (HTTP 503, the command line's exit code 5) until a rebuild runs to its end.
/// </summary>
public sealed class ActivityRebuildingException()
    : InvalidOperationException(
        $"The activity store is being rebuilt ({ActivityStore.Rebuilding}), or a rebuild stopped before its end: until one ends, the store holds only part of the activity, so no report or export is served. Try again once the rebuild has finished; an operator reruns it if it stopped.");

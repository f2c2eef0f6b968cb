using System.Globalization;
using ChildShare.Core.Activity;
using ChildShare.Core.Linkage;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Options;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// What a summary rebuild did. <paramref name="ChildrenNotStored"/>: provider children whose services a records row could not
/// hold with the upload's added (<see cref="ChildRecordStore.Fits"/>); their services (and so their activity) were left as they
/// were, while their child key and demographics followed the upload.
/// </summary>
public readonly record struct RebuildResult(int Children, int ServicesWithdrawn, int ChildrenNotStored = 0);

/// <summary>
/// Folds an upload's staging into each child's record and keeps the activity buckets
/// (<see cref="ActivityStore"/>) consistent with it: every child the upload names is rebuilt from
/// its whole record, so corrected services, withdrawn services and re-linked child keys show on the
/// next report, and years that no longer have activity are removed. Reads the staging partition
/// once, in child order, a page at a time; reads each child's record with a point read. Changes are
/// gathered over up to <see cref="FlushChildren"/> provider children and then written in this order:
/// the buckets (one read-change-write per touched bucket and year), then memberships and records. A
/// crash between the two leaves the records as they were, so the re-delivered upload plans the same
/// changes from them and writes the same buckets again. A child whose services would no longer fit its records row keeps the
/// services it had and is counted (<see cref="RebuildResult.ChildrenNotStored"/>), so one such child neither fails the rest of the
/// file nor, at capacity, every later upload that names it; its child key (a re-link by this upload's linkage) and demographics
/// are still applied, so its buckets and membership stay those of the key linkage gave it.
/// </summary>
public sealed class ActivitySummaryBuilder(UploadStagingStore staging, ChildRecordStore records, MembershipStore memberships, ActivityStore activity, IOptions<IngestionOptions> options) : ISummaryRebuilder
{
    private const int ChunkSize = 500;
    private const int ParallelReads = 8;

    /// <summary>Provider children gathered before the buckets are written: each flush rewrites every touched bucket-year once.</summary>
    public const int FlushChildren = 20_000;

    /// <summary>
    /// Rebuilds the summaries of an upload's staged children. <paramref name="newChildren"/>: children no earlier upload sent
    /// (<see cref="LinkCompletion.NewChildren"/>), whose records rows are not read, for none exists.
    /// </summary>
    public async Task<RebuildResult> RebuildForUploadAsync(
        string uploadId, DateTimeOffset receivedAt, ReuploadPolicy policy, IReadOnlySet<string>? newChildren = null, CancellationToken cancellationToken = default)
    {
        var chunk = new List<StagedChild>(ChunkSize);
        StagedChild? current = null;
        var pending = new Pending();
        var context = new RebuildContext(uploadId, receivedAt, policy) { NewChildren = newChildren ?? new HashSet<string>() };
        await foreach (var row in staging.ReadUploadAsync(uploadId, cancellationToken).ConfigureAwait(false))
        {
            if (current is null || current.ProviderChild != row.ProviderChild)
            {
                if (chunk.Count == ChunkSize)
                {
                    await PlanAsync(chunk, context, pending, cancellationToken).ConfigureAwait(false);
                    chunk.Clear();
                }

                current = new StagedChild(row.ProviderChild);
                chunk.Add(current);
            }

            if (row.Child is { } child)
            {
                current.Child = child;
            }
            else if (row.Service is { } service)
            {
                current.Services.Add(service);
            }
        }

        await PlanAsync(chunk, context, pending, cancellationToken).ConfigureAwait(false);
        await FlushAsync(pending, cancellationToken).ConfigureAwait(false);
        return pending.Result;
    }

    /// <summary>Rebuilds the summaries of provider children from their records alone, for example after a re-link.</summary>
    public async Task<RebuildResult> RebuildChildrenAsync(IEnumerable<string> providerChildren, CancellationToken cancellationToken = default)
    {
        var pending = new Pending();
        var context = new RebuildContext(null, null, ReuploadPolicy.Upsert);
        foreach (var chunk in providerChildren.Distinct(StringComparer.Ordinal).Chunk(ChunkSize))
        {
            await PlanAsync(chunk.Select(p => new StagedChild(p)).ToList(), context, pending, cancellationToken).ConfigureAwait(false);
        }

        await FlushAsync(pending, cancellationToken).ConfigureAwait(false);
        return pending.Result;
    }

    Task ISummaryRebuilder.RebuildMovedAsync(IEnumerable<string> providerChildren, CancellationToken cancellationToken) =>
        RebuildChildrenAsync(providerChildren, cancellationToken);

    /// <summary>
    /// Rebuilds the whole activity store from the records table, with <paramref name="buckets"/> buckets: the way to change
    /// the bucket count, and the migration from the month-summary shape (whose entities it deletes).
    /// </summary>
    public async Task<RebuildResult> RebuildAllAsync(int buckets, CancellationToken cancellationToken = default)
    {
        try
        {
            await activity.ResetAsync(buckets, cancellationToken).ConfigureAwait(false);
            var pending = new Pending();
            var context = new RebuildContext(null, null, ReuploadPolicy.Upsert);
            var chunk = new List<StagedChild>(ChunkSize);
            await foreach (var (providerId, localToken) in records.KeysAsync(cancellationToken).ConfigureAwait(false))
            {
                chunk.Add(new StagedChild(RecordKeys.ProviderChild(providerId, localToken)));
                if (chunk.Count == ChunkSize)
                {
                    await PlanAsync(chunk, context, pending, cancellationToken, forgetPreviousYears: true).ConfigureAwait(false);
                    chunk.Clear();
                }
            }

            await PlanAsync(chunk, context, pending, cancellationToken, forgetPreviousYears: true).ConfigureAwait(false);
            await FlushAsync(pending, cancellationToken, force: true).ConfigureAwait(false);
            await activity.EndRebuildAsync(cancellationToken).ConfigureAwait(false);
            return pending.Result;
        }
        catch (ActivityBucketFullException full)
        {
            // The store is cleared by now: say so, where an upload's message says its write left every bucket-year as it was.
            throw new ActivityBucketFullException(full.BucketYears, full.LargestBytes, buckets, full.MaxBytes, duringRebuild: true);
        }
    }

    private async Task PlanAsync(List<StagedChild> children, RebuildContext context, Pending pending, CancellationToken cancellationToken, bool forgetPreviousYears = false)
    {
        if (children.Count == 0)
        {
            return;
        }

        var existing = new ChildRecordRow?[children.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, children.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
            async (index, ct) =>
            {
                if (context.NewChildren.Contains(children[index].ProviderChild))
                {
                    return;
                }

                var (providerId, localToken) = RecordKeys.SplitProviderChild(children[index].ProviderChild);
                existing[index] = await records.ReadAsync(providerId, localToken, ct).ConfigureAwait(false);
            }).ConfigureAwait(false);

        for (var i = 0; i < children.Count; i++)
        {
            if (Plan(children[i], existing[i], context, out var notStored) is { } plan)
            {
                pending.Add(children[i].ProviderChild, forgetPreviousYears ? plan with { StaleYears = [] } : plan);
            }

            if (notStored)
            {
                pending.NotStored++;
            }
        }

        if (pending.Plans.Count >= FlushChildren)
        {
            await FlushAsync(pending, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes what is pending: the buckets first (between the version bumps), then memberships and records.</summary>
    private async Task FlushAsync(Pending pending, CancellationToken cancellationToken, bool force = false)
    {
        if (pending.Plans.Count == 0 && !force)
        {
            return;
        }

        var layout = await activity.BeginWriteAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await activity.ApplyAsync(layout, pending.Plans.Select(p => new ActivityChange(p.ProviderChild, p.Plan.Years, p.Plan.StaleYears)).ToList(), cancellationToken)
            .ConfigureAwait(false);
        var writer = new BatchWriter(options.Value.MaxBufferedEntities);
        foreach (var (providerChild, plan) in pending.Plans)
        {
            if (plan.PreviousChildKey != plan.ChildKey)
            {
                if (!string.IsNullOrEmpty(plan.PreviousChildKey))
                {
                    await memberships.RemoveAsync(writer, plan.PreviousChildKey, providerChild, cancellationToken).ConfigureAwait(false);
                }

                await memberships.AddAsync(writer, plan.ChildKey, plan.Record.ProviderId, plan.Record.LocalToken, cancellationToken).ConfigureAwait(false);
            }

            await records.WriteAsync(writer, plan.Record, cancellationToken).ConfigureAwait(false);
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        await activity.EndWriteAsync(cancellationToken).ConfigureAwait(false);
        pending.Plans.Clear();
    }

    private static ChildPlan? Plan(StagedChild staged, ChildRecordRow? existing, RebuildContext context, out bool servicesNotStored)
    {
        servicesNotStored = false;
        if (existing is null && staged.Child is null)
        {
            return null;
        }

        var (providerId, localToken) = RecordKeys.SplitProviderChild(staged.ProviderChild);
        var record = existing ?? new ChildRecordRow(providerId, localToken);
        var previousChildKey = existing?.LinkedChildKey;
        if (staged.Child is { } child)
        {
            // What the upload says of the child wins; a value it does not give leaves the record's.
            var demographics = new Dictionary<string, string>(record.Demographics, StringComparer.Ordinal);
            foreach (var (column, value) in child.Demographics)
            {
                demographics[column] = value;
            }

            record = record with
            {
                Demographics = demographics,
                ChildKey = child.ChildKey is { Length: > 0 } childKeyOfUpload ? childKeyOfUpload : record.ChildKey,
                LinkRule = child.LinkRule is { Length: > 0 } rule ? rule : record.LinkRule,
                KeyVersion = child.KeyVersion is { Length: > 0 } version ? version : record.KeyVersion,
            };
        }

        var services = existing?.Services?.ToList() ?? [];
        var withdrawn = 0;
        // Only a row of the upload itself (it carries the key version; a birth date may be missing) makes the file the truth for
        // the child; a staging row with just a child key (a re-link by a merge) leaves its services alone.
        if (context.UploadId is not null && context.Policy == ReuploadPolicy.ReplaceChildServices && staged.Child?.KeyVersion is { Length: > 0 })
        {
            withdrawn = services.RemoveAll(s => s.UploadId != context.UploadId && staged.Services.All(n => n.Key != s.Key));
        }

        foreach (var service in staged.Services)
        {
            var index = services.FindIndex(s => s.Key == service.Key);
            if (index >= 0)
            {
                services[index] = service;
            }
            else
            {
                services.Add(service);
            }
        }

        if (!ChildRecordStore.Fits(services))
        {
            // The services stay as they were; the rest of the plan (the child key linkage gave, the demographics) still applies, or the
            // buckets would count the child under a key its record no longer has.
            servicesNotStored = true;
            services = existing?.Services?.ToList() ?? [];
            withdrawn = 0;
        }

        var childKey = record.ChildKey ?? "";
        if (context.UploadId is not null)
        {
            record = record with { LastUploadId = context.UploadId, UpdatedAt = context.ReceivedAt };
        }

        var demographicsOfBuckets = ActivityStore.Demographics.Select(d => record.DemographicOf(d)).ToArray();
        var updated = record.UpdatedAt?.UtcTicks ?? 0;
        var years = ActivityStore.Years(staged.ProviderChild, childKey, updated, demographicsOfBuckets, Intervals(services));
        record = record with
        {
            Services = services,
            ActivityYears = string.Join(',', years.Keys.Order().Select(y => y.ToString(CultureInfo.InvariantCulture))),
            LinkedChildKey = childKey,
        };
        return new ChildPlan(record, childKey, previousChildKey, years, PreviousYears(existing).Where(y => !years.ContainsKey(y)).ToList(), withdrawn);
    }

    /// <summary>The years the buckets hold for a record; for a record of the month-summary shape, the years of its months.</summary>
    private static IEnumerable<int> PreviousYears(ChildRecordRow? existing)
    {
        var text = existing?.ActivityYears is { } years ? years
            : string.Join(',', (existing?.SummaryMonths ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(m => m[..4]));
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(y => int.TryParse(y, NumberStyles.None, CultureInfo.InvariantCulture, out var year) ? year : 0).Where(y => y > 0).Distinct();
    }

    private static IEnumerable<ServiceInterval> Intervals(IEnumerable<StoredService> services)
    {
        foreach (var service in services)
        {
            var start = RecordKeys.ParseIsoDate(service.Start);
            var end = RecordKeys.ParseIsoDate(service.End) ?? RecordKeys.ParseIsoDate(service.AsOf);
            if (start is { } s && end is { } e && e >= s)
            {
                yield return new ServiceInterval(service.Program, service.ServiceType, s, e);
            }
        }
    }

    private sealed class StagedChild(string providerChild)
    {
        public string ProviderChild { get; } = providerChild;

        public StagedChildRow? Child { get; set; }

        public List<StoredService> Services { get; } = [];
    }

    private sealed class Pending
    {
        public List<(string ProviderChild, ChildPlan Plan)> Plans { get; } = [];

        public int Rebuilt { get; private set; }

        public int Withdrawn { get; private set; }

        public int NotStored { get; set; }

        public RebuildResult Result => new(Rebuilt, Withdrawn, NotStored);

        public void Add(string providerChild, ChildPlan plan)
        {
            Plans.Add((providerChild, plan));
            Rebuilt++;
            Withdrawn += plan.Withdrawn;
        }
    }

    private sealed record RebuildContext(string? UploadId, DateTimeOffset? ReceivedAt, ReuploadPolicy Policy)
    {
        public IReadOnlySet<string> NewChildren { get; init; } = new HashSet<string>();
    }

    private sealed record ChildPlan(
        ChildRecordRow Record,
        string ChildKey,
        string? PreviousChildKey,
        IReadOnlyDictionary<int, ProviderChildYear> Years,
        IReadOnlyList<int> StaleYears,
        int Withdrawn);
}

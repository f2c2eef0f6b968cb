using Azure.Data.Tables;
using ChildShare.Core.Reporting;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Options;

namespace ChildShare.Core.Ingestion;

/// <summary>What a summary rebuild did.</summary>
public readonly record struct RebuildResult(int Children, int ServicesWithdrawn);

/// <summary>
/// Keeps the activity summaries (one entity per month, provider child) consistent with the
/// service records: after an upload, every child it touched is rebuilt from that child's whole
/// services partition, so corrections, withdrawn services and re-linked child keys are reflected,
/// and months that no longer have activity are removed. Pages through the upload's work list, so
/// memory does not grow with the upload.
/// </summary>
public sealed class ActivitySummaryBuilder(ChildShareStorage storage, IOptions<IngestionOptions> options)
{
    private const int ChunkSize = 256;
    private const int ParallelReads = 8;

    /// <summary>Summary properties copied from the child's state row.</summary>
    public static readonly IReadOnlyList<string> DemographicProperties = ["BirthDate", "Sex", "Race", "Ethnicity", "Grade", "Zip3", "Zip", "School"];

    public async Task<RebuildResult> RebuildForUploadAsync(
        string uploadId, DateTimeOffset receivedAt, ReuploadPolicy policy, CancellationToken cancellationToken = default)
    {
        var work = storage.Table(TableNames.UploadChildren);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {uploadId}");
        var chunk = new List<string>(ChunkSize);
        var total = new RebuildResult(0, 0);
        await foreach (var entry in work.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            chunk.Add(entry.RowKey);
            if (chunk.Count == ChunkSize)
            {
                total = Add(total, await RebuildChildrenAsync(chunk, policy == ReuploadPolicy.ReplaceChildServices ? uploadId : null, cancellationToken)
                    .ConfigureAwait(false));
                chunk.Clear();
            }
        }

        return Add(total, await RebuildChildrenAsync(chunk, policy == ReuploadPolicy.ReplaceChildServices ? uploadId : null, cancellationToken)
            .ConfigureAwait(false));
    }

    /// <summary>
    /// Rebuilds the summaries of provider children (<c>{provider}|{local token}</c>). With
    /// <paramref name="keepOnlyUploadId"/>, services from other uploads are withdrawn first.
    /// </summary>
    public async Task<RebuildResult> RebuildChildrenAsync(
        IReadOnlyCollection<string> providerChildren, string? keepOnlyUploadId, CancellationToken cancellationToken = default)
    {
        if (providerChildren.Count == 0)
        {
            return new RebuildResult(0, 0);
        }

        var services = storage.Table(TableNames.Services);
        var plans = new ChildPlan?[providerChildren.Count];
        await Parallel.ForEachAsync(providerChildren.Select((key, index) => (key, index)),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
            async (item, ct) => plans[item.index] = await PlanAsync(services, item.key, keepOnlyUploadId, ct).ConfigureAwait(false))
            .ConfigureAwait(false);

        var writer = new BatchWriter(options.Value.MaxBufferedEntities);
        var activity = storage.Table(TableNames.Activity);
        var children = storage.Table(TableNames.Children);
        var withdrawn = 0;
        foreach (var plan in plans)
        {
            if (plan is null)
            {
                continue;
            }

            foreach (var serviceRow in plan.Withdraw)
            {
                await writer.DeleteAsync(services, plan.ProviderChild, serviceRow, cancellationToken).ConfigureAwait(false);
            }

            withdrawn += plan.Withdraw.Count;
            foreach (var summary in plan.Summaries)
            {
                await writer.UpsertAsync(activity, summary, cancellationToken).ConfigureAwait(false);
            }

            foreach (var month in plan.StaleMonths)
            {
                await writer.DeleteAsync(activity, month, plan.ProviderChild, cancellationToken).ConfigureAwait(false);
            }

            if (plan.PreviousChildKey != plan.ChildKey)
            {
                if (!string.IsNullOrEmpty(plan.PreviousChildKey))
                {
                    await writer.DeleteAsync(children, plan.PreviousChildKey, plan.ProviderChild, cancellationToken).ConfigureAwait(false);
                }

                var (providerId, localToken) = RecordKeys.SplitProviderChild(plan.ProviderChild);
                await writer.UpsertAsync(children, new TableEntity(plan.ChildKey, plan.ProviderChild)
                {
                    ["ProviderId"] = providerId,
                    ["LocalToken"] = localToken,
                }, cancellationToken).ConfigureAwait(false);
            }

            if (plan.StateChanged)
            {
                await writer.UpsertAsync(services, new TableEntity(plan.ProviderChild, RecordKeys.ChildStateRow)
                {
                    ["SummaryMonths"] = string.Join(',', plan.Summaries.Select(s => s.PartitionKey)),
                    ["LinkedChildKey"] = plan.ChildKey,
                }, cancellationToken).ConfigureAwait(false);
            }
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new RebuildResult(plans.Count(p => p is not null), withdrawn);
    }

    private static async Task<ChildPlan?> PlanAsync(TableClient services, string providerChild, string? keepOnlyUploadId, CancellationToken cancellationToken)
    {
        TableEntity? state = null;
        var intervals = new List<ServiceInterval>();
        var withdraw = new List<string>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {providerChild}");
        await foreach (var entity in services.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (entity.RowKey == RecordKeys.ChildStateRow)
            {
                state = entity;
                continue;
            }

            if (keepOnlyUploadId is not null && entity.GetString("UploadId") != keepOnlyUploadId)
            {
                withdraw.Add(entity.RowKey);
                continue;
            }

            var start = RecordKeys.ParseIsoDate(entity.GetString("StartDate"));
            var end = RecordKeys.ParseIsoDate(entity.GetString("EndDate")) ?? RecordKeys.ParseIsoDate(entity.GetString("AsOf"));
            if (start is { } s && end is { } e && e >= s)
            {
                intervals.Add(new ServiceInterval(entity.GetString("Program") ?? "", entity.GetString("ServiceType") ?? "", s, e));
            }
        }

        if (state is null)
        {
            return null;
        }

        var childKey = state.GetString("ChildKey") ?? "";
        var summaries = new List<TableEntity>();
        foreach (var (month, entries) in ActivityMonths.Build(intervals))
        {
            var summary = new TableEntity(month, providerChild)
            {
                ["ChildKey"] = childKey,
                ["ProviderId"] = state.GetString("ProviderId"),
                ["Activities"] = ActivityMonths.Serialize(entries),
                ["DayMask"] = (long)entries.Aggregate(0u, (mask, entry) => mask | entry.DayMask),
                ["UpdatedAt"] = state.GetDateTimeOffset("UpdatedAt"),
            };
            foreach (var property in DemographicProperties)
            {
                summary[property] = state.GetString(property) ?? "";
            }

            summaries.Add(summary);
        }

        var previousMonths = (state.GetString("SummaryMonths") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var months = summaries.Select(s => s.PartitionKey).ToHashSet(StringComparer.Ordinal);
        var previousChildKey = state.GetString("LinkedChildKey");
        var stateChanged = previousChildKey != childKey || !months.SetEquals(previousMonths);
        return new ChildPlan(providerChild, childKey, previousChildKey, summaries,
            previousMonths.Where(m => !months.Contains(m)).ToList(), withdraw, stateChanged);
    }

    private static RebuildResult Add(RebuildResult a, RebuildResult b) => new(a.Children + b.Children, a.ServicesWithdrawn + b.ServicesWithdrawn);

    private sealed record ChildPlan(
        string ProviderChild,
        string ChildKey,
        string? PreviousChildKey,
        IReadOnlyList<TableEntity> Summaries,
        IReadOnlyList<string> StaleMonths,
        IReadOnlyList<string> Withdraw,
        bool StateChanged);
}

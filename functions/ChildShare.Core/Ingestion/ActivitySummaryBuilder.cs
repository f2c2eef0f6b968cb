using Azure;
using Azure.Data.Tables;
using ChildShare.Core.Reporting;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Options;

namespace ChildShare.Core.Ingestion;

/// <summary>What a summary rebuild did.</summary>
public readonly record struct RebuildResult(int Children, int ServicesWithdrawn);

/// <summary>
/// Folds an upload's staging into each child's record and keeps the activity summaries (one entity
/// per month and provider child) consistent with it: every child the upload names is rebuilt from
/// its whole record, so corrected services, withdrawn services and re-linked child keys show on the
/// next report, and months that no longer have activity are removed. Reads the staging partition
/// once, in child order, a page at a time, so memory does not grow with the upload; reads each
/// child's record with a point read.
/// </summary>
public sealed class ActivitySummaryBuilder(ChildShareStorage storage, IOptions<IngestionOptions> options)
{
    private const int ChunkSize = 500;
    private const int ParallelReads = 8;

    public async Task<RebuildResult> RebuildForUploadAsync(
        string uploadId, DateTimeOffset receivedAt, ReuploadPolicy policy, CancellationToken cancellationToken = default)
    {
        var staging = storage.Table(TableNames.UploadStaging);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {uploadId}");
        var chunk = new List<StagedChild>(ChunkSize);
        StagedChild? current = null;
        var total = new RebuildResult(0, 0);
        var context = new RebuildContext(uploadId, receivedAt, policy);
        await foreach (var entity in staging.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var (providerChild, serviceKey) = RecordKeys.SplitStagingRow(entity.RowKey);
            if (current is null || current.ProviderChild != providerChild)
            {
                if (chunk.Count == ChunkSize)
                {
                    total = Add(total, await RebuildAsync(chunk, context, cancellationToken).ConfigureAwait(false));
                    chunk.Clear();
                }

                current = new StagedChild(providerChild);
                chunk.Add(current);
            }

            if (serviceKey is null)
            {
                current.Child = entity;
            }
            else
            {
                current.Services.Add(new StoredService(serviceKey, entity.GetString("Program") ?? "", entity.GetString("ServiceType") ?? "",
                    entity.GetString("StartDate") ?? "", entity.GetString("EndDate") ?? "", entity.GetString("AsOf") ?? "", uploadId,
                    entity.GetDouble("Hours"), entity.GetInt32("DaysAttended")));
            }
        }

        return Add(total, await RebuildAsync(chunk, context, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Rebuilds the summaries of provider children from their records alone, for example after a re-link.</summary>
    public Task<RebuildResult> RebuildChildrenAsync(IEnumerable<string> providerChildren, CancellationToken cancellationToken = default) =>
        RebuildAsync(providerChildren.Select(p => new StagedChild(p)).ToList(), new RebuildContext(null, null, ReuploadPolicy.Upsert), cancellationToken);

    private async Task<RebuildResult> RebuildAsync(List<StagedChild> children, RebuildContext context, CancellationToken cancellationToken)
    {
        if (children.Count == 0)
        {
            return new RebuildResult(0, 0);
        }

        var records = storage.Table(TableNames.Records);
        var existing = new TableEntity?[children.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, children.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
            async (index, ct) =>
            {
                var (providerId, localToken) = RecordKeys.SplitProviderChild(children[index].ProviderChild);
                var response = await records.GetEntityIfExistsAsync<TableEntity>(providerId, localToken, cancellationToken: ct).ConfigureAwait(false);
                existing[index] = response.HasValue ? response.Value : null;
            }).ConfigureAwait(false);

        var writer = new BatchWriter(options.Value.MaxBufferedEntities);
        var activity = storage.Table(TableNames.Activity);
        var memberships = storage.Table(TableNames.Children);
        var rebuilt = 0;
        var withdrawn = 0;
        for (var i = 0; i < children.Count; i++)
        {
            var plan = Plan(children[i], existing[i], context);
            if (plan is null)
            {
                continue;
            }

            rebuilt++;
            withdrawn += plan.Withdrawn;
            foreach (var summary in plan.Summaries)
            {
                await writer.UpsertAsync(activity, summary, cancellationToken).ConfigureAwait(false);
            }

            foreach (var month in plan.StaleMonths)
            {
                await writer.DeleteAsync(activity, month, children[i].ProviderChild, cancellationToken).ConfigureAwait(false);
            }

            if (plan.PreviousChildKey != plan.ChildKey)
            {
                if (!string.IsNullOrEmpty(plan.PreviousChildKey))
                {
                    await writer.DeleteAsync(memberships, RecordKeys.ChildBucket(plan.PreviousChildKey),
                        RecordKeys.ChildMemberRow(plan.PreviousChildKey, children[i].ProviderChild), cancellationToken).ConfigureAwait(false);
                }

                await writer.UpsertAsync(memberships, new TableEntity(RecordKeys.ChildBucket(plan.ChildKey),
                    RecordKeys.ChildMemberRow(plan.ChildKey, children[i].ProviderChild))
                {
                    ["ChildKey"] = plan.ChildKey,
                    ["ProviderId"] = plan.Record.PartitionKey,
                    ["LocalToken"] = plan.Record.RowKey,
                }, cancellationToken).ConfigureAwait(false);
            }

            await writer.UpsertAsync(records, plan.Record, cancellationToken).ConfigureAwait(false);
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new RebuildResult(rebuilt, withdrawn);
    }

    private static ChildPlan? Plan(StagedChild staged, TableEntity? existing, RebuildContext context)
    {
        if (existing is null && staged.Child is null)
        {
            return null;
        }

        var (providerId, localToken) = RecordKeys.SplitProviderChild(staged.ProviderChild);
        var record = new TableEntity(providerId, localToken);
        if (existing is not null)
        {
            foreach (var property in existing.Where(p => p.Key is not ("odata.etag" or "PartitionKey" or "RowKey" or "Timestamp")))
            {
                record[property.Key] = property.Value;
            }
        }

        var previousChildKey = existing?.GetString("LinkedChildKey");
        if (staged.Child is { } child)
        {
            ChildDemographics.MergeInto(record, child);
            foreach (var property in new[] { "ChildKey", "LinkRule", "KeyVersion" })
            {
                if (child.GetString(property) is { Length: > 0 } value)
                {
                    record[property] = value;
                }
            }
        }

        var services = StoredService.Deserialize(existing?.GetString("Services"));
        var withdrawn = 0;
        // Only a row of the upload itself (it carries the key version; a birth date may be missing) makes the file the truth for
        // the child; a staging row with just a child key (a re-link by a merge) leaves its services alone.
        if (context.UploadId is not null && context.Policy == ReuploadPolicy.ReplaceChildServices && staged.Child?.GetString("KeyVersion") is { Length: > 0 })
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

        var childKey = record.GetString("ChildKey") ?? "";
        var summaries = new List<TableEntity>();
        foreach (var (month, entries) in ActivityMonths.Build(Intervals(services)))
        {
            var summary = new TableEntity(month, staged.ProviderChild)
            {
                ["ChildKey"] = childKey,
                ["ProviderId"] = providerId,
                ["Activities"] = ActivityMonths.Serialize(entries),
                ["DayMask"] = (long)entries.Aggregate(0u, (mask, entry) => mask | entry.DayMask),
            };
            foreach (var property in ChildDemographics.Properties)
            {
                summary[property] = record.GetString(property) ?? "";
            }

            summaries.Add(summary);
        }

        var previousMonths = (existing?.GetString("SummaryMonths") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var months = summaries.Select(s => s.PartitionKey).ToHashSet(StringComparer.Ordinal);
        record["Services"] = StoredService.Serialize(services);
        record["SummaryMonths"] = string.Join(',', months.Order(StringComparer.Ordinal));
        record["LinkedChildKey"] = childKey;
        if (context.UploadId is not null)
        {
            record["LastUploadId"] = context.UploadId;
            record["UpdatedAt"] = context.ReceivedAt;
        }

        return new ChildPlan(record, childKey, previousChildKey, summaries, previousMonths.Where(m => !months.Contains(m)).ToList(), withdrawn);
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

    private static RebuildResult Add(RebuildResult a, RebuildResult b) => new(a.Children + b.Children, a.ServicesWithdrawn + b.ServicesWithdrawn);

    private sealed class StagedChild(string providerChild)
    {
        public string ProviderChild { get; } = providerChild;

        public TableEntity? Child { get; set; }

        public List<StoredService> Services { get; } = [];
    }

    private sealed record RebuildContext(string? UploadId, DateTimeOffset? ReceivedAt, ReuploadPolicy Policy);

    private sealed record ChildPlan(
        TableEntity Record,
        string ChildKey,
        string? PreviousChildKey,
        IReadOnlyList<TableEntity> Summaries,
        IReadOnlyList<string> StaleMonths,
        int Withdrawn);
}

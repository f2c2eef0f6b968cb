using System.Runtime.CompilerServices;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>
/// What an upload's staging row of a provider child says: its link, key version and demographics (by <see cref="DemographicColumns"/>
/// name). Written as a merge: a null property is left as it is on disk, and so is a demographic the row does not name. A row with only a
/// child key is a re-link (the linker's final key, or an earlier record a merge moved).
/// </summary>
public sealed record StagedChildRow(string ProviderChild)
{
    public string? ChildKey { get; init; }

    public string? LinkRule { get; init; }

    public string? KeyVersion { get; init; }

    /// <summary>The demographic values to write, by column name (an empty value is written as such; reading skips it).</summary>
    public IReadOnlyDictionary<string, string> Demographics { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>One row of an upload's staging partition, read back in child order: a provider child's row, or one of its services.</summary>
public sealed record StagedRow(string ProviderChild, StagedChildRow? Child, StoredService? Service);

/// <summary>
/// The <c>uploadstaging</c> table: what each upload brings, in one partition per upload (PK upload id), so it is written in 100-entity
/// batches through a <see cref="BatchWriter"/> and read back in child order by one partition query. RK <c>{provider}|{local token}</c>
/// for the child (<see cref="StagedChildRow"/>); its services packed, up to <see cref="ServicesPerRow"/> a row, in rows
/// <c>{provider}|{local token}|~{round}.{part}</c> (<see cref="StageServicesAsync"/>). Rows <c>{provider}|{local token}|{service key}</c>,
/// one a service, are what code before the packing wrote; they are still read, so an upload staged by it and delivered again after
/// a deploy loses nothing. Written by ingestion's record writer and the linker (the final child keys), read by the summary rebuild.
/// The one place its columns are mapped.
/// </summary>
public sealed class UploadStagingStore(ChildShareStorage storage)
{
    private const string ChildKeyColumn = "ChildKey", LinkRuleColumn = "LinkRule", KeyVersionColumn = "KeyVersion", ProgramColumn = "Program",
        ServiceTypeColumn = "ServiceType", StartDateColumn = "StartDate", EndDateColumn = "EndDate", AsOfColumn = "AsOf", HoursColumn = "Hours",
        DaysAttendedColumn = "DaysAttended", ServicesColumn = "Services";

    /// <summary>The most services one packed row holds.</summary>
    public const int ServicesPerRow = 50;

    // A packed row's services as JSON stay under a string property's 32,768 characters even when every character of their fields is
    // escaped, and 100 such rows under a transaction's 4 MiB.
    private const int MaxPackedCharacters = 30_000;

    private const char PackedMarker = '~';

    // One client for the store's life: a BatchWriter groups operations by client and partition, so a client per call would
    // split one partition's writes into transactions of their own, written in no particular order.
    private readonly TableClient _table = storage.Table(TableNames.UploadStaging);

    /// <summary>Adds to <paramref name="writer"/> the merge of a provider child's staging row: every property that is not null.</summary>
    public Task StageChildAsync(BatchWriter writer, string uploadId, StagedChildRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(row);
        var entity = new TableEntity(uploadId, row.ProviderChild);
        entity.SetIfPresent(ChildKeyColumn, row.ChildKey);
        entity.SetIfPresent(LinkRuleColumn, row.LinkRule);
        entity.SetIfPresent(KeyVersionColumn, row.KeyVersion);
        foreach (var (column, value) in row.Demographics)
        {
            entity[column] = value;
        }

        return writer.UpsertAsync(_table, entity, cancellationToken);
    }

    /// <summary>
    /// Adds to <paramref name="writer"/> a provider child's services (each its <see cref="StoredService.UploadId"/> the upload's, one per
    /// service key), packed in rows of up to <see cref="ServicesPerRow"/>. <paramref name="round"/> numbers the writer's rounds within the
    /// upload: a later round's rows sort after an earlier one's, and the summary rebuild keeps a service key's last value read, as
    /// upserting each service in turn did. The same file staged again writes the same rows.
    /// </summary>
    public async Task StageServicesAsync(
        BatchWriter writer, string uploadId, string providerChild, int round, IReadOnlyList<StoredService> services, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        var part = 0;
        var packed = new List<StoredService>(Math.Min(services.Count, ServicesPerRow));
        var characters = 0;
        foreach (var service in services)
        {
            // At worst six characters a character once escaped in JSON (a quote becomes \u0022).
            var size = 120 + (6 * (service.Key.Length + service.Program.Length + service.ServiceType.Length + service.Start.Length
                + service.End.Length + service.AsOf.Length + service.UploadId.Length));
            if (packed.Count == ServicesPerRow || (packed.Count > 0 && characters + size > MaxPackedCharacters))
            {
                await WritePackedAsync(part++).ConfigureAwait(false);
                packed.Clear();
                characters = 0;
            }

            packed.Add(service);
            characters += size;
        }

        if (packed.Count > 0)
        {
            await WritePackedAsync(part).ConfigureAwait(false);
        }

        Task WritePackedAsync(int number) =>
            writer.UpsertAsync(_table, new TableEntity(uploadId, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{providerChild}|{PackedMarker}{round:D5}.{number:D5}"))
            {
                [ServicesColumn] = StoredService.Serialize(packed),
            }, cancellationToken);
    }

    /// <summary>Every row of an upload's staging, in row key order (each child's row, then its services): one partition query, paged.</summary>
    public async IAsyncEnumerable<StagedRow> ReadUploadAsync(string uploadId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {uploadId}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var (providerChild, serviceKey) = RecordKeys.SplitStagingRow(entity.RowKey);
            if (serviceKey is not null && serviceKey.StartsWith(PackedMarker))
            {
                foreach (var service in StoredService.Deserialize(entity.GetString(ServicesColumn)))
                {
                    yield return new StagedRow(providerChild, null, service with { UploadId = uploadId });
                }

                continue;
            }

            yield return serviceKey is null
                ? new StagedRow(providerChild, new StagedChildRow(providerChild)
                {
                    ChildKey = entity.GetString(ChildKeyColumn),
                    LinkRule = entity.GetString(LinkRuleColumn),
                    KeyVersion = entity.GetString(KeyVersionColumn),
                    Demographics = ChildRecordStore.DemographicsOf(entity),
                }, null)
                : new StagedRow(providerChild, null, new StoredService(serviceKey, entity.GetString(ProgramColumn) ?? "",
                    entity.GetString(ServiceTypeColumn) ?? "", entity.GetString(StartDateColumn) ?? "", entity.GetString(EndDateColumn) ?? "",
                    entity.GetString(AsOfColumn) ?? "", uploadId, entity.GetDouble(HoursColumn), entity.GetInt32(DaysAttendedColumn)));
        }
    }
}

using System.Runtime.CompilerServices;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>
/// The columns of a provider child's demographics, in the records table and in an upload's staging rows alike. The one place
/// they are spelled; the names are also the ones the identifiable report releases (camelCased).
/// </summary>
public static class DemographicColumns
{
    public const string BirthDate = "BirthDate", Sex = "Sex", Race = "Race", Races = "Races", Ethnicity = "Ethnicity", Zip = "Zip", Zip3 = "Zip3",
        Grade = "Grade", School = "School";

    /// <summary>Every demographic column a record carries.</summary>
    public static IReadOnlyList<string> All { get; } = [BirthDate, Sex, Race, Races, Ethnicity, Zip, Zip3, Grade, School];
}

/// <summary>
/// One provider child's row of the records table (PK provider, RK local token): no direct identifier. Its community child key
/// and link rule, the demographics as the provider reports them (by <see cref="DemographicColumns"/> name), every service
/// record, and what the activity buckets hold of it. Written as a merge: a null property is left as it is on disk.
/// </summary>
public sealed record ChildRecordRow(string ProviderId, string LocalToken)
{
    public string? ChildKey { get; init; }

    public string? LinkRule { get; init; }

    public string? KeyVersion { get; init; }

    /// <summary>The demographic values that are not empty, by column name.</summary>
    public IReadOnlyDictionary<string, string> Demographics { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Every service record (the <c>Services</c> JSON column); null when the row has none yet.</summary>
    public IReadOnlyList<StoredService>? Services { get; init; }

    /// <summary>The years the activity buckets hold for this record (comma separated).</summary>
    public string? ActivityYears { get; init; }

    /// <summary>The months of the earlier month-summary shape, read for the migration only and never written.</summary>
    public string? SummaryMonths { get; init; }

    /// <summary>The child key the memberships and buckets were last written under.</summary>
    public string? LinkedChildKey { get; init; }

    public string? LastUploadId { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>A demographic value, or null when the record has none.</summary>
    public string? DemographicOf(string column) => Demographics.TryGetValue(column, out var value) ? value : null;

    /// <summary>The asked demographic columns that hold a value, by their released (camelCase) name, in the order asked.</summary>
    public Dictionary<string, string> Released(params string[] columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var column in columns)
        {
            if (DemographicOf(column) is { } value && !string.IsNullOrWhiteSpace(value))
            {
                values[char.ToLowerInvariant(column[0]) + column[1..]] = value;
            }
        }

        return values;
    }
}

/// <summary>
/// The records table: one row per provider child (<see cref="ChildRecordRow"/>), the one place its columns are mapped.
/// Written by the summary rebuild (the whole row) and the linker (the child key a link moved), both through a
/// <see cref="BatchWriter"/>; read by point reads, and scanned for its keys only when the activity store is rebuilt.
/// </summary>
public sealed class ChildRecordStore(ChildShareStorage storage)
{
    private const string ChildKeyColumn = "ChildKey", LinkRuleColumn = "LinkRule", KeyVersionColumn = "KeyVersion", ServicesColumn = "Services",
        ActivityYearsColumn = "ActivityYears", SummaryMonthsColumn = "SummaryMonths", LinkedChildKeyColumn = "LinkedChildKey",
        LastUploadIdColumn = "LastUploadId", UpdatedAtColumn = "UpdatedAt";

    // One client for the store's life: a BatchWriter groups operations by client and partition, so a client per call would
    // split one partition's writes into transactions of their own, written in no particular order.
    private readonly TableClient _table = storage.Table(TableNames.Records);

    /// <summary>A provider child's record, or null.</summary>
    public async Task<ChildRecordRow?> ReadAsync(string providerId, string localToken, CancellationToken cancellationToken = default)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(providerId, localToken, cancellationToken: cancellationToken).ConfigureAwait(false);
        return row.HasValue && row.Value is { } entity ? FromEntity(entity) : null;
    }

    /// <summary>The community child key of a provider child's record (a read of that column only), or null.</summary>
    public async Task<string?> ChildKeyAsync(string providerId, string localToken, CancellationToken cancellationToken = default)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(providerId, localToken, select: [ChildKeyColumn], cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return row.HasValue ? row.Value?.GetString(ChildKeyColumn) : null;
    }

    /// <summary>The service records of a provider child's record (a read of that column only); empty when there is no record.</summary>
    public async Task<List<StoredService>> ServicesAsync(string providerId, string localToken, CancellationToken cancellationToken = default)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(providerId, localToken, [ServicesColumn], cancellationToken).ConfigureAwait(false);
        return row.HasValue && row.Value is { } entity ? StoredService.Deserialize(entity.GetString(ServicesColumn)) : [];
    }

    /// <summary>The key (provider, local token) of every record: a scan of the keys only.</summary>
    public async IAsyncEnumerable<(string ProviderId, string LocalToken)> KeysAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var record in _table.QueryAsync<TableEntity>(filter: (string?)null, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken)
            .ConfigureAwait(false))
        {
            yield return (record.PartitionKey, record.RowKey);
        }
    }

    /// <summary>Adds the merge of a record to <paramref name="writer"/>: every property that is not null.</summary>
    public Task WriteAsync(BatchWriter writer, ChildRecordRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(row);
        return writer.UpsertAsync(_table, ToEntity(row), cancellationToken);
    }

    /// <summary>Adds to <paramref name="writer"/> the merge of a record's new community child key and the rule that linked it.</summary>
    public Task RelinkAsync(BatchWriter writer, string providerId, string localToken, string childKey, string rule, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return writer.UpsertAsync(_table, new TableEntity(providerId, localToken) { [ChildKeyColumn] = childKey, [LinkRuleColumn] = rule }, cancellationToken);
    }

    /// <summary>The demographic values of an entity of the records or staging table that are not empty, by column name.</summary>
    public static Dictionary<string, string> DemographicsOf(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var column in DemographicColumns.All)
        {
            if (entity.GetString(column) is { Length: > 0 } value)
            {
                values[column] = value;
            }
        }

        return values;
    }

    private static TableEntity ToEntity(ChildRecordRow row)
    {
        var entity = new TableEntity(row.ProviderId, row.LocalToken);
        foreach (var (column, value) in row.Demographics)
        {
            entity[column] = value;
        }

        entity.SetIfPresent(ChildKeyColumn, row.ChildKey);
        entity.SetIfPresent(LinkRuleColumn, row.LinkRule);
        entity.SetIfPresent(KeyVersionColumn, row.KeyVersion);
        entity.SetIfPresent(ServicesColumn, row.Services is { } services ? StoredService.Serialize(services) : null);
        entity.SetIfPresent(ActivityYearsColumn, row.ActivityYears);
        entity.SetIfPresent(LinkedChildKeyColumn, row.LinkedChildKey);
        entity.SetIfPresent(LastUploadIdColumn, row.LastUploadId);
        entity.SetIfPresent(UpdatedAtColumn, row.UpdatedAt);
        return entity;
    }

    private static ChildRecordRow FromEntity(TableEntity entity) => new(entity.PartitionKey, entity.RowKey)
    {
        ChildKey = entity.GetString(ChildKeyColumn),
        LinkRule = entity.GetString(LinkRuleColumn),
        KeyVersion = entity.GetString(KeyVersionColumn),
        Demographics = DemographicsOf(entity),
        Services = entity.GetString(ServicesColumn) is { } services ? StoredService.Deserialize(services) : null,
        ActivityYears = entity.GetString(ActivityYearsColumn),
        SummaryMonths = entity.GetString(SummaryMonthsColumn),
        LinkedChildKey = entity.GetString(LinkedChildKeyColumn),
        LastUploadId = entity.GetString(LastUploadIdColumn),
        UpdatedAt = entity.GetDateTimeOffset(UpdatedAtColumn),
    };
}

using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
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

    /// <summary>
    /// How many service parts the row held when it was read (0 for a row never written): a write of fewer parts blanks the ones
    /// past its own, so a withdrawn service does not stay on disk in a part no reader looks at.
    /// </summary>
    public int ServicePartsOnDisk { get; init; }

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
/// A child's services are JSON arrays in up to <see cref="MaxServiceParts"/> properties <c>Services</c>, <c>Services1</c>...
/// of at most <see cref="ServicePartChars"/> characters each, because Azure caps a string property at 32,768 characters
/// and an entity at 1 MiB; <c>ServiceParts</c> says how many a reader takes (a row without it has the one <c>Services</c>).
/// </summary>
public sealed class ChildRecordStore(ChildShareStorage storage)
{
    private const string ChildKeyColumn = "ChildKey", LinkRuleColumn = "LinkRule", KeyVersionColumn = "KeyVersion", ServicesColumn = "Services",
        ServicePartsColumn = "ServiceParts", ActivityYearsColumn = "ActivityYears", SummaryMonthsColumn = "SummaryMonths",
        LinkedChildKeyColumn = "LinkedChildKey", LastUploadIdColumn = "LastUploadId", UpdatedAtColumn = "UpdatedAt";

    /// <summary>The most characters of service JSON in one property: under Azure's 32,768 for a string property.</summary>
    public const int ServicePartChars = 30_000;

    /// <summary>
    /// The most service properties in a row: 14 full parts are 840,000 bytes by Azure's size formula (2 bytes a character),
    /// which leaves the rest of its 1 MiB entity limit to the keys and the demographics (at most a few kilobytes).
    /// </summary>
    public const int MaxServiceParts = 14;

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
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(providerId, localToken, [ServicePartsColumn, .. ServiceColumns(MaxServiceParts)], cancellationToken)
            .ConfigureAwait(false);
        return row.HasValue && row.Value is { } entity ? ServicesOf(entity) ?? [] : [];
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
        if (row.Services is { } services)
        {
            SetServices(entity, services, row.ServicePartsOnDisk);
        }

        entity.SetIfPresent(ActivityYearsColumn, row.ActivityYears);
        entity.SetIfPresent(LinkedChildKeyColumn, row.LinkedChildKey);
        entity.SetIfPresent(LastUploadIdColumn, row.LastUploadId);
        entity.SetIfPresent(UpdatedAtColumn, row.UpdatedAt);
        return entity;
    }

    /// <summary>
    /// Whether a records row can hold <paramref name="services"/>: for the summary rebuild to ask before it writes anything. A bound on
    /// the JSON (every character escaped) clears most children without serializing.
    /// </summary>
    public static bool Fits(IReadOnlyList<StoredService> services)
    {
        ArgumentNullException.ThrowIfNull(services);
        long bound = 0;
        foreach (var service in services)
        {
            bound += 100 + 6L * (service.Key.Length + service.Program.Length + service.ServiceType.Length + service.Start.Length + service.End.Length
                + service.AsOf.Length + service.UploadId.Length) + 60;
        }

        // A part ends where the next service would not fit, so it is short of full by less than one service (under 3,000 characters):
        // JSON within the bound of two parts fewer than the most fills at most the most.
        return bound <= (MaxServiceParts - 2) * ServicePartChars || ServiceParts(services).Count <= MaxServiceParts;
    }

    /// <summary>The service property of each part: <c>Services</c>, then <c>Services1</c>, <c>Services2</c>...</summary>
    private static IEnumerable<string> ServiceColumns(int parts) =>
        Enumerable.Range(0, parts).Select(part => part == 0 ? ServicesColumn : ServicesColumn + part.ToString(CultureInfo.InvariantCulture));

    private static int PartsOf(TableEntity entity) =>
        entity.GetInt32(ServicePartsColumn) is { } parts ? Math.Clamp(parts, 0, MaxServiceParts) : entity.GetString(ServicesColumn) is null ? 0 : 1;

    private static List<StoredService>? ServicesOf(TableEntity entity)
    {
        if (entity.GetInt32(ServicePartsColumn) is null && entity.GetString(ServicesColumn) is null)
        {
            return null;
        }

        var services = new List<StoredService>();
        foreach (var column in ServiceColumns(PartsOf(entity)))
        {
            services.AddRange(StoredService.Deserialize(entity.GetString(column)));
        }

        return services;
    }

    /// <summary>
    /// Sets the service parts: each a JSON array of whole services of at most <see cref="ServicePartChars"/> characters; the parts
    /// a longer earlier write left (<paramref name="partsOnDisk"/>) are blanked.
    /// </summary>
    private static void SetServices(TableEntity entity, IReadOnlyList<StoredService> services, int partsOnDisk)
    {
        var parts = ServiceParts(services);
        if (parts.Count > MaxServiceParts)
        {
            throw new ChildRecordTooLargeException(services.Count, MaxServiceParts * ServicePartChars);
        }

        var columns = ServiceColumns(Math.Max(parts.Count, partsOnDisk)).ToList();
        for (var i = 0; i < columns.Count; i++)
        {
            entity[columns[i]] = i < parts.Count ? parts[i] : "";
        }

        entity[ServicePartsColumn] = parts.Count;
    }

    /// <summary>The services as JSON arrays of whole services, each of at most <see cref="ServicePartChars"/> characters.</summary>
    private static List<string> ServiceParts(IReadOnlyList<StoredService> services)
    {
        var parts = new List<string>();
        var part = new StringBuilder("[");
        foreach (var service in services)
        {
            var json = StoredService.Serialize(service);
            if (part.Length > 1 && part.Length + 1 + json.Length + 1 > ServicePartChars)
            {
                parts.Add(part.Append(']').ToString());
                part.Clear().Append('[');
            }

            part.Append(part.Length > 1 ? "," : "").Append(json);
        }

        parts.Add(part.Append(']').ToString());
        return parts;
    }

    private static ChildRecordRow FromEntity(TableEntity entity) => new(entity.PartitionKey, entity.RowKey)
    {
        ChildKey = entity.GetString(ChildKeyColumn),
        LinkRule = entity.GetString(LinkRuleColumn),
        KeyVersion = entity.GetString(KeyVersionColumn),
        Demographics = DemographicsOf(entity),
        Services = ServicesOf(entity),
        ServicePartsOnDisk = PartsOf(entity),
        ActivityYears = entity.GetString(ActivityYearsColumn),
        SummaryMonths = entity.GetString(SummaryMonthsColumn),
        LinkedChildKey = entity.GetString(LinkedChildKeyColumn),
        LastUploadId = entity.GetString(LastUploadIdColumn),
        UpdatedAt = entity.GetDateTimeOffset(UpdatedAtColumn),
    };
}

/// <summary>
/// A provider child's service records do not fit in its records row (Azure caps an entity at 1 MiB). The message holds counts only,
/// never a key or a value, so it is safe for the manifest.
/// </summary>
public sealed class ChildRecordTooLargeException(int services, int capacityChars)
    : Exception($"A provider child has {services:N0} service records, more than its records row holds ({capacityChars:N0} characters of them); "
        + "send that child's services in fewer, longer records (one per enrollment rather than one per day) or split the provider.");

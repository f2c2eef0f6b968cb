using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>A provider's registration row; a null property is left as it is on disk when merged.</summary>
public sealed record ProviderRow(string ProviderId)
{
    public string? DisplayName { get; init; }

    public string? Kind { get; init; }

    public int? ActiveProfileVersion { get; init; }
}

/// <summary>
/// The providers table: one partition per provider, its registration (RK <c>provider</c>) and every version of its mapping
/// profile (RK <c>profile-000001</c>..., column <c>Json</c>), added and never replaced. The one place its keys and columns are spelled.
/// </summary>
public sealed class ProviderTable(ChildShareStorage storage)
{
    private const string RegistrationRowKey = "provider";
    private const string DisplayNameColumn = "DisplayName", KindColumn = "Kind", ActiveProfileVersionColumn = "ActiveProfileVersion", JsonColumn = "Json";

    private readonly TableClient _table = storage.Table(TableNames.Providers);

    /// <summary>A provider's registration, or null.</summary>
    public async Task<ProviderRow?> GetAsync(string providerId, CancellationToken cancellationToken = default)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(providerId, RegistrationRowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? FromEntity(entity) : null;
    }

    /// <summary>Every provider's registration (one query over the registration rows).</summary>
    public async Task<List<ProviderRow>> ListAsync(CancellationToken cancellationToken = default)
    {
        var rows = new List<ProviderRow>();
        var filter = TableClient.CreateQueryFilter($"RowKey eq {RegistrationRowKey}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            rows.Add(FromEntity(entity));
        }

        return rows;
    }

    /// <summary>Writes a registration as a merge (an upsert): the properties that are not null.</summary>
    public Task MergeAsync(ProviderRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(row);
        var entity = new TableEntity(row.ProviderId, RegistrationRowKey);
        entity.SetIfPresent(DisplayNameColumn, row.DisplayName);
        entity.SetIfPresent(KindColumn, row.Kind);
        entity.SetIfPresent(ActiveProfileVersionColumn, row.ActiveProfileVersion);
        return _table.UpsertEntityAsync(entity, TableUpdateMode.Merge, cancellationToken);
    }

    /// <summary>Adds a version of a provider's mapping profile; a version already there fails (409), so two saves racing for one version cannot both win.</summary>
    public Task AddProfileAsync(string providerId, int version, string json, CancellationToken cancellationToken = default) =>
        _table.AddEntityAsync(new TableEntity(providerId, ProfileRowKey(version)) { [JsonColumn] = json }, cancellationToken);

    /// <summary>Sets a registered provider's active profile version (a merge of that column); no registration fails (404).</summary>
    public Task SetActiveProfileAsync(string providerId, int version, CancellationToken cancellationToken = default) =>
        _table.UpdateEntityAsync(new TableEntity(providerId, RegistrationRowKey) { [ActiveProfileVersionColumn] = version }, ETag.All, TableUpdateMode.Merge, cancellationToken);

    /// <summary>One version of a provider's mapping profile (its JSON; empty when the row has none), or null when there is no such version.</summary>
    public async Task<string?> GetProfileAsync(string providerId, int version, CancellationToken cancellationToken = default)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(providerId, ProfileRowKey(version), cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? entity.GetString(JsonColumn) ?? "" : null;
    }

    private static string ProfileRowKey(int version) => "profile-" + version.ToString("D6", CultureInfo.InvariantCulture);

    private static ProviderRow FromEntity(TableEntity entity) => new(entity.PartitionKey)
    {
        DisplayName = entity.GetString(DisplayNameColumn),
        Kind = entity.GetString(KindColumn),
        ActiveProfileVersion = entity.GetInt32(ActiveProfileVersionColumn),
    };
}

using Azure;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>An API key's row in the apikeys table: never the key, only the SHA-256 (hex) of the whole key.</summary>
public sealed record ApiKeyRow(string KeyId, string OrganizationId, string Role, string Label, string Hash)
{
    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>The stored row's ETag when read (a revocation is written with it); not written.</summary>
    public ETag ETag { get; init; }
}

/// <summary>The apikeys table (PK <c>key</c>, RK key id): the one place its columns are spelled.</summary>
public sealed class ApiKeyTable(ChildShareStorage storage)
{
    private const string Partition = "key";
    private const string OrganizationIdColumn = "OrganizationId", RoleColumn = "Role", LabelColumn = "Label", HashColumn = "Hash", CreatedAtColumn = "CreatedAt",
        ExpiresAtColumn = "ExpiresAt", RevokedAtColumn = "RevokedAt";

    private readonly TableClient _table = storage.Table(TableNames.ApiKeys);

    /// <summary>Adds a key's row; a key id already there fails (409).</summary>
    public Task AddAsync(ApiKeyRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(row);
        var entity = new TableEntity(Partition, row.KeyId)
        {
            [OrganizationIdColumn] = row.OrganizationId,
            [RoleColumn] = row.Role,
            [LabelColumn] = row.Label,
            [HashColumn] = row.Hash,
        };
        entity.SetIfPresent(CreatedAtColumn, row.CreatedAt);
        entity.SetIfPresent(ExpiresAtColumn, row.ExpiresAt);
        entity.SetIfPresent(RevokedAtColumn, row.RevokedAt);
        return _table.AddEntityAsync(entity, cancellationToken);
    }

    /// <summary>A key's row with its ETag, or null.</summary>
    public async Task<ApiKeyRow?> GetAsync(string keyId, CancellationToken cancellationToken = default)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, keyId, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? FromEntity(entity) : null;
    }

    /// <summary>Every key's row.</summary>
    public async Task<List<ApiKeyRow>> ListAsync(CancellationToken cancellationToken = default)
    {
        var rows = new List<ApiKeyRow>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), cancellationToken: cancellationToken)
            .ConfigureAwait(false))
        {
            rows.Add(FromEntity(entity));
        }

        return rows;
    }

    /// <summary>Marks a key revoked (a merge of that column) if its row is still the one read with <paramref name="etag"/>; else fails (412).</summary>
    public Task RevokeAsync(string keyId, DateTimeOffset revokedAt, ETag etag, CancellationToken cancellationToken = default) =>
        _table.UpdateEntityAsync(new TableEntity(Partition, keyId) { [RevokedAtColumn] = revokedAt }, etag, TableUpdateMode.Merge, cancellationToken);

    private static ApiKeyRow FromEntity(TableEntity entity) =>
        new(entity.RowKey, entity.GetString(OrganizationIdColumn) ?? "", entity.GetString(RoleColumn) ?? "", entity.GetString(LabelColumn) ?? "",
            entity.GetString(HashColumn) ?? "")
        {
            CreatedAt = entity.GetDateTimeOffset(CreatedAtColumn),
            ExpiresAt = entity.GetDateTimeOffset(ExpiresAtColumn),
            RevokedAt = entity.GetDateTimeOffset(RevokedAtColumn),
            ETag = entity.ETag,
        };
}

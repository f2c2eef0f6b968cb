using Azure;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>An Entra principal's row in the principals table (ids lowercase, as the directory normalizes them).</summary>
public sealed record PrincipalRow(string TenantId, string ObjectId, string OrganizationId, string Role)
{
    public DateTimeOffset? UpdatedAt { get; init; }
}

/// <summary>The principals table (PK tenant id, RK object id): the one place its columns are spelled.</summary>
public sealed class PrincipalTable(ChildShareStorage storage)
{
    private const string OrganizationIdColumn = "OrganizationId", RoleColumn = "Role", UpdatedAtColumn = "UpdatedAt";

    private readonly TableClient _table = storage.Table(TableNames.Principals);

    /// <summary>A principal's row, or null.</summary>
    public async Task<PrincipalRow?> GetAsync(string tenantId, string objectId, CancellationToken cancellationToken = default)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(tenantId, objectId, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity
            ? new PrincipalRow(entity.PartitionKey, entity.RowKey, entity.GetString(OrganizationIdColumn) ?? "", entity.GetString(RoleColumn) ?? "")
            {
                UpdatedAt = entity.GetDateTimeOffset(UpdatedAtColumn),
            }
            : null;
    }

    /// <summary>Writes a principal's row whole (an upsert that replaces any earlier mapping: last write wins).</summary>
    public Task ReplaceAsync(PrincipalRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(row);
        var entity = new TableEntity(row.TenantId, row.ObjectId) { [OrganizationIdColumn] = row.OrganizationId, [RoleColumn] = row.Role };
        if (row.UpdatedAt is { } updatedAt)
        {
            entity[UpdatedAtColumn] = updatedAt;
        }

        return _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>Deletes a principal's row; false when there was none.</summary>
    public async Task<bool> DeleteAsync(string tenantId, string objectId, CancellationToken cancellationToken = default)
    {
        var response = await _table.DeleteEntityAsync(tenantId, objectId, ETag.All, cancellationToken).ConfigureAwait(false);
        return response.Status != 404;
    }
}

using Azure;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>A parent link as <c>parentlinks</c> holds it: the consent, the issuing organization, issue and expiry times, the revocation.</summary>
public sealed record ParentLinkRow(string LinkId, string ConsentId, string IssuedBy, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt,
    DateTimeOffset? RevokedAt, string? RevokedBy);

/// <summary>
/// The <c>parentlinks</c> table, the one place its keys and columns are spelled: PK link id, RK <c>link</c>. A link is added once
/// and changed only with If-Match its ETag (the revocation).
/// </summary>
public sealed class ParentLinkTable(ChildShareStorage storage)
{
    private const string LinkRow = "link", ConsentIdColumn = "ConsentId", IssuedByColumn = "IssuedBy", IssuedAtColumn = "IssuedAt",
        ExpiresAtColumn = "ExpiresAt", RevokedAtColumn = "RevokedAt", RevokedByColumn = "RevokedBy";

    private readonly TableClient _table = storage.Table(TableNames.ParentLinks);

    /// <summary>Adds a new link; a link with this id already there fails (<see cref="RequestFailedException"/>, 409).</summary>
    public Task AddAsync(ParentLinkRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(row);
        return _table.AddEntityAsync(ToEntity(row), cancellationToken);
    }

    /// <summary>A link and its ETag, or null.</summary>
    public async Task<(ParentLinkRow Row, string ETag)?> GetAsync(string linkId, CancellationToken cancellationToken = default)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(linkId, LinkRow, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? (FromEntity(entity), entity.ETag.ToString()) : null;
    }

    /// <summary>Replaces a link if its ETag is still <paramref name="etag"/>; false when it changed since (412), and nothing is written.</summary>
    public async Task<bool> TryReplaceAsync(ParentLinkRow row, string etag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(row);
        try
        {
            await _table.UpdateEntityAsync(ToEntity(row), new ETag(etag), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            return false;
        }
    }

    private static TableEntity ToEntity(ParentLinkRow row) => new(row.LinkId, LinkRow)
    {
        [ConsentIdColumn] = row.ConsentId,
        [IssuedByColumn] = row.IssuedBy,
        [IssuedAtColumn] = row.IssuedAt,
        [ExpiresAtColumn] = row.ExpiresAt,
        [RevokedAtColumn] = row.RevokedAt,
        [RevokedByColumn] = row.RevokedBy,
    };

    private static ParentLinkRow FromEntity(TableEntity entity) => new(entity.PartitionKey, entity.GetString(ConsentIdColumn) ?? "",
        entity.GetString(IssuedByColumn) ?? "", entity.GetDateTimeOffset(IssuedAtColumn) ?? default, entity.GetDateTimeOffset(ExpiresAtColumn) ?? default,
        entity.GetDateTimeOffset(RevokedAtColumn), entity.GetString(RevokedByColumn));
}

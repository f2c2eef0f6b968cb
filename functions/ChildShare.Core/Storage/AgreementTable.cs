using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>
/// One version of an agreement as the agreements table holds it: the terms as a JSON document, and the format those terms
/// were written in (null on rows written before the column existed). <see cref="Status"/> is on the current row only.
/// </summary>
public sealed record AgreementRow(string Id, int Version, string Document)
{
    public string Status { get; init; } = "";

    public int? TermsFormat { get; init; }

    /// <summary>The stored current row's ETag when read (for an optimistic replace); not written.</summary>
    public ETag ETag { get; init; }
}

/// <summary>
/// The agreements table: the current version of each agreement at PK <c>dsa</c>, RK id (read and replaced with its ETag), and
/// every version ever saved at PK <c>dsa-history</c>, RK <c>{id}|{version:D6}</c> (added, never replaced). The one place its
/// columns are spelled.
/// </summary>
public sealed class AgreementTable(ChildShareStorage storage)
{
    private const string Current = "dsa", History = "dsa-history";
    private const string DocumentColumn = "Document", VersionColumn = "Version", StatusColumn = "Status", TermsFormatColumn = "TermsFormat";

    private readonly TableClient _table = storage.Table(TableNames.Agreements);

    /// <summary>The current version of every agreement.</summary>
    public async Task<List<AgreementRow>> ListCurrentAsync(CancellationToken cancellationToken = default)
    {
        var rows = new List<AgreementRow>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Current}"), cancellationToken: cancellationToken)
            .ConfigureAwait(false))
        {
            rows.Add(FromCurrent(entity));
        }

        return rows;
    }

    /// <summary>The current version of one agreement, with its ETag, or null.</summary>
    public async Task<AgreementRow?> GetCurrentAsync(string id, CancellationToken cancellationToken = default)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(Current, id, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? FromCurrent(entity) : null;
    }

    /// <summary>Every saved version of one agreement, oldest first.</summary>
    public async Task<List<AgreementRow>> HistoryAsync(string id, CancellationToken cancellationToken = default)
    {
        var rows = new List<AgreementRow>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {History} and RowKey ge {id + "|"} and RowKey lt {id + "}"}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var version = int.TryParse(entity.RowKey[(entity.RowKey.LastIndexOf('|') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
            rows.Add(new AgreementRow(id, version, entity.GetString(DocumentColumn) ?? "{}") { TermsFormat = entity.GetInt32(TermsFormatColumn) });
        }

        return rows;
    }

    /// <summary>Adds a version to the history; a version already there fails (409).</summary>
    public Task AddVersionAsync(AgreementRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(row);
        var entity = new TableEntity(History, HistoryRow(row.Id, row.Version)) { [DocumentColumn] = row.Document };
        entity.SetIfPresent(TermsFormatColumn, row.TermsFormat);
        return _table.AddEntityAsync(entity, cancellationToken);
    }

    /// <summary>Adds the current version of a new agreement; an agreement already there fails (409).</summary>
    public Task AddCurrentAsync(AgreementRow row, CancellationToken cancellationToken = default) =>
        _table.AddEntityAsync(ToCurrent(row), cancellationToken);

    /// <summary>Replaces the current version if it is still the one read with <paramref name="etag"/>; else fails (412).</summary>
    public Task ReplaceCurrentAsync(AgreementRow row, ETag etag, CancellationToken cancellationToken = default) =>
        _table.UpdateEntityAsync(ToCurrent(row), etag, TableUpdateMode.Replace, cancellationToken);

    private static string HistoryRow(string id, int version) => $"{id}|{version.ToString("D6", CultureInfo.InvariantCulture)}";

    private static TableEntity ToCurrent(AgreementRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var entity = new TableEntity(Current, row.Id) { [DocumentColumn] = row.Document, [VersionColumn] = row.Version, [StatusColumn] = row.Status };
        entity.SetIfPresent(TermsFormatColumn, row.TermsFormat);
        return entity;
    }

    private static AgreementRow FromCurrent(TableEntity entity) =>
        new(entity.RowKey, entity.GetInt32(VersionColumn) ?? 0, entity.GetString(DocumentColumn) ?? "{}")
        {
            Status = entity.GetString(StatusColumn) ?? "",
            TermsFormat = entity.GetInt32(TermsFormatColumn),
            ETag = entity.ETag,
        };
}

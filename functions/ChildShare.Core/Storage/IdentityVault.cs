using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>
/// The identities table, which holds each provider record's direct identifiers (names, birth date, local id, state
/// student id, street address): the only code that reads or writes it. Only ingestion's writer, the linker's store and
/// the identifiable report's reader receive it; an architecture test fails if any other type depends on it or names the table.
/// </summary>
public interface IIdentityVault
{
    /// <summary>The identity of one provider record (PK provider, RK local token), or null.</summary>
    Task<ChildIdentityRow?> ReadAsync(string providerId, string localToken, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds the upsert (a merge) of a record's identity to <paramref name="writer"/>: every identity field is written, an
    /// empty string clearing what an earlier upload sent; <see cref="ChildIdentityRow.LinkRule"/> is the linker's and not written here.
    /// </summary>
    Task WriteAsync(BatchWriter writer, ChildIdentityRow row, CancellationToken cancellationToken = default);

    /// <summary>Adds to <paramref name="writer"/> the merge of a record's new community child key and the rule that linked it.</summary>
    Task RelinkAsync(BatchWriter writer, string providerId, string localToken, string childKey, string rule, CancellationToken cancellationToken = default);
}

/// <summary>The identity of one provider record as the identities table holds it; an empty string is an absent value.</summary>
public sealed record ChildIdentityRow(string ProviderId, string LocalToken)
{
    public string LocalChildId { get; init; } = "";

    public string FirstName { get; init; } = "";

    public string MiddleName { get; init; } = "";

    public string LastName { get; init; } = "";

    public string Suffix { get; init; } = "";

    /// <summary>ISO <c>yyyy-MM-dd</c>, or empty.</summary>
    public string BirthDate { get; init; } = "";

    public string StateStudentId { get; init; } = "";

    public string StreetAddress { get; init; } = "";

    /// <summary>The community child key the record is linked to.</summary>
    public string? ChildKey { get; init; }

    /// <summary>The rule that linked it (written by the linker only).</summary>
    public string? LinkRule { get; init; }

    /// <summary>The pseudonym key version of the tokens.</summary>
    public string? KeyVersion { get; init; }

    public string? LastUploadId { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>Never the values: a row that reaches a log line or an assertion message must not carry a child's identifiers.</summary>
    public override string ToString() => $"{nameof(ChildIdentityRow)} {{ ProviderId = {ProviderId} }}";

    /// <summary>
    /// The asked fields that hold a value, by their released (camelCase) name, in the order asked. An empty (or blank) value
    /// is absent: ingestion writes one to clear an optional field the latest upload no longer sends, and it is never released.
    /// </summary>
    public Dictionary<string, string> Released(params IdentityField[] fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            var value = field switch
            {
                IdentityField.LocalChildId => LocalChildId,
                IdentityField.FirstName => FirstName,
                IdentityField.MiddleName => MiddleName,
                IdentityField.LastName => LastName,
                IdentityField.Suffix => Suffix,
                IdentityField.BirthDate => BirthDate,
                IdentityField.StateStudentId => StateStudentId,
                IdentityField.StreetAddress => StreetAddress,
                _ => throw new ArgumentOutOfRangeException(nameof(fields)),
            };
            if (!string.IsNullOrWhiteSpace(value))
            {
                var name = field.ToString();
                values[char.ToLowerInvariant(name[0]) + name[1..]] = value;
            }
        }

        return values;
    }
}

/// <summary>The direct identifiers of a record that a consent can release.</summary>
public enum IdentityField
{
    LocalChildId,
    FirstName,
    MiddleName,
    LastName,
    Suffix,
    BirthDate,
    StateStudentId,
    StreetAddress,
}

/// <inheritdoc cref="IIdentityVault"/>
public sealed class IdentityVault(ChildShareStorage storage) : IIdentityVault
{
    // The one place the identities table's columns are spelled.
    private const string LocalChildIdColumn = "LocalChildId", FirstNameColumn = "FirstName", MiddleNameColumn = "MiddleName", LastNameColumn = "LastName",
        SuffixColumn = "Suffix", BirthDateColumn = "BirthDate", StateStudentIdColumn = "StateStudentId", StreetAddressColumn = "StreetAddress",
        ChildKeyColumn = "ChildKey", LinkRuleColumn = "LinkRule", KeyVersionColumn = "KeyVersion", LastUploadIdColumn = "LastUploadId", UpdatedAtColumn = "UpdatedAt";

    // One client for the store's life: a BatchWriter groups operations by client and partition, so a client per call would
    // split one partition's writes into transactions of their own, written in no particular order.
    private readonly TableClient _table = storage.Table(TableNames.Identities);

    public async Task<ChildIdentityRow?> ReadAsync(string providerId, string localToken, CancellationToken cancellationToken = default)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(providerId, localToken, cancellationToken: cancellationToken).ConfigureAwait(false);
        return row.HasValue && row.Value is { } entity ? FromEntity(entity) : null;
    }

    public Task WriteAsync(BatchWriter writer, ChildIdentityRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(row);
        return writer.UpsertAsync(_table, ToEntity(row), cancellationToken);
    }

    public Task RelinkAsync(BatchWriter writer, string providerId, string localToken, string childKey, string rule, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return writer.UpsertAsync(_table, new TableEntity(providerId, localToken) { [ChildKeyColumn] = childKey, [LinkRuleColumn] = rule }, cancellationToken);
    }

    private static TableEntity ToEntity(ChildIdentityRow row)
    {
        var entity = new TableEntity(row.ProviderId, row.LocalToken)
        {
            [LocalChildIdColumn] = row.LocalChildId,
            [FirstNameColumn] = row.FirstName,
            [LastNameColumn] = row.LastName,
            [BirthDateColumn] = row.BirthDate,
            [MiddleNameColumn] = row.MiddleName,
            [SuffixColumn] = row.Suffix,
            [StateStudentIdColumn] = row.StateStudentId,
            [StreetAddressColumn] = row.StreetAddress,
        };
        entity.SetIfPresent(ChildKeyColumn, row.ChildKey);
        entity.SetIfPresent(LinkRuleColumn, row.LinkRule);
        entity.SetIfPresent(KeyVersionColumn, row.KeyVersion);
        entity.SetIfPresent(LastUploadIdColumn, row.LastUploadId);
        entity.SetIfPresent(UpdatedAtColumn, row.UpdatedAt);
        return entity;
    }

    private static ChildIdentityRow FromEntity(TableEntity entity) => new(entity.PartitionKey, entity.RowKey)
    {
        LocalChildId = entity.GetString(LocalChildIdColumn) ?? "",
        FirstName = entity.GetString(FirstNameColumn) ?? "",
        MiddleName = entity.GetString(MiddleNameColumn) ?? "",
        LastName = entity.GetString(LastNameColumn) ?? "",
        Suffix = entity.GetString(SuffixColumn) ?? "",
        BirthDate = entity.GetString(BirthDateColumn) ?? "",
        StateStudentId = entity.GetString(StateStudentIdColumn) ?? "",
        StreetAddress = entity.GetString(StreetAddressColumn) ?? "",
        ChildKey = entity.GetString(ChildKeyColumn),
        LinkRule = entity.GetString(LinkRuleColumn),
        KeyVersion = entity.GetString(KeyVersionColumn),
        LastUploadId = entity.GetString(LastUploadIdColumn),
        UpdatedAt = entity.GetDateTimeOffset(UpdatedAtColumn),
    };
}

using ChildShare.Core.Storage;

namespace ChildShare.Tests.Architecture;

// Deliberate violations of the architecture rules, so a test proves each rule sees them. Never called.

/// <summary>Would read the children's identifiers behind the identifiable report's back.</summary>
internal sealed class VaultUserOutsideTheRule(IIdentityVault vault)
{
    public Task<ChildIdentityRow?> PeekAsync() => vault.ReadAsync("provider", "token");
}

/// <summary>Would open the identities table without the vault.</summary>
internal sealed class IdentitiesTableOpener(ChildShareStorage storage)
{
    public Azure.Data.Tables.TableClient Open() => storage.Table(TableNames.Identities);
}

/// <summary>Would read the children's identifiers through the identifiable report's reader, from outside the identifiable mode.</summary>
internal sealed class IdentityReaderOutsideTheRule(ChildShare.Core.Sharing.Identifiable.ChildRecordReader reader)
{
    public Task<ChildIdentityRow?> PeekAsync() => reader.IdentityAsync("provider", "token");
}

/// <summary>Would open the identities table by its name in another case (table names are case-insensitive).</summary>
internal sealed class IdentitiesTableOpenerInAnotherCase(ChildShareStorage storage)
{
    public Azure.Data.Tables.TableClient Open() => storage.Table("Identities");
}

using ChildShare.Core.Storage;

namespace ChildShare.Core.Sharing.Identifiable;

/// <summary>
/// Reads one community child's provider records for the identifiable mode: which providers hold a
/// record of the child (the <c>children</c> membership rows of its bucket), and each record's
/// identity row and child row, by point reads. Only the identifiable report and a source's review of
/// an authorization request read through it, and the review only ever reads the caller's own records.
/// </summary>
public class ChildRecordReader(MembershipStore memberships, IIdentityVault identities, ChildRecordStore records)
{
    /// <summary>The local tokens of every provider record of the community child, by provider.</summary>
    public virtual Task<Dictionary<string, List<string>>> MembershipsAsync(string childKey, CancellationToken cancellationToken = default) =>
        memberships.MembershipsAsync(childKey, cancellationToken);

    /// <summary>The provider's identity row of one record (names, birth date, local id, address), or null.</summary>
    public virtual Task<ChildIdentityRow?> IdentityAsync(string providerId, string localToken, CancellationToken cancellationToken = default) =>
        identities.ReadAsync(providerId, localToken, cancellationToken);

    /// <summary>The provider's child row of one record (demographics and services, no direct identifier), or null.</summary>
    public virtual Task<ChildRecordRow?> RecordAsync(string providerId, string localToken, CancellationToken cancellationToken = default) =>
        records.ReadAsync(providerId, localToken, cancellationToken);
}

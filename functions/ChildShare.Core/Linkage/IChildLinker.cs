using ChildShare.Core.Pseudonymization;

namespace ChildShare.Core.Linkage;

/// <summary>One provider record to link to a community child: its keys and what it offers to linkage (never kept in clear).</summary>
public sealed record LinkSubject(string ProviderId, string LocalToken, LinkInput Input)
{
    /// <summary>The upload the record comes from, for linkers that link an upload as a whole.</summary>
    public string? UploadId { get; init; }
}

/// <summary>What linking an upload did: records linked, candidates read, records of earlier uploads moved, clusters merged.</summary>
public sealed record LinkCompletion(int Records, int Candidates, int Moved, int ClustersMerged)
{
    public static LinkCompletion None { get; } = new(0, 0, 0, 0);

    /// <summary>
    /// The upload's provider children that no earlier upload sent, so no records row of theirs exists before this upload's summary
    /// rebuild, which may skip reading them. Only valid within the linkage lock's hold that linked the upload.
    /// </summary>
    public IReadOnlySet<string> NewChildren { get; init; } = new HashSet<string>();
}

/// <summary>The community child key a record joins, and the rule that decided it (for operators).</summary>
public sealed record ChildLink(string ChildKey, string Rule);

/// <summary>
/// Decides which community child a provider record belongs to. Replaceable: ingestion only asks
/// for a key and records the rule.
/// </summary>
public interface IChildLinker
{
    ValueTask<ChildLink> LinkAsync(LinkSubject subject, Pseudonymizer pseudonymizer, CancellationToken cancellationToken = default);

    /// <summary>
    /// Called once the upload's rows are stored and before its summaries are rebuilt: a linker may
    /// settle the upload's final child keys here, rewrite the keys of earlier records that a merge
    /// moved and add them to the upload's work list.
    /// </summary>
    ValueTask<LinkCompletion> CompleteUploadAsync(string uploadId, CancellationToken cancellationToken = default) => ValueTask.FromResult(LinkCompletion.None);

    /// <summary>
    /// Called when an attempt at the upload fails or stops before <see cref="CompleteUploadAsync"/> ran: a
    /// linker that buffers the upload's records drops them (a retry links the upload again from its rows).
    /// </summary>
    void AbandonUpload(string uploadId)
    {
    }
}

/// <summary>
/// What an operator's merge or split needs once it moved provider records to other child keys: their summaries rebuilt from their
/// records, so reports reflect the move on their next run. Owned by linkage, implemented by ingestion's summary rebuild.
/// </summary>
public interface ISummaryRebuilder
{
    Task RebuildMovedAsync(IEnumerable<string> providerChildren, CancellationToken cancellationToken = default);
}

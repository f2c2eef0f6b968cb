using ChildShare.Core.Ingestion;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChildShare.Core.Linkage;

/// <summary>A provider child in an operator's view of a cluster.</summary>
public sealed record ClusterMember(string ProviderChild, string Rule, int Variants, bool HasConstraints);

/// <summary>What a split did: the cluster keys the two records now have and the provider children that moved.</summary>
public sealed record SplitResult(string ClusterA, string ClusterB, IReadOnlyList<string> Moved);

/// <summary>
/// Operator actions on linkage: show a record's cluster with the reason code of each member, and
/// split a mistaken merge. A split records a do-not-link constraint between the two provider
/// children (on both nodes, so every later linking honours it, and in the constraints table for
/// audit), re-forms the cluster from its members' own links, writes the new child keys and
/// rebuilds the moved records' summaries, so reports reflect the split on their next run.
/// </summary>
public sealed partial class LinkageAdmin(
    LinkageStore store, ILinkageLock linkageLock, IPseudonymKeyProvider keys, ActivitySummaryBuilder summaries,
    TimeProvider time, ILogger<LinkageAdmin> logger)
{
    public async Task<string> ProviderChildAsync(string providerId, string localChildId, CancellationToken cancellationToken)
    {
        var key = await keys.GetCurrentKeyAsync(cancellationToken).ConfigureAwait(false);
        return RecordKeys.ProviderChild(providerId, RecordKeys.LocalToken(new Pseudonymizer(key), providerId, localChildId));
    }

    /// <summary>The cluster key of a provider child and its members with their reason codes; null when it was never linked.</summary>
    public async Task<(string ClusterKey, IReadOnlyList<ClusterMember> Members)?> ShowAsync(string providerChild, CancellationToken cancellationToken)
    {
        await store.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var node = (await store.ReadNodesAsync([providerChild], cancellationToken).ConfigureAwait(false)).SingleOrDefault();
        if (node is null)
        {
            return null;
        }

        var members = await store.MembersAsync([node.ClusterKey], cancellationToken).ConfigureAwait(false);
        var states = await store.ReadNodesAsync(members, cancellationToken).ConfigureAwait(false);
        return (node.ClusterKey, states.OrderBy(s => s.Key, StringComparer.Ordinal)
            .Select(s => new ClusterMember(s.Key, s.Rule, s.Variants.Count, s.DoNotLink.Count > 0)).ToList());
    }

    /// <summary>
    /// Separates two provider children for good. Throws when either was never linked. The cluster is
    /// read, split and written back, and the moved records' summaries rebuilt, under the linkage lock, so
    /// an upload ingested by the function app at the same time cannot overwrite the split (or be overwritten by it).
    /// </summary>
    public async Task<SplitResult> SplitAsync(string providerChildA, string providerChildB, CancellationToken cancellationToken)
    {
        await store.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        // The summaries are rebuilt under the lock too, so an upload's rebuild cannot interleave with them (see LINKAGE.md).
        var (result, separated) = await linkageLock.RunExclusiveAsync(
            async ct =>
            {
                var split = await SplitExclusivelyAsync(providerChildA, providerChildB, ct).ConfigureAwait(false);
                await summaries.RebuildChildrenAsync(split.Result.Moved, ct).ConfigureAwait(false);
                return split;
            },
            cancellationToken).ConfigureAwait(false);
        LogSplit(result.Moved.Count, separated);
        return result;
    }

    private async Task<(SplitResult Result, bool Separated)> SplitExclusivelyAsync(string providerChildA, string providerChildB, CancellationToken cancellationToken)
    {
        var engine = new LinkageEngine();
        var loaded = await store.LoadNeighbourhoodAsync(engine, [providerChildA, providerChildB], cancellationToken).ConfigureAwait(false);
        if (!loaded.ContainsKey(providerChildA) || !loaded.ContainsKey(providerChildB))
        {
            throw new InvalidOperationException("Both provider children must have been ingested and linked before they can be split.");
        }

        engine.Split(providerChildA, providerChildB);
        await store.AddConstraintAsync(providerChildA, providerChildB, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var writer = new BatchWriter(parallelism: LinkageStore.WriteParallelism);
        var moved = await store.WriteChangesAsync(engine, loaded, [], writer, cancellationToken).ConfigureAwait(false);

        // The constraint lives on both nodes even when their cluster keys did not change.
        foreach (var key in new[] { providerChildA, providerChildB })
        {
            await writer.UpsertAsync(store.Records, LinkageStore.ToEntity(engine.StateOf(key)), cancellationToken).ConfigureAwait(false);
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        var separated = engine.ClusterKeyOf(providerChildA) != engine.ClusterKeyOf(providerChildB);
        return (new SplitResult(engine.ClusterKeyOf(providerChildA), engine.ClusterKeyOf(providerChildB), moved), separated);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Linkage split: {Moved} provider children moved; separated: {Separated}")]
    private partial void LogSplit(int moved, bool separated);
}

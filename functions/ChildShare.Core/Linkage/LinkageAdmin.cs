using ChildShare.Core.Audit;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChildShare.Core.Linkage;

/// <summary>A provider child in an operator's view of a cluster.</summary>
public sealed record ClusterMember(string ProviderChild, string Rule, int Variants, bool HasConstraints);

/// <summary>What a split did: the cluster keys the two records now have and the provider children that moved.</summary>
public sealed record SplitResult(string ClusterA, string ClusterB, IReadOnlyList<string> Moved);

/// <summary>What a merge did: the cluster key the two records now share and the provider children that moved.</summary>
public sealed record MergeResult(string ClusterKey, IReadOnlyList<string> Moved);

/// <summary>A pair for review: the two provider children (keyed), the model's weight and the agreement pattern of their fields. No value of any field.</summary>
public sealed record ReviewItem(string ProviderChildA, string ProviderChildB, double Weight, string Pattern, bool Ambiguous);

/// <summary>The audit events of linkage administration.</summary>
public static class LinkageAuditEvents
{
    public const string ReviewListed = "LinkageReviewListed";
    public const string Merged = "LinkageMerged";
    public const string Split = "LinkageSplit";
    public const string ReviewPruned = "LinkageReviewPruned";
}

/// <summary>
/// Operator actions on linkage: show a record's cluster with the reason code of each member, list the pairs the model was unsure
/// of (<see cref="ReviewAsync"/>), confirm one (<see cref="MergeAsync"/>, a must-link constraint: the inverse of a split) and
/// split a mistaken merge. Review, merge and split are audited (actor, the keyed provider children, the outcome). A split records a do-not-link constraint between the two provider
/// children (on both nodes, so every later linking honours it, and in the constraints table for
/// audit), re-forms the cluster from its members' own links, writes the new child keys and
/// rebuilds the moved records' summaries, so reports reflect the split on their next run.
/// </summary>
public sealed partial class LinkageAdmin(
    LinkageStore store, ILinkageLock linkageLock, IPseudonymKeyProvider keys, ISummaryRebuilder summaries, AuditLog audit,
    TimeProvider time, ILogger<LinkageAdmin> logger)
{
    /// <summary>The model options of the engine a split or merge runs in (the production linker's; tests may set others).</summary>
    public LinkModelOptions Options { get; init; } = LinkModelOptions.Default;

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
    /// The pairs queued for review, strongest first, leaving out those that have since been joined or separated by a constraint.
    /// Audited: the listing itself is an access to linkage data.
    /// </summary>
    public async Task<IReadOnlyList<ReviewItem>> ReviewAsync(int max, string actor, CancellationToken cancellationToken)
    {
        await store.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var queued = (await store.ReadQueuedReviewsAsync(cancellationToken).ConfigureAwait(false)).Select(q => q.Row).ToList();
        var nodes = await NodesOfAsync(queued, cancellationToken).ConfigureAwait(false);
        var open = queued
            .Where(q => IsOpen(q, nodes))
            .OrderByDescending(q => q.Weight)
            .Take(max)
            .Select(q => new ReviewItem(q.KeyA, q.KeyB, q.Weight, q.Pattern, q.Ambiguous))
            .ToList();
        await audit.AppendAsync(new AuditEntry(LinkageAuditEvents.ReviewListed, "Succeeded")
        {
            Actor = actor,
            Parameters = new Dictionary<string, string> { ["max"] = max.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            RowsReturned = open.Count,
        }, cancellationToken).ConfigureAwait(false);
        return open;
    }

    /// <summary>
    /// Deletes the review entries that are closed: the two records have since been joined (a later upload linked them), a
    /// do-not-link separates them, or one of them is no longer stored. <see cref="ReviewAsync"/> leaves such entries out but would
    /// read them, and their nodes, on every listing. Under the linkage lock, so no split can reopen an entry between the check and
    /// the delete; each row is deleted only at the version read, so a stale holder cannot delete a pair queued again. Returns how
    /// many were deleted. Audited before the deletes (the counts only), so an audit outage deletes nothing.
    /// </summary>
    public async Task<int> PruneReviewsAsync(string actor, CancellationToken cancellationToken)
    {
        await store.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var (closed, pruned) = await linkageLock.RunExclusiveAsync(
            async ct =>
            {
                var queued = await store.ReadQueuedReviewsAsync(ct).ConfigureAwait(false);
                var nodes = await NodesOfAsync(queued.Select(q => q.Row).ToList(), ct).ConfigureAwait(false);
                var closedEntries = queued.Where(q => !IsOpen(q.Row, nodes)).ToList();
                // Audited before anything is deleted (an audit outage deletes nothing), as a change about to be made: a prune that
                // stops among its deletes has this entry and fewer deletes, and the next one deletes the rest.
                await audit.AppendAsync(new AuditEntry(LinkageAuditEvents.ReviewPruned, AuditOutcomes.Committing)
                {
                    Actor = actor,
                    Parameters = new Dictionary<string, string> { ["queued"] = queued.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    RowsReturned = closedEntries.Count,
                }, ct).ConfigureAwait(false);
                return (closedEntries.Count, await store.DeleteReviewsIfUnchangedAsync(closedEntries, ct).ConfigureAwait(false));
            },
            cancellationToken).ConfigureAwait(false);
        LogReviewsPruned(pruned, closed);
        return pruned;
    }

    private async Task<Dictionary<string, LinkNodeState>> NodesOfAsync(IReadOnlyList<LinkReviewRow> queued, CancellationToken cancellationToken) =>
        (await store.ReadNodesAsync(queued.SelectMany(q => new[] { q.KeyA, q.KeyB }), cancellationToken).ConfigureAwait(false))
            .ToDictionary(n => n.Key, StringComparer.Ordinal);

    /// <summary>A review entry is open while both records are stored, in different clusters, and no do-not-link separates them.</summary>
    private static bool IsOpen(LinkReviewRow queued, Dictionary<string, LinkNodeState> nodes) =>
        nodes.TryGetValue(queued.KeyA, out var a) && nodes.TryGetValue(queued.KeyB, out var b)
        && a.ClusterKey != b.ClusterKey && !a.DoNotLink.Contains(queued.KeyB) && !b.DoNotLink.Contains(queued.KeyA);

    /// <summary>
    /// Confirms that two provider children are the same child: a must-link constraint on both nodes (every later re-forming of the
    /// cluster keeps them together, and a re-ingestion never separates them), the clusters joined, the moved records' summaries
    /// rebuilt, the review entry closed; all under the linkage lock, like a split. Throws when either was never linked or a
    /// do-not-link constraint separates the two clusters. Audited.
    /// </summary>
    public async Task<MergeResult> MergeAsync(string providerChildA, string providerChildB, string actor, CancellationToken cancellationToken)
    {
        await store.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var result = await linkageLock.RunExclusiveAsync(
            async ct =>
            {
                var engine = new LinkageEngine(Options);
                var reads = new LinkageReadSet();
                var loaded = await store.LoadNeighbourhoodAsync(engine, [providerChildA, providerChildB], reads, ct).ConfigureAwait(false);
                if (!loaded.ContainsKey(providerChildA) || !loaded.ContainsKey(providerChildB))
                {
                    throw new InvalidOperationException("Both provider children must have been ingested and linked before they can be merged.");
                }

                engine.Merge(providerChildA, providerChildB);
                var writer = new BatchWriter(parallelism: LinkageStore.WriteParallelism);
                var moved = await store.WriteChangesAsync(engine, loaded, [], reads, writer, ct).ConfigureAwait(false);
                foreach (var key in new[] { providerChildA, providerChildB })
                {
                    await store.WriteNodeAsync(writer, engine.StateOf(key), reads, ct).ConfigureAwait(false);
                }

                await writer.FlushAsync(ct).ConfigureAwait(false);
                await store.DeleteReviewAsync(providerChildA, providerChildB, ct).ConfigureAwait(false);
                await summaries.RebuildMovedAsync(moved, ct).ConfigureAwait(false);
                return new MergeResult(engine.ClusterKeyOf(providerChildA), moved);
            },
            cancellationToken).ConfigureAwait(false);
        await AuditChangeAsync(LinkageAuditEvents.Merged, actor, providerChildA, providerChildB, result.Moved.Count, cancellationToken).ConfigureAwait(false);
        LogMerged(result.Moved.Count);
        return result;
    }

    /// <summary>
    /// Builds the known-blocks set of a store begun before it (LINKAGE.md, "Blocks new to the store"), under the linkage lock, so
    /// later uploads skip reading the blocks of tokens the community does not have. Returns the number of tokens in the set.
    /// </summary>
    public async Task<int> RebuildKnownBlocksAsync(CancellationToken cancellationToken)
    {
        await store.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var tokens = await linkageLock.RunExclusiveAsync(store.RebuildKnownBlocksAsync, cancellationToken).ConfigureAwait(false);
        LogKnownBlocksRebuilt(tokens);
        return tokens;
    }

    /// <summary>
    /// Separates two provider children for good. Throws when either was never linked. The cluster is
    /// read, split and written back, and the moved records' summaries rebuilt, under the linkage lock, so
    /// an upload ingested by the function app at the same time cannot overwrite the split (or be overwritten by it). Audited.
    /// </summary>
    public async Task<SplitResult> SplitAsync(string providerChildA, string providerChildB, string actor, CancellationToken cancellationToken)
    {
        await store.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        // The summaries are rebuilt under the lock too, so an upload's rebuild cannot interleave with them (see LINKAGE.md).
        var (result, separated) = await linkageLock.RunExclusiveAsync(
            async ct =>
            {
                var split = await SplitExclusivelyAsync(providerChildA, providerChildB, ct).ConfigureAwait(false);
                await summaries.RebuildMovedAsync(split.Result.Moved, ct).ConfigureAwait(false);
                return split;
            },
            cancellationToken).ConfigureAwait(false);
        await AuditChangeAsync(LinkageAuditEvents.Split, actor, providerChildA, providerChildB, result.Moved.Count, cancellationToken).ConfigureAwait(false);
        LogSplit(result.Moved.Count, separated);
        return result;
    }

    private Task AuditChangeAsync(string auditEvent, string actor, string a, string b, int moved, CancellationToken cancellationToken) =>
        audit.AppendAsync(new AuditEntry(auditEvent, "Succeeded")
        {
            Actor = actor,
            // Keyed provider-child keys ({provider}|{local token}), never a local id or a name.
            Parameters = new Dictionary<string, string> { ["providerChildA"] = a, ["providerChildB"] = b },
            RowsReturned = moved,
        }, cancellationToken);

    private async Task<(SplitResult Result, bool Separated)> SplitExclusivelyAsync(string providerChildA, string providerChildB, CancellationToken cancellationToken)
    {
        var engine = new LinkageEngine(Options);
        var reads = new LinkageReadSet();
        var loaded = await store.LoadNeighbourhoodAsync(engine, [providerChildA, providerChildB], reads, cancellationToken).ConfigureAwait(false);
        if (!loaded.ContainsKey(providerChildA) || !loaded.ContainsKey(providerChildB))
        {
            throw new InvalidOperationException("Both provider children must have been ingested and linked before they can be split.");
        }

        if (Options.HouseholdResolver)
        {
            // The split re-forms the cluster and the household resolver judges its members again: it needs their households (the
            // records of their blocks), or it would join a record whose rival it cannot see.
            var lookups = loaded.Values.SelectMany(s => s.Variants).SelectMany(v => v.Lookups());
            var around = await store.CandidatesAsync(lookups, Options.MaxBlockSize, reads, cancellationToken).ConfigureAwait(false);
            around.ExceptWith(loaded.Keys);
            foreach (var (key, state) in await store.LoadNeighbourhoodAsync(engine, around, reads, cancellationToken).ConfigureAwait(false))
            {
                loaded.TryAdd(key, state);
            }
        }

        var members = engine.Split(providerChildA, providerChildB);
        await store.AddConstraintAsync(providerChildA, providerChildB, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var writer = new BatchWriter(parallelism: LinkageStore.WriteParallelism);
        var moved = await store.WriteChangesAsync(engine, loaded, [], reads, writer, cancellationToken).ConfigureAwait(false);

        // The pairs of the cluster the split leaves apart in the review band are queued again (their entries were closed by the join
        // and may have been pruned). Writing a row gives it a new version, so a prune that read it before cannot delete it.
        await store.WriteReviewsAsync(engine, members.ToHashSet(StringComparer.Ordinal), writer, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);

        // The constraint lives on both nodes even when their cluster keys did not change.
        foreach (var key in new[] { providerChildA, providerChildB })
        {
            await store.WriteNodeAsync(writer, engine.StateOf(key), reads, cancellationToken).ConfigureAwait(false);
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        await store.DeleteReviewAsync(providerChildA, providerChildB, cancellationToken).ConfigureAwait(false);
        var separated = engine.ClusterKeyOf(providerChildA) != engine.ClusterKeyOf(providerChildB);
        return (new SplitResult(engine.ClusterKeyOf(providerChildA), engine.ClusterKeyOf(providerChildB), moved), separated);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Linkage review pruned: {Pruned} of {Closed} closed entries deleted")]
    private partial void LogReviewsPruned(int pruned, int closed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Linkage merge: {Moved} provider children moved")]
    private partial void LogMerged(int moved);

    [LoggerMessage(Level = LogLevel.Information, Message = "Linkage split: {Moved} provider children moved; separated: {Separated}")]
    private partial void LogSplit(int moved, bool separated);

    [LoggerMessage(Level = LogLevel.Information, Message = "Linkage known-blocks set built: {Tokens} tokens")]
    private partial void LogKnownBlocksRebuilt(int tokens);
}

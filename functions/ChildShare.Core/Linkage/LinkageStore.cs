using System.Collections.Concurrent;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Linkage;

/// <summary>
/// The block and cluster rows one unit of linking work (a chunk of an upload, an operator's merge or split) read, with their
/// ETags: its write-back replaces exactly those versions, so a flow that kept working after another took the linkage lock
/// (a lost lease it had not noticed yet) fails instead of overwriting the other's links.
/// </summary>
public sealed class LinkageReadSet
{
    /// <summary>The fence row as this unit of work first read it (see <see cref="LinkageStore"/>); null until then.</summary>
    internal FenceRow? Fence { get; set; }

    internal ConcurrentDictionary<UInt128, MemberRow> Blocks { get; } = new();

    internal ConcurrentDictionary<string, MemberRow> Clusters { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Provider children of this unit of work that no earlier upload sent (<see cref="LinkageStore.ClaimNewChildrenAsync"/>) and no
    /// earlier unit wrote: none of their rows exists, so none is read.
    /// </summary>
    internal IReadOnlySet<string> NewChildren { get; init; } = new HashSet<string>();

    /// <summary>The tokens of the token index with no row (<see cref="LinkageStore.ClaimNewTokensAsync"/>): their blocks are not read.</summary>
    internal NewTokens NewTokens { get; init; } = NewTokens.None;

    /// <summary>The tokens whose block was taken for missing without a read: their rows are added first, so a lost set fails early.</summary>
    internal HashSet<UInt128> UnreadBlocks { get; } = [];

    /// <summary>What this unit leaves in the process's <see cref="LinkageRowCache"/> once its last write landed; null until its shared rows are written.</summary>
    internal WrittenUnit? Written { get; set; }
}

/// <summary>A unit of work's shared rows written: its cache ticket, the fence version it wrote and its nodes as they are once every write lands.</summary>
internal sealed record WrittenUnit(long Ticket, Azure.ETag Fence, IReadOnlyList<LinkNodeState> Nodes);

/// <summary>
/// What one upload knows of the token index before reading it: a token its store's known-blocks set did not hold has no block row, and
/// neither has one the upload claimed, until a chunk of the upload wrote it (<see cref="Touched"/>). In a store whose set is not complete
/// (<see cref="FenceRow.KnownBlocks"/>) every block is read.
/// </summary>
public sealed class NewTokens
{
    private readonly KnownBlocks? _known;
    private readonly HashSet<UInt128> _claimed;

    // The fence's write count the set was read at, plus this upload's own units since: a fence that counts more was written by another
    // unit of work (a holder this upload's lease was lost to, older code), whose blocks this copy of the set may not hold.
    private long _fenceWrites;

    internal NewTokens(KnownBlocks? known, HashSet<UInt128> claimed, long fenceWrites)
    {
        _known = known;
        _claimed = claimed;
        _fenceWrites = fenceWrites;
    }

    /// <summary>Every block is read.</summary>
    public static NewTokens None { get; } = new(null, [], 0);

    /// <summary>The tokens this upload added to the set: none had a block row.</summary>
    public int Claimed => _claimed.Count;

    /// <summary>The store's known-blocks set holds the token: a block row of it may be added.</summary>
    public bool Holds(UInt128 token) => _known?.Contains(token) ?? false;

    /// <summary>True where the token certainly has no block row, so reading it can be skipped.</summary>
    public bool HasNoRow(UInt128 token) => _known is not null && (_claimed.Contains(token) || !_known.Contains(token));

    /// <summary>
    /// Whether this copy of the set may be relied on by a unit of work that read <paramref name="fence"/>: only if the set is complete and no
    /// unit of work but this upload's own wrote since the set was read.
    /// </summary>
    internal bool Covers(FenceRow fence) => _known is not null && fence.KnownBlocks && fence.Writes == _fenceWrites;

    /// <summary>A unit of work of this upload advanced <paramref name="fence"/>: the next one reads it one write on.</summary>
    internal void Advanced(FenceRow fence)
    {
        if (fence.Writes == _fenceWrites)
        {
            _fenceWrites++;
        }
    }

    /// <summary>A chunk of the upload may have written these tokens' blocks: the next chunks read them.</summary>
    public void Touched(IEnumerable<UInt128> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (_known is not null)
        {
            _claimed.ExceptWith(tokens);
        }
    }
}

/// <summary>
/// The linkage rows changed since this flow read them: another flow wrote them. Under the linkage lock this only happens to a
/// holder whose lease was taken over before it noticed; nothing of the unit of work was written, and the caller retries.
/// </summary>
public sealed class LinkageConflictException(Exception? inner = null)
    : Exception("Linkage rows changed after this flow read them (another flow holds the linkage lock); nothing was written, the work is retried.", inner);

/// <summary>
/// A child its provider's known-children set did not hold has linkage rows: the set was lost or restored without them. Nothing of the
/// unit of work was written; the attempt fails and, as the children were claimed again, the next delivery reads their rows.
/// </summary>
public sealed class KnownChildrenLostException()
    : Exception("A child the known-children set called new has linkage rows (the set was lost); nothing was written, the next delivery reads every row.");

/// <summary>
/// Reads and writes linkage state in table storage: a node's stored form, the candidates of a token and the members of a
/// cluster, all by point reads (Azurite answers a query by scanning the table, and a query per record would grow with the
/// community there). The rows several flows share (blocks, clusters) are written back with the ETag they were read with.
/// </summary>
public sealed class LinkageStore(
    LinkageRowStore rows, KnownChildrenStore knownChildren, KnownBlocksStore knownBlocks, IIdentityVault identities, ChildRecordStore childRecords,
    LinkageRowCache cache)
{
    /// <summary>
    /// Transactions written at once: linkage writes touch many small partitions (one per token,
    /// cluster and provider child), which one after another would cost a round trip each.
    /// </summary>
    public const int WriteParallelism = LinkageRowStore.WriteParallelism;

    /// <summary>
    /// The most members a block row keeps; past it the row only says it overflowed (no block that large is ever used: the
    /// model's <see cref="LinkModelOptions.MaxBlockSize"/> must not exceed it).
    /// </summary>
    public const int StoredBlockLimit = 1000;

    private const int ParallelReads = 16;

    /// <summary>The review row of a pair (the two keys in ordinal order).</summary>
    public static string ReviewKey(string a, string b) => LinkageRowStore.ReviewKey(a, b);

    /// <summary>Queues the review pairs of the engine that touch <paramref name="keys"/> (an upload's chunk).</summary>
    public async Task WriteReviewsAsync(LinkageEngine engine, IReadOnlySet<string> keys, BatchWriter writer, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(writer);
        foreach (var pair in engine.Reviews().Where(r => keys.Contains(r.KeyA) || keys.Contains(r.KeyB)))
        {
            await rows.WriteReviewAsync(writer, new LinkReviewRow(pair.KeyA, pair.KeyB, Math.Round(pair.Weight, 2), MatchScorer.Describe(pair.Pattern), pair.Ambiguous),
                at, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task DeleteReviewAsync(string a, string b, CancellationToken cancellationToken) => rows.DeleteReviewAsync(a, b, cancellationToken);

    /// <summary>Every queued review pair with its row's version.</summary>
    public Task<List<QueuedReview>> ReadQueuedReviewsAsync(CancellationToken cancellationToken) => rows.ReadQueuedReviewsAsync(cancellationToken);

    /// <summary>Deletes review rows at the versions they were read; returns how many went.</summary>
    public Task<int> DeleteReviewsIfUnchangedAsync(IReadOnlyList<QueuedReview> reviews, CancellationToken cancellationToken) =>
        rows.DeleteReviewsIfUnchangedAsync(reviews, cancellationToken);

    /// <summary>Creates the linkage tables once per process and storage prefix.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken) => rows.EnsureCreatedAsync(cancellationToken);

    /// <summary>The provider children indexed under each token; a token with more than <paramref name="maxBlock"/> is left out.</summary>
    public async Task<HashSet<string>> CandidatesAsync(IEnumerable<UInt128> tokens, int maxBlock, LinkageReadSet reads, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reads);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBlock, StoredBlockLimit);
        await ReadFenceAsync(reads, cancellationToken).ConfigureAwait(false);
        var distinct = tokens.Distinct().ToList();
        await ReadBlocksAsync(distinct, reads, cancellationToken).ConfigureAwait(false);
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var token in distinct)
        {
            var block = reads.Blocks[token];
            if (!block.Overflow && block.Members.Count <= maxBlock)
            {
                found.UnionWith(block.Members);
            }
        }

        return found;
    }

    /// <summary>
    /// Of an upload's provider children, those no earlier upload sent, after adding them to their providers' known-children sets:
    /// the set is written before any row of them, so a child it does not hold has none, and the linker and the summary rebuild
    /// skip reading their rows. Must run under the linkage lock, in the hold that then links and summarizes the upload. In a store
    /// of the legacy layout no set is complete: none is read or written, and every child's rows are read.
    /// </summary>
    /// <exception cref="LinkageConflictException">Another flow wrote a provider's set since it was read.</exception>
    public async Task<IReadOnlySet<string>> ClaimNewChildrenAsync(IEnumerable<string> providerChildren, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(providerChildren);
        var fresh = new HashSet<string>(StringComparer.Ordinal);
        if ((await rows.ReadFenceAsync(cancellationToken).ConfigureAwait(false)).Layout == LinkageLayout.Legacy)
        {
            return fresh;
        }

        foreach (var provider in providerChildren.Distinct(StringComparer.Ordinal).GroupBy(k => RecordKeys.SplitProviderChild(k).ProviderId, StringComparer.Ordinal))
        {
            var known = await knownChildren.ReadAsync(provider.Key, cancellationToken).ConfigureAwait(false);
            var added = false;
            foreach (var key in provider)
            {
                if (known.Add(RecordKeys.SplitProviderChild(key).LocalToken))
                {
                    fresh.Add(key);
                    added = true;
                }
            }

            if (added)
            {
                await RefusedAsConflictAsync(() => knownChildren.WriteAsync(known, cancellationToken)).ConfigureAwait(false);
            }
        }

        return fresh;
    }

    /// <summary>
    /// Adds an upload's indexed tokens to the store's known-blocks set before any block row of them is written, and returns what the
    /// upload may skip reading: the blocks of tokens the set did not hold. Must run under the linkage lock, in the hold that then links
    /// the upload. In a store whose set is not complete (older code linked in it: <see cref="FenceRow.KnownBlocks"/>) nothing is read
    /// or written, and every block is read.
    /// </summary>
    /// <exception cref="LinkageConflictException">Another flow wrote the set since it was read.</exception>
    public async Task<NewTokens> ClaimNewTokensAsync(IEnumerable<UInt128> indexedTokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(indexedTokens);
        var fence = await rows.ReadFenceAsync(cancellationToken).ConfigureAwait(false);
        if (!fence.KnownBlocks)
        {
            return NewTokens.None;
        }

        var known = await knownBlocks.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (known.ETag is null && fence.ETag is not null)
        {
            // Units of work wrote, yet there is no set: it was deleted. The blocks it held exist, and only the ones an upload indexes would
            // fail their add; one it only looks up (a swapped birth date or name) would be taken for missing. The set is off for good, as
            // older code's fence write turns it off, and every block is read.
            await RefusedAsConflictAsync(() => rows.AdvanceFenceAsync(fence with { KnownBlocks = false }, cancellationToken)).ConfigureAwait(false);

            return NewTokens.None;
        }

        var claimed = new HashSet<UInt128>();
        foreach (var token in indexedTokens)
        {
            if (known.Add(token))
            {
                claimed.Add(token);
            }
        }

        // A new store's first set is written even empty: from then on, a fence without a set is one whose set was deleted (above).
        if (claimed.Count > 0 || known.ETag is null)
        {
            await RefusedAsConflictAsync(() => knownBlocks.WriteAsync(known, cancellationToken)).ConfigureAwait(false);
        }

        return new NewTokens(known, claimed, fence.Writes);
    }

    /// <summary>
    /// Builds the known-blocks set of a store begun before it, or that older code linked in (<see cref="FenceRow.KnownBlocks"/> false):
    /// every block row's token is added to the set, then the fence is advanced with the flag, <c>If-Match</c> the version read before
    /// the scan, so a block written meanwhile fails it. Must run under the linkage lock. Returns the number of tokens in the set.
    /// </summary>
    /// <exception cref="InvalidOperationException">The store is of the legacy layout, whose rows are never skipped.</exception>
    /// <exception cref="LinkageConflictException">Another flow wrote the fence or the set meanwhile.</exception>
    public async Task<int> RebuildKnownBlocksAsync(CancellationToken cancellationToken)
    {
        var fence = await rows.ReadFenceAsync(cancellationToken).ConfigureAwait(false);
        if (fence.Layout == LinkageLayout.Legacy)
        {
            throw new InvalidOperationException("A store linked in the legacy layout keeps no known-blocks set; it reads every block.");
        }

        var known = await knownBlocks.ReadAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var token in rows.BlockTokensAsync(cancellationToken).ConfigureAwait(false))
        {
            known.Add(token);
        }

        await RefusedAsConflictAsync(async () =>
        {
            await knownBlocks.WriteAsync(known, cancellationToken).ConfigureAwait(false);
            await rows.AdvanceFenceAsync(fence with { KnownBlocks = true }, cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);

        return known.Count;
    }

    /// <summary>The stored nodes of these provider children (missing ones are left out).</summary>
    public async Task<List<LinkNodeState>> ReadNodesAsync(IEnumerable<string> keys, CancellationToken cancellationToken) =>
        await ReadNodesAsync(keys, await rows.ReadFenceAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    private async Task<List<LinkNodeState>> ReadNodesAsync(IEnumerable<string> keys, FenceRow fence, CancellationToken cancellationToken)
    {
        var found = new ConcurrentBag<LinkNodeState>();
        var toRead = new List<string>();
        foreach (var key in keys.Distinct(StringComparer.Ordinal))
        {
            if (cache.TryGetNode(fence, key, out var known))
            {
                found.Add(known!);
            }
            else
            {
                toRead.Add(key);
            }
        }

        await Parallel.ForEachAsync(toRead, new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
            async (key, ct) =>
            {
                if (await rows.ReadNodeAsync(key, fence.Layout, ct).ConfigureAwait(false) is { } row)
                {
                    found.Add(FromRow(row));
                }
            }).ConfigureAwait(false);
        return found.ToList();
    }

    /// <summary>The member keys of these clusters.</summary>
    public Task<HashSet<string>> MembersAsync(IEnumerable<string> clusterKeys, CancellationToken cancellationToken) =>
        MembersAsync(clusterKeys, new LinkageReadSet(), cancellationToken);

    /// <summary>The member keys of these clusters, keeping the rows read in <paramref name="reads"/> for the write-back.</summary>
    public async Task<HashSet<string>> MembersAsync(IEnumerable<string> clusterKeys, LinkageReadSet reads, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reads);
        await ReadFenceAsync(reads, cancellationToken).ConfigureAwait(false);
        var distinct = clusterKeys.Distinct(StringComparer.Ordinal).ToList();
        await ReadClustersAsync(distinct, reads, cancellationToken).ConfigureAwait(false);
        return distinct.SelectMany(k => reads.Clusters[k].Members).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Loads into an engine the stored nodes of <paramref name="keys"/> and every member of their
    /// clusters, so merge constraints see whole clusters. Returns the loaded states by key.
    /// </summary>
    public async Task<Dictionary<string, LinkNodeState>> LoadNeighbourhoodAsync(
        LinkageEngine engine, IEnumerable<string> keys, LinkageReadSet reads, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(reads);
        await ReadFenceAsync(reads, cancellationToken).ConfigureAwait(false);
        var states = (await ReadNodesAsync(keys.Where(k => !reads.NewChildren.Contains(k)), reads.Fence!, cancellationToken).ConfigureAwait(false))
            .ToDictionary(s => s.Key, StringComparer.Ordinal);
        var members = await MembersAsync(states.Values.Select(s => s.ClusterKey), reads, cancellationToken).ConfigureAwait(false);
        members.ExceptWith(states.Keys);
        foreach (var state in await ReadNodesAsync(members, reads.Fence!, cancellationToken).ConfigureAwait(false))
        {
            // A member of a stored cluster the known-children set calls new: the set was lost (only this provider's, so the others'
            // clusters brought the node in). Its node is unchanged, so no insert would fail, and the summary rebuild would skip its
            // records row and drop its services. Nothing is written yet; the claim is, so the next delivery reads every row.
            if (reads.NewChildren.Contains(state.Key))
            {
                throw new KnownChildrenLostException();
            }

            states[state.Key] = state;
        }

        foreach (var state in states.Values.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            engine.Load(state);
        }

        return states;
    }

    /// <summary>
    /// Writes what changed in the engine. First the shared rows, each replacing the version <paramref name="reads"/> holds (or
    /// added where there was none): the blocks of new encodings and the membership of every cluster that gained or lost a member;
    /// if another flow changed one of them since, <see cref="LinkageConflictException"/> is thrown and nothing else is written.
    /// Then, through <paramref name="writer"/>, node rows and the child key in each moved record's row of the records table and
    /// its identity. Returns the keys whose child key changed.
    /// </summary>
    public async Task<List<string>> WriteChangesAsync(
        LinkageEngine engine, IReadOnlyDictionary<string, LinkNodeState> loaded, IEnumerable<string> alsoWriteKeys, LinkageReadSet reads,
        BatchWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentNullException.ThrowIfNull(reads);
        ArgumentNullException.ThrowIfNull(writer);
        var changes = engine.Changes();
        var moved = new List<string>();
        var childKeyKeys = new HashSet<string>(alsoWriteKeys, StringComparer.Ordinal);
        var blockAdditions = new Dictionary<UInt128, List<string>>();
        var touchedClusters = new HashSet<string>(StringComparer.Ordinal);
        foreach (var change in changes)
        {
            if (change.IsNew || change.VariantsChanged)
            {
                foreach (var token in engine.StateOf(change.Key).Variants.SelectMany(v => v.Indexed()).Distinct())
                {
                    if (!blockAdditions.TryGetValue(token, out var keys))
                    {
                        keys = [];
                        blockAdditions[token] = keys;
                    }

                    keys.Add(change.Key);
                }
            }

            var previous = loaded.TryGetValue(change.Key, out var old) ? old.ClusterKey : null;
            if (previous != change.ClusterKey)
            {
                if (previous is not null)
                {
                    touchedClusters.Add(previous);
                }

                touchedClusters.Add(change.ClusterKey);
                moved.Add(change.Key);
                childKeyKeys.Add(change.Key);
            }
            else if (old is not null && old.Rule != change.Rule)
            {
                childKeyKeys.Add(change.Key);
            }
        }

        var (ticket, fence) = await WriteSharedRowsAsync(engine, blockAdditions, touchedClusters, reads, cancellationToken).ConfigureAwait(false);

        // The nodes of children new to the store are inserted and flushed first: one that exists after all (a lost known-children
        // set) fails here, before any child key is written from a decision that took it for new.
        var newNodes = new BatchWriter(parallelism: WriteParallelism);
        foreach (var change in changes)
        {
            var nodes = reads.NewChildren.Contains(change.Key) ? newNodes : writer;
            await WriteNodeAsync(nodes, engine.StateOf(change.Key), reads, cancellationToken).ConfigureAwait(false);
        }

        await newNodes.FlushAsync(cancellationToken).ConfigureAwait(false);

        foreach (var key in childKeyKeys)
        {
            var clusterKey = engine.ClusterKeyOf(key);
            var rule = engine.RuleOf(key);
            var (providerId, localToken) = RecordKeys.SplitProviderChild(key);
            await childRecords.RelinkAsync(writer, providerId, localToken, clusterKey, rule, cancellationToken).ConfigureAwait(false);
            await identities.RelinkAsync(writer, providerId, localToken, clusterKey, rule, cancellationToken).ConfigureAwait(false);
        }

        var nodesAfter = loaded.Values.ToDictionary(s => s.Key, StringComparer.Ordinal);
        foreach (var change in changes)
        {
            nodesAfter[change.Key] = engine.StateOf(change.Key);
        }

        reads.Written = new WrittenUnit(ticket, fence, [.. nodesAfter.Values]);
        return moved;
    }

    /// <summary>
    /// Every write of the unit of work <paramref name="reads"/> belongs to landed (the caller flushed its writer after
    /// <see cref="WriteChangesAsync"/>): the rows it read and wrote are kept in the process's <see cref="LinkageRowCache"/>, and the next
    /// unit takes them instead of reading them while the fence keeps the version this one wrote. A unit that never gets here (a conflict,
    /// a crash, an operator's merge or split) leaves nothing relied on.
    /// </summary>
    public void RememberWritten(LinkageReadSet reads)
    {
        ArgumentNullException.ThrowIfNull(reads);
        if (reads.Written is not { } written)
        {
            throw new InvalidOperationException("The unit of work wrote no linkage rows to remember.");
        }

        cache.Remember(written.Ticket, written.Fence, written.Nodes, reads.Blocks, reads.Clusters);
    }

    private async Task<(long Ticket, Azure.ETag Fence)> WriteSharedRowsAsync(
        LinkageEngine engine, Dictionary<UInt128, List<string>> blockAdditions, HashSet<string> touchedClusters, LinkageReadSet reads,
        CancellationToken cancellationToken)
    {
        // A cluster keyed by the seed of a child new to the store has no row: a cluster's key is the smallest seed of its members,
        // and that child was never one. Rows written but not read yet (older variants of a loaded node, the key of another new
        // cluster) are read now, for their ETags.
        foreach (var key in reads.NewChildren)
        {
            if (engine.Contains(key))
            {
                reads.Clusters.TryAdd(engine.StateOf(key).Seed, MemberRow.Missing);
            }
        }

        await ReadBlocksAsync(blockAdditions.Keys.ToList(), reads, cancellationToken).ConfigureAwait(false);
        await ReadClustersAsync(touchedClusters.ToList(), reads, cancellationToken).ConfigureAwait(false);

        var writes = new List<MemberRowWrite>();
        var unreadBlockWrites = new List<MemberRowWrite>();
        foreach (var (token, additions) in blockAdditions)
        {
            var row = reads.Blocks[token];
            if (row.Overflow)
            {
                continue;
            }

            if (row.ETag is null && reads.Fence!.KnownBlocks && !reads.NewTokens.Holds(token))
            {
                // Every later upload would take this row for missing and fail on it once; refused before anything is written.
                throw new InvalidOperationException(
                    "A block row would be added for a token the known-blocks set does not hold: the unit of work must claim its tokens first.");
            }

            var members = row.Members.ToList();
            var known = members.ToHashSet(StringComparer.Ordinal);
            members.AddRange(additions.Where(known.Add));
            if (members.Count == row.Members.Count)
            {
                continue;
            }

            var write = new MemberRowWrite(MemberTable.Blocks, TokenKey(token), members, members.Count > StoredBlockLimit, row.ETag);
            (reads.UnreadBlocks.Contains(token) ? unreadBlockWrites : writes).Add(write);
        }

        // Every member of a touched cluster is in the engine: the neighbourhood holds whole clusters, and new nodes are added to it.
        var membersByCluster = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var cluster in engine.Clusters())
        {
            var clusterKey = engine.ClusterKeyOf(cluster[0]);
            if (touchedClusters.Contains(clusterKey))
            {
                if (!membersByCluster.TryGetValue(clusterKey, out var list))
                {
                    list = [];
                    membersByCluster[clusterKey] = list;
                }

                list.AddRange(cluster);
            }
        }

        foreach (var clusterKey in touchedClusters)
        {
            var row = reads.Clusters[clusterKey];
            if (!membersByCluster.TryGetValue(clusterKey, out var members))
            {
                if (row.ETag is not null)
                {
                    writes.Add(new MemberRowWrite(MemberTable.Clusters, clusterKey, [], false, row.ETag, Delete: true));
                }

                continue;
            }

            members.Sort(StringComparer.Ordinal);
            if (row.ETag is not null && members.SequenceEqual(row.Members.Order(StringComparer.Ordinal)))
            {
                continue;
            }

            writes.Add(new MemberRowWrite(MemberTable.Clusters, clusterKey, members, Overflow: false, row.ETag));
        }

        // The fence first: if any other unit of work wrote since this one began (it held the lock this one's lease lost), nothing is
        // written. The rows' own ETags then catch a unit that begins while this one writes and touches the same rows. The blocks taken
        // for missing without a read go before the others: if the known-blocks set was lost, one of them exists, its add fails, and no
        // cluster row decided without its candidates lands.
        var fence = reads.Fence ?? throw new InvalidOperationException("The linkage reads of this unit of work did not begin with the fence.");
        var ticket = cache.BeginWrite(fence);
        Azure.ETag written = default;
        await RefusedAsConflictAsync(async () =>
        {
            written = await rows.AdvanceFenceAsync(fence, cancellationToken).ConfigureAwait(false);
            reads.NewTokens.Advanced(fence);
            if (unreadBlockWrites.Count > 0)
            {
                Keep(await rows.WriteMemberRowsAsync(unreadBlockWrites, fence.Layout, cancellationToken).ConfigureAwait(false));
            }

            Keep(await rows.WriteMemberRowsAsync(writes, fence.Layout, cancellationToken).ConfigureAwait(false));
        }).ConfigureAwait(false);
        return (ticket, written);

        // The read set then holds the rows as they now are on storage, with their new ETags.
        void Keep(IReadOnlyList<(MemberRowWrite Write, MemberRow Row)> rowsWritten)
        {
            foreach (var (write, row) in rowsWritten)
            {
                if (write.Table == MemberTable.Blocks)
                {
                    reads.Blocks[TokenOf(write.Key)] = row;
                }
                else
                {
                    reads.Clusters[write.Key] = row;
                }
            }
        }
    }

    /// <summary>Runs guarded writes: a refused one means another flow wrote under the linkage lock, and the unit of work is retried.</summary>
    private static async Task RefusedAsConflictAsync(Func<Task> writes)
    {
        try
        {
            await writes().ConfigureAwait(false);
        }
        catch (LinkageRowsChangedException ex)
        {
            throw new LinkageConflictException(ex);
        }
    }

    private async Task ReadFenceAsync(LinkageReadSet reads, CancellationToken cancellationToken)
    {
        if (reads.Fence is not null)
        {
            return;
        }

        reads.Fence = await rows.ReadFenceAsync(cancellationToken).ConfigureAwait(false);
    }

    private Task ReadBlocksAsync(List<UInt128> tokens, LinkageReadSet reads, CancellationToken cancellationToken)
    {
        var toRead = new List<UInt128>();
        var covered = reads.NewTokens.Covers(reads.Fence!);
        foreach (var token in tokens.Where(t => !reads.Blocks.ContainsKey(t)))
        {
            if (cache.TryGetBlock(reads.Fence!, token, out var known))
            {
                reads.Blocks[token] = known!;
            }
            else if (covered && reads.NewTokens.HasNoRow(token))
            {
                reads.Blocks[token] = MemberRow.Missing;
                reads.UnreadBlocks.Add(token);
            }
            else
            {
                toRead.Add(token);
            }
        }

        return Parallel.ForEachAsync(toRead, new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
            async (token, ct) =>
            {
                reads.Blocks[token] = await rows.ReadBlockAsync(TokenKey(token), reads.Fence!.Layout, ct).ConfigureAwait(false);
            });
    }

    private Task ReadClustersAsync(List<string> clusterKeys, LinkageReadSet reads, CancellationToken cancellationToken)
    {
        var toRead = new List<string>();
        foreach (var clusterKey in clusterKeys.Where(k => !reads.Clusters.ContainsKey(k)))
        {
            if (cache.TryGetCluster(reads.Fence!, clusterKey, out var known))
            {
                reads.Clusters[clusterKey] = known!;
            }
            else
            {
                toRead.Add(clusterKey);
            }
        }

        return Parallel.ForEachAsync(toRead,
            new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
            async (clusterKey, ct) =>
            {
                reads.Clusters[clusterKey] = await rows.ReadClusterAsync(clusterKey, reads.Fence!.Layout, ct).ConfigureAwait(false);
            });
    }

    public static string TokenKey(UInt128 token) => token.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);

    private static UInt128 TokenOf(string tokenKey) =>
        UInt128.Parse(tokenKey, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Adds to <paramref name="writer"/> the write of a node's stored form, keyed in the layout <paramref name="reads"/> found; a node
    /// new to the store is inserted, so one that exists after all (a lost known-children set) fails the flush instead of being overwritten.
    /// </summary>
    public Task WriteNodeAsync(BatchWriter writer, LinkNodeState state, LinkageReadSet reads, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reads);
        var layout = (reads.Fence ?? throw new InvalidOperationException("The linkage reads of this unit of work did not begin with the fence.")).Layout;
        ArgumentNullException.ThrowIfNull(state);
        return rows.WriteNodeAsync(writer, new LinkNodeRow(state.Key, state.ProviderId, state.Seed, string.Join(';', state.Variants.Select(v => v.Serialize())),
            state.ClusterKey, state.Rule, string.Join(';', state.DoNotLink.Order(StringComparer.Ordinal)), string.Join(';', state.MustLink.Order(StringComparer.Ordinal)))
            {
                ResolverJoined = state.ResolverJoined,
            },
            layout, reads.NewChildren.Contains(state.Key), cancellationToken);
    }

    private static LinkNodeState FromRow(LinkNodeRow row) => new(
        row.ProviderChild,
        row.ProviderId,
        row.Seed,
        // A variant of an earlier encoding format is not read: the node keeps its cluster and links again when its provider sends it.
        row.Variants.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(variant => LinkEncoding.Deserialize(variant)).OfType<LinkEncoding>().ToList(),
        row.ClusterKey,
        row.Rule ?? LinkageEngine.Unlinked,
        row.DoNotLink.Split(';', StringSplitOptions.RemoveEmptyEntries))
    {
        MustLink = row.MustLink.Split(';', StringSplitOptions.RemoveEmptyEntries),
        ResolverJoined = row.ResolverJoined,
    };

    /// <summary>Records a do-not-link constraint (both directions) for audit; the nodes carry it for linking.</summary>
    public Task AddConstraintAsync(string a, string b, DateTimeOffset at, CancellationToken cancellationToken) => rows.AddConstraintAsync(a, b, at, cancellationToken);
}

using System.Collections.Concurrent;
using System.Text;
using Azure;
using Azure.Data.Tables;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Linkage;

/// <summary>The linkage tables (physical name: the storage table prefix + these names).</summary>
public static class LinkageTables
{
    /// <summary>One row per provider child: PK <c>{provider}|{local token}</c>, RK <c>link</c>: encodings, cluster key, reason code, constraints.</summary>
    public const string Records = "linkrecords";

    /// <summary>
    /// The token index, one row per token: PK the token's first two hex characters, RK the token (32 hex), <c>Members</c> the
    /// provider children indexed under it. Read by point reads, never by a query.
    /// </summary>
    public const string Blocks = "linkblocks";

    /// <summary>Cluster membership, one row per cluster: PK the cluster key's first two characters, RK the cluster key, <c>Members</c>.</summary>
    public const string Clusters = "linkmembers";

    /// <summary>Operator do-not-link constraints, both directions: PK one provider child, RK the other.</summary>
    public const string Constraints = "linkconstraints";

    /// <summary>
    /// Pairs scored in the uncertain band (or refused as ambiguous), for an operator's review: PK <c>pending</c>, RK
    /// <c>{provider child}~{provider child}</c> (ordinal order): weight and agreement pattern only, never a value.
    /// </summary>
    public const string Review = "linkreview";

    public static IReadOnlyList<string> All { get; } = [Records, Blocks, Clusters, Constraints, Review];

    public const string ReviewPartition = "pending";

    public const string RecordRow = "link";
}

/// <summary>
/// A block or cluster row as one flow read it: its members, and the ETag it must still have when the flow writes it back
/// (<see langword="null"/>: the row did not exist, so it is added, and the add fails if another flow added it meanwhile).
/// </summary>
public sealed record MemberRow(IReadOnlyList<string> Members, ETag? ETag, bool Overflow)
{
    public static MemberRow Missing { get; } = new([], null, false);
}

/// <summary>
/// The block and cluster rows one unit of linking work (a chunk of an upload, an operator's merge or split) read, with their
/// ETags: its write-back replaces exactly those versions, so a flow that kept working after another took the linkage lock
/// (a lost lease it had not noticed yet) fails instead of overwriting the other's links.
/// </summary>
public sealed class LinkageReadSet
{
    /// <summary>The fence row as this unit of work first read it (see <see cref="LinkageStore"/>); null until then.</summary>
    internal MemberRow? Fence { get; set; }

    internal ConcurrentDictionary<UInt128, MemberRow> Blocks { get; } = new();

    internal ConcurrentDictionary<string, MemberRow> Clusters { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The linkage rows changed since this flow read them: another flow wrote them. Under the linkage lock this only happens to a
/// holder whose lease was taken over before it noticed; nothing of the unit of work was written, and the caller retries.
/// </summary>
public sealed class LinkageConflictException(Exception? inner = null)
    : Exception("Linkage rows changed after this flow read them (another flow holds the linkage lock); nothing was written, the work is retried.", inner);

/// <summary>
/// Reads and writes linkage state in table storage: a node's stored form, the candidates of a token and the members of a
/// cluster, all by point reads (Azurite answers a query by scanning the table, and a query per record would grow with the
/// community there). The rows several flows share (blocks, clusters) are written back with the ETag they were read with.
/// </summary>
public sealed class LinkageStore(ChildShareStorage storage, IIdentityVault identities, ChildRecordStore childRecords)
{
    /// <summary>
    /// Transactions written at once: linkage writes touch many small partitions (one per token,
    /// cluster and provider child), which one after another would cost a round trip each.
    /// </summary>
    public const int WriteParallelism = 16;

    /// <summary>
    /// The most members a block row keeps; past it the row only says it overflowed (no block that large is ever used: the
    /// model's <see cref="LinkModelOptions.MaxBlockSize"/> must not exceed it).
    /// </summary>
    public const int StoredBlockLimit = 1000;

    // A string property holds at most 64 KiB (32 K UTF-16 characters); long member lists continue in Members1, Members2...
    private const int MembersPerProperty = 30_000;

    // Well under the 1 MiB of an entity and, with 100 entities, under the 4 MiB of a transaction.
    private const int MaxMembersChars = 480_000;
    private const int MaxTransactionChars = 1_500_000;

    // The fence: one row every unit of linking work replaces (If-Match the version it read when it began) before it writes anything.
    private const string FencePartition = "~fence";
    private const string FenceRow = "linkage";

    private const int ParallelReads = 16;
    private readonly ConcurrentDictionary<string, bool> _created = new(StringComparer.Ordinal);

    public TableClient Records => storage.Table(LinkageTables.Records);

    public TableClient Blocks => storage.Table(LinkageTables.Blocks);

    public TableClient Clusters => storage.Table(LinkageTables.Clusters);

    public TableClient Constraints => storage.Table(LinkageTables.Constraints);

    public TableClient Review => storage.Table(LinkageTables.Review);

    /// <summary>The review row of a pair (the two keys in ordinal order).</summary>
    public static string ReviewKey(string a, string b) => string.CompareOrdinal(a, b) <= 0 ? a + "~" + b : b + "~" + a;

    /// <summary>Queues the review pairs of the engine that touch <paramref name="keys"/> (an upload's chunk).</summary>
    public async Task WriteReviewsAsync(LinkageEngine engine, IReadOnlySet<string> keys, BatchWriter writer, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(writer);
        foreach (var pair in engine.Reviews().Where(r => keys.Contains(r.KeyA) || keys.Contains(r.KeyB)))
        {
            await writer.UpsertAsync(Review, new TableEntity(LinkageTables.ReviewPartition, ReviewKey(pair.KeyA, pair.KeyB))
            {
                ["Weight"] = Math.Round(pair.Weight, 2),
                ["Pattern"] = MatchScorer.Describe(pair.Pattern),
                ["Ambiguous"] = pair.Ambiguous,
                ["UpdatedAt"] = at,
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every queued review pair.</summary>
    public async Task<List<(string KeyA, string KeyB, double Weight, string Pattern, bool Ambiguous)>> ReadReviewsAsync(CancellationToken cancellationToken)
    {
        var found = new List<(string, string, double, string, bool)>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {LinkageTables.ReviewPartition}");
        await foreach (var row in Review.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var keys = row.RowKey.Split('~');
            found.Add((keys[0], keys[1], row.GetDouble("Weight") ?? 0, row.GetString("Pattern") ?? "", row.GetBoolean("Ambiguous") ?? false));
        }

        return found;
    }

    public async Task DeleteReviewAsync(string a, string b, CancellationToken cancellationToken) =>
        await Review.DeleteEntityAsync(LinkageTables.ReviewPartition, ReviewKey(a, b), cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>Creates the linkage tables once per process and storage prefix.</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        var marker = Records.Name;
        if (_created.ContainsKey(marker))
        {
            return;
        }

        foreach (var name in LinkageTables.All)
        {
            await storage.Table(name).CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        }

        _created[marker] = true;
    }

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

    /// <summary>The stored nodes of these provider children (missing ones are left out).</summary>
    public async Task<List<LinkNodeState>> ReadNodesAsync(IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        var found = new ConcurrentBag<LinkNodeState>();
        await Parallel.ForEachAsync(keys.Distinct(StringComparer.Ordinal), new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
            async (key, ct) =>
            {
                var response = await Records.GetEntityIfExistsAsync<TableEntity>(key, LinkageTables.RecordRow, cancellationToken: ct).ConfigureAwait(false);
                if (response.HasValue && response.Value is { } entity)
                {
                    found.Add(FromEntity(entity));
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
        var states = (await ReadNodesAsync(keys, cancellationToken).ConfigureAwait(false)).ToDictionary(s => s.Key, StringComparer.Ordinal);
        var members = await MembersAsync(states.Values.Select(s => s.ClusterKey), reads, cancellationToken).ConfigureAwait(false);
        members.ExceptWith(states.Keys);
        foreach (var state in await ReadNodesAsync(members, cancellationToken).ConfigureAwait(false))
        {
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

        await WriteSharedRowsAsync(engine, blockAdditions, touchedClusters, reads, cancellationToken).ConfigureAwait(false);

        foreach (var change in changes)
        {
            await writer.UpsertAsync(Records, ToEntity(engine.StateOf(change.Key)), cancellationToken).ConfigureAwait(false);
        }

        foreach (var key in childKeyKeys)
        {
            var clusterKey = engine.ClusterKeyOf(key);
            var rule = engine.RuleOf(key);
            var (providerId, localToken) = RecordKeys.SplitProviderChild(key);
            await childRecords.RelinkAsync(writer, providerId, localToken, clusterKey, rule, cancellationToken).ConfigureAwait(false);
            await identities.RelinkAsync(writer, providerId, localToken, clusterKey, rule, cancellationToken).ConfigureAwait(false);
        }

        return moved;
    }

    /// <summary>The members a block or cluster row lists (its <c>Members</c>, <c>Members1</c>... properties joined).</summary>
    public static IReadOnlyList<string> MembersOf(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var text = new StringBuilder(entity.GetString("Members") ?? "");
        for (var i = 1; entity.GetString("Members" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)) is { } more; i++)
        {
            text.Append(more);
        }

        return text.Length == 0 ? [] : text.ToString().Split(';');
    }

    private async Task WriteSharedRowsAsync(
        LinkageEngine engine, Dictionary<UInt128, List<string>> blockAdditions, HashSet<string> touchedClusters, LinkageReadSet reads,
        CancellationToken cancellationToken)
    {
        // Rows written but not read yet (older variants of a loaded node, the key of a new cluster) are read now, for their ETags.
        await ReadBlocksAsync(blockAdditions.Keys.ToList(), reads, cancellationToken).ConfigureAwait(false);
        await ReadClustersAsync(touchedClusters.ToList(), reads, cancellationToken).ConfigureAwait(false);

        var actions = new List<(TableClient Table, TableTransactionAction Action, int Chars)>();
        foreach (var (token, additions) in blockAdditions)
        {
            var row = reads.Blocks[token];
            if (row.Overflow)
            {
                continue;
            }

            var members = row.Members.ToList();
            var known = members.ToHashSet(StringComparer.Ordinal);
            members.AddRange(additions.Where(known.Add));
            if (members.Count == row.Members.Count)
            {
                continue;
            }

            var key = TokenKey(token);
            var overflow = members.Count > StoredBlockLimit;
            actions.Add(Replace(Blocks, MemberEntity(RecordKeys.ChildBucket(key), key, members, overflow), row.ETag));
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
                if (row.ETag is { } etag)
                {
                    actions.Add((Clusters, new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(RecordKeys.ChildBucket(clusterKey), clusterKey), etag), 0));
                }

                continue;
            }

            members.Sort(StringComparer.Ordinal);
            if (row.ETag is not null && members.SequenceEqual(row.Members.Order(StringComparer.Ordinal)))
            {
                continue;
            }

            actions.Add(Replace(Clusters, MemberEntity(RecordKeys.ChildBucket(clusterKey), clusterKey, members, overflow: false), row.ETag));
        }

        // The fence first: if any other unit of work wrote since this one began (it held the lock this one's lease lost), nothing is
        // written. The rows' own ETags then catch a unit that begins while this one writes and touches the same rows.
        var fence = reads.Fence ?? throw new InvalidOperationException("The linkage reads of this unit of work did not begin with the fence.");
        var next = new TableEntity(FencePartition, FenceRow) { ["Writes"] = (fence.Members.Count > 0 ? long.Parse(fence.Members[0], System.Globalization.CultureInfo.InvariantCulture) : 0) + 1 };
        await SubmitGuardedAsync([Replace(Blocks, next, fence.ETag)], cancellationToken).ConfigureAwait(false);
        await SubmitGuardedAsync(actions, cancellationToken).ConfigureAwait(false);
    }

    private async Task ReadFenceAsync(LinkageReadSet reads, CancellationToken cancellationToken)
    {
        if (reads.Fence is not null)
        {
            return;
        }

        var response = await Blocks.GetEntityIfExistsAsync<TableEntity>(FencePartition, FenceRow, cancellationToken: cancellationToken).ConfigureAwait(false);
        reads.Fence = response.HasValue && response.Value is { } entity
            ? new MemberRow([(entity.GetInt64("Writes") ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture)], entity.ETag, false)
            : MemberRow.Missing;
    }

    private static (TableClient, TableTransactionAction, int) Replace(TableClient table, TableEntity entity, ETag? etag) =>
        (table, etag is { } known
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, known)
            : new TableTransactionAction(TableTransactionActionType.Add, entity),
         entity.Select(p => p.Value).OfType<string>().Sum(v => v.Length) + 64);

    private static TableEntity MemberEntity(string partitionKey, string rowKey, IReadOnlyList<string> members, bool overflow)
    {
        var entity = new TableEntity(partitionKey, rowKey) { ["Count"] = members.Count };
        if (overflow)
        {
            entity["Overflow"] = true;
            return entity;
        }

        var text = string.Join(';', members);
        if (text.Length > MaxMembersChars)
        {
            // A cluster of thousands of provider children is a linkage failure to investigate, not a row to write.
            throw new InvalidOperationException("A linkage cluster grew beyond what one membership row can hold.");
        }

        entity["Members"] = text[..Math.Min(text.Length, MembersPerProperty)];
        for (int at = MembersPerProperty, part = 1; at < text.Length; at += MembersPerProperty, part++)
        {
            entity["Members" + part.ToString(System.Globalization.CultureInfo.InvariantCulture)] = text[at..Math.Min(text.Length, at + MembersPerProperty)];
        }

        return entity;
    }

    /// <summary>
    /// Submits the guarded writes as transactions per partition (up to 100 entities, under the size limit of one), several at
    /// once. A refused precondition (the ETag changed, the row was added or deleted meanwhile) is a stale writer.
    /// </summary>
    private static async Task SubmitGuardedAsync(List<(TableClient Table, TableTransactionAction Action, int Chars)> actions, CancellationToken cancellationToken)
    {
        var transactions = new List<(TableClient Table, List<TableTransactionAction> Actions)>();
        foreach (var partition in actions.GroupBy(a => (a.Table.Name, a.Action.Entity.PartitionKey)))
        {
            var current = new List<TableTransactionAction>();
            var chars = 0;
            foreach (var (table, action, size) in partition)
            {
                if (current.Count == BatchWriter.MaxBatchSize || (current.Count > 0 && chars + size > MaxTransactionChars))
                {
                    transactions.Add((table, current));
                    current = [];
                    chars = 0;
                }

                current.Add(action);
                chars += size;
            }

            transactions.Add((partition.First().Table, current));
        }

        await Parallel.ForEachAsync(transactions, new ParallelOptions { MaxDegreeOfParallelism = WriteParallelism, CancellationToken = cancellationToken },
            async (transaction, ct) =>
            {
                try
                {
                    await transaction.Table.SubmitTransactionAsync(transaction.Actions, ct).ConfigureAwait(false);
                }
                catch (TableTransactionFailedException ex) when (ex.Status is 404 or 409 or 412)
                {
                    throw new LinkageConflictException(ex);
                }
            }).ConfigureAwait(false);
    }

    private Task ReadBlocksAsync(List<UInt128> tokens, LinkageReadSet reads, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(tokens.Where(t => !reads.Blocks.ContainsKey(t)),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
            async (token, ct) =>
            {
                var key = TokenKey(token);
                var response = await Blocks.GetEntityIfExistsAsync<TableEntity>(RecordKeys.ChildBucket(key), key, cancellationToken: ct).ConfigureAwait(false);
                reads.Blocks[token] = RowOf(response);
            });

    private Task ReadClustersAsync(List<string> clusterKeys, LinkageReadSet reads, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(clusterKeys.Where(k => !reads.Clusters.ContainsKey(k)),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
            async (clusterKey, ct) =>
            {
                var response = await Clusters.GetEntityIfExistsAsync<TableEntity>(RecordKeys.ChildBucket(clusterKey), clusterKey, cancellationToken: ct)
                    .ConfigureAwait(false);
                reads.Clusters[clusterKey] = RowOf(response);
            });

    private static MemberRow RowOf(NullableResponse<TableEntity> response) =>
        response.HasValue && response.Value is { } entity
            ? new MemberRow(MembersOf(entity), entity.ETag, entity.GetBoolean("Overflow") ?? false)
            : MemberRow.Missing;

    public static string TokenKey(UInt128 token) => token.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);

    public static TableEntity ToEntity(LinkNodeState state) => new(state.Key, LinkageTables.RecordRow)
    {
        ["ProviderId"] = state.ProviderId,
        ["Seed"] = state.Seed,
        ["Variants"] = string.Join(';', state.Variants.Select(v => v.Serialize())),
        ["ClusterKey"] = state.ClusterKey,
        ["Rule"] = state.Rule,
        ["DoNotLink"] = string.Join(';', state.DoNotLink.Order(StringComparer.Ordinal)),
        ["MustLink"] = string.Join(';', state.MustLink.Order(StringComparer.Ordinal)),
    };

    public static LinkNodeState FromEntity(TableEntity entity) => new(
        entity.PartitionKey,
        entity.GetString("ProviderId") ?? "",
        entity.GetString("Seed") ?? "",
        // A variant of an earlier encoding format is not read: the node keeps its cluster and links again when its provider sends it.
        (entity.GetString("Variants") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(LinkEncoding.Deserialize).OfType<LinkEncoding>().ToList(),
        entity.GetString("ClusterKey") ?? "",
        entity.GetString("Rule") ?? LinkageEngine.Unlinked,
        (entity.GetString("DoNotLink") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
    {
        MustLink = (entity.GetString("MustLink") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries),
    };

    /// <summary>Records a do-not-link constraint (both directions) for audit; the nodes carry it for linking.</summary>
    public async Task AddConstraintAsync(string a, string b, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await Constraints.UpsertEntityAsync(new TableEntity(a, b) { ["CreatedAt"] = at }, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        await Constraints.UpsertEntityAsync(new TableEntity(b, a) { ["CreatedAt"] = at }, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }
}

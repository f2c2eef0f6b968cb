using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Azure;
using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>The linkage tables (physical name: the storage table prefix + these names).</summary>
public static class LinkageTables
{
    /// <summary>
    /// One row per provider child: PK <c>{provider}|{first character of the local token}</c> (16 partitions a provider, so an
    /// upload's nodes go in transactions of 100), RK <c>{provider}|{local token}</c>: encodings, cluster key, reason code,
    /// constraints. In a store of the <see cref="LinkageLayout.Legacy"/> layout: PK the provider child, RK <c>link</c>.
    /// </summary>
    public const string Records = "linkrecords";

    /// <summary>
    /// The token index, one row per token: PK the token's first hex character (two in the legacy layout), RK the token (32 hex),
    /// <c>Members</c> the provider children indexed under it. Read by point reads, never by a query. Also holds the fence row (PK
    /// <c>~fence</c>).
    /// </summary>
    public const string Blocks = "linkblocks";

    /// <summary>Cluster membership, one row per cluster: PK the cluster key's first character (two in the legacy layout), RK the cluster key, <c>Members</c>.</summary>
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

    private const string LegacyNodeRow = "link";

    /// <summary>A node's partition and row key.</summary>
    public static (string PartitionKey, string RowKey) NodeKeys(string providerChild, LinkageLayout layout)
    {
        ArgumentNullException.ThrowIfNull(providerChild);
        if (layout == LinkageLayout.Legacy)
        {
            return (providerChild, LegacyNodeRow);
        }

        var separator = providerChild.IndexOf('|', StringComparison.Ordinal);
        return (separator >= 0 && separator + 1 < providerChild.Length ? providerChild[..(separator + 2)] : providerChild, providerChild);
    }

    /// <summary>The partition of a block or cluster row: the first character of its key (two in the legacy layout).</summary>
    public static string MemberPartition(string key, LinkageLayout layout)
    {
        ArgumentNullException.ThrowIfNull(key);
        var length = layout == LinkageLayout.Legacy ? 2 : 1;
        return key.Length >= length ? key[..length] : key;
    }
}

/// <summary>
/// How a store's linkage rows are keyed, as its fence row says. <see cref="Current"/>: 16 partitions per provider for nodes, 16 for
/// blocks and for clusters, so an upload's rows go in transactions of up to 100, and every provider has a complete known-children
/// set. <see cref="Legacy"/>: a store whose first links were written before that (nodes one partition each, blocks and clusters in
/// 256 partitions, no known-children sets); it keeps its keys, and every child's rows are read.
/// </summary>
public enum LinkageLayout
{
    Legacy = 1,
    Current = 2,
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
/// The fence row as a unit of linking work read it: how many units wrote before, its ETag (null: never written), the layout
/// the store's links began in (a fence written without one was written before layouts: <see cref="LinkageLayout.Legacy"/>), and
/// whether the store's known-blocks set holds every token with a block row (<see cref="KnownBlocksStore"/>).
/// <see cref="KnownBlocks"/> is true only where every unit of work since the store began added its tokens to the set before writing a
/// block: a store begun by this version. Code before the set replaces the fence without it, so one link by such code (which writes
/// blocks without adding their tokens) turns it off for good, and every block is read again: slower, never wrong.
/// </summary>
public sealed record FenceRow(long Writes, ETag? ETag, LinkageLayout Layout, bool KnownBlocks = false)
{
    /// <summary>No unit of work wrote yet: a store that begins in the current layout, with a known-blocks set.</summary>
    public static FenceRow Missing { get; } = new(0, null, LinkageLayout.Current, KnownBlocks: true);
}

/// <summary>A provider child's node row (see <see cref="LinkageTables.Records"/>): its encodings and constraints as stored (<c>;</c>-joined text).</summary>
public sealed record LinkNodeRow(string ProviderChild, string ProviderId, string Seed, string Variants, string ClusterKey, string? Rule, string DoNotLink, string MustLink)
{
    /// <summary>The household resolver's join holds this node in its cluster (LinkageEngine: undone when a rival arrives).</summary>
    public bool ResolverJoined { get; init; }
}

/// <summary>A queued review pair (keys in ordinal order): weight and agreement pattern only, never a value.</summary>
public sealed record LinkReviewRow(string KeyA, string KeyB, double Weight, string Pattern, bool Ambiguous);

/// <summary>A review row as read, with the version a prune deletes it at (a row queued again since then is kept).</summary>
public sealed record QueuedReview(LinkReviewRow Row, ETag Version);

/// <summary>Which shared linkage table a guarded write goes to.</summary>
public enum MemberTable
{
    Blocks,
    Clusters,
}

/// <summary>
/// A guarded write of a block or cluster row (PK <see cref="LinkageTables.MemberPartition"/>): replace the version read (<paramref name="ETag"/>), or
/// add where there was none; with <paramref name="Delete"/>, delete the version read.
/// </summary>
public sealed record MemberRowWrite(MemberTable Table, string Key, IReadOnlyList<string> Members, bool Overflow, ETag? ETag, bool Delete = false);

/// <summary>A guarded linkage write was refused (404, 409 or 412): another flow changed the rows since they were read.</summary>
public sealed class LinkageRowsChangedException(Exception inner)
    : Exception("Linkage rows changed after they were read; the guarded write was refused.", inner);

/// <summary>
/// The linkage tables (<see cref="LinkageTables"/>), the one place their columns are mapped: node rows, the token index and cluster
/// membership (point reads; guarded writes with the ETag read, several transactions at once), the fence, the operator's constraints and
/// the review queue. Linkage's rules live in <c>Linkage/LinkageStore</c>.
/// </summary>
public sealed class LinkageRowStore(ChildShareStorage storage)
{
    /// <summary>Guarded transactions written at once: linkage writes touch many small partitions, which one after another would cost a round trip each.</summary>
    public const int WriteParallelism = 16;

    private const string ProviderIdColumn = "ProviderId", SeedColumn = "Seed", VariantsColumn = "Variants", ClusterKeyColumn = "ClusterKey",
        RuleColumn = "Rule", DoNotLinkColumn = "DoNotLink", MustLinkColumn = "MustLink", ResolverJoinedColumn = "ResolverJoined", MembersColumn = "Members", CountColumn = "Count",
        OverflowColumn = "Overflow", WritesColumn = "Writes", CreatedAtColumn = "CreatedAt", WeightColumn = "Weight", PatternColumn = "Pattern",
        AmbiguousColumn = "Ambiguous", UpdatedAtColumn = "UpdatedAt", LayoutColumn = "Layout", KnownBlocksColumn = "KnownBlocks";

    // A string property holds at most 64 KiB (32 K UTF-16 characters); long member lists continue in Members1, Members2...
    private const int MembersPerProperty = 30_000;

    // Well under the 1 MiB of an entity and, with 100 entities, under the 4 MiB of a transaction.
    private const int MaxMembersChars = 480_000;
    private const int MaxTransactionChars = 1_500_000;

    // The fence: one row every unit of linking work replaces (If-Match the version it read when it began) before it writes anything.
    private const string FencePartition = "~fence";
    private const string FenceRowKey = "linkage";

    // The layout again, in a row beside the fence that code before layouts never writes: such code replaces the fence without its
    // Layout, and a store begun in the current layout must not then be read as legacy (every current row would go unread).
    private const string LayoutRowKey = "layout";

    // One client per table for the store's life: a BatchWriter groups operations by client and partition.
    private readonly TableClient _records = storage.Table(LinkageTables.Records);
    private readonly TableClient _blocks = storage.Table(LinkageTables.Blocks);
    private readonly TableClient _clusters = storage.Table(LinkageTables.Clusters);
    private readonly TableClient _constraints = storage.Table(LinkageTables.Constraints);
    private readonly TableClient _review = storage.Table(LinkageTables.Review);
    private readonly ConcurrentDictionary<string, bool> _created = new(StringComparer.Ordinal);

    /// <summary>Creates the linkage tables once per process and storage prefix.</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        var marker = _records.Name;
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

    /// <summary>A provider child's node row, or null.</summary>
    public async Task<LinkNodeRow?> ReadNodeAsync(string providerChild, LinkageLayout layout, CancellationToken cancellationToken = default)
    {
        var (partitionKey, rowKey) = LinkageTables.NodeKeys(providerChild, layout);
        var response = await _records.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity
            ? new LinkNodeRow(providerChild, entity.GetString(ProviderIdColumn) ?? "", entity.GetString(SeedColumn) ?? "",
                entity.GetString(VariantsColumn) ?? "", entity.GetString(ClusterKeyColumn) ?? "", entity.GetString(RuleColumn),
                entity.GetString(DoNotLinkColumn) ?? "", entity.GetString(MustLinkColumn) ?? "")
            {
                ResolverJoined = entity.GetBoolean(ResolverJoinedColumn) ?? false,
            }
            : null;
    }

    /// <summary>
    /// Adds to <paramref name="writer"/> the merge of a node row; with <paramref name="mustBeNew"/>, its insert, which fails the flush if
    /// the row exists (a node the linker believed new: it wrote nothing it relied on, and the next attempt reads it).
    /// </summary>
    public Task WriteNodeAsync(BatchWriter writer, LinkNodeRow row, LinkageLayout layout, bool mustBeNew = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(row);
        var (partitionKey, rowKey) = LinkageTables.NodeKeys(row.ProviderChild, layout);
        var entity = new TableEntity(partitionKey, rowKey)
        {
            [ProviderIdColumn] = row.ProviderId,
            [SeedColumn] = row.Seed,
            [VariantsColumn] = row.Variants,
            [ClusterKeyColumn] = row.ClusterKey,
            [RuleColumn] = row.Rule,
            [DoNotLinkColumn] = row.DoNotLink,
            [MustLinkColumn] = row.MustLink,
            [ResolverJoinedColumn] = row.ResolverJoined,
        };
        return mustBeNew ? writer.InsertAsync(_records, entity, cancellationToken) : writer.UpsertAsync(_records, entity, cancellationToken);
    }

    /// <summary>A block row (the token index under a token's key), or <see cref="MemberRow.Missing"/>.</summary>
    public Task<MemberRow> ReadBlockAsync(string tokenKey, LinkageLayout layout, CancellationToken cancellationToken = default) =>
        ReadMemberRowAsync(_blocks, tokenKey, layout, cancellationToken);

    /// <summary>The token of every block row (the fence's partition left out): one scan of the token index's keys.</summary>
    public async IAsyncEnumerable<UInt128> BlockTokensAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey ne {FencePartition}");
        await foreach (var row in _blocks.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (UInt128.TryParse(row.RowKey, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var token))
            {
                yield return token;
            }
        }
    }

    /// <summary>A cluster's membership row, or <see cref="MemberRow.Missing"/>.</summary>
    public Task<MemberRow> ReadClusterAsync(string clusterKey, LinkageLayout layout, CancellationToken cancellationToken = default) =>
        ReadMemberRowAsync(_clusters, clusterKey, layout, cancellationToken);

    /// <summary>The fence row, or <see cref="FenceRow.Missing"/>.</summary>
    public async Task<FenceRow> ReadFenceAsync(CancellationToken cancellationToken = default)
    {
        var response = await _blocks.GetEntityIfExistsAsync<TableEntity>(FencePartition, FenceRowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!response.HasValue || response.Value is not { } entity)
        {
            return FenceRow.Missing;
        }

        // A fence without a layout was written by code that knew none: the store's links began in the legacy layout, unless the
        // layout row says the store began in the current one (an older instance or command line linked in it since).
        var layout = entity.GetInt32(LayoutColumn);
        if (layout is null)
        {
            var recorded = await _blocks.GetEntityIfExistsAsync<TableEntity>(FencePartition, LayoutRowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
            layout = recorded.HasValue ? recorded.Value?.GetInt32(LayoutColumn) : null;
        }

        var resolved = (LinkageLayout)(layout ?? (int)LinkageLayout.Legacy);
        return new FenceRow(entity.GetInt64(WritesColumn) ?? 0, entity.ETag, resolved,
            resolved == LinkageLayout.Current && (entity.GetBoolean(KnownBlocksColumn) ?? false));
    }

    /// <summary>
    /// Replaces the fence as read (one more write, the same layout and known-blocks flag), or adds it where there was none.
    /// </summary>
    /// <returns>The fence's new version.</returns>
    /// <exception cref="LinkageRowsChangedException">Another unit of work wrote the fence since it was read.</exception>
    public async Task<ETag> AdvanceFenceAsync(FenceRow read, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(read);
        var next = new TableEntity(FencePartition, FenceRowKey) { [WritesColumn] = read.Writes + 1, [LayoutColumn] = (int)read.Layout };
        if (read.KnownBlocks)
        {
            next[KnownBlocksColumn] = true;
        }

        List<(TableClient, TableTransactionAction, int)> actions = [Guarded(_blocks, next, read.ETag)];
        if (read.Layout == LinkageLayout.Current)
        {
            // In the fence's transaction (one partition), so it costs no request.
            actions.Add((_blocks, new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                new TableEntity(FencePartition, LayoutRowKey) { [LayoutColumn] = (int)read.Layout }), 64));
        }

        return (await SubmitGuardedAsync(actions, cancellationToken).ConfigureAwait(false))[0]
            ?? throw new InvalidOperationException("The table service returned no ETag for the fence it wrote.");
    }

    /// <summary>
    /// Writes block and cluster rows, each guarded by the version read, as transactions per partition (up to 100 entities, under the size
    /// limit of one), <see cref="WriteParallelism"/> at once.
    /// </summary>
    /// <returns>Each written row as it now is on storage (a deleted one as <see cref="MemberRow.Missing"/>), in the order of <paramref name="writes"/>.</returns>
    /// <exception cref="LinkageRowsChangedException">A precondition was refused (the ETag changed, the row was added or deleted meanwhile).</exception>
    public async Task<IReadOnlyList<(MemberRowWrite Write, MemberRow Row)>> WriteMemberRowsAsync(
        IEnumerable<MemberRowWrite> writes, LinkageLayout layout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        var actions = new List<(TableClient, TableTransactionAction, int)>();
        var written = new List<MemberRowWrite>();
        foreach (var write in writes)
        {
            var table = write.Table == MemberTable.Blocks ? _blocks : _clusters;
            if (write.Delete)
            {
                if (write.ETag is { } etag)
                {
                    actions.Add((table, new TableTransactionAction(TableTransactionActionType.Delete,
                        new TableEntity(LinkageTables.MemberPartition(write.Key, layout), write.Key), etag), 0));
                    written.Add(write);
                }

                continue;
            }

            actions.Add(Guarded(table, MemberEntity(LinkageTables.MemberPartition(write.Key, layout), write.Key, write.Members, write.Overflow), write.ETag));
            written.Add(write);
        }

        var etags = await SubmitGuardedAsync(actions, cancellationToken).ConfigureAwait(false);
        return [.. written.Select((write, i) => (write, write.Delete
            ? MemberRow.Missing
            : new MemberRow(write.Overflow ? [] : write.Members, etags[i], write.Overflow)))];
    }

    /// <summary>Records a do-not-link constraint in both directions (replacing what was there).</summary>
    public async Task AddConstraintAsync(string a, string b, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await _constraints.UpsertEntityAsync(new TableEntity(a, b) { [CreatedAtColumn] = at }, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        await _constraints.UpsertEntityAsync(new TableEntity(b, a) { [CreatedAtColumn] = at }, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The review row key of a pair (the two keys in ordinal order).</summary>
    public static string ReviewKey(string a, string b) => string.CompareOrdinal(a, b) <= 0 ? a + "~" + b : b + "~" + a;

    /// <summary>Adds to <paramref name="writer"/> the upsert of a review pair, as of <paramref name="at"/>.</summary>
    public Task WriteReviewAsync(BatchWriter writer, LinkReviewRow row, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(row);
        return writer.UpsertAsync(_review, new TableEntity(LinkageTables.ReviewPartition, ReviewKey(row.KeyA, row.KeyB))
        {
            [WeightColumn] = row.Weight,
            [PatternColumn] = row.Pattern,
            [AmbiguousColumn] = row.Ambiguous,
            [UpdatedAtColumn] = at,
        }, cancellationToken);
    }

    /// <summary>Every queued review pair: one partition query.</summary>
    public async Task<List<LinkReviewRow>> ReadReviewsAsync(CancellationToken cancellationToken = default) =>
        [.. (await ReadQueuedReviewsAsync(cancellationToken).ConfigureAwait(false)).Select(q => q.Row)];

    /// <summary>Every queued review pair with its row's version: one partition query.</summary>
    public async Task<List<QueuedReview>> ReadQueuedReviewsAsync(CancellationToken cancellationToken = default)
    {
        var found = new List<QueuedReview>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {LinkageTables.ReviewPartition}");
        await foreach (var row in _review.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var keys = row.RowKey.Split('~');
            found.Add(new QueuedReview(
                new LinkReviewRow(keys[0], keys[1], row.GetDouble(WeightColumn) ?? 0, row.GetString(PatternColumn) ?? "", row.GetBoolean(AmbiguousColumn) ?? false),
                row.ETag));
        }

        return found;
    }

    /// <summary>
    /// Deletes review rows at the versions they were read, 100 to a transaction (they share one partition). A row upserted again
    /// since (a linker queued the pair anew) or already gone is left as it is: a batch that meets one is retried row by row.
    /// Returns how many rows were deleted.
    /// </summary>
    public async Task<int> DeleteReviewsIfUnchangedAsync(IReadOnlyList<QueuedReview> reviews, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reviews);
        var deleted = 0;
        foreach (var batch in reviews.Chunk(BatchWriter.MaxBatchSize))
        {
            var actions = batch.Select(q => new TableTransactionAction(TableTransactionActionType.Delete,
                new TableEntity(LinkageTables.ReviewPartition, ReviewKey(q.Row.KeyA, q.Row.KeyB)), q.Version)).ToList();
            try
            {
                await _review.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
                deleted += batch.Length;
                continue;
            }
            catch (TableTransactionFailedException e) when (e.Status is 404 or 412)
            {
            }

            foreach (var q in batch)
            {
                try
                {
                    // The SDK answers a missing entity with its 404 response instead of an exception.
                    var response = await _review.DeleteEntityAsync(LinkageTables.ReviewPartition, ReviewKey(q.Row.KeyA, q.Row.KeyB), q.Version, cancellationToken)
                        .ConfigureAwait(false);
                    deleted += response.Status == 404 ? 0 : 1;
                }
                catch (RequestFailedException e) when (e.Status is 404 or 412)
                {
                }
            }
        }

        return deleted;
    }

    /// <summary>Deletes a review pair.</summary>
    public async Task DeleteReviewAsync(string a, string b, CancellationToken cancellationToken = default) =>
        await _review.DeleteEntityAsync(LinkageTables.ReviewPartition, ReviewKey(a, b), cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>The members a block or cluster row lists (its <c>Members</c>, <c>Members1</c>... properties joined).</summary>
    public static IReadOnlyList<string> MembersOf(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var text = new StringBuilder(entity.GetString(MembersColumn) ?? "");
        for (var i = 1; entity.GetString(MembersColumn + i.ToString(CultureInfo.InvariantCulture)) is { } more; i++)
        {
            text.Append(more);
        }

        return text.Length == 0 ? [] : text.ToString().Split(';');
    }

    private static async Task<MemberRow> ReadMemberRowAsync(TableClient table, string key, LinkageLayout layout, CancellationToken cancellationToken)
    {
        var response = await table.GetEntityIfExistsAsync<TableEntity>(LinkageTables.MemberPartition(key, layout), key, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity
            ? new MemberRow(MembersOf(entity), entity.ETag, entity.GetBoolean(OverflowColumn) ?? false)
            : MemberRow.Missing;
    }

    private static (TableClient, TableTransactionAction, int) Guarded(TableClient table, TableEntity entity, ETag? etag) =>
        (table, etag is { } known
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, known)
            : new TableTransactionAction(TableTransactionActionType.Add, entity),
         entity.Select(p => p.Value).OfType<string>().Sum(v => v.Length) + 64);

    private static TableEntity MemberEntity(string partitionKey, string rowKey, IReadOnlyList<string> members, bool overflow)
    {
        var entity = new TableEntity(partitionKey, rowKey) { [CountColumn] = members.Count };
        if (overflow)
        {
            entity[OverflowColumn] = true;
            return entity;
        }

        var text = string.Join(';', members);
        if (text.Length > MaxMembersChars)
        {
            // A cluster of thousands of provider children is a linkage failure to investigate, not a row to write.
            throw new InvalidOperationException("A linkage cluster grew beyond what one membership row can hold.");
        }

        entity[MembersColumn] = text[..Math.Min(text.Length, MembersPerProperty)];
        for (int at = MembersPerProperty, part = 1; at < text.Length; at += MembersPerProperty, part++)
        {
            entity[MembersColumn + part.ToString(CultureInfo.InvariantCulture)] = text[at..Math.Min(text.Length, at + MembersPerProperty)];
        }

        return entity;
    }

    /// <summary>Submits the actions as transactions per partition; returns each action's new ETag (none for a delete), in their order.</summary>
    private static async Task<ETag?[]> SubmitGuardedAsync(List<(TableClient Table, TableTransactionAction Action, int Chars)> actions, CancellationToken cancellationToken)
    {
        var transactions = new List<(TableClient Table, List<TableTransactionAction> Actions, List<int> Indexes)>();
        foreach (var partition in actions.Select((a, i) => (a.Table, a.Action, a.Chars, Index: i)).GroupBy(a => (a.Table.Name, a.Action.Entity.PartitionKey)))
        {
            var current = new List<TableTransactionAction>();
            var indexes = new List<int>();
            var chars = 0;
            foreach (var (table, action, size, index) in partition)
            {
                if (current.Count == BatchWriter.MaxBatchSize || (current.Count > 0 && chars + size > MaxTransactionChars))
                {
                    transactions.Add((table, current, indexes));
                    current = [];
                    indexes = [];
                    chars = 0;
                }

                current.Add(action);
                indexes.Add(index);
                chars += size;
            }

            transactions.Add((partition.First().Table, current, indexes));
        }

        var etags = new ETag?[actions.Count];
        await Parallel.ForEachAsync(transactions, new ParallelOptions { MaxDegreeOfParallelism = WriteParallelism, CancellationToken = cancellationToken },
            async (transaction, ct) =>
            {
                try
                {
                    var responses = (await transaction.Table.SubmitTransactionAsync(transaction.Actions, ct).ConfigureAwait(false)).Value;
                    for (var i = 0; i < responses.Count && i < transaction.Indexes.Count; i++)
                    {
                        etags[transaction.Indexes[i]] = responses[i].Headers.ETag;
                    }
                }
                catch (TableTransactionFailedException ex) when (ex.Status is 404 or 409 or 412)
                {
                    throw new LinkageRowsChangedException(ex);
                }
            }).ConfigureAwait(false);
        return etags;
    }
}

using System.Collections.Concurrent;
using Azure.Data.Tables;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Linkage;

/// <summary>The linkage tables (physical name: the storage table prefix + these names).</summary>
public static class LinkageTables
{
    /// <summary>One row per provider child: PK <c>{provider}|{local token}</c>, RK <c>link</c>: encodings, cluster key, reason code, constraints.</summary>
    public const string Records = "linkrecords";

    /// <summary>The token index: PK token (hex), RK <c>{provider}|{local token}</c>. Read by partition, never scanned.</summary>
    public const string Tokens = "linktokens";

    /// <summary>Cluster membership: PK cluster key (the community child key), RK <c>{provider}|{local token}</c>.</summary>
    public const string Clusters = "linkclusters";

    /// <summary>Operator do-not-link constraints, both directions: PK one provider child, RK the other.</summary>
    public const string Constraints = "linkconstraints";

    /// <summary>
    /// Pairs scored in the uncertain band (or refused as ambiguous), for an operator's review: PK <c>pending</c>, RK
    /// <c>{provider child}~{provider child}</c> (ordinal order): weight and agreement pattern only, never a value.
    /// </summary>
    public const string Review = "linkreview";

    public static IReadOnlyList<string> All { get; } = [Records, Tokens, Clusters, Constraints, Review];

    public const string ReviewPartition = "pending";

    public const string RecordRow = "link";
}

/// <summary>
/// Reads and writes linkage state in table storage: a node's stored form, the candidates of a
/// token (one partition read), and the members of a cluster (one partition read).
/// </summary>
public sealed class LinkageStore(ChildShareStorage storage)
{
    /// <summary>
    /// Transactions written at once: linkage writes touch many small partitions (one per token,
    /// cluster and provider child), which one after another would cost a round trip each.
    /// </summary>
    public const int WriteParallelism = 16;

    private const int ParallelReads = 16;
    private readonly ConcurrentDictionary<string, bool> _created = new(StringComparer.Ordinal);

    public TableClient Records => storage.Table(LinkageTables.Records);

    public TableClient Tokens => storage.Table(LinkageTables.Tokens);

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
    public async Task<HashSet<string>> CandidatesAsync(IEnumerable<UInt128> tokens, int maxBlock, CancellationToken cancellationToken)
    {
        var found = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(tokens.Distinct(), new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
            async (token, ct) =>
            {
                var block = new List<string>();
                var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TokenKey(token)}");
                await foreach (var row in Tokens.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: ct).ConfigureAwait(false))
                {
                    block.Add(row.RowKey);
                    if (block.Count > maxBlock)
                    {
                        return;
                    }
                }

                foreach (var key in block)
                {
                    found.Add(key);
                }
            }).ConfigureAwait(false);
        return found.ToHashSet(StringComparer.Ordinal);
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
    public async Task<HashSet<string>> MembersAsync(IEnumerable<string> clusterKeys, CancellationToken cancellationToken)
    {
        var found = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(clusterKeys.Distinct(StringComparer.Ordinal), new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken },
            async (clusterKey, ct) =>
            {
                var filter = TableClient.CreateQueryFilter($"PartitionKey eq {clusterKey}");
                await foreach (var row in Clusters.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: ct).ConfigureAwait(false))
                {
                    found.Add(row.RowKey);
                }
            }).ConfigureAwait(false);
        return found.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Loads into an engine the stored nodes of <paramref name="keys"/> and every member of their
    /// clusters, so merge constraints see whole clusters. Returns the loaded states by key.
    /// </summary>
    public async Task<Dictionary<string, LinkNodeState>> LoadNeighbourhoodAsync(LinkageEngine engine, IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        var states = (await ReadNodesAsync(keys, cancellationToken).ConfigureAwait(false)).ToDictionary(s => s.Key, StringComparer.Ordinal);
        var members = await MembersAsync(states.Values.Select(s => s.ClusterKey), cancellationToken).ConfigureAwait(false);
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
    /// Writes what changed in the engine: node rows, index rows of new encodings, cluster membership,
    /// and the child key in each moved record's row of the records table and its identity. Returns the keys whose child key changed.
    /// </summary>
    public async Task<List<string>> WriteChangesAsync(
        LinkageEngine engine, IReadOnlyDictionary<string, LinkNodeState> loaded, IEnumerable<string> alsoWriteKeys, BatchWriter writer,
        CancellationToken cancellationToken)
    {
        var records = storage.Table(TableNames.Records);
        var identities = storage.Table(TableNames.Identities);
        var moved = new List<string>();
        var childKeyKeys = new HashSet<string>(alsoWriteKeys, StringComparer.Ordinal);
        foreach (var change in engine.Changes())
        {
            var state = engine.StateOf(change.Key);
            await writer.UpsertAsync(Records, ToEntity(state), cancellationToken).ConfigureAwait(false);
            if (change.IsNew || change.VariantsChanged)
            {
                foreach (var token in state.Variants.SelectMany(v => v.Indexed()).Distinct())
                {
                    await writer.UpsertAsync(Tokens, new TableEntity(TokenKey(token), change.Key), cancellationToken).ConfigureAwait(false);
                }
            }

            var previous = loaded.TryGetValue(change.Key, out var old) ? old.ClusterKey : null;
            if (previous != change.ClusterKey)
            {
                if (previous is not null)
                {
                    await writer.DeleteAsync(Clusters, previous, change.Key, cancellationToken).ConfigureAwait(false);
                }

                await writer.UpsertAsync(Clusters, new TableEntity(change.ClusterKey, change.Key) { ["ProviderId"] = change.ProviderId }, cancellationToken)
                    .ConfigureAwait(false);
                moved.Add(change.Key);
                childKeyKeys.Add(change.Key);
            }
            else if (old is not null && old.Rule != change.Rule)
            {
                childKeyKeys.Add(change.Key);
            }
        }

        foreach (var key in childKeyKeys)
        {
            var clusterKey = engine.ClusterKeyOf(key);
            var rule = engine.RuleOf(key);
            var (providerId, localToken) = RecordKeys.SplitProviderChild(key);
            await writer.UpsertAsync(records, new TableEntity(providerId, localToken) { ["ChildKey"] = clusterKey, ["LinkRule"] = rule }, cancellationToken)
                .ConfigureAwait(false);
            await writer.UpsertAsync(identities, new TableEntity(providerId, localToken) { ["ChildKey"] = clusterKey, ["LinkRule"] = rule }, cancellationToken)
                .ConfigureAwait(false);
        }

        return moved;
    }

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

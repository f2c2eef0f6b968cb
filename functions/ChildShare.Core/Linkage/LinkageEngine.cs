using System.Runtime.InteropServices;

namespace ChildShare.Core.Linkage;

/// <summary>A provider child as linkage knows it, for loading into and reading out of the engine.</summary>
public sealed record LinkNodeState(
    string Key, string ProviderId, string Seed, IReadOnlyList<LinkEncoding> Variants, string ClusterKey, string Rule, IReadOnlyCollection<string> DoNotLink)
{
    /// <summary>Operator must-link constraints (<c>linkage merge</c>): provider children confirmed to be this child.</summary>
    public IReadOnlyCollection<string> MustLink { get; init; } = [];

    /// <summary>
    /// The household resolver's join holds this node in its cluster: a rival arriving later undoes it. Stored apart from the reason,
    /// which a later, stronger link or an operator's merge replaces.
    /// </summary>
    public bool ResolverJoined { get; init; }
}

/// <summary>A provider child whose cluster (or encoding, or reason) changed and must be written.</summary>
public sealed record LinkChange(string Key, string ProviderId, string ClusterKey, string Rule, bool VariantsChanged, bool IsNew);

/// <summary>A pair scored in the uncertain band (or refused as ambiguous) whose records are in different clusters: for review.</summary>
public sealed record ReviewPair(string KeyA, string KeyB, double Weight, ComparisonPattern Pattern, bool Ambiguous);

/// <summary>
/// The linkage decision engine, in memory. Nodes are provider children (<c>{provider}|{local token}</c>) with every encoding
/// variant seen for them (names change: old variants keep linking). A node's candidates come from a token index (birth date,
/// phonetic names, state id); each candidate pair is scored by the Fellegi-Sunter model (<see cref="MatchScorer"/>) over its best
/// pair of variants; links at or above the accept weight (and the strong link, same state id and birth date) are tried strongest
/// first and join clusters transitively, unless an operator's do-not-link constraint separates the two clusters, or the link is
/// weak and the clusters share a provider (two local ids of one provider are never joined by a weak link) or contradict each other
/// (a pair between them of different sex, or of one household with clearly different first names: twins). A record whose best
/// links go to two contradicting clusters with weights within the ambiguity margin joins neither. Pairs in the uncertain band are
/// kept for review. A cluster's key is the smallest seed of its members: stable under merges, independent of arrival order.
/// Work per added record grows with its candidates, not with the number of nodes.
/// </summary>
public sealed class LinkageEngine(LinkModelOptions? options = null)
{
    /// <summary>The most encoding variants kept per provider child.</summary>
    public const int MaxVariants = 4;

    /// <summary>The reason code of a record that joined no other.</summary>
    public const string Unlinked = "L-none-unlinked";

    /// <summary>The reason code of a record an operator merged (<c>linkage merge</c>).</summary>
    public const string OperatorMerge = "operator-merge";

    /// <summary>
    /// The most index entries (a node once per variant) an address block may hold for the household resolver to judge it. A real
    /// household is a few children with a few records each; a shelter's or a placeholder's address is not one, and an upload of
    /// hundreds of records at one address would otherwise cost the resolver a number of comparisons that grows with its square.
    /// </summary>
    public const int MaxHousehold = 32;

    /// <summary>The reason-code suffix of a link made by the household resolver (<see cref="ResolveHouseholds"/>).</summary>
    public const string HouseholdResolved = "household-resolved";

    private readonly LinkModelOptions _options = options ?? LinkModelOptions.Default;
    private readonly List<Node> _nodes = [];
    private readonly Dictionary<string, int> _byKey = new(StringComparer.Ordinal);
    // Providers as small numbers, so a cluster's providers are a few integers (compared without hashing strings).
    private readonly Dictionary<string, int> _providerNumbers = new(StringComparer.Ordinal);
    // A node whose variants did not fit its slots (more than MaxVariants loaded): scored from its encodings.
    private const byte Wide = byte.MaxValue;

    private readonly ScoreBounds _bounds = new(options ?? LinkModelOptions.Default);

    // Every variant's comparison inputs, flat; a node's variants are its slots, MaxVariants per node, in the order of its Variants.
    private readonly VariantTable _table = new();
    private readonly List<int> _slots = [];
    private readonly List<byte> _slotCounts = [];

    // The token index: the nodes indexed under each token, oldest first (a node appears once per variant that holds the token).
    private readonly Dictionary<UInt128, List<int>> _blocks = [];
    private readonly List<int> _parent = [];
    private readonly Dictionary<int, Cluster> _clusters = [];
    private readonly Dictionary<string, int> _loadedClusters = new(StringComparer.Ordinal);
    private readonly List<(int A, int B, double Weight, ComparisonPattern Pattern, bool Ambiguous)> _reviews = [];
    // Pairs a re-forming (a split, a resolver join undone) left in two clusters: queued again (Reviews).
    private readonly List<(int A, int B, double Weight, ComparisonPattern Pattern, bool Ambiguous)> _reopened = [];
    // A record's candidates in the order first met, each once: a node is taken when its stamp is not this lookup's (cheaper than a
    // set over 16 million candidate pairs; the order is a set's insertion order, which decides between equal weights).
    private readonly List<int> _candidates = [];
    private int[] _stamps = [];
    private readonly List<(int Other, PairScore Score)> _accepted = [];
    // The order accepted links are tried in (strongest first, then by seed), made once: a delegate per record with two links before.
    private Comparison<(int Other, PairScore Score)>? _strongestFirst;
    // A record's candidate pairs in the table, in candidate order: the candidate variant's keys, copied together (GatherPairs), and
    // whether the pair may reach the floor on its tokens (Prescreen, which prefetches the filters of those that may).
    private VariantKeys[] _pairKeys = [];
    private bool[] _pairMayReach = [];
    private int[] _pairSlots = [];
    private ulong[] _wideFilters = [];
    private int _stamp;
    private readonly HashSet<int> _contradicted = [];
    // With the household resolver on: nodes added since its last pass (a rival may have arrived among them), nodes whose reason is a
    // resolver join (loaded or made here), and records whose cluster was re-formed, which its next pass judges again.
    private readonly HashSet<int> _addedSinceResolve = [];
    private readonly List<int> _resolverJoined = [];
    private readonly HashSet<int> _resolveAgain = [];
    // RefuseAmbiguous's working sets, reused from record to record.
    private readonly List<(int Root, double Weight)> _firstByCluster = [];
    private readonly HashSet<int> _refused = [];
    // Whether any node has ever held a do-not-link constraint (never reset: a stale true only costs the look).
    private bool _anyDoNotLink;

    public int NodeCount => _nodes.Count;

    public int ClusterCount => _clusters.Count;

    public LinkModelOptions Options => _options;

    public bool Contains(string key) => _byKey.ContainsKey(key);

    /// <summary>Loads a stored node with its stored cluster key; nodes loaded with equal keys form one cluster.</summary>
    public void Load(LinkNodeState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (_byKey.ContainsKey(state.Key))
        {
            return;
        }

        var id = NewNode(state.Key, state.ProviderId, state.Seed, isNew: false);
        var node = _nodes[id];
        foreach (var variant in state.Variants)
        {
            AddVariant(id, variant);
        }

        node.PersistedKey = state.ClusterKey;
        node.PersistedRule = state.Rule;
        node.StoredUnfolded = state.Variants.Any(v => v.FoldedOnRead);
        node.BestReason = state.Rule == Unlinked ? null : state.Rule;
        node.BestWeight = WeightOf(state.Rule);
        node.PersistedResolverJoined = state.ResolverJoined;

        // A row written before the mark had its own column says so by its reason alone.
        if (state.ResolverJoined || IsResolverJoin(state.Rule))
        {
            node.ResolverJoined = true;
            _resolverJoined.Add(id);
        }

        if (state.DoNotLink.Count > 0)
        {
            node.DoNotLink.UnionWith(state.DoNotLink);
            _anyDoNotLink = true;
        }

        if (state.MustLink.Count > 0)
        {
            node.MustLink.UnionWith(state.MustLink);
        }

        foreach (var variant in state.Variants)
        {
            Index(id, variant);
        }

        _clusters[id].Key = state.ClusterKey;
        if (_loadedClusters.TryGetValue(state.ClusterKey, out var member))
        {
            Union(id, member, force: true);
        }
        else
        {
            _loadedClusters[state.ClusterKey] = id;
        }
    }

    /// <summary>Adds a record (a new provider child, or a variant of a known one) and links it. Returns its cluster key.</summary>
    public string Add(string key, string providerId, string seed, LinkEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        if (!_byKey.TryGetValue(key, out var id))
        {
            id = NewNode(key, providerId, seed, isNew: true);
        }

        var node = _nodes[id];
        var index = IndexOfVariant(node, encoding);
        if (index < 0)
        {
            if (node.Variants.Count >= MaxVariants)
            {
                RemoveOldestVariant(id);
            }

            AddVariant(id, encoding);
            node.VariantsChanged = true;
            Index(id, encoding);
            index = node.Variants.Count - 1;
        }

        if (_options.HouseholdResolver && (node.IsNew || node.VariantsChanged))
        {
            // An arrival the resolver's joins are judged against again; a record delivered again unchanged is none.
            _addedSinceResolve.Add(id);
        }

        LinkFrom(id, encoding, _slotCounts[id] == Wide ? -1 : _slots[id * MaxVariants + index]);
        return ClusterKeyOf(id);
    }

    // A loop, not FindIndex with a lambda: the lambda's closure and delegate were two objects per record added.
    private static int IndexOfVariant(Node node, LinkEncoding encoding)
    {
        var variants = node.Variants;
        for (var i = 0; i < variants.Count; i++)
        {
            if (variants[i].SameContent(encoding))
            {
                return i;
            }
        }

        return -1;
    }

    public string ClusterKeyOf(string key) => ClusterKeyOf(_byKey[key]);

    public string RuleOf(string key) => _nodes[_byKey[key]].Rule;

    /// <summary>Members (keys) of every cluster.</summary>
    public IEnumerable<IReadOnlyList<string>> Clusters() => _clusters.Values.Select(c => (IReadOnlyList<string>)c.Members.Select(m => _nodes[m].Key).ToList());

    /// <summary>
    /// The pairs scored in the uncertain band (or refused as ambiguous) whose records are still in different clusters that no constraint
    /// separates, and the pairs a re-forming left apart that no do-not-link names.
    /// </summary>
    public IReadOnlyList<ReviewPair> Reviews() => _reviews
        .Where(r => Find(r.A) != Find(r.B) && !Constrained(_clusters[Find(r.A)], _clusters[Find(r.B)]))
        .Concat(_reopened.Where(r => Find(r.A) != Find(r.B) && !_nodes[r.A].DoNotLink.Contains(_nodes[r.B].Key) && !_nodes[r.B].DoNotLink.Contains(_nodes[r.A].Key)))
        .GroupBy(r => (Math.Min(r.A, r.B), Math.Max(r.A, r.B)))
        .Select(g => g.MaxBy(r => r.Weight))
        .Select(r => new ReviewPair(_nodes[r.A].Key, _nodes[r.B].Key, r.Weight, r.Pattern, r.Ambiguous))
        .ToList();

    /// <summary>The best score of two loaded provider children over their variants (for the review list and the operator).</summary>
    public PairScore ScoreOf(string keyA, string keyB) => ScoreNodes(_byKey[keyA], _byKey[keyB]);

    /// <summary>
    /// Records that two provider children are not the same child and re-forms their cluster from its members' own links,
    /// honouring every constraint; with the household resolver on, its pass then judges the members again (so a split of one pair
    /// does not undo what the resolver joined elsewhere in the cluster). Returns the keys of the cluster's members.
    /// </summary>
    public IReadOnlyList<string> Split(string keyA, string keyB)
    {
        var a = _byKey[keyA];
        var b = _byKey[keyB];
        _nodes[a].DoNotLink.Add(keyB);
        _nodes[b].DoNotLink.Add(keyA);
        _anyDoNotLink = true;
        _nodes[a].MustLink.Remove(keyB);
        _nodes[b].MustLink.Remove(keyA);
        var members = Reform(a, b);

        // What the resolver had joined in the cluster is judged again with the household in view (adversary 32, finding 3); the
        // caller loads the members' households for it (LinkageAdmin).
        ResolveHouseholds();
        return members;
    }

    /// <summary>
    /// Records that two provider children are the same child (an operator confirmed it: the inverse of <see cref="Split"/>) and joins
    /// their clusters; the must-link constraint lives on both nodes, so every later re-forming keeps them together. Throws when a
    /// do-not-link constraint between the two clusters forbids it (split that constraint's pair first).
    /// </summary>
    public void Merge(string keyA, string keyB)
    {
        var a = _byKey[keyA];
        var b = _byKey[keyB];
        _nodes[a].DoNotLink.Remove(keyB);
        _nodes[b].DoNotLink.Remove(keyA);
        if (Find(a) != Find(b) && Constrained(_clusters[Find(a)], _clusters[Find(b)]))
        {
            throw new InvalidOperationException("A do-not-link constraint separates the two clusters; split it first.");
        }

        _nodes[a].MustLink.Add(keyB);
        _nodes[b].MustLink.Add(keyA);
        foreach (var n in new[] { a, b })
        {
            _nodes[n].BestReason = OperatorMerge;
            _nodes[n].BestWeight = double.PositiveInfinity;
        }

        Union(a, b, force: false);
    }

    /// <summary>
    /// Nodes whose cluster key, reason or encodings differ from what was loaded (or that are new), and loaded nodes whose row holds
    /// filters from before XOR folding (written again folded, with the same content).
    /// </summary>
    public IReadOnlyList<LinkChange> Changes() =>
        _nodes.Select((n, id) => (n, id))
            .Where(x => x.n.IsNew || x.n.VariantsChanged || x.n.StoredUnfolded || x.n.PersistedKey != ClusterKeyOf(x.id) || x.n.PersistedRule != x.n.Rule
                || x.n.PersistedResolverJoined != x.n.ResolverJoined)
            .Select(x => new LinkChange(x.n.Key, x.n.ProviderId, ClusterKeyOf(x.id), x.n.Rule, x.n.VariantsChanged, x.n.IsNew))
            .ToList();

    /// <summary>The stored form of a node.</summary>
    public LinkNodeState StateOf(string key)
    {
        var id = _byKey[key];
        var n = _nodes[id];
        return new LinkNodeState(n.Key, n.ProviderId, n.Seed, n.Variants.ToList(), ClusterKeyOf(id), n.Rule, n.DoNotLink.ToList())
        {
            MustLink = n.MustLink.ToList(),
            ResolverJoined = n.ResolverJoined,
        };
    }

    private IReadOnlyList<string> Reform(int a, int b)
    {
        var members = _clusters[Find(a)].Members.ToList();
        if (Find(a) != Find(b))
        {
            members.AddRange(_clusters[Find(b)].Members);
        }

        ResetToSingletons(members);
        foreach (var m in members)
        {
            _nodes[m].BestReason = null;
            _nodes[m].BestWeight = double.NegativeInfinity;
            _nodes[m].ResolverJoined = false;
        }

        // Operator merges first, then the members' own links, strongest first, under every constraint.
        foreach (var m in members)
        {
            foreach (var other in _nodes[m].MustLink)
            {
                if (_byKey.TryGetValue(other, out var o) && members.Contains(o) && Find(m) != Find(o) && !Constrained(_clusters[Find(m)], _clusters[Find(o)]))
                {
                    _nodes[m].BestReason = _nodes[o].BestReason = OperatorMerge;
                    _nodes[m].BestWeight = _nodes[o].BestWeight = double.PositiveInfinity;
                    Union(m, o, force: false);
                }
            }
        }

        var links = new List<(int A, int B, PairScore Score)>();
        var uncertain = new List<(int A, int B, PairScore Score)>();
        for (var i = 0; i < members.Count; i++)
        {
            for (var j = i + 1; j < members.Count; j++)
            {
                var score = ScoreNodes(members[i], members[j]);
                if (score.Strong || score.Weight >= _options.Model.AcceptWeight)
                {
                    links.Add((members[i], members[j], score));
                }
                else if (score.Weight >= _options.Model.ReviewWeight)
                {
                    uncertain.Add((members[i], members[j], score));
                }
            }
        }

        foreach (var (x, y, score) in links.OrderByDescending(l => l.Score.Strong).ThenByDescending(l => l.Score.Weight))
        {
            TryLink(x, y, score);
        }

        // A pair the re-forming leaves in two clusters is an open question again: its review entry was closed by the join (and may
        // have been pruned since), so it is queued again, as the review listing judges it (open unless a do-not-link names the pair
        // itself). An accepted pair kept apart (a contradiction, a shared provider, another pair's constraint) is queued as ambiguous.
        foreach (var (x, y, score) in links.Where(l => !l.Score.Strong).Select(l => (l.A, l.B, l.Score)).Concat(uncertain))
        {
            if (Find(x) != Find(y))
            {
                _reopened.Add((x, y, score.Weight, score.Pattern, score.Weight >= _options.Model.AcceptWeight));
            }
        }

        if (_options.HouseholdResolver)
        {
            // The members' own links do not hold what the household resolver joined: its next pass judges them again.
            _resolveAgain.UnionWith(members);
        }

        return members.Select(m => _nodes[m].Key).ToList();
    }

    /// <summary>Makes each member a cluster of its own again (a re-forming or an undo then joins them as their links say).</summary>
    private void ResetToSingletons(List<int> members)
    {
        foreach (var m in members)
        {
            _parent[m] = m;
            _clusters.Remove(m);
        }

        foreach (var m in members)
        {
            _clusters[m] = new Cluster(m, _nodes[m].Seed, _nodes[m].ProviderNumber);
        }
    }

    private int NewNode(string key, string providerId, string seed, bool isNew)
    {
        var id = _nodes.Count;
        if (!_providerNumbers.TryGetValue(providerId, out var provider))
        {
            _providerNumbers[providerId] = provider = _providerNumbers.Count;
        }

        _nodes.Add(new Node(key, providerId, provider, seed) { IsNew = isNew });
        _byKey[key] = id;
        _parent.Add(id);
        _clusters[id] = new Cluster(id, seed, provider);
        for (var i = 0; i < MaxVariants; i++)
        {
            _slots.Add(-1);
        }

        _slotCounts.Add(0);
        return id;
    }

    private void AddVariant(int id, LinkEncoding encoding)
    {
        _nodes[id].Variants.Add(encoding);
        var count = _slotCounts[id];
        if (count != Wide)
        {
            if (count < MaxVariants)
            {
                _slots[id * MaxVariants + count] = _table.Add(encoding);
            }

            _slotCounts[id] = count < MaxVariants ? (byte)(count + 1) : Wide;
        }
    }

    private void RemoveOldestVariant(int id)
    {
        _nodes[id].Variants.RemoveAt(0);
        var count = _slotCounts[id];
        if (count != Wide)
        {
            for (var i = 1; i < count; i++)
            {
                _slots[id * MaxVariants + i - 1] = _slots[id * MaxVariants + i];
            }

            _slotCounts[id] = (byte)(count - 1);
        }
    }

    private void Index(int id, LinkEncoding encoding)
    {
        foreach (var kind in LinkEncoding.IndexedKinds)
        {
            if (!encoding.Has(kind))
            {
                continue;
            }

            var token = encoding[kind];
            if (!_blocks.TryGetValue(token, out var block))
            {
                _blocks[token] = block = [];
            }

            block.Add(id);
        }
    }

    /// <summary>Links a node from one of its variants: <paramref name="slot"/> is the variant's slot, or -1 for a <see cref="Wide"/> node.</summary>
    private void LinkFrom(int id, LinkEncoding encoding, int slot)
    {
        var candidates = _candidates;
        candidates.Clear();
        if (_stamps.Length < _nodes.Count)
        {
            Array.Resize(ref _stamps, Math.Max(_nodes.Count, _stamps.Length * 2));
        }

        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_stamps);
            _stamp = 1;
        }

        var stamp = _stamp;
        var stamps = _stamps;
        stamps[id] = stamp;
        var max = _options.MaxBlockSize;
        foreach (var kind in LinkEncoding.LookupKinds)
        {
            // A block larger than the cap is not used. Newest first: the order candidates are met in decides between equal weights.
            if (encoding.Has(kind) && _blocks.TryGetValue(encoding[kind], out var block) && block.Count <= max)
            {
                var members = CollectionsMarshal.AsSpan(block);
                for (var p = members.Length - 1; p >= 0; p--)
                {
                    var member = members[p];
                    if (stamps[member] != stamp)
                    {
                        stamps[member] = stamp;
                        candidates.Add(member);
                    }
                }
            }
        }

        var model = _options.Model;

        // A pair below both thresholds (and not the strong link) changes nothing here: the scorer skips the name filters of pairs
        // that cannot reach the floor, and such pairs are not compared for the best variant either.
        var floor = Math.Min(model.AcceptWeight, model.ReviewWeight);
        var accepted = _accepted;
        accepted.Clear();
        (int Other, PairScore Score)? review = null;
        // The record's side of every pair: its variant's keys and filters in the table (computed again only for a Wide node's).
        var keys = slot >= 0 ? _table.Keys(slot) : _table.KeysOf(encoding);
        ReadOnlySpan<ulong> filters = slot >= 0 ? _table.Filters(keys) : FiltersOf(encoding, keys);
        // Nothing is added to the slots or the table while the candidates are scored.
        var slots = CollectionsMarshal.AsSpan(_slots);
        var slotCounts = CollectionsMarshal.AsSpan(_slotCounts);
        var pairs = GatherPairs(candidates, slots, slotCounts);
        Prescreen(keys, pairs, floor);
        var pair = 0;
        foreach (var other in CollectionsMarshal.AsSpan(candidates))
        {
            var best = default(PairScore);
            var found = false;
            var count = slotCounts[other];
            for (var v = 0; v < (count == Wide ? _nodes[other].Variants.Count : count); v++)
            {
                PairScore? score;
                if (count == Wide)
                {
                    var variant = _nodes[other].Variants[v];
                    var variantKeys = _table.KeysOf(variant);
                    score = MatchScorer.ScoreAtLeast(keys, filters, variantKeys, WideFiltersOf(variant, variantKeys), _options, _bounds, floor);
                }
                else if (!_pairMayReach[pair])
                {
                    // Ruled out on its tokens (Prescreen): ScoreAtLeast would return null.
                    pair++;
                    continue;
                }
                else
                {
                    ref readonly var variantKeys = ref _pairKeys[pair];
                    score = MatchScorer.ScoreAtLeast(keys, filters, variantKeys, _table.Filters(variantKeys), _options, _bounds, floor);
                    pair++;
                }

                if (score is { } s && (!found || Better(s, best)))
                {
                    (best, found) = (s, true);
                }
            }

            if (!found)
            {
                continue;
            }

            if (best.Strong || best.Weight >= model.AcceptWeight)
            {
                accepted.Add((other, best));
            }
            else if (best.Weight >= model.ReviewWeight && (review is null || best.Weight > review.Value.Score.Weight))
            {
                // Only the record's best uncertain pair is queued: a common name would otherwise queue dozens per record.
                review = (other, best);
            }
        }

        if (review is { } uncertain)
        {
            _reviews.Add((id, uncertain.Other, uncertain.Score.Weight, uncertain.Score.Pattern, false));
        }

        if (accepted.Count == 0)
        {
            return;
        }

        if (accepted.Count > 1)
        {
            // Most records have one link: no comparison delegate is made for them.
            accepted.Sort(_strongestFirst ??= (x, y) => Better(x.Score, y.Score) ? -1 : Better(y.Score, x.Score) ? 1 : string.CompareOrdinal(_nodes[x.Other].Seed, _nodes[y.Other].Seed));
        }

        if (_options.TwinGuard)
        {
            RefuseAmbiguous(id, accepted);
        }

        foreach (var (other, score) in accepted)
        {
            TryLink(id, other, score);
        }
    }

    private static ulong[] FiltersOf(LinkEncoding encoding, in VariantKeys keys)
    {
        var filters = new ulong[keys.FilterWords];
        VariantTable.Filters(encoding, filters);
        return filters;
    }

    /// <summary>A Wide candidate's variant's filters, in a buffer kept for them (valid until the next call).</summary>
    private ReadOnlySpan<ulong> WideFiltersOf(LinkEncoding variant, in VariantKeys keys)
    {
        if (_wideFilters.Length < keys.FilterWords)
        {
            _wideFilters = new ulong[keys.FilterWords];
        }

        var filters = _wideFilters.AsSpan(0, keys.FilterWords);
        VariantTable.Filters(variant, filters);
        return filters;
    }

    /// <summary>
    /// Copies the keys of every variant in the table of a record's candidates, in candidate order (a <see cref="Wide"/> candidate has
    /// none there), into <see cref="_pairKeys"/>; returns their number. The table is far larger than the caches, so each variant's
    /// keys are a read from memory: in this short loop, whose iterations do not depend on each other, the processor overlaps them,
    /// where scoring pair by pair waited for each in turn. They are prefetched as their slots are read and copied after (the copy
    /// loop, waiting for each load, had fewer of them in flight).
    /// </summary>
    private int GatherPairs(List<int> candidates, ReadOnlySpan<int> slots, ReadOnlySpan<byte> slotCounts)
    {
        var total = 0;
        foreach (var other in CollectionsMarshal.AsSpan(candidates))
        {
            var count = slotCounts[other];
            total += count == Wide ? 0 : count;
        }

        if (_pairKeys.Length < total)
        {
            var size = Math.Max(total, _pairKeys.Length * 2);
            _pairKeys = new VariantKeys[size];
            _pairSlots = new int[size];
            _pairMayReach = new bool[size];
        }

        // The slots first, each variant's keys asked for as its slot is known (a prefetch: the loop does not wait for them), then
        // the copies, which find them in the caches.
        var pair = 0;
        foreach (var other in CollectionsMarshal.AsSpan(candidates))
        {
            var count = slotCounts[other];
            for (var v = 0; v < (count == Wide ? 0 : count); v++)
            {
                var slot = slots[other * MaxVariants + v];
                _pairSlots[pair++] = slot;
                _table.PrefetchKeys(slot);
            }
        }

        for (var p = 0; p < pair; p++)
        {
            _pairKeys[p] = _table.Keys(_pairSlots[p]);
        }

        return pair;
    }

    /// <summary>
    /// Rules out the gathered pairs that cannot reach the floor on their tokens alone (<see cref="MatchScorer.MayReach"/>: most
    /// pairs) in <see cref="_pairMayReach"/>, and prefetches the filters of the others (<see cref="VariantTable.Prefetch"/>), so that
    /// scoring them reads the table from the caches: their reads overlap in this short loop, as the keys' do in
    /// <see cref="GatherPairs"/>. (The filters were copied here before: 1 GB of words loaded and stored for the benchmark community.)
    /// </summary>
    private void Prescreen(in VariantKeys keys, int pairs, double floor)
    {
        ReadOnlySpan<byte> screen = _bounds.Screen(floor);
        for (var p = 0; p < pairs; p++)
        {
            ref readonly var other = ref _pairKeys[p];
            var reach = MatchScorer.MayReach(keys, other, screen);
            _pairMayReach[p] = reach;
            if (reach)
            {
                _table.Prefetch(other);
            }
        }
    }

    /// <summary>
    /// Twins: when the record's weak links go to two clusters that contradict each other and the best is not clearly better than
    /// the other, the record joins neither (both pairs go to review).
    /// </summary>
    private void RefuseAmbiguous(int id, List<(int Other, PairScore Score)> accepted)
    {
        // Most records have at most one weak link: no list is built for them.
        var weakLinks = 0;
        foreach (var (_, score) in CollectionsMarshal.AsSpan(accepted))
        {
            weakLinks += score.Strong ? 0 : 1;
        }

        if (weakLinks < 2)
        {
            return;
        }

        // The strongest weak link to each cluster, strongest first (the order of accepted), in lists kept for it.
        var firstByCluster = _firstByCluster;
        firstByCluster.Clear();
        foreach (var (other, score) in CollectionsMarshal.AsSpan(accepted))
        {
            if (score.Strong)
            {
                continue;
            }

            var root = Find(other);
            if (!Holds(firstByCluster, root))
            {
                firstByCluster.Add((root, score.Weight));
            }
        }

        if (firstByCluster.Count < 2)
        {
            return;
        }

        var top = firstByCluster[0];
        var refused = _refused;
        refused.Clear();
        foreach (var (root, weight) in CollectionsMarshal.AsSpan(firstByCluster)[1..])
        {
            if (top.Weight - weight < _options.AmbiguityMargin && Apart(_clusters[top.Root], _clusters[root]))
            {
                refused.Add(root);
            }
        }

        if (refused.Count == 0)
        {
            return;
        }

        refused.Add(top.Root);
        foreach (var (other, score) in CollectionsMarshal.AsSpan(accepted))
        {
            if (!score.Strong && refused.Contains(Find(other)))
            {
                _reviews.Add((id, other, score.Weight, score.Pattern, true));
            }
        }

        // In place and in order (RemoveAll's lambda would capture the set: a closure made for every call of this method).
        var kept = 0;
        for (var i = 0; i < accepted.Count; i++)
        {
            var link = accepted[i];
            if (link.Score.Strong || !refused.Contains(Find(link.Other)))
            {
                accepted[kept++] = link;
            }
        }

        accepted.RemoveRange(kept, accepted.Count - kept);

        static bool Holds(List<(int Root, double Weight)> links, int root)
        {
            foreach (var link in CollectionsMarshal.AsSpan(links))
            {
                if (link.Root == root)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>
    /// The second pass over the review band, with household context (keyed tokens and filters only, in memory). Call it after a
    /// batch of <see cref="Add"/> (an upload, or a chunk of one), when the batch's records of a household are all present: the
    /// decisions depend on which other records a household has. A pair of the review band (or refused as ambiguous) whose best pattern
    /// is one household and <see cref="HouseholdEligible"/> (the first names disagree but birth date and sex agree, only with
    /// <see cref="LinkModelOptions.ResolverReplacedNames"/>; or the first name agrees and the birth date does not; or one side has no
    /// first name), and that the twin guards of the options do not refuse, joins when
    /// <list type="bullet">
    /// <item>the two clusters share no provider (two local ids of one provider are two children), no operator constraint separates
    /// them, and no pair between them is of different sex or state id, or of one household and not eligible;</item>
    /// <item>both records carry an address whose block holds at most <see cref="MaxHousehold"/> entries;</item>
    /// <item>no other cluster of the household is a rival: a cluster with a member that is eligible against either record and that
    /// could join that record's cluster (no provider in common). A twin seen at any provider that could be the child is such a
    /// rival, so the pair stays apart; a twin whose provider already holds the other side's cluster is not (a one-to-one
    /// assignment: each provider's two children go one to each).</item>
    /// </list>
    /// Pairs are tried strongest first, again while a join frees another (at most four rounds). Returns the number joined. What it
    /// cannot tell: twins of one sex, each seen at different providers only, look exactly like one child whose first name was
    /// replaced; they are joined (LINKAGE.md measures how often).
    /// </summary>
    public int ResolveHouseholds()
    {
        if (!_options.TwinGuard || !_options.HouseholdResolver)
        {
            return 0;
        }

        ReopenChallengedJoins();
        AddUnlinkedNeighbours();
        _addedSinceResolve.Clear();
        if (_reviews.Count == 0 && _contradicted.Count == 0 && _resolveAgain.Count == 0)
        {
            return 0;
        }

        // Every reviewed record against every node of its household, not only its one queued pair: with twins the queued pair may
        // be the wrong twin, and the one-to-one assignment needs the other. Records of a re-formed cluster are judged again.
        var pairs = new Dictionary<(int, int), double>();
        var household = new HashSet<int>();
        var seeds = _reviews.Select(r => r.A).Concat(_contradicted.Order()).Concat(_resolveAgain.Order()).Distinct().ToList();
        _resolveAgain.Clear();
        foreach (var x in seeds)
        {
            household.Clear();
            if (!AddHousehold(x, household))
            {
                continue;
            }

            foreach (var n in household)
            {
                if (Find(n) != Find(x) && BestEligible(x, n) is { } score && score.Weight >= _options.Model.ReviewWeight)
                {
                    pairs.TryAdd((Math.Min(x, n), Math.Max(x, n)), score.Weight);
                }
            }
        }

        // Equal weights in the order of the records' keys, not of their arrival: an engine per upload and one engine over every upload
        // then try the pairs in one order.
        var pending = pairs.Select(p => (Pair: p.Key, Weight: p.Value, Keys: KeysOf(p.Key)))
            .OrderByDescending(p => p.Weight).ThenBy(p => p.Keys.Low, StringComparer.Ordinal).ThenBy(p => p.Keys.High, StringComparer.Ordinal)
            .Select(p => p.Pair).ToList();
        var joined = 0;
        for (var round = 0; round < 4 && pending.Count > 0; round++)
        {
            var before = joined;
            var open = new List<(int A, int B)>();
            foreach (var (a, b) in pending)
            {
                var outcome = TryResolve(a, b);
                if (outcome == Resolution.Joined)
                {
                    joined++;
                }
                else if (outcome == Resolution.Later)
                {
                    open.Add((a, b));
                }
            }

            pending = open;
            if (joined == before)
            {
                break;
            }
        }

        return joined;
    }

    /// <summary>
    /// An arrival can remove a rival as well as bring one: a second local id at a provider that already holds a record without a
    /// first name leaves that record one twin it can be (the one-to-one assignment). The pair it may now join was queued in an
    /// earlier engine, which a fresh engine loaded from storage does not hold: the unlinked records of the arrivals' households are
    /// judged again, so an engine per upload decides as one engine over every upload does (adversary 33, second review).
    /// </summary>
    private void AddUnlinkedNeighbours()
    {
        var household = new HashSet<int>();
        var clustersSeen = new HashSet<int>();
        foreach (var arrival in _addedSinceResolve)
        {
            // The households of the arrival's whole cluster (once for the arrivals of one cluster): an arrival without an address
            // (or at another) still removes a rival from the households of the records it joined.
            if (!clustersSeen.Add(Find(arrival)))
            {
                continue;
            }

            household.Clear();
            foreach (var member in _clusters[Find(arrival)].Members)
            {
                AddHousehold(member, household);
            }

            foreach (var n in household)
            {
                if (_nodes[n].BestReason is null && _clusters.TryGetValue(n, out var own) && own.Members.Count == 1)
                {
                    _resolveAgain.Add(n);
                }
            }
        }
    }

    private (string Low, string High) KeysOf((int A, int B) pair)
    {
        var (a, b) = (_nodes[pair.A].Key, _nodes[pair.B].Key);
        return string.CompareOrdinal(a, b) <= 0 ? (a, b) : (b, a);
    }

    private static bool IsResolverJoin(string? rule) => rule is not null && rule.EndsWith(HouseholdResolved, StringComparison.Ordinal);

    /// <summary>
    /// A resolver join stands only while no rival is in view. When a record that could be a rival arrived after the join (a later
    /// upload, a later chunk of one), the cluster is taken apart into what its members' own links hold together (accepted and strong
    /// pairs, operator merges), the arrivals' accepted links to those parts are tried again (the join may have refused them: a shared
    /// provider), and the pass judges the parts again with the rival present, so the decision does not depend on the order in which a
    /// household's records arrive (adversary 32, finding 2; adversary 33).
    /// </summary>
    private void ReopenChallengedJoins()
    {
        if (_addedSinceResolve.Count == 0 || _resolverJoined.Count == 0)
        {
            return;
        }

        var seen = new HashSet<int>();
        var challenged = new List<int>();
        var household = new HashSet<int>();
        foreach (var joined in _resolverJoined)
        {
            var root = Find(joined);
            if (_nodes[joined].ResolverJoined && seen.Add(root) && Challenged(root, household))
            {
                challenged.Add(root);
            }
        }

        var detached = new List<int>();
        foreach (var root in challenged)
        {
            detached.AddRange(Detach(root));
        }

        if (detached.Count == 0)
        {
            return;
        }

        // The arrivals' accepted links to the detached members, strongest first, under every constraint.
        var retry = new List<(int A, int B, PairScore Score)>();
        foreach (var n in _addedSinceResolve.Order())
        {
            foreach (var m in detached)
            {
                if (Find(n) != Find(m) && ScoreNodes(n, m) is var score && (score.Strong || score.Weight >= _options.Model.AcceptWeight))
                {
                    retry.Add((n, m, score));
                }
            }
        }

        foreach (var (n, m, score) in retry.OrderByDescending(l => l.Score.Strong).ThenByDescending(l => l.Score.Weight).ThenBy(l => l.A).ThenBy(l => l.B))
        {
            TryLink(n, m, score);
        }
    }

    /// <summary>
    /// Whether a record added since the last pass joined this cluster beside another local id of its provider, or is of the household
    /// of a member of this cluster, of another provider than that member (a provider's two local ids are two children: the one-to-one
    /// assignment), not kept apart by a constraint, and could be that member's child (eligible against it, or carrying its first name).
    /// </summary>
    private bool Challenged(int root, HashSet<int> household)
    {
        var cluster = _clusters[root];
        foreach (var x in cluster.Members)
        {
            // An arrival that joined the cluster (a strong link) beside another local id of its own provider: a provider's two ids
            // are two children, so what the resolver joined beside them is judged again (adversary 33, third review).
            if (_addedSinceResolve.Contains(x) && cluster.Members.Any(m => m != x && _nodes[m].ProviderNumber == _nodes[x].ProviderNumber))
            {
                return true;
            }

            household.Clear();
            AddHousehold(x, household);
            AddBirthDateKin(x, household);
            foreach (var n in household)
            {
                if (_addedSinceResolve.Contains(n) && Find(n) != root && _nodes[n].ProviderNumber != _nodes[x].ProviderNumber
                    && !Constrained(_clusters[Find(n)], cluster) && (Eligible(n, x) || SameFirstName(n, x)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Takes a cluster apart into the parts its members' own links hold together: pairs that are strong, or accepted without
    /// contradicting each other, and operator merges. Every accepted link of the cluster stays inside one part (unlike a re-forming,
    /// which re-links strongest first under the provider rule). The members lose the resolver's mark and are judged again by the
    /// pass; pairs left in two parts are queued for review again. Returns the members when the cluster came apart, else nothing.
    /// </summary>
    private List<int> Detach(int root)
    {
        var members = _clusters[root].Members.ToList();
        var part = members.ToDictionary(m => m, m => m);
        int PartOf(int m) => part[m] == m ? m : part[m] = PartOf(part[m]);
        var uncertain = new List<(int A, int B, PairScore Score)>();
        var held = new List<(int A, int B, PairScore Score, bool Merged)>();
        for (var i = 0; i < members.Count; i++)
        {
            for (var j = i + 1; j < members.Count; j++)
            {
                var (x, y) = (members[i], members[j]);
                var score = ScoreNodes(x, y);
                var merged = _nodes[x].MustLink.Contains(_nodes[y].Key) || _nodes[y].MustLink.Contains(_nodes[x].Key);

                // A weak link never holds two local ids of one provider together (they are two children), as TryLink never makes one.
                if (merged || score.Strong || (score.Weight >= _options.Model.AcceptWeight && !MatchScorer.Contradicts(score.Pattern, _options)
                    && _nodes[x].ProviderNumber != _nodes[y].ProviderNumber))
                {
                    part[PartOf(x)] = PartOf(y);
                    held.Add((x, y, score, merged));
                }
                else if (score.Weight >= _options.Model.ReviewWeight)
                {
                    uncertain.Add((x, y, score));
                }
            }
        }

        var parts = members.GroupBy(PartOf).Select(g => g.ToList()).ToList();

        // The join no longer holds anything by itself: no member keeps its mark, and a member whose reason was the join takes its
        // best link inside its part (also when the cluster's own links now hold it whole).
        var lostReason = new HashSet<int>();
        foreach (var m in members)
        {
            _nodes[m].ResolverJoined = false;
            if (IsResolverJoin(_nodes[m].BestReason))
            {
                lostReason.Add(m);
                _nodes[m].BestReason = null;
                _nodes[m].BestWeight = double.NegativeInfinity;
            }
        }

        foreach (var (x, y, score, merged) in held)
        {
            var (weight, reason) = merged ? (double.PositiveInfinity, OperatorMerge) : (score.Strong ? double.MaxValue : score.Weight, (string?)null);
            foreach (var n in (ReadOnlySpan<int>)[x, y])
            {
                if (lostReason.Contains(n) && weight > _nodes[n].BestWeight)
                {
                    _nodes[n].BestWeight = weight;
                    _nodes[n].BestReason = reason ?? MatchScorer.Reason(score, _options);
                }
            }
        }

        if (parts.Count == 1)
        {
            // Its own links hold it together: nothing the resolver joined is left to undo.
            return [];
        }

        ResetToSingletons(members);
        foreach (var group in parts)
        {
            foreach (var m in group.Skip(1))
            {
                Union(group[0], m, force: false);
            }
        }

        foreach (var (x, y, score) in uncertain)
        {
            if (Find(x) != Find(y))
            {
                _reopened.Add((x, y, score.Weight, score.Pattern, false));
            }
        }

        _resolveAgain.UnionWith(members);
        return members;
    }

    private enum Resolution
    {
        Joined,
        Never,
        Later,
    }

    private Resolution TryResolve(int a, int b)
    {
        var ra = Find(a);
        var rb = Find(b);
        if (ra == rb)
        {
            return Resolution.Never;
        }

        var ca = _clusters[ra];
        var cb = _clusters[rb];
        if (ca.SharesProvider(cb) || Constrained(ca, cb))
        {
            // Clusters only grow in this pass: a shared provider or a constraint stays.
            return Resolution.Never;
        }

        var score = BestEligible(a, b);
        if (score is not { } link || !Compatible(ca, cb))
        {
            return Resolution.Never;
        }

        if (HouseholdOf(a, b) is not { } household)
        {
            return Resolution.Never;
        }

        // Rivals are looked for among the records of either side's birth date as well: a twin whose provider sent no address, or
        // a mistyped one, is in no address block of the pair, yet one household by the looser test of the pattern (the same zip
        // where an address is missing, an address alike).
        AddBirthDateKin(a, household);
        AddBirthDateKin(b, household);

        var namesDisagree = link.Pattern.First is MatchModel.FirstDifferent or MatchModel.FirstDice40 or MatchModel.FirstPhonetic;
        foreach (var n in household)
        {
            var rn = Find(n);
            if (rn == Find(a) || rn == Find(b))
            {
                continue;
            }

            var cn = _clusters[rn];
            if (namesDisagree && (SameFirstName(n, a) || SameFirstName(n, b)))
            {
                // Another child of the household carries one side's first name (whatever its sex or provider says): that side is
                // probably that child, with a mistyped sex or at another provider.
                return Resolution.Later;
            }

            if ((Eligible(n, a) && !cn.SharesProvider(ca) && !Constrained(cn, ca))
                || (Eligible(n, b) && !cn.SharesProvider(cb) && !Constrained(cn, cb)))
            {
                // A rival: another child of the household could be either record's child. A later join may remove it.
                return Resolution.Later;
            }
        }

        var reason = MatchScorer.Reason(link, _options) + " " + HouseholdResolved;
        var marked = false;
        foreach (var n in new[] { a, b })
        {
            if (link.Weight > _nodes[n].BestWeight)
            {
                _nodes[n].BestWeight = link.Weight;
                _nodes[n].BestReason = reason;
                Mark(n);
            }
        }

        if (!marked)
        {
            // Both sides hold stronger links of their own: one of them (by key, so that every engine picks the same) carries the mark.
            Mark(string.CompareOrdinal(_nodes[a].Key, _nodes[b].Key) <= 0 ? a : b);
        }

        Union(a, b, force: false);
        return Resolution.Joined;

        // The mark outlives the reason (a later, stronger link replaces the reason): a rival arriving later finds the join by it.
        void Mark(int n)
        {
            _nodes[n].ResolverJoined = true;
            _resolverJoined.Add(n);
            marked = true;
        }
    }

    /// <summary>The best-scoring pair of variants of two nodes whose pattern is <see cref="HouseholdEligible"/>, if any.</summary>
    private PairScore? BestEligible(int a, int b)
    {
        PairScore? best = null;
        foreach (var va in _nodes[a].Variants)
        {
            foreach (var vb in _nodes[b].Variants)
            {
                var score = MatchScorer.Score(va, vb, _options);
                if (score.Guarded && HouseholdEligible(score.Pattern) && !ResolverRefuses(score.Pattern)
                    && (best is null || score.Weight > best.Value.Weight))
                {
                    best = score;
                }
            }
        }

        return best;
    }

    /// <summary>
    /// What the household resolver never joins under the twin guards of the options: a twin-like pair under the twin-name guard or
    /// without the sex agreeing, and a replaced first name unless <see cref="LinkModelOptions.ResolverReplacedNames"/>.
    /// </summary>
    private bool ResolverRefuses(in ComparisonPattern pattern) =>
        (pattern.TwinLike && (_options.TwinNameGuard || (_options.SexlessTwinNames && pattern.Sex != MatchModel.Agree)))
        || (!_options.ResolverReplacedNames && pattern.First == MatchModel.FirstDifferent);

    private bool Eligible(int x, int y)
    {
        foreach (var vx in _nodes[x].Variants)
        {
            foreach (var vy in _nodes[y].Variants)
            {
                if (HouseholdEligible(MatchScorer.Compare(vx, vy)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Whether two nodes are of one household with first names that agree (exact, nickname, Dice at least 0.6).</summary>
    private bool SameFirstName(int x, int y)
    {
        foreach (var vx in _nodes[x].Variants)
        {
            foreach (var vy in _nodes[y].Variants)
            {
                var p = MatchScorer.Compare(vx, vy);
                if (p.Household && p.First is MatchModel.NameExact or MatchModel.FirstNickname or MatchModel.FirstDice80 or MatchModel.FirstDice60)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>No pair between the clusters is of different sex or state id, or of one household and not eligible (siblings).</summary>
    private bool Compatible(Cluster a, Cluster b)
    {
        foreach (var x in a.Members)
        {
            foreach (var y in b.Members)
            {
                foreach (var vx in _nodes[x].Variants)
                {
                    foreach (var vy in _nodes[y].Variants)
                    {
                        var p = MatchScorer.Compare(vx, vy);
                        // A pair the pass would not join itself (a replaced first name: twins of one sex) is not tolerated between them
                        // either: else a record without a first name joined to one twin carries the other twin in (adversary 33).
                        if (!p.Strong && (p.StateId == MatchModel.Different
                            || (MatchScorer.Contradicts(p, _options) && !(HouseholdEligible(p) && !ResolverRefuses(p)))))
                        {
                            return false;
                        }
                    }
                }
            }
        }

        return true;
    }

    /// <summary>
    /// The nodes of both records' address blocks, or null when a record has no address or a block holds more than
    /// <see cref="MaxHousehold"/> entries (not a household the resolver can judge: it does not join).
    /// </summary>
    private HashSet<int>? HouseholdOf(int a, int b)
    {
        var members = new HashSet<int>();
        return AddHousehold(a, members) && AddHousehold(b, members) ? members : null;
    }

    /// <summary>Adds the nodes of a node's birth-date blocks (those the engine uses as blocks: at most the model's block size).</summary>
    private void AddBirthDateKin(int n, HashSet<int> members)
    {
        foreach (var variant in _nodes[n].Variants)
        {
            if (variant.Has(LinkTokenKind.Dob) && _blocks.TryGetValue(variant[LinkTokenKind.Dob], out var block) && block.Count <= _options.MaxBlockSize)
            {
                members.UnionWith(block);
            }
        }
    }

    /// <summary>Adds the nodes of a node's address blocks; false when it has no address or a block is over the cap.</summary>
    private bool AddHousehold(int n, HashSet<int> members)
    {
        var any = false;
        foreach (var variant in _nodes[n].Variants)
        {
            if (!variant.Has(LinkTokenKind.Address))
            {
                continue;
            }

            if (!_blocks.TryGetValue(variant[LinkTokenKind.Address], out var block) || block.Count > MaxHousehold)
            {
                return false;
            }

            any = true;
            members.UnionWith(block);
        }

        return any;
    }

    /// <summary>
    /// A pattern the household resolver may join: one household, neither sex nor state id different, and either the first names
    /// disagree entirely with the birth date and sex agreeing (a replaced first name), or the first name agrees (exact, nickname,
    /// Dice at least 0.6) whatever the birth date says, or agrees weakly (same Soundex, Dice at least 0.4) with the birth date not
    /// different, or one side has no first name and the birth date is not different. Siblings (another first name, another birth
    /// date) never are.
    /// </summary>
    public static bool HouseholdEligible(ComparisonPattern pattern)
    {
        if (!pattern.Household || pattern.StateId == MatchModel.Different)
        {
            return false;
        }

        if (pattern.Sex == MatchModel.Different)
        {
            // Twins of different sex are not given one first name: the same name and birth date in one household is one child
            // whose sex was mistyped. A near-identical name (Frances, Francis) is not enough.
            return pattern.First == MatchModel.NameExact && pattern.BirthDate == MatchModel.DobExact;
        }

        return pattern.First switch
        {
            ComparisonPattern.Missing => pattern.BirthDate is not MatchModel.DobDifferent and not MatchModel.DobTwoParts,
            MatchModel.NameExact or MatchModel.FirstNickname or MatchModel.FirstDice80 or MatchModel.FirstDice60 => true,
            MatchModel.FirstPhonetic or MatchModel.FirstDice40 => pattern.BirthDate != MatchModel.DobDifferent,
            _ => pattern.BirthDate == MatchModel.DobExact && pattern.Sex == MatchModel.Agree,
        };
    }

    private static bool Better(PairScore x, PairScore y) => x.Strong != y.Strong ? x.Strong : x.Weight > y.Weight;

    private PairScore ScoreNodes(int a, int b)
    {
        var best = default(PairScore);
        var found = false;
        foreach (var va in _nodes[a].Variants)
        {
            foreach (var vb in _nodes[b].Variants)
            {
                var score = MatchScorer.Score(va, vb, _options);
                if (!found || Better(score, best))
                {
                    (best, found) = (score, true);
                }
            }
        }

        return found ? best : new PairScore(default, double.NegativeInfinity, false);
    }

    private void TryLink(int a, int b, PairScore score)
    {
        var ra = Find(a);
        var rb = Find(b);
        if (ra == rb)
        {
            return;
        }

        var ca = _clusters[ra];
        var cb = _clusters[rb];
        if (Constrained(ca, cb))
        {
            return;
        }

        if (!score.Strong && ca.SharesProvider(cb))
        {
            return;
        }

        if (!score.Strong && _options.TwinGuard && Contradict(ca, cb))
        {
            // Kept for the household resolver, which may still join the pair with the household in view.
            _contradicted.Add(a);
            return;
        }

        var weight = score.Strong ? double.MaxValue : score.Weight;
        string? reason = null;
        foreach (var n in (ReadOnlySpan<int>)[a, b])
        {
            if (weight > _nodes[n].BestWeight)
            {
                // Built once for both sides of the link.
                _nodes[n].BestWeight = weight;
                _nodes[n].BestReason = reason ??= MatchScorer.Reason(score, _options);
            }
        }

        Union(a, b, force: false);
    }

    /// <summary>
    /// Two clusters that are two children as far as a weak link goes: they contradict each other, or (with
    /// <see cref="LinkModelOptions.ProviderAmbiguity"/>) they share a provider, which holds them as two local ids.
    /// </summary>
    private bool Apart(Cluster a, Cluster b) => (_options.ProviderAmbiguity && a.SharesProvider(b)) || Contradict(a, b);

    /// <summary>Two clusters contradict each other when a pair of their members' variants is of different sex or looks like twins.</summary>
    private bool Contradict(Cluster a, Cluster b)
    {
        foreach (var x in a.Members)
        {
            foreach (var y in b.Members)
            {
                foreach (var vx in _nodes[x].Variants)
                {
                    foreach (var vy in _nodes[y].Variants)
                    {
                        var pattern = MatchScorer.Compare(vx, vy);
                        if (!pattern.Strong && MatchScorer.Contradicts(pattern, _options))
                        {
                            return true;
                        }
                    }
                }
            }
        }

        return false;
    }

    private bool Constrained(Cluster a, Cluster b)
    {
        if (!_anyDoNotLink)
        {
            // No node holds a constraint (the usual case): nothing to look through for each link tried.
            return false;
        }

        var (small, large) = a.Members.Count <= b.Members.Count ? (a, b) : (b, a);
        var largeRoot = Find(large.Members[0]);
        foreach (var m in small.Members)
        {
            foreach (var other in _nodes[m].DoNotLink)
            {
                if (_byKey.TryGetValue(other, out var o) && Find(o) == largeRoot)
                {
                    return true;
                }
            }
        }

        foreach (var m in large.Members)
        {
            foreach (var other in _nodes[m].DoNotLink)
            {
                if (_byKey.TryGetValue(other, out var o) && small.Members.Contains(o))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private void Union(int a, int b, bool force)
    {
        var ra = Find(a);
        var rb = Find(b);
        if (ra == rb)
        {
            return;
        }

        var ca = _clusters[ra];
        var cb = _clusters[rb];
        if (ca.Members.Count < cb.Members.Count)
        {
            (ra, rb, ca, cb) = (rb, ra, cb, ca);
        }

        _parent[rb] = ra;
        ca.Members.AddRange(cb.Members);
        ca.AddProviders(cb);
        ca.Key = force ? ca.Key : (string.CompareOrdinal(ca.Key, cb.Key) <= 0 ? ca.Key : cb.Key);
        _clusters.Remove(rb);
    }

    private int Find(int x)
    {
        while (_parent[x] != x)
        {
            _parent[x] = _parent[_parent[x]];
            x = _parent[x];
        }

        return x;
    }

    private string ClusterKeyOf(int id) => _clusters[Find(id)].Key;

    /// <summary>The weight a stored reason code carries, so a loaded node keeps its strongest link.</summary>
    private static double WeightOf(string rule)
    {
        if (rule == OperatorMerge)
        {
            return double.PositiveInfinity;
        }

        if (rule.StartsWith("ssid+dob", StringComparison.Ordinal))
        {
            return double.MaxValue;
        }

        var at = rule.IndexOf('w', StringComparison.Ordinal);
        if (at >= 0)
        {
            var end = rule.IndexOf(' ', at);
            var text = end < 0 ? rule[(at + 1)..] : rule[(at + 1)..end];
            if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var weight))
            {
                return weight;
            }
        }

        return double.NegativeInfinity;
    }

    private sealed class Node(string key, string providerId, int providerNumber, string seed)
    {
        public string Key { get; } = key;

        public string ProviderId { get; } = providerId;

        public int ProviderNumber { get; } = providerNumber;

        public string Seed { get; } = seed;

        public List<LinkEncoding> Variants { get; } = [];

        // Made when first used: almost no node ever holds a constraint, and a set per node is memory the collector walks.
        public HashSet<string> DoNotLink => field ??= new(StringComparer.Ordinal);

        public HashSet<string> MustLink => field ??= new(StringComparer.Ordinal);

        public bool IsNew { get; init; }

        public bool VariantsChanged { get; set; }

        /// <summary>Its stored row holds filters from before XOR folding: written again, folded.</summary>
        public bool StoredUnfolded { get; set; }

        public string? PersistedKey { get; set; }

        public string? PersistedRule { get; set; }

        public double BestWeight { get; set; } = double.NegativeInfinity;

        public string? BestReason { get; set; }

        /// <summary>
        /// The household resolver's join holds this node in its cluster. Kept apart from the reason, which a stronger link or an
        /// operator's merge later replaces, and stored in its own column (<see cref="LinkNodeState.ResolverJoined"/>), so the join can
        /// be undone by an engine loaded from storage.
        /// </summary>
        public bool ResolverJoined { get; set; }

        public bool PersistedResolverJoined { get; set; }

        public string Rule => BestReason ?? Unlinked;
    }

    private sealed class Cluster(int member, string key, int providerNumber)
    {
        public List<int> Members { get; } = [member];

        // The provider numbers of its members, each once: a child is known to a few providers, so an array beats a set here
        // (one small object per node instead of a set's three, and no hashing).
        private int[] _providers = [providerNumber];

        public bool SharesProvider(Cluster other)
        {
            foreach (var provider in _providers)
            {
                if (Array.IndexOf(other._providers, provider) >= 0)
                {
                    return true;
                }
            }

            return false;
        }

        public void AddProviders(Cluster other)
        {
            var added = 0;
            foreach (var provider in other._providers)
            {
                added += Array.IndexOf(_providers, provider) < 0 ? 1 : 0;
            }

            if (added == 0)
            {
                return;
            }

            var providers = new int[_providers.Length + added];
            _providers.CopyTo(providers, 0);
            var at = _providers.Length;
            foreach (var provider in other._providers)
            {
                if (Array.IndexOf(_providers, provider) < 0)
                {
                    providers[at++] = provider;
                }
            }

            _providers = providers;
        }

        public string Key { get; set; } = key;
    }
}

namespace ChildShare.Core.Linkage;

/// <summary>A provider child as linkage knows it, for loading into and reading out of the engine.</summary>
public sealed record LinkNodeState(
    string Key, string ProviderId, string Seed, IReadOnlyList<LinkEncoding> Variants, string ClusterKey, string Rule, IReadOnlyCollection<string> DoNotLink);

/// <summary>A provider child whose cluster (or encoding, or reason) changed and must be written.</summary>
public sealed record LinkChange(string Key, string ProviderId, string ClusterKey, string Rule, bool VariantsChanged, bool IsNew);

/// <summary>
/// The linkage decision engine, in memory. Nodes are provider children (<c>{provider}|{local token}</c>)
/// with every encoding variant seen for them (names change: old variants keep linking). A node's
/// candidates come from a token index (birth date, phonetic names, state id); each candidate pair
/// gets the first rule that holds (<see cref="LinkDecision"/>); links are tried strongest first and
/// join clusters transitively, unless an operator's do-not-link constraint separates the two
/// clusters, or the link is weak and the clusters share a provider. A cluster's key is the smallest
/// seed of its members, so it is stable under merges and independent of arrival order.
/// Work per added record grows with its candidates, not with the number of nodes.
/// </summary>
public sealed class LinkageEngine(LinkRuleOptions? options = null)
{
    /// <summary>The most encoding variants kept per provider child.</summary>
    public const int MaxVariants = 4;

    private readonly LinkRuleOptions _options = options ?? LinkRuleOptions.Default;
    private readonly List<Node> _nodes = [];
    private readonly Dictionary<string, int> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<UInt128, int> _head = [];
    private readonly List<(int Node, int Next)> _postings = [];
    private readonly List<int> _parent = [];
    private readonly Dictionary<int, Cluster> _clusters = [];
    private readonly Dictionary<string, int> _loadedClusters = new(StringComparer.Ordinal);
    private static readonly LinkRule[] AmbiguityGuarded = [LinkRule.PartialNameDobZip, LinkRule.SurnameChangedDobZip];
    private static readonly Dictionary<string, LinkRule> RulesByCode = Enum.GetValues<LinkRule>().ToDictionary(LinkDecision.Code, r => r, StringComparer.Ordinal);

    public int NodeCount => _nodes.Count;

    public int ClusterCount => _clusters.Count;

    public bool Contains(string key) => _byKey.ContainsKey(key);

    /// <summary>Loads a stored node with its stored cluster key; nodes loaded with equal keys form one cluster.</summary>
    public void Load(LinkNodeState state)
    {
        if (_byKey.ContainsKey(state.Key))
        {
            return;
        }

        var id = NewNode(state.Key, state.ProviderId, state.Seed, isNew: false);
        var node = _nodes[id];
        node.Variants.AddRange(state.Variants);
        node.PersistedKey = state.ClusterKey;
        node.PersistedRule = state.Rule;
        node.Best = RulesByCode.GetValueOrDefault(state.Rule);
        foreach (var other in state.DoNotLink)
        {
            node.DoNotLink.Add(other);
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
        if (!_byKey.TryGetValue(key, out var id))
        {
            id = NewNode(key, providerId, seed, isNew: true);
        }

        var node = _nodes[id];
        if (!node.Variants.Any(v => v.SameContent(encoding)))
        {
            // The same record encoded with token kinds added since it was stored is upgraded in place, so it
            // neither takes another variant's place nor misses the newer rules; anything else is a new variant.
            var superseded = node.Variants.FindIndex(v => v.IsSupersededBy(encoding));
            if (superseded >= 0)
            {
                node.Variants[superseded] = encoding;
            }
            else
            {
                if (node.Variants.Count >= MaxVariants)
                {
                    node.Variants.RemoveAt(0);
                }

                node.Variants.Add(encoding);
            }

            node.VariantsChanged = true;
            Index(id, encoding);
        }

        LinkFrom(id, encoding);
        return ClusterKeyOf(id);
    }

    public string ClusterKeyOf(string key) => ClusterKeyOf(_byKey[key]);

    public string RuleOf(string key) => _nodes[_byKey[key]].Rule;

    /// <summary>Members (keys) of every cluster.</summary>
    public IEnumerable<IReadOnlyList<string>> Clusters() => _clusters.Values.Select(c => (IReadOnlyList<string>)c.Members.Select(m => _nodes[m].Key).ToList());

    /// <summary>
    /// Records that two provider children are not the same child and re-forms their cluster from
    /// its members' own links, honouring every constraint. Returns the keys of the cluster's members.
    /// </summary>
    public IReadOnlyList<string> Split(string keyA, string keyB)
    {
        var a = _byKey[keyA];
        var b = _byKey[keyB];
        _nodes[a].DoNotLink.Add(keyB);
        _nodes[b].DoNotLink.Add(keyA);
        var members = _clusters[Find(a)].Members.ToList();
        if (Find(a) != Find(b))
        {
            members.AddRange(_clusters[Find(b)].Members);
        }

        foreach (var m in members)
        {
            _parent[m] = m;
            _clusters.Remove(m);
        }

        foreach (var m in members)
        {
            _clusters[m] = new Cluster(m, _nodes[m].Seed, _nodes[m].ProviderId);
            _nodes[m].Best = LinkRule.None;
        }

        var links = new List<(int A, int B, LinkRule Rule)>();
        for (var i = 0; i < members.Count; i++)
        {
            for (var j = i + 1; j < members.Count; j++)
            {
                var rule = DecideNodes(members[i], members[j]);
                if (rule != LinkRule.None)
                {
                    links.Add((members[i], members[j], rule));
                }
            }
        }

        foreach (var (x, y, rule) in links.OrderBy(l => l.Rule))
        {
            TryLink(x, y, rule);
        }

        return members.Select(m => _nodes[m].Key).ToList();
    }

    /// <summary>Nodes whose cluster key, reason or encodings differ from what was loaded (or that are new).</summary>
    public IReadOnlyList<LinkChange> Changes() =>
        _nodes.Select((n, id) => (n, id))
            .Where(x => x.n.IsNew || x.n.VariantsChanged || x.n.PersistedKey != ClusterKeyOf(x.id) || x.n.PersistedRule != x.n.Rule)
            .Select(x => new LinkChange(x.n.Key, x.n.ProviderId, ClusterKeyOf(x.id), x.n.Rule, x.n.VariantsChanged, x.n.IsNew))
            .ToList();

    /// <summary>The stored form of a node.</summary>
    public LinkNodeState StateOf(string key)
    {
        var id = _byKey[key];
        var n = _nodes[id];
        return new LinkNodeState(n.Key, n.ProviderId, n.Seed, n.Variants.ToList(), ClusterKeyOf(id), n.Rule, n.DoNotLink.ToList());
    }

    private int NewNode(string key, string providerId, string seed, bool isNew)
    {
        var id = _nodes.Count;
        _nodes.Add(new Node(key, providerId, seed) { IsNew = isNew });
        _byKey[key] = id;
        _parent.Add(id);
        _clusters[id] = new Cluster(id, seed, providerId);
        return id;
    }

    private void Index(int id, LinkEncoding encoding)
    {
        foreach (var token in encoding.Indexed())
        {
            var next = _head.TryGetValue(token, out var h) ? h : -1;
            _postings.Add((id, next));
            _head[token] = _postings.Count - 1;
        }
    }

    private void LinkFrom(int id, LinkEncoding encoding)
    {
        var candidates = new HashSet<int>();
        foreach (var token in encoding.Lookups())
        {
            if (!_head.TryGetValue(token, out var p))
            {
                continue;
            }

            var block = new List<int>();
            for (; p >= 0 && block.Count <= _options.MaxBlockSize; p = _postings[p].Next)
            {
                block.Add(_postings[p].Node);
            }

            if (block.Count <= _options.MaxBlockSize)
            {
                candidates.UnionWith(block);
            }
        }

        candidates.Remove(id);
        var links = new List<(int Other, LinkRule Rule)>();
        foreach (var other in candidates)
        {
            var rule = LinkRule.None;
            foreach (var variant in _nodes[other].Variants)
            {
                var r = LinkDecision.Decide(encoding, variant, _options);
                if (r != LinkRule.None && (rule == LinkRule.None || r < rule))
                {
                    rule = r;
                }
            }

            if (rule != LinkRule.None)
            {
                links.Add((other, rule));
            }
        }

        // A record that lacks a name part, or whose surname differs, and fits two different children joins neither.
        foreach (var guarded in AmbiguityGuarded)
        {
            if (links.Where(l => l.Rule == guarded).Select(l => Find(l.Other)).Distinct().Count() > 1)
            {
                links.RemoveAll(l => l.Rule == guarded);
            }
        }

        foreach (var (other, rule) in links.OrderBy(l => l.Rule).ThenBy(l => _nodes[l.Other].Seed, StringComparer.Ordinal))
        {
            TryLink(id, other, rule);
        }
    }

    private LinkRule DecideNodes(int a, int b)
    {
        var best = LinkRule.None;
        foreach (var va in _nodes[a].Variants)
        {
            foreach (var vb in _nodes[b].Variants)
            {
                var r = LinkDecision.Decide(va, vb, _options);
                if (r != LinkRule.None && (best == LinkRule.None || r < best))
                {
                    best = r;
                }
            }
        }

        return best;
    }

    private void TryLink(int a, int b, LinkRule rule)
    {
        var ra = Find(a);
        var rb = Find(b);
        if (ra == rb)
        {
            return;
        }

        var ca = _clusters[ra];
        var cb = _clusters[rb];
        if (Constrained(ca, cb) || (!LinkDecision.IsStrong(rule) && ca.Providers.Overlaps(cb.Providers)))
        {
            return;
        }

        foreach (var n in new[] { a, b })
        {
            if (_nodes[n].Best == LinkRule.None || rule < _nodes[n].Best)
            {
                _nodes[n].Best = rule;
            }
        }

        Union(a, b, force: false);
    }

    private bool Constrained(Cluster a, Cluster b)
    {
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
        ca.Providers.UnionWith(cb.Providers);
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

    private sealed class Node(string key, string providerId, string seed)
    {
        public string Key { get; } = key;

        public string ProviderId { get; } = providerId;

        public string Seed { get; } = seed;

        public List<LinkEncoding> Variants { get; } = [];

        public HashSet<string> DoNotLink { get; } = new(StringComparer.Ordinal);

        public bool IsNew { get; init; }

        public bool VariantsChanged { get; set; }

        public string? PersistedKey { get; set; }

        public string? PersistedRule { get; set; }

        public LinkRule Best { get; set; }

        public string Rule => Best == LinkRule.None ? LinkDecision.Unlinked : LinkDecision.Code(Best);
    }

    private sealed class Cluster(int member, string key, string providerId)
    {
        public List<int> Members { get; } = [member];

        public HashSet<string> Providers { get; } = new(StringComparer.Ordinal) { providerId };

        public string Key { get; set; } = key;
    }
}

using Azure;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Linkage;

/// <summary>
/// The linkage rows this process's units of linking work left (the ones they read and the ones they wrote, with their ETags), as of
/// the fence version the last of them wrote; rows of earlier units are kept while each unit began from the version the one before it
/// wrote. Every flow that writes linkage rows advances the fence before it writes them, so while the fence
/// still has that version no other flow has written since, and the next unit (the upload's next chunk, the next upload of this
/// instance) takes these rows instead of reading them again. LINKAGE.md, "Rows this process wrote".
/// <para>
/// The rows are remembered only once every write of a unit landed (<see cref="Remember"/> after its last flush); a unit that began
/// writing and never got there (a conflict, a crash, an operator's merge or split, which do not remember) leaves nothing relied on.
/// Two units of this process whose writes overlap (a lease lost without noticing) leave nothing either.
/// </para>
/// </summary>
public sealed class LinkageRowCache
{
    /// <summary>
    /// The most rows kept (nodes, blocks and clusters together): about 1 KB a node, a few hundred bytes a block or cluster, so a few
    /// hundred MB at most; a community past it (about 150,000 provider children) keeps its latest unit's rows only and reads the rest.
    /// </summary>
    public const int DefaultLimit = 400_000;

    // A row shares about two strings with others (its key, its cluster's); past this many a row, most are of rows no longer kept.
    private const int StringsPerRow = 4;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkNodeState> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<UInt128, MemberRow> _blocks = [];
    private readonly Dictionary<string, MemberRow> _clusters = new(StringComparer.Ordinal);

    // One instance of each key kept: a provider child's key is in its node, in each of its blocks and in its cluster, each read as a
    // string of its own (sharing them: about a tenth less memory at 20,000 children; LINKAGE.md, "Rows this process wrote").
    private readonly HashSet<string> _strings = new(StringComparer.Ordinal);

    // The fence version the rows are current at; null while a unit writes, or when nothing is known.
    private ETag? _version;

    // Counts units that began writing: a unit remembers only if no other began since it did.
    private long _writes;

    /// <summary>The most rows kept.</summary>
    public int Limit { get; init; } = DefaultLimit;

    /// <summary>The rows kept (for tests and the benchmark).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return Rows;
            }
        }
    }

    /// <summary>A node as the fence version <paramref name="fence"/> has it, if this process knows it.</summary>
    public bool TryGetNode(FenceRow fence, string key, out LinkNodeState? state) => TryGet(_nodes, fence, key, out state);

    /// <summary>A block row as the fence version <paramref name="fence"/> has it, if this process knows it.</summary>
    public bool TryGetBlock(FenceRow fence, UInt128 token, out MemberRow? row) => TryGet(_blocks, fence, token, out row);

    /// <summary>A cluster row as the fence version <paramref name="fence"/> has it, if this process knows it.</summary>
    public bool TryGetCluster(FenceRow fence, string clusterKey, out MemberRow? row) => TryGet(_clusters, fence, clusterKey, out row);

    /// <summary>
    /// A unit of work that read <paramref name="read"/> is about to write: nothing is relied on until it remembers. Returns its ticket for
    /// <see cref="Remember"/>.
    /// </summary>
    public long BeginWrite(FenceRow read)
    {
        ArgumentNullException.ThrowIfNull(read);
        lock (_lock)
        {
            // Rows of another version than the one this unit read are not what it builds on.
            if (_version is null || read.ETag is null || _version != read.ETag)
            {
                Clear();
            }

            _version = null;
            return ++_writes;
        }
    }

    /// <summary>
    /// Every write of the unit that got <paramref name="ticket"/> landed, and the fence now has version <paramref name="fence"/>: the rows
    /// it read (unchanged) and wrote, as they now are on storage, are relied on while the fence keeps that version. Rows that do not exist
    /// are not kept (their absence is what the known-children and known-blocks sets are for), and an earlier unit's copy of one is dropped.
    /// </summary>
    public void Remember(
        long ticket, ETag fence, IEnumerable<LinkNodeState> nodes, IEnumerable<KeyValuePair<UInt128, MemberRow>> blocks,
        IEnumerable<KeyValuePair<string, MemberRow>> clusters)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(blocks);
        ArgumentNullException.ThrowIfNull(clusters);
        lock (_lock)
        {
            if (ticket != _writes)
            {
                // Another unit of this process began writing while this one did: neither's view is relied on.
                Clear();
                _writes++;
                return;
            }

            var nodeList = nodes.ToList();
            var blockList = Existing(_blocks, blocks);
            var clusterList = Existing(_clusters, clusters);
            // The shared strings of rows since replaced or dropped stay until a clear: they count against the limit too.
            if (Rows + nodeList.Count + blockList.Count + clusterList.Count > Limit || _strings.Count > StringsPerRow * Limit)
            {
                Clear();
            }

            // A row the unit took from here unchanged is the instance kept: it is not copied again.
            foreach (var node in nodeList.Where(n => !IsKept(_nodes, n.Key, n)))
            {
                var shared = Shared(node);
                _nodes[shared.Key] = shared;
            }

            foreach (var (token, row) in blockList.Where(b => !IsKept(_blocks, b.Key, b.Value)))
            {
                _blocks[token] = Shared(row);
            }

            foreach (var (key, row) in clusterList.Where(c => !IsKept(_clusters, c.Key, c.Value)))
            {
                _clusters[Shared(key)] = Shared(row);
            }

            // A single unit past the limit is not kept at all.
            if (Rows > Limit)
            {
                Clear();
                return;
            }

            _version = fence;
        }
    }

    private int Rows => _nodes.Count + _blocks.Count + _clusters.Count;

    private static bool IsKept<TKey, TValue>(Dictionary<TKey, TValue> kept, TKey key, TValue row)
        where TKey : notnull
        where TValue : class =>
        kept.TryGetValue(key, out var current) && ReferenceEquals(current, row);

    private string Shared(string value)
    {
        if (_strings.TryGetValue(value, out var kept))
        {
            return kept;
        }

        _strings.Add(value);
        return value;
    }

    private LinkNodeState Shared(LinkNodeState node) => node with
    {
        Key = Shared(node.Key),
        ProviderId = Shared(node.ProviderId),
        Seed = Shared(node.Seed),
        ClusterKey = Shared(node.ClusterKey),
        Rule = Shared(node.Rule),
        DoNotLink = node.DoNotLink.Count == 0 ? node.DoNotLink : node.DoNotLink.Select(Shared).ToArray(),
        MustLink = node.MustLink.Count == 0 ? node.MustLink : node.MustLink.Select(Shared).ToArray(),
    };

    private MemberRow Shared(MemberRow row) => row.Members.Count == 0 ? row : row with { Members = row.Members.Select(Shared).ToArray() };

    /// <summary>
    /// The rows of a unit that exist. One it found missing or deleted (a cluster merged into another) is dropped from <paramref name="kept"/>:
    /// an earlier unit's copy of it is not what storage holds, and a split that brings the cluster back must add its row, not take it for
    /// unchanged.
    /// </summary>
    private static List<KeyValuePair<TKey, MemberRow>> Existing<TKey>(Dictionary<TKey, MemberRow> kept, IEnumerable<KeyValuePair<TKey, MemberRow>> rows)
        where TKey : notnull
    {
        var existing = new List<KeyValuePair<TKey, MemberRow>>();
        foreach (var row in rows)
        {
            if (row.Value.ETag is null)
            {
                kept.Remove(row.Key);
            }
            else
            {
                existing.Add(row);
            }
        }

        return existing;
    }

    private bool TryGet<TKey, TValue>(Dictionary<TKey, TValue> rows, FenceRow fence, TKey key, out TValue? value)
        where TKey : notnull
        where TValue : class
    {
        ArgumentNullException.ThrowIfNull(fence);
        lock (_lock)
        {
            if (_version is { } version && fence.ETag == version && rows.TryGetValue(key, out var found))
            {
                value = found;
                return true;
            }
        }

        value = null;
        return false;
    }

    private void Clear()
    {
        _nodes.Clear();
        _blocks.Clear();
        _clusters.Clear();
        _strings.Clear();
        _version = null;
    }
}

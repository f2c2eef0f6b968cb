using ArchUnitNET.Domain;
using ArchUnitNET.Loader;

namespace ChildShare.Tests.Architecture;

/// <summary>
/// The modules of ChildShare.Core (one per folder: the namespace's first segment under <c>ChildShare.Core</c>,
/// <c>(root)</c> for the registrations at the top) and which module's types use which others', read from the
/// compiled assembly by ArchUnitNET: every base type, field, signature, attribute and method body counts.
/// </summary>
public static class ModuleGraph
{
    public const string Root = "ChildShare.Core";

    private static readonly Lazy<IReadOnlyDictionary<string, IReadOnlySet<string>>> Core = new(() => Read(typeof(Core.ServiceCollectionExtensions).Assembly));

    public static IReadOnlyDictionary<string, IReadOnlySet<string>> OfCore => Core.Value;

    /// <summary>The module of a namespace: its first segment under Core, or for a sharing mode its two (<c>Sharing.Aggregate</c>).</summary>
    public static string ModuleOf(string @namespace)
    {
        if (@namespace == Root)
        {
            return "(root)";
        }

        if (!@namespace.StartsWith(Root + ".", StringComparison.Ordinal))
        {
            return "";
        }

        var segments = @namespace[(Root.Length + 1)..].Split('.');
        return segments is ["Sharing", var mode, ..] ? "Sharing." + mode : segments[0];
    }

    /// <summary>Each module and the other modules its types depend on.</summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> Read(System.Reflection.Assembly assembly)
    {
        var architecture = new ArchLoader().LoadAssemblies(assembly).Build();
        var graph = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var type in architecture.Types)
        {
            var from = ModuleOf(type.Namespace?.FullName ?? "");
            if (from.Length == 0)
            {
                continue;
            }

            var edges = graph.TryGetValue(from, out var known) ? known : graph[from] = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var dependency in type.Dependencies)
            {
                var to = ModuleOf(dependency.Target?.Namespace?.FullName ?? "");
                if (to.Length > 0 && to != from)
                {
                    edges.Add(to);
                }
            }
        }

        return graph.ToDictionary(g => g.Key, g => (IReadOnlySet<string>)g.Value, StringComparer.Ordinal);
    }

    /// <summary>The groups of modules that depend on each other in a circle (Tarjan's strongly connected components of more than one module).</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Cycles(IReadOnlyDictionary<string, IReadOnlySet<string>> graph)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var cycles = new List<IReadOnlyList<string>>();

        void Visit(string module)
        {
            index[module] = low[module] = index.Count;
            stack.Push(module);
            onStack.Add(module);
            foreach (var next in graph.GetValueOrDefault(module) ?? new HashSet<string>())
            {
                if (!index.TryGetValue(next, out var seen))
                {
                    Visit(next);
                    low[module] = Math.Min(low[module], low[next]);
                }
                else if (onStack.Contains(next))
                {
                    low[module] = Math.Min(low[module], seen);
                }
            }

            if (low[module] == index[module])
            {
                var component = new List<string>();
                string member;
                do
                {
                    member = stack.Pop();
                    onStack.Remove(member);
                    component.Add(member);
                }
                while (member != module);
                if (component.Count > 1)
                {
                    cycles.Add([.. component.Order(StringComparer.Ordinal)]);
                }
            }
        }

        foreach (var module in graph.Keys.Where(m => !index.ContainsKey(m)))
        {
            Visit(module);
        }

        return cycles;
    }

    /// <summary>The dependencies that close a cycle: from one module to another of the same cycle, as <c>From -> To</c>.</summary>
    public static IReadOnlyList<string> CyclicEdges(IReadOnlyDictionary<string, IReadOnlySet<string>> graph)
    {
        var cycleOf = Cycles(graph).SelectMany((c, i) => c.Select(m => (m, i))).ToDictionary(x => x.m, x => x.i, StringComparer.Ordinal);
        return [.. graph.SelectMany(g => g.Value.Select(to => (From: g.Key, To: to)))
            .Where(e => cycleOf.TryGetValue(e.From, out var a) && cycleOf.TryGetValue(e.To, out var b) && a == b)
            .Select(e => $"{e.From} -> {e.To}").Order(StringComparer.Ordinal)];
    }

    /// <summary>One line per module: <c>Consent -> Agreements, Audit, Callers</c>.</summary>
    public static string Describe(IReadOnlyDictionary<string, IReadOnlySet<string>> graph) =>
        string.Join(Environment.NewLine, graph.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} -> {string.Join(", ", g.Value)}"));
}

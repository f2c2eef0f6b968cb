using ChildShare.Core.Storage;
using Mono.Cecil;
using Mono.Cecil.Cil;
using Xunit.Abstractions;

namespace ChildShare.Tests.Architecture;

/// <summary>
/// Core's structure as rules: its modules (folders) depend on each other without cycles, and only the
/// code that must (ingestion's writer, the linker, the identifiable report's reader) names the identities
/// table, which holds the children's direct identifiers. The module graph is printed (ARCHITECTURE in the README).
/// </summary>
public sealed class ArchitectureTests(ITestOutputHelper output)
{
    /// <summary>The types that may name the identities table, each with the reason.</summary>
    private static readonly string[] MayNameIdentities =
    [
        "ChildShare.Core.Storage.TableNames", // declares it, and lists every table to create
        "ChildShare.Core.Ingestion.ChildRecordWriter", // writes a provider's children's identifiers
        "ChildShare.Core.Linkage.", // links on them (whole module)
        "ChildShare.Core.Sharing.Identifiable.ChildRecordReader", // reads them for a consented identifiable report
    ];

    /// <summary>
    /// The dependencies that still close a namespace cycle (README, "Architecture"). The list may only shrink: any
    /// other dependency that closes a cycle, in a new module or an old one, fails the test.
    /// </summary>
    private static readonly string[] KnownCyclicEdges =
    [
        "Agreements -> Sharing.Deidentified", // an agreement carries the export's terms, which the export validates
        "Audit -> Callers", // an audit entry names the caller
        "Callers -> Audit", // a key or principal change is audited
        "Ingestion -> Linkage", // ingestion links each upload
        "Linkage -> Ingestion", // the linker reads the canonical records ingestion stages
        "Sharing.Deidentified -> Agreements",
    ];

    [Fact]
    public void CoreModules_NoDependencyClosesANewCycle()
    {
        var graph = ModuleGraph.OfCore;
        output.WriteLine(ModuleGraph.Describe(graph));

        var cyclic = ModuleGraph.CyclicEdges(graph);
        output.WriteLine("Closing a cycle: " + string.Join(", ", cyclic));

        Assert.True(cyclic.Except(KnownCyclicEdges).ToList() is [], "New namespace cycles in ChildShare.Core, through: " + string.Join(", ", cyclic.Except(KnownCyclicEdges)));
    }

    [Fact]
    public void ModuleGraph_Cycles_FindsACircleOfThree()
    {
        var graph = new Dictionary<string, IReadOnlySet<string>>
        {
            ["A"] = new HashSet<string> { "B" },
            ["B"] = new HashSet<string> { "C" },
            ["C"] = new HashSet<string> { "A", "D" },
            ["D"] = new HashSet<string>(),
        };

        Assert.Equal(["A", "B", "C"], Assert.Single(ModuleGraph.Cycles(graph)));
    }

    [Fact]
    public void IdentitiesTable_NamedOnlyByTheWriterTheLinkerAndTheIdentifiableReport()
    {
        var namers = TypesNaming(TableNames.Identities);

        Assert.NotEmpty(namers);
        Assert.All(namers, t => Assert.True(MayNameIdentities.Any(allowed => allowed.EndsWith('.') ? t.StartsWith(allowed, StringComparison.Ordinal) : t == allowed),
            $"{t} names the identities table; only {string.Join(", ", MayNameIdentities)} may."));
    }

    /// <summary>The (outermost) types of ChildShare.Core whose code loads the string <paramref name="literal"/>: a const is compiled into its users, so the IL is where it shows.</summary>
    private static List<string> TypesNaming(string literal)
    {
        using var module = ModuleDefinition.ReadModule(typeof(TableNames).Assembly.Location);
        var namers = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in module.GetTypes())
        {
            foreach (var method in type.Methods.Where(m => m.HasBody))
            {
                if (method.Body.Instructions.Any(i => i.OpCode == OpCodes.Ldstr && (string)i.Operand == literal))
                {
                    var outer = type;
                    while (outer.DeclaringType is { } declaring)
                    {
                        outer = declaring;
                    }

                    namers.Add(outer.FullName);
                }
            }
        }

        return [.. namers];
    }
}

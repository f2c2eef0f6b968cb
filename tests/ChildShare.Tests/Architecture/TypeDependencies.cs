using System.Reflection;
using ArchUnitNET.Loader;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace ChildShare.Tests.Architecture;

/// <summary>
/// Which types use a given type or string, read from compiled assemblies (ArchUnitNET for dependencies: base types, fields,
/// signatures and method bodies; Mono.Cecil for string literals, since a const is compiled into its users). Nested and
/// compiler-generated types (lambdas, async state machines) count as their outermost type.
/// </summary>
public static class TypeDependencies
{
    /// <summary>The product's assemblies: Core, the function app and the command line.</summary>
    public static IReadOnlyList<Assembly> Product { get; } =
        [typeof(ChildShare.Core.ServiceCollectionExtensions).Assembly, typeof(ChildShare.Functions.Http.Problems).Assembly, typeof(ChildShare.Cli.CliHost).Assembly];

    private static readonly Lazy<ArchUnitNET.Domain.Architecture> ProductArchitecture = new(() => new ArchLoader().LoadAssemblies([.. Product]).Build());

    private static readonly Lazy<ArchUnitNET.Domain.Architecture> TestArchitecture =
        new(() => new ArchLoader().LoadAssemblies(typeof(TypeDependencies).Assembly).Build());

    /// <summary>The outermost types of the product that depend on any of <paramref name="targets"/>.</summary>
    public static IReadOnlyList<string> ProductTypesUsing(params System.Type[] targets) => TypesUsing(ProductArchitecture.Value, targets);

    /// <summary>The outermost types of this test assembly that depend on any of <paramref name="targets"/>: a rule's check of itself.</summary>
    public static IReadOnlyList<string> TestTypesUsing(params System.Type[] targets) => TypesUsing(TestArchitecture.Value, targets);

    /// <summary>
    /// The outermost types of <paramref name="assemblies"/> whose code loads the string <paramref name="literal"/>, in any case: table
    /// names are case-insensitive, so "Identities" opens the same table as "identities".
    /// </summary>
    public static IReadOnlyList<string> TypesNaming(string literal, params Assembly[] assemblies)
    {
        var namers = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var assembly in assemblies)
        {
            using var module = ModuleDefinition.ReadModule(assembly.Location);
            foreach (var type in module.GetTypes())
            {
                if (type.Methods.Any(m => m.HasBody && m.Body.Instructions.Any(i => i.OpCode == OpCodes.Ldstr && string.Equals((string)i.Operand, literal, StringComparison.OrdinalIgnoreCase))))
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

    /// <summary>Whether <paramref name="type"/> is one of <paramref name="allowed"/>: a full type name, or a namespace ending in a dot.</summary>
    public static bool IsAllowed(string type, IEnumerable<string> allowed) =>
        allowed.Any(a => a.EndsWith('.') ? type.StartsWith(a, StringComparison.Ordinal) : type == a);

    private static List<string> TypesUsing(ArchUnitNET.Domain.Architecture architecture, System.Type[] targets)
    {
        var names = targets.Select(t => t.FullName!).ToHashSet(StringComparer.Ordinal);
        return [.. architecture.Types
            .Where(t => t.Dependencies.Any(d => d.Target is { } target && names.Contains(Outermost(target.FullName))))
            .Select(t => Outermost(t.FullName))
            .Where(t => !names.Contains(t))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)];
    }

    private static string Outermost(string fullName)
    {
        var cut = fullName.IndexOfAny(['+', '/', '`']);
        return cut < 0 ? fullName : fullName[..cut];
    }
}

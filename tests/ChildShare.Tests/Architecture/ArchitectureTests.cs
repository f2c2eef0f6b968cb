using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Xunit.Abstractions;

namespace ChildShare.Tests.Architecture;

/// <summary>
/// Core's structure as rules: its modules (folders) depend on each other without cycles, and only the
/// identity vault (the one reader and writer of the identities table, which holds the children's direct identifiers)
/// reaches the code that must have it: ingestion's writer, the linker's store and the identifiable report's reader. The module graph is printed (ARCHITECTURE in the README).
/// </summary>
public sealed class ArchitectureTests(ITestOutputHelper output)
{
    /// <summary>The types that may depend on the identity vault (the identities table's one reader and writer), each with the reason.</summary>
    private static readonly string[] MayUseIdentityVault =
    [
        "ChildShare.Core.Storage.IdentityVault", // is it
        "ChildShare.Core.Storage.StorageServiceCollectionExtensions", // registers it
        "ChildShare.Core.Ingestion.ChildRecordWriter", // writes a provider's children's identifiers
        "ChildShare.Core.Linkage.LinkageStore", // writes the child key a link gave or moved
        "ChildShare.Core.Sharing.Identifiable.ChildRecordReader", // reads them for a consented identifiable report (and a source's review of its own)
    ];

    /// <summary>
    /// The types that hand out identity rows: the vault, and the identifiable mode's reader (<see cref="ChildRecordReader.IdentityAsync"/>
    /// passes the vault's rows on). A type that takes the reader reads identifiers as surely as one that takes the vault, so the rule
    /// guards both.
    /// </summary>
    private static readonly System.Type[] IdentityReaders = [typeof(IIdentityVault), typeof(IdentityVault), typeof(ChildRecordReader)];

    /// <summary>The types that may depend on the identifiable mode's reader (and so read identity rows through it), each with the reason.</summary>
    private static readonly string[] MayUseIdentityReader =
    [
        "ChildShare.Core.Sharing.Identifiable.ConsentServiceCollectionExtensions", // registers it
        "ChildShare.Core.Sharing.Identifiable.IdentifiableReportService", // the consented identifiable report
        "ChildShare.Core.Sharing.Identifiable.OwnerAuthorizationService", // a source's review of its own records
        "ChildShare.Core.Sharing.Identifiable.Parent.ParentPageService", // the parent's page shows the consent's child to the parent
    ];

    /// <summary>The types that may name the identities table: only the vault, and the list of tables to create.</summary>
    private static readonly string[] MayNameIdentities =
    [
        "ChildShare.Core.Storage.TableNames", // declares it, and lists every table to create
        "ChildShare.Core.Storage.IdentityVault", // the only code that opens it
    ];

    /// <summary>
    /// The only types outside the Storage folder that may hold a table client (a <c>TableClient</c> or <c>TableServiceClient</c>).
    /// Every table is behind a typed store of Storage; a new type that touches a table client fails the test, and so does an entry
    /// here that no longer does (delete it).
    /// </summary>
    private static readonly string[] TableClientUsersOutsideStorage =
    [
        "ChildShare.Core.ServiceCollectionExtensions", // the composition root: builds ChildShareStorage from the service clients
    ];

    [Fact]
    public void CoreModules_NoDependencyClosesACycle()
    {
        var graph = ModuleGraph.OfCore;
        output.WriteLine(ModuleGraph.Describe(graph));

        var cyclic = ModuleGraph.CyclicEdges(graph);

        Assert.True(cyclic.Count == 0, "Namespace cycles in ChildShare.Core, through: " + string.Join(", ", cyclic));
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
    public void IdentityVault_UsedOnlyByTheWriterTheLinkerAndTheIdentifiableReport()
    {
        var users = TypeDependencies.ProductTypesUsing(typeof(IIdentityVault), typeof(IdentityVault));
        output.WriteLine("Using the identity vault: " + string.Join(", ", users));

        Assert.Contains("ChildShare.Core.Sharing.Identifiable.ChildRecordReader", users);
        Assert.All(users, t => Assert.True(TypeDependencies.IsAllowed(t, MayUseIdentityVault),
            $"{t} depends on the identity vault; only {string.Join(", ", MayUseIdentityVault)} may."));
    }

    [Fact]
    public void IdentityVaultRule_ATypeOutsideTheList_IsCaught()
    {
        var users = TypeDependencies.TestTypesUsing(typeof(IIdentityVault), typeof(IdentityVault));

        Assert.Contains(typeof(VaultUserOutsideTheRule).FullName!, users);
        Assert.False(TypeDependencies.IsAllowed(typeof(VaultUserOutsideTheRule).FullName!, MayUseIdentityVault));
    }

    [Fact]
    public void IdentityReaders_UsedOnlyByTheWriterTheLinkerAndTheIdentifiableMode()
    {
        var users = TypeDependencies.ProductTypesUsing(IdentityReaders);
        output.WriteLine("Reading identity rows: " + string.Join(", ", users));

        Assert.Contains("ChildShare.Core.Sharing.Identifiable.IdentifiableReportService", users);
        Assert.All(users, t => Assert.True(TypeDependencies.IsAllowed(t, [.. MayUseIdentityVault, .. MayUseIdentityReader]),
            $"{t} reads identity rows (the vault or the identifiable reader); only {string.Join(", ", MayUseIdentityVault.Concat(MayUseIdentityReader))} may."));
    }

    [Fact]
    public void IdentityReaderRule_ATypeReadingThroughTheIdentifiableReader_IsCaught()
    {
        var users = TypeDependencies.TestTypesUsing(IdentityReaders);

        Assert.Contains(typeof(IdentityReaderOutsideTheRule).FullName!, users);
        Assert.False(TypeDependencies.IsAllowed(typeof(IdentityReaderOutsideTheRule).FullName!, [.. MayUseIdentityVault, .. MayUseIdentityReader]));
    }

    [Fact]
    public void IdentitiesTable_NamedOnlyByTheVault()
    {
        var namers = TypeDependencies.TypesNaming(TableNames.Identities, [.. TypeDependencies.Product]);

        Assert.Contains("ChildShare.Core.Storage.IdentityVault", namers);
        Assert.All(namers, t => Assert.True(TypeDependencies.IsAllowed(t, MayNameIdentities),
            $"{t} names the identities table; only {string.Join(", ", MayNameIdentities)} may."));
    }

    [Fact]
    public void IdentitiesTableRule_ATypeOutsideTheList_IsCaught()
    {
        var namers = TypeDependencies.TypesNaming(TableNames.Identities, typeof(IdentitiesTableOpener).Assembly);

        Assert.Contains(typeof(IdentitiesTableOpener).FullName!, namers);
        Assert.False(TypeDependencies.IsAllowed(typeof(IdentitiesTableOpener).FullName!, MayNameIdentities));
    }

    [Fact]
    public void IdentitiesTableRule_TheNameInAnotherCase_IsCaught()
    {
        // Table names are case-insensitive: "Identities" opens the identities table as surely as "identities".
        var namers = TypeDependencies.TypesNaming(TableNames.Identities, typeof(IdentitiesTableOpenerInAnotherCase).Assembly);

        Assert.Contains(typeof(IdentitiesTableOpenerInAnotherCase).FullName!, namers);
    }

    [Fact]
    public void TableClients_UsedOnlyInsideStorage_AndByTheCompositionRoot()
    {
        var users = TableClientUsers(TypeDependencies.ProductTypesUsing(typeof(Azure.Data.Tables.TableClient), typeof(Azure.Data.Tables.TableServiceClient)));
        output.WriteLine("Outside Storage, using a table client: " + string.Join(", ", users));

        Assert.True(users.Except(TableClientUsersOutsideStorage).ToList() is [], "Open tables only through a store of ChildShare.Core.Storage: " + string.Join(", ", users.Except(TableClientUsersOutsideStorage)));
        Assert.True(TableClientUsersOutsideStorage.Except(users).ToList() is [], "No longer using a table client, remove from the list: " + string.Join(", ", TableClientUsersOutsideStorage.Except(users)));
    }

    [Fact]
    public void TableClientRule_ATypeOutsideStorage_IsCaught()
    {
        var users = TableClientUsers(TypeDependencies.TestTypesUsing(typeof(Azure.Data.Tables.TableClient), typeof(Azure.Data.Tables.TableServiceClient)));

        Assert.Contains(typeof(IdentitiesTableOpener).FullName!, users);
    }

    [Fact]
    public void StorageNamespace_DeclaredOnlyInTheStorageFolder()
    {
        // The table-client rule exempts the namespace ChildShare.Core.Storage: a file elsewhere declaring it would open tables unseen.
        var outside = StorageNamespaceOutsideTheFolder(System.IO.Path.Combine(RepositoryRoot.Path, "functions"));

        Assert.True(outside is [], "Declares ChildShare.Core.Storage outside functions/ChildShare.Core/Storage: " + string.Join(", ", outside));
    }

    [Fact]
    public void StorageNamespaceRule_AFileElsewhereDeclaringIt_IsCaught()
    {
        var root = Directory.CreateTempSubdirectory("childshare-arch-").FullName;
        try
        {
            Directory.CreateDirectory(System.IO.Path.Combine(root, "ChildShare.Core", "Storage"));
            Directory.CreateDirectory(System.IO.Path.Combine(root, "ChildShare.Core", "Sharing"));
            File.WriteAllText(System.IO.Path.Combine(root, "ChildShare.Core", "Storage", "Fine.cs"), "namespace ChildShare.Core.Storage;\n");
            File.WriteAllText(System.IO.Path.Combine(root, "ChildShare.Core", "Sharing", "Opener.cs"), "using System;\nnamespace ChildShare.Core.Storage.Tables\n{\n}\n");

            Assert.Equal([System.IO.Path.Combine("ChildShare.Core", "Sharing", "Opener.cs")], StorageNamespaceOutsideTheFolder(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The C# files under <paramref name="functions"/> (build output left out) that declare the Storage namespace outside ChildShare.Core/Storage.</summary>
    private static List<string> StorageNamespaceOutsideTheFolder(string functions)
    {
        var storageFolder = System.IO.Path.Combine("ChildShare.Core", "Storage") + System.IO.Path.DirectorySeparatorChar;
        var declaration = new System.Text.RegularExpressions.Regex(@"^\s*namespace\s+ChildShare\.Core\.Storage(\.\w+)*\s*[;{]?\s*$", System.Text.RegularExpressions.RegexOptions.Multiline);
        return [.. Directory.EnumerateFiles(functions, "*.cs", SearchOption.AllDirectories)
            .Select(f => System.IO.Path.GetRelativePath(functions, f))
            .Where(f => !f.Split(System.IO.Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            .Where(f => !f.StartsWith(storageFolder, StringComparison.Ordinal))
            .Where(f => declaration.IsMatch(File.ReadAllText(System.IO.Path.Combine(functions, f))))
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>The types of <paramref name="types"/> outside <c>ChildShare.Core.Storage</c>.</summary>
    private static List<string> TableClientUsers(IEnumerable<string> types) =>
        [.. types.Where(t => !t.StartsWith("ChildShare.Core.Storage.", StringComparison.Ordinal))];
}

namespace ChildShare.Tests.Support;

/// <summary>
/// The slowest integration tests (a thousand consents, the whole demo or thousands of linked records through
/// Azurite, blob leases that must run out): each carries the trait <c>Category=Slow</c>, so <c>dotnet test --filter "Category!=Slow"</c> runs the
/// fast set alone, and their classes share this collection, so they run one after another instead of all at once
/// against the same Azurite and cores. CI runs everything.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SlowTests
{
    public const string Name = "slow integration tests";

    /// <summary>The trait's name and value: <c>[Trait(SlowTests.Category, SlowTests.Slow)]</c>.</summary>
    public const string Category = "Category";

    public const string Slow = "Slow";
}

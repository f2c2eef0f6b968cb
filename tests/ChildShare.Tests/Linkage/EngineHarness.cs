using System.Security.Cryptography;
using System.Text;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;

namespace ChildShare.Tests.Linkage;

/// <summary>
/// What the household resolver's adversarial tests share (<c>Adversary33*Tests</c>): records of one household encoded under a test
/// key, added with the provider taken from the key, the partition as text, an engine reloaded from its stored states (as an engine
/// per upload sees them), and every order of a household's records.
/// </summary>
internal static class EngineHarness
{
    public const string Street = "12BANNERSTREET";

    private static readonly LinkEncoder Encoder = new(new Pseudonymizer(new PseudonymKey("k1", SHA256.HashData(Encoding.UTF8.GetBytes("engine tests")))));

    public static LinkEncoding Enc(
        string? first, string? last, string? dob, string? zip = "12345", string? ssid = null, Sex sex = Sex.Unknown, string? address = Street) =>
        Encoder.Encode(new LinkInput(first is null ? null : NameNormalizer.MatchForm(first), last is null ? null : NameNormalizer.MatchForm(last),
            dob?[..4], dob?[5..7], dob?[8..], sex == Sex.Unknown ? null : sex.ToString(), zip, ssid, address));

    /// <summary>Adds a record keyed "{provider}|{id}", its seed derived from the key.</summary>
    public static void Add(LinkageEngine engine, string key, LinkEncoding encoding) => engine.Add(key, key[..key.IndexOf('|')], "s-" + key, encoding);

    public static string Partition(LinkageEngine engine) =>
        string.Join(" / ", engine.Clusters().Select(c => string.Join(",", c.OrderBy(k => k, StringComparer.Ordinal))).OrderBy(s => s, StringComparer.Ordinal));

    /// <summary>A fresh engine loaded with every node's stored state, as the production linker loads a chunk's neighbourhood.</summary>
    public static LinkageEngine Reload(LinkageEngine engine)
    {
        var again = new LinkageEngine(engine.Options);
        foreach (var key in engine.Clusters().SelectMany(c => c).Order(StringComparer.Ordinal))
        {
            again.Load(engine.StateOf(key));
        }

        return again;
    }

    public static IEnumerable<IReadOnlyList<T>> Permutations<T>(IReadOnlyList<T> items)
    {
        if (items.Count <= 1)
        {
            yield return items;
            yield break;
        }

        for (var i = 0; i < items.Count; i++)
        {
            var rest = items.Where((_, j) => j != i).ToList();
            foreach (var tail in Permutations(rest))
            {
                yield return [items[i], .. tail];
            }
        }
    }
}

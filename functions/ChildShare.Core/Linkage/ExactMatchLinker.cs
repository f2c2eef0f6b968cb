using System.Runtime.CompilerServices;
using ChildShare.Core.Pseudonymization;

namespace ChildShare.Core.Linkage;

/// <summary>
/// Links records whose folded first name, last name and birth date agree exactly. A record with a
/// placeholder or missing name, or without a birth date, never links: it becomes a child of its own, keyed by its provider and local id.
/// </summary>
public sealed class ExactMatchLinker : IChildLinker
{
    public const string ExactRule = "exact-name-birthdate";
    public const string UnlinkableRule = "provider-local-only";

    /// <summary>Links kept per pseudonymizer (one upload), at most (then they start again empty): about 150 bytes each.</summary>
    internal const int CacheLimit = Pseudonymizer.CacheLimit;

    // An upload has a row per service, so a child comes back on each of its rows: its link is kept by local token and given again
    // while a row names the same provider, names and birth date (any other row is linked afresh and replaces it).
    private readonly ConditionalWeakTable<Pseudonymizer, Dictionary<string, KnownLink>> _links = [];

    public ValueTask<ChildLink> LinkAsync(LinkSubject subject, Pseudonymizer pseudonymizer, CancellationToken cancellationToken = default)
    {
        var links = _links.GetValue(pseudonymizer, static _ => new Dictionary<string, KnownLink>(StringComparer.Ordinal));
        lock (links)
        {
            if (links.TryGetValue(subject.LocalToken, out var known) && known.IsFor(subject))
            {
                return ValueTask.FromResult(known.Link);
            }
        }

        var link = Link(subject, pseudonymizer);
        lock (links)
        {
            if (links.Count >= CacheLimit)
            {
                links.Clear();
            }

            links[subject.LocalToken] = new KnownLink(subject.ProviderId, subject.Input, link);
        }

        return ValueTask.FromResult(link);
    }

    private static ChildLink Link(LinkSubject subject, Pseudonymizer pseudonymizer)
    {
        var input = subject.Input;
        if (input.First is { } first && input.Last is { } last && input.HasFullDate)
        {
            var birth = string.Join('-', input.Year, input.Month, input.Day);
            return new ChildLink(pseudonymizer.Token("child-exact-v1", first, last, birth), ExactRule);
        }

        return new ChildLink(pseudonymizer.Token("child-local-v1", subject.ProviderId, subject.LocalToken), UnlinkableRule);
    }

    /// <summary>A link and everything it was made from besides the local token: the provider, the names and the birth date's parts.</summary>
    private sealed record KnownLink(string ProviderId, LinkInput Input, ChildLink Link)
    {
        public bool IsFor(LinkSubject subject) =>
            string.Equals(ProviderId, subject.ProviderId, StringComparison.Ordinal)
            && string.Equals(Input.First, subject.Input.First, StringComparison.Ordinal)
            && string.Equals(Input.Last, subject.Input.Last, StringComparison.Ordinal)
            && string.Equals(Input.Year, subject.Input.Year, StringComparison.Ordinal)
            && string.Equals(Input.Month, subject.Input.Month, StringComparison.Ordinal)
            && string.Equals(Input.Day, subject.Input.Day, StringComparison.Ordinal);
    }
}

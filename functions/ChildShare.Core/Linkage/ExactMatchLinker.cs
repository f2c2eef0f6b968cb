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

    public ValueTask<ChildLink> LinkAsync(LinkSubject subject, Pseudonymizer pseudonymizer, CancellationToken cancellationToken = default)
    {
        var input = subject.Input;
        if (input.First is { } first && input.Last is { } last && input.HasFullDate)
        {
            var birth = string.Join('-', input.Year, input.Month, input.Day);
            return ValueTask.FromResult(new ChildLink(pseudonymizer.Token("child-exact-v1", first, last, birth), ExactRule));
        }

        return ValueTask.FromResult(new ChildLink(pseudonymizer.Token("child-local-v1", subject.ProviderId, subject.LocalToken), UnlinkableRule));
    }
}

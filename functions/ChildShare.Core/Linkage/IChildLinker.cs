using ChildShare.Core.Ingestion;
using ChildShare.Core.Pseudonymization;

namespace ChildShare.Core.Linkage;

/// <summary>One provider record to link to a community child.</summary>
public sealed record LinkSubject(string ProviderId, string LocalToken, ChildIdentity Identity, Demographics Demographics);

/// <summary>The community child key a record joins, and the rule that decided it (for operators).</summary>
public sealed record ChildLink(string ChildKey, string Rule);

/// <summary>
/// Decides which community child a provider record belongs to. Replaceable: ingestion only asks
/// for a key and records the rule.
/// </summary>
public interface IChildLinker
{
    ValueTask<ChildLink> LinkAsync(LinkSubject subject, Pseudonymizer pseudonymizer, CancellationToken cancellationToken = default);
}

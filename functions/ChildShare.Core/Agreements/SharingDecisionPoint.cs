using System.Globalization;
using ChildShare.Core.Organizations;

namespace ChildShare.Core.Agreements;

/// <summary>What a caller asks for: a mode of sharing over a period, grouped by some dimensions.</summary>
public sealed record SharingRequest(SharingMode Mode, DateOnly From, DateOnly To, IReadOnlyList<string> Dimensions);

/// <summary>The answer for one provider: allowed under <see cref="Agreement"/>, or not, and why.</summary>
public sealed record SharingDecision(string ProviderId, bool Allowed, string Reason, DataSharingAgreement? Agreement)
{
    public static SharingDecision Allow(string providerId, DataSharingAgreement agreement) =>
        new(providerId, true, $"Permitted by agreement {agreement.Id} (version {agreement.Version}).", agreement);

    public static SharingDecision Deny(string providerId, string reason) => new(providerId, false, reason, null);
}

/// <summary>
/// The one place that answers "may this caller get this mode over this provider's data now, for
/// these dates?". An agreement is relied on only when all hold: the provider is a party, the
/// caller's organization is a recipient, it is active, permits the mode, is in force today, covers
/// the provider's data for every day of the requested period (a provider that joined mid-period is
/// not covered for that period), allows every requested dimension, and, for exact aggregate counts
/// (protection <c>None</c>), the period is one whole calendar month. When several agreements
/// qualify, the most protective is relied on (largest minimum cell size, then strongest
/// differencing protection, then id). When none does, the reason is the furthest any agreement got.
/// </summary>
public class SharingDecisionPoint(AgreementStore agreements, TimeProvider time)
{
    public virtual async Task<IReadOnlyList<SharingDecision>> DecideAsync(
        Caller caller, SharingRequest request, IEnumerable<string> providerIds, CancellationToken cancellationToken = default)
    {
        var all = await agreements.ListAsync(cancellationToken).ConfigureAwait(false);
        return providerIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(p => Decide(caller, request, p, all, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime)))
            .ToList();
    }

    /// <summary>The decision for one provider against a set of agreements on a given day.</summary>
    public static SharingDecision Decide(Caller caller, SharingRequest request, string providerId, IReadOnlyList<DataSharingAgreement> all, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(request);
        var candidates = all.Where(a => a.CoverageStartFor(providerId) is not null).OrderBy(a => a.Id, StringComparer.Ordinal).ToList();
        if (candidates.Count == 0)
        {
            return SharingDecision.Deny(providerId, "No data sharing agreement covers this provider's data.");
        }

        candidates = candidates.Where(a => a.Recipients.Contains(caller.OrganizationId, StringComparer.Ordinal)).ToList();
        if (candidates.Count == 0)
        {
            return SharingDecision.Deny(providerId, $"Organization {caller.OrganizationId} is not a recipient of any agreement covering this provider.");
        }

        string reason = "";
        var qualifying = new List<DataSharingAgreement>();
        foreach (var agreement in candidates)
        {
            var why = WhyNot(agreement, request, providerId, today);
            if (why is null)
            {
                qualifying.Add(agreement);
            }
            else if (reason.Length == 0)
            {
                reason = why;
            }
        }

        if (qualifying.Count == 0)
        {
            return SharingDecision.Deny(providerId, reason);
        }

        var chosen = qualifying.OrderByDescending(a => a.MinimumCellSize).ThenByDescending(a => a.Protection).ThenBy(a => a.Id, StringComparer.Ordinal).First();
        return SharingDecision.Allow(providerId, chosen);
    }

    private static string? WhyNot(DataSharingAgreement agreement, SharingRequest request, string providerId, DateOnly today)
    {
        var id = agreement.Id;
        if (agreement.Status == AgreementStatus.Terminated && (agreement.TerminatedOn is null || agreement.TerminatedOn < today))
        {
            return $"Agreement {id} was terminated on {Day(agreement.TerminatedOn)}.";
        }

        if (!agreement.Modes.Contains(request.Mode))
        {
            return $"Agreement {id} does not permit {request.Mode} sharing.";
        }

        if (agreement.EffectiveFrom > today)
        {
            return $"Agreement {id} is not in force until {Day(agreement.EffectiveFrom)}.";
        }

        if (agreement.LastDay is { } last && last < today)
        {
            return $"Agreement {id} expired on {Day(last)}.";
        }

        var coverageStart = agreement.CoverageStartFor(providerId)!.Value;
        if (request.From < coverageStart)
        {
            return $"Agreement {id} covers this provider's data from {Day(coverageStart)}; the period starts on {Day(request.From)}.";
        }

        if (agreement.LastDay is { } end && request.To > end)
        {
            return $"Agreement {id} covers data up to {Day(end)}; the period ends on {Day(request.To)}.";
        }

        var refused = request.Dimensions.Where(d => !agreement.AllowedDimensions.Contains(d, StringComparer.OrdinalIgnoreCase)).ToList();
        if (refused.Count > 0)
        {
            return $"Agreement {id} does not allow grouping by {string.Join(", ", refused)}.";
        }

        if (request.Mode == SharingMode.Aggregate && agreement.Protection == DifferencingProtection.None && !IsOneCalendarMonth(request.From, request.To))
        {
            var first = new DateOnly(request.From.Year, request.From.Month, 1);
            return $"Agreement {id} publishes exact counts (protection None), so it answers one whole calendar month at a time, e.g. {Day(first)} to "
                + $"{Day(first.AddMonths(1).AddDays(-1))}: reports of overlapping periods could be subtracted. Ask for a calendar month, or amend the agreement to Round5.";
        }

        return null;
    }

    /// <summary>True when the period is exactly one calendar month: no two such periods overlap unless they are the same.</summary>
    public static bool IsOneCalendarMonth(DateOnly from, DateOnly to) =>
        from.Day == 1 && to == from.AddMonths(1).AddDays(-1);

    private static string Day(DateOnly? day) => day?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "an unknown day";
}

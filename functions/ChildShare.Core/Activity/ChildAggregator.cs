using System.Globalization;

namespace ChildShare.Core.Activity;

/// <summary>
/// Folds the activity buckets' provider-child years into one record per community child for a period: the provider,
/// program and service type combinations the child was active in (on at least one day of the
/// period), and one value per demographic by the resolution rule: the value from the most recently
/// updated included provider record that has one (ties: the smallest provider id); none is Unknown.
/// Holds no identifier beyond the child key, which never leaves this class.
/// </summary>
internal sealed class ChildAggregator(DateOnly from, DateOnly to, bool needsActivities, IReadOnlyList<string> demographics)
{
    /// <summary>The resolution rule this class applies, in words, for reports and export receipts.</summary>
    public const string DemographicRule =
        "Each child has one value per demographic: the value from the most recently updated record of an included provider that has one (ties: the "
        + "smallest provider id); none is Unknown. Age band is the age on the first day of the period: 0-4, 5-9, 10-14, 15-17, 18+.";

    private readonly Dictionary<string, ChildState> _children = new(StringComparer.Ordinal);

    public int Children => _children.Count;

    public IEnumerable<ChildState> States => _children.Values;

    /// <summary>Each child's key and state, for the de-identified export (which turns the key into a research id).</summary>
    public IEnumerable<KeyValuePair<string, ChildState>> Entries => _children;

    private readonly Dictionary<int, uint[]> _periodMasks = [];
    // Report dimensions (sex, ageBand) or stored column names (Sex, BirthDate): the column a bucket keeps each in.
    private readonly int[] _demographicIndex = demographics.Select(d => ActivityStore.Demographics.ToList().IndexOf(ReportDimensions.DemographicColumns.GetValueOrDefault(d, d))).ToArray();

    /// <summary>Adds one provider child's year from a bucket; returns whether it had activity in the period.</summary>
    public bool Add(int year, ProviderChildYear child)
    {
        if (string.IsNullOrEmpty(child.ChildKey))
        {
            return false;
        }

        if (!_periodMasks.TryGetValue(year, out var period))
        {
            period = Enumerable.Range(1, 12).Select(m => ActivityMonths.MaskOf(year, m, from, to)).ToArray();
            _periodMasks[year] = period;
        }

        ChildState? state = null;
        var providerId = child.ProviderId;
        foreach (var activity in child.Activities)
        {
            var active = false;
            for (var m = 0; m < 12 && !active; m++)
            {
                active = (activity.Months[m] & period[m]) != 0;
            }

            if (!active)
            {
                continue;
            }

            if (state is null && !_children.TryGetValue(child.ChildKey, out state))
            {
                state = new ChildState(demographics.Count);
                _children[child.ChildKey] = state;
            }

            state.Activities.Add(needsActivities ? (providerId, activity.Program, activity.ServiceType) : (providerId, "", ""));
        }

        if (state is null)
        {
            return false;
        }

        for (var i = 0; i < demographics.Count; i++)
        {
            var value = _demographicIndex[i] >= 0 ? child.Demographics[_demographicIndex[i]] : null;
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            var current = state.Demographics[i];
            if (current.Value is null || child.UpdatedTicks > current.Ticks
                || (child.UpdatedTicks == current.Ticks && string.CompareOrdinal(providerId, current.ProviderId) < 0))
            {
                state.Demographics[i] = (value, child.UpdatedTicks, providerId);
            }
        }

        return true;
    }

    /// <summary>The resolved value of demographic <paramref name="index"/> as a report shows it.</summary>
    public string Resolved(ChildState state, int index)
    {
        var value = state.Demographics[index].Value;
        return demographics[index] == ReportDimensions.AgeBand
            ? ReportDimensions.AgeBandOf(DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var birth) ? birth : null, from)
            : string.IsNullOrWhiteSpace(value) ? ReportDimensions.Unknown : value;
    }

    internal sealed class ChildState(int demographicCount)
    {
        public HashSet<(string Provider, string Program, string ServiceType)> Activities { get; } = [];

        public (string? Value, long Ticks, string ProviderId)[] Demographics { get; } = new (string?, long, string)[demographicCount];
    }
}

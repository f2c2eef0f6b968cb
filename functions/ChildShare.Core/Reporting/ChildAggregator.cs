using System.Globalization;

namespace ChildShare.Core.Reporting;

/// <summary>
/// Folds activity summaries into one record per community child for a period: the provider,
/// program and service type combinations the child was active in (on at least one day of the
/// period), and one value per demographic by the resolution rule: the value from the most recently
/// updated included provider record that has one (ties: the smallest provider id); none is Unknown.
/// Holds no identifier beyond the child key, which never leaves this class.
/// </summary>
internal sealed class ChildAggregator(DateOnly from, DateOnly to, bool needsActivities, IReadOnlyList<string> demographics)
{
    private readonly Dictionary<string, ChildState> _children = new(StringComparer.Ordinal);

    public int Children => _children.Count;

    public IEnumerable<ChildState> States => _children.Values;

    /// <summary>Each child's key and state, for the de-identified export (which turns the key into a research id).</summary>
    public IEnumerable<KeyValuePair<string, ChildState>> Entries => _children;

    /// <summary>Adds one summary (one provider, child and month); returns whether it had activity in the period.</summary>
    public bool Add(SummaryRecord summary)
    {
        var mask = ActivityMonths.MaskOf(summary.Year, summary.Month, from, to);
        if ((summary.DayMask & mask) == 0 || string.IsNullOrEmpty(summary.ChildKey))
        {
            return false;
        }

        if (!_children.TryGetValue(summary.ChildKey, out var state))
        {
            state = new ChildState(demographics.Count);
            _children[summary.ChildKey] = state;
        }

        if (needsActivities)
        {
            foreach (var entry in ActivityMonths.Deserialize(summary.Activities))
            {
                if ((entry.DayMask & mask) != 0)
                {
                    state.Activities.Add((summary.ProviderId, entry.Program, entry.ServiceType));
                }
            }
        }
        else
        {
            state.Activities.Add((summary.ProviderId, "", ""));
        }

        for (var i = 0; i < demographics.Count; i++)
        {
            var value = summary.Demographics[i];
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            var current = state.Demographics[i];
            if (current.Value is null || summary.UpdatedTicks > current.Ticks
                || (summary.UpdatedTicks == current.Ticks && string.CompareOrdinal(summary.ProviderId, current.ProviderId) < 0))
            {
                state.Demographics[i] = (value, summary.UpdatedTicks, summary.ProviderId);
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

/// <summary>The parts of an activity summary entity a report reads.</summary>
internal readonly record struct SummaryRecord(
    int Year, int Month, string ChildKey, string ProviderId, uint DayMask, long UpdatedTicks, string? Activities, string?[] Demographics);

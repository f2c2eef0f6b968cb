using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChildShare.Core.Activity;

/// <summary>A child's activity in one program and service type during one month: bit d-1 set when active on day d.</summary>
public sealed record ActivityEntry(
    [property: JsonPropertyName("p")] string Program,
    [property: JsonPropertyName("t")] string ServiceType,
    [property: JsonPropertyName("d")] uint DayMask);

/// <summary>A service interval as the summaries see it: no identifiers, just what and when.</summary>
public readonly record struct ServiceInterval(string Program, string ServiceType, DateOnly Start, DateOnly End);

/// <summary>
/// Folds a child's service intervals into month-by-month day masks, the shape of the activity
/// summaries reports read: a period query reads only the months it overlaps, and a day mask
/// answers "active on any day of the period" exactly.
/// </summary>
public static class ActivityMonths
{
    /// <summary>The partition key of a month: <c>yyyy-MM</c>.</summary>
    public static string MonthKey(int year, int month) => string.Create(CultureInfo.InvariantCulture, $"{year:D4}-{month:D2}");

    public static string MonthKey(DateOnly date) => MonthKey(date.Year, date.Month);

    /// <summary>Every month from the one holding <paramref name="from"/> to the one holding <paramref name="to"/>.</summary>
    public static IEnumerable<(int Year, int Month)> MonthsBetween(DateOnly from, DateOnly to)
    {
        var cursor = new DateOnly(from.Year, from.Month, 1);
        while (cursor <= to)
        {
            yield return (cursor.Year, cursor.Month);
            cursor = cursor.AddMonths(1);
        }
    }

    /// <summary>The days of a month that fall in [from, to], as a day mask.</summary>
    public static uint MaskOf(int year, int month, DateOnly from, DateOnly to)
    {
        var first = new DateOnly(year, month, 1);
        var last = first.AddMonths(1).AddDays(-1);
        var start = from > first ? from : first;
        var end = to < last ? to : last;
        if (start > end)
        {
            return 0;
        }

        var days = end.Day - start.Day + 1;
        var bits = days == 32 ? uint.MaxValue : (1u << days) - 1;
        return bits << (start.Day - 1);
    }

    /// <summary>Month key to the activity entries of that month, merged per program and service type.</summary>
    public static SortedDictionary<string, List<ActivityEntry>> Build(IEnumerable<ServiceInterval> services)
    {
        var masks = new Dictionary<(string Month, string Program, string ServiceType), uint>();
        foreach (var service in services)
        {
            foreach (var (year, month) in MonthsBetween(service.Start, service.End))
            {
                var key = (MonthKey(year, month), service.Program, service.ServiceType);
                masks[key] = masks.GetValueOrDefault(key) | MaskOf(year, month, service.Start, service.End);
            }
        }

        var result = new SortedDictionary<string, List<ActivityEntry>>(StringComparer.Ordinal);
        foreach (var ((month, program, serviceType), mask) in masks.OrderBy(m => m.Key.Program, StringComparer.Ordinal).ThenBy(m => m.Key.ServiceType, StringComparer.Ordinal))
        {
            if (!result.TryGetValue(month, out var entries))
            {
                entries = [];
                result[month] = entries;
            }

            entries.Add(new ActivityEntry(program, serviceType, mask));
        }

        return result;
    }

    public static string Serialize(IReadOnlyList<ActivityEntry> entries) => JsonSerializer.Serialize(entries);

    public static IReadOnlyList<ActivityEntry> Deserialize(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<List<ActivityEntry>>(json) ?? [];
}

using System.Globalization;
using Azure.Data.Tables;
using ChildShare.Core.Activity;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Storage;

namespace ChildShare.Tests.Support;

/// <summary>
/// The activity buckets seen month by month, as tests state expectations: one row per provider
/// child and month with activity (PK <c>yyyy-MM</c>, RK <c>{provider}|{token}</c>, ChildKey,
/// ProviderId, DayMask, Activities, the demographics), and a way to write such rows into the buckets.
/// </summary>
public static class ActivityTestData
{
    /// <summary>Every month row the buckets hold.</summary>
    public static async Task<List<TableEntity>> ReadActivityMonthsAsync(this TestStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var rows = new List<TableEntity>();
        foreach (var entity in (await storage.ReadAllAsync(TableNames.Activity)).Where(e => e.PartitionKey != "layout"))
        {
            var year = int.Parse(entity.RowKey, CultureInfo.InvariantCulture);
            foreach (var child in ActivityStore.Decode(ActivityTable.PayloadOf(entity)).Values)
            {
                for (var m = 0; m < 12; m++)
                {
                    var entries = child.Activities.Where(a => a.Months[m] != 0).Select(a => new ActivityEntry(a.Program, a.ServiceType, a.Months[m])).ToList();
                    if (entries.Count == 0)
                    {
                        continue;
                    }

                    var row = new TableEntity(ActivityMonths.MonthKey(year, m + 1), child.ProviderChild)
                    {
                        ["ChildKey"] = child.ChildKey, ["ProviderId"] = child.ProviderId, ["Activities"] = ActivityMonths.Serialize(entries),
                        ["DayMask"] = (long)entries.Aggregate(0u, (mask, e) => mask | e.DayMask), ["UpdatedTicks"] = child.UpdatedTicks,
                    };
                    for (var d = 0; d < ActivityStore.Demographics.Count; d++)
                    {
                        row[ActivityStore.Demographics[d]] = child.Demographics[d] ?? "";
                    }

                    rows.Add(row);
                }
            }
        }

        return rows.OrderBy(r => r.PartitionKey, StringComparer.Ordinal).ThenBy(r => r.RowKey, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Writes a month row (the shape above: PK month, RK provider child, ChildKey, Activities, UpdatedAt, demographics) into
    /// its bucket, beside the provider child's other months of that year.
    /// </summary>
    public static Task AddAsync(ChildShareStorage storage, TableEntity month) => AddAllAsync(storage, [month]);

    /// <summary>Writes month rows into the buckets in one write per touched bucket-year.</summary>
    public static async Task AddAllAsync(ChildShareStorage storage, IReadOnlyList<TableEntity> months)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(months);
        var store = new ActivityStore(new ActivityTable(storage));
        var years = months.Select(m => int.Parse(m.PartitionKey[..4], CultureInfo.InvariantCulture)).Distinct().ToList();
        var existing = (await store.ReadAsync(years)).Children.ToDictionary(c => (c.Year, c.Child.ProviderChild), c => c.Child);
        var changed = new Dictionary<(int Year, string ProviderChild), ProviderChildYear>();
        foreach (var month in months)
        {
            var year = int.Parse(month.PartitionKey[..4], CultureInfo.InvariantCulture);
            var index = int.Parse(month.PartitionKey[5..7], CultureInfo.InvariantCulture) - 1;
            var before = changed.GetValueOrDefault((year, month.RowKey)) ?? existing.GetValueOrDefault((year, month.RowKey));
            var activities = before?.Activities.Select(a => new YearActivity(a.Program, a.ServiceType, (uint[])a.Months.Clone())).ToList() ?? [];
            foreach (var entry in ActivityMonths.Deserialize(month.GetString("Activities")))
            {
                var activity = activities.FirstOrDefault(a => a.Program == entry.Program && a.ServiceType == entry.ServiceType);
                if (activity is null)
                {
                    activity = new YearActivity(entry.Program, entry.ServiceType, new uint[12]);
                    activities.Add(activity);
                }

                activity.Months[index] |= entry.DayMask;
            }

            changed[(year, month.RowKey)] = new ProviderChildYear(month.RowKey, month.GetString("ChildKey") ?? "", month.GetDateTimeOffset("UpdatedAt")?.UtcTicks ?? 0,
                ActivityStore.Demographics.Select(d => month.GetString(d) is { Length: > 0 } v ? v : null).ToArray(), activities);
        }

        var layout = await store.BeginWriteAsync();
        await store.ApplyAsync(layout, changed.GroupBy(c => c.Key.ProviderChild)
            .Select(g => new ActivityChange(g.Key, g.ToDictionary(c => c.Key.Year, c => c.Value), [])).ToList());
        await store.EndWriteAsync();
    }
}

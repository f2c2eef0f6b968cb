using Azure.Data.Tables;
using ChildShare.Core.Activity;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>A child of a synthetic community: one value per demographic, active every day from one day to another.</summary>
internal sealed record MiniChild(string Race, string AgeBand, string Sex, string Ethnicity, DateOnly First, DateOnly Last);

/// <summary>
/// The community of the differencing finding (issue 11): one Native Hawaiian or Pacific Islander
/// child aged 10-14, Female, not Hispanic, active all September (the target: a group of one), and
/// 50 to 90 other children of three races and three age bands, most active all month, some from a
/// later day, about one in sixteen only on 30 September. Seeded, so a seed names one community.
/// </summary>
internal static class AttackCommunity
{
    public const string TargetRace = "NativeHawaiianOrOtherPacificIslander";

    public static readonly DateOnly September1 = new(2026, 9, 1);

    public static List<MiniChild> Generate(int seed)
    {
        var random = new Random(seed);
        var children = new List<MiniChild> { new(TargetRace, "10-14", "Female", "NotHispanicOrLatino", September1, September1.AddDays(29)) };
        string[] races = ["White", "BlackOrAfricanAmerican", "Asian"];
        string[] ages = ["5-9", "10-14", "15-17"];
        var n = random.Next(50, 90);
        for (var i = 0; i < n; i++)
        {
            var race = races[random.Next(races.Length)];
            var age = ages[random.Next(ages.Length)];
            var late = random.NextDouble() < 0.06;
            var first = late ? September1.AddDays(29) : September1.AddDays(random.NextDouble() < 0.8 ? 0 : random.Next(0, 29));
            children.Add(new(race, age, random.NextDouble() < 0.5 ? "Female" : "Male", random.NextDouble() < 0.2 ? "HispanicOrLatino" : "NotHispanicOrLatino", first, September1.AddDays(29)));
        }

        return children;
    }

    /// <summary>
    /// Writes the community's September activity summaries for provider <paramref name="provider"/>,
    /// as ingestion would: one per child, its day mask, demographics and a birth date in its age band
    /// (15 March, far from any period start, so the band is the same for every period here).
    /// </summary>
    public static async Task WriteAsync(ChildShareStorage storage, string provider, IReadOnlyList<MiniChild> children, DateTimeOffset updatedAt)
    {
        var rows = new List<TableEntity>();
        for (var i = 0; i < children.Count; i++)
        {
            var child = children[i];
            var mask = 0u;
            for (var day = child.First; day <= child.Last && day.Month == 9; day = day.AddDays(1))
            {
                mask |= 1u << (day.Day - 1);
            }

            var age = child.AgeBand switch { "5-9" => 7, "10-14" => 12, _ => 16 };
            rows.Add(new TableEntity("2026-09", $"{provider}|token{i:D3}")
            {
                ["ChildKey"] = $"child{i:D3}", ["ProviderId"] = provider, ["DayMask"] = (long)mask, ["UpdatedAt"] = updatedAt,
                ["Activities"] = ActivityMonths.Serialize([new ActivityEntry("Tutoring", "Academic", mask)]),
                ["Sex"] = child.Sex, ["Race"] = child.Race, ["Ethnicity"] = child.Ethnicity, ["BirthDate"] = $"{2026 - age}-03-15",
            });
        }

        await ActivityTestData.AddAllAsync(storage, rows);
    }
}

using System.Globalization;
using ChildShare.Core.Activity;
using static ChildShare.Core.Agreements.QuasiIdentifierNames;

namespace ChildShare.Core.Sharing.Deidentified;

/// <summary>
/// The generalization hierarchies of the quasi-identifiers an export may carry (their names, which an agreement's
/// terms list, are <see cref="Agreements.QuasiIdentifierNames"/>). Level 0 is the
/// most precise value ever exported (never a raw identifier: no birth date, no zip5), the last
/// level is <see cref="Suppressed"/>. <see cref="Unknown"/> stays Unknown below the top.
/// </summary>
public static class QuasiIdentifiers
{
    public const string Suppressed = "*";
    public const string Unknown = "Unknown";

    /// <summary>
    /// Safe Harbor's restricted three-digit zip codes: areas of 20,000 people or fewer (HHS guidance,
    /// 2000 Census), which must be exported as 000.
    /// </summary>
    public static readonly IReadOnlySet<string> RestrictedZip3 = new HashSet<string>(StringComparer.Ordinal)
    {
        "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878", "879", "884", "890", "893",
    };

    /// <summary>The export column of an attribute.</summary>
    public static string Column(string attribute) => attribute switch
    {
        Zip => "zip3",
        _ => attribute,
    };

    /// <summary>The number of levels of an attribute's hierarchy (the last is <see cref="Suppressed"/>).</summary>
    public static int Levels(string attribute) => attribute switch
    {
        Age => 4,
        Race => 3,
        Grade => 3,
        School => 3,
        _ => 2,
    };

    /// <summary>Human description of each level, for the summary and EXPORTS.md.</summary>
    public static string LevelName(string attribute, int level) => (attribute, level) switch
    {
        (_, var l) when l == Levels(attribute) - 1 => "suppressed (*)",
        (Age, 0) => "age in years on the period's first day",
        (Age, 1) => "age band 0-4, 5-9, 10-14, 15-17, 18+",
        (Age, 2) => "0-4, 5-17, 18+",
        (Race, 0) => "federal category",
        (Race, 1) => "White, Black, AsianOrPacificIslander, OtherOrMultiple",
        (Grade, 0) => "grade",
        (Grade, 1) => "EarlyChildhood (PK, K), Elementary (1-5), Middle (6-8), High (9-12)",
        (School, 0) => "school",
        (School, 1) => "district (agreement's school-to-district map) or school level (from grade)",
        (Zip, 0) => "zip3 (Safe Harbor's restricted zip3 as 000)",
        _ => "value",
    };

    /// <summary>
    /// The value of a child's attribute at a level. <paramref name="child"/> holds the resolved raw
    /// demographics (birth date, sex, race, ethnicity, zip3, grade, school).
    /// </summary>
    public static string Generalize(string attribute, int level, ResolvedChild child, DateOnly periodStart, IReadOnlyDictionary<string, string>? districts)
    {
        if (level >= Levels(attribute) - 1)
        {
            return Suppressed;
        }

        switch (attribute)
        {
            case Age:
                if (child.BirthDate is not { } birth || birth > periodStart)
                {
                    return Unknown;
                }

                var age = periodStart.Year - birth.Year - (periodStart < birth.AddYears(periodStart.Year - birth.Year) ? 1 : 0);
                return level switch
                {
                    0 => age >= 90 ? "90+" : age.ToString(CultureInfo.InvariantCulture),
                    1 => age switch { <= 4 => "0-4", <= 9 => "5-9", <= 14 => "10-14", <= 17 => "15-17", _ => "18+" },
                    _ => age switch { <= 4 => "0-4", <= 17 => "5-17", _ => "18+" },
                };
            case Sex:
                return Or(child.Sex);
            case Ethnicity:
                return Or(child.Ethnicity);
            case Race:
                if (string.IsNullOrWhiteSpace(child.Race))
                {
                    return Unknown;
                }

                return level == 0 ? child.Race : child.Race switch
                {
                    "White" => "White",
                    "BlackOrAfricanAmerican" => "Black",
                    "Asian" or "NativeHawaiianOrOtherPacificIslander" => "AsianOrPacificIslander",
                    "Unknown" => Unknown,
                    _ => "OtherOrMultiple",
                };
            case Zip:
                if (child.Zip3 is not { Length: 3 } zip3 || !zip3.All(char.IsAsciiDigit))
                {
                    return Unknown;
                }

                return RestrictedZip3.Contains(zip3) ? "000" : zip3;
            case Grade:
                if (string.IsNullOrWhiteSpace(child.Grade))
                {
                    return Unknown;
                }

                return level == 0 ? child.Grade : GradeBand(child.Grade);
            case School:
                if (string.IsNullOrWhiteSpace(child.School))
                {
                    return Unknown;
                }

                if (level == 0)
                {
                    return child.School;
                }

                if (districts is { Count: > 0 })
                {
                    return districts.TryGetValue(child.School, out var district) ? district : "OtherDistrict";
                }

                return string.IsNullOrWhiteSpace(child.Grade) ? Unknown : GradeBand(child.Grade) + "School";
            default:
                throw new ArgumentOutOfRangeException(nameof(attribute), "Unknown quasi-identifier.");
        }

        static string Or(string? value) => string.IsNullOrWhiteSpace(value) ? Unknown : value;
    }

    /// <summary>
    /// The grouping key of a value: the exported value, except that school at level 0 also carries the
    /// school level its level-1 value depends on (a K-8 school splits), so every level is a function of the level below.
    /// </summary>
    public static string Key(string attribute, int level, ResolvedChild child, DateOnly periodStart, IReadOnlyDictionary<string, string>? districts)
    {
        var value = Generalize(attribute, level, child, periodStart, districts);
        return attribute == School && level == 0 && value != Unknown && districts is not { Count: > 0 }
            ? value + KeySeparator + (string.IsNullOrWhiteSpace(child.Grade) ? Unknown : GradeBand(child.Grade))
            : value;
    }

    /// <summary>Separates an exported value from the rest of its grouping key.</summary>
    public const char KeySeparator = '\u001f';

    /// <summary>The exported value of a grouping key.</summary>
    public static string Display(string key) => key.IndexOf(KeySeparator, StringComparison.Ordinal) is var i and >= 0 ? key[..i] : key;

    private static string GradeBand(string grade) => grade switch
    {
        "PK" or "K" => "EarlyChildhood",
        "1" or "2" or "3" or "4" or "5" => "Elementary",
        "6" or "7" or "8" => "Middle",
        "9" or "10" or "11" or "12" => "High",
        _ => Unknown,
    };
}

/// <summary>A child's demographics after the resolution rule: no identifier but the child key, which never leaves the service.</summary>
public sealed record ResolvedChild(DateOnly? BirthDate, string? Sex, string? Race, string? Ethnicity, string? Zip3, string? Grade, string? School);


namespace ChildShare.Core.Activity;

/// <summary>The dimensions an aggregate report may group by (canonical names; matched case-insensitively).</summary>
public static class ReportDimensions
{
    public const string Provider = "provider";
    public const string Program = "program";
    public const string ServiceType = "serviceType";
    public const string Sex = "sex";
    public const string Race = "race";
    public const string Ethnicity = "ethnicity";
    public const string AgeBand = "ageBand";
    public const string Grade = "grade";
    public const string Zip3 = "zip3";

    public static readonly IReadOnlyList<string> All = [Provider, Program, ServiceType, Sex, Race, Ethnicity, AgeBand, Grade, Zip3];

    /// <summary>Dimensions a child may take several values of at once (one per provider or service).</summary>
    public static readonly IReadOnlyList<string> MultiValued = [Provider, Program, ServiceType];

    /// <summary>Demographic dimensions: one value per child, by the resolution rule of REPORTS.md.</summary>
    public static readonly IReadOnlyList<string> Demographic = [Sex, Race, Ethnicity, AgeBand, Grade, Zip3];

    /// <summary>The stored column each demographic dimension is kept in.</summary>
    internal static readonly Dictionary<string, string> DemographicColumns = new(StringComparer.Ordinal)
    {
        [Sex] = "Sex",
        [Race] = "Race",
        [Ethnicity] = "Ethnicity",
        [AgeBand] = "BirthDate",
        [Grade] = "Grade",
        [Zip3] = "Zip3",
    };

    public static bool IsKnown(string name) => Canonical(name) is not null;

    public static string? Canonical(string name) => All.FirstOrDefault(d => string.Equals(d, name?.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The age band of a child on a day: 0-4, 5-9, 10-14, 15-17, 18+, or Unknown.</summary>
    public static string AgeBandOf(DateOnly? birthDate, DateOnly on)
    {
        if (birthDate is not { } birth || birth > on)
        {
            return Unknown;
        }

        var age = on.Year - birth.Year - (on < birth.AddYears(on.Year - birth.Year) ? 1 : 0);
        return age switch
        {
            <= 4 => "0-4",
            <= 9 => "5-9",
            <= 14 => "10-14",
            <= 17 => "15-17",
            _ => "18+",
        };
    }

    /// <summary>The value of a demographic no included provider reported.</summary>
    public const string Unknown = "Unknown";

    /// <summary>The value of a dimension summed over (in totals and subtotals) or not grouped by.</summary>
    public const string AllValues = "(all)";
}

namespace ChildShare.Core.Ingestion;

/// <summary>
/// The canonical values of coded fields, and the common spellings accepted without a code map
/// ("F", "Female", "Hispanic", "Pacific Islander"...). A provider's own codes go in its profile.
/// </summary>
public static class CodeValues
{
    private static readonly Dictionary<string, Sex> SexWords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["F"] = Sex.Female, ["Female"] = Sex.Female, ["Girl"] = Sex.Female,
        ["M"] = Sex.Male, ["Male"] = Sex.Male, ["Boy"] = Sex.Male,
        ["X"] = Sex.NonBinary, ["NonBinary"] = Sex.NonBinary, ["Non-binary"] = Sex.NonBinary,
        ["U"] = Sex.Unknown, ["Unknown"] = Sex.Unknown,
    };

    private static readonly Dictionary<string, Race> RaceWords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["AmericanIndianOrAlaskaNative"] = Race.AmericanIndianOrAlaskaNative,
        ["American Indian or Alaska Native"] = Race.AmericanIndianOrAlaskaNative,
        ["American Indian"] = Race.AmericanIndianOrAlaskaNative,
        ["Alaska Native"] = Race.AmericanIndianOrAlaskaNative,
        ["Asian"] = Race.Asian,
        ["BlackOrAfricanAmerican"] = Race.BlackOrAfricanAmerican,
        ["Black or African American"] = Race.BlackOrAfricanAmerican,
        ["Black"] = Race.BlackOrAfricanAmerican,
        ["African American"] = Race.BlackOrAfricanAmerican,
        ["NativeHawaiianOrOtherPacificIslander"] = Race.NativeHawaiianOrOtherPacificIslander,
        ["Native Hawaiian or Other Pacific Islander"] = Race.NativeHawaiianOrOtherPacificIslander,
        ["Native Hawaiian"] = Race.NativeHawaiianOrOtherPacificIslander,
        ["Pacific Islander"] = Race.NativeHawaiianOrOtherPacificIslander,
        ["White"] = Race.White,
        ["TwoOrMore"] = Race.TwoOrMore,
        ["Two or more"] = Race.TwoOrMore,
        ["Two or more races"] = Race.TwoOrMore,
        ["Multiracial"] = Race.TwoOrMore,
        ["Unknown"] = Race.Unknown,
        ["Declined"] = Race.Unknown,
    };

    private static readonly Dictionary<string, Ethnicity> EthnicityWords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["HispanicOrLatino"] = Ethnicity.HispanicOrLatino,
        ["Hispanic or Latino"] = Ethnicity.HispanicOrLatino,
        ["Hispanic"] = Ethnicity.HispanicOrLatino,
        ["Latino"] = Ethnicity.HispanicOrLatino,
        ["Y"] = Ethnicity.HispanicOrLatino,
        ["Yes"] = Ethnicity.HispanicOrLatino,
        ["NotHispanicOrLatino"] = Ethnicity.NotHispanicOrLatino,
        ["Not Hispanic or Latino"] = Ethnicity.NotHispanicOrLatino,
        ["Not Hispanic"] = Ethnicity.NotHispanicOrLatino,
        ["N"] = Ethnicity.NotHispanicOrLatino,
        ["No"] = Ethnicity.NotHispanicOrLatino,
        ["Unknown"] = Ethnicity.Unknown,
    };

    private static readonly Dictionary<string, string> GradeWords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["PK"] = "PK", ["Pre-K"] = "PK", ["PreK"] = "PK", ["P"] = "PK", ["Prekindergarten"] = "PK",
        ["K"] = "K", ["KG"] = "K", ["Kindergarten"] = "K", ["0"] = "K", ["00"] = "K",
    };

    private static readonly string[] OrdinalSuffixes = ["st", "nd", "rd", "th"];

    public static bool TryParseSex(string value, out Sex sex) => SexWords.TryGetValue(value.Trim(), out sex);

    public static bool TryParseRace(string value, out Race race) => RaceWords.TryGetValue(value.Trim(), out race);

    public static bool TryParseEthnicity(string value, out Ethnicity ethnicity) => EthnicityWords.TryGetValue(value.Trim(), out ethnicity);

    /// <summary>Grade to PK, K or 1..12 ("01", "1st", "Grade 3" accepted).</summary>
    public static bool TryParseGrade(string value, out string grade)
    {
        var text = value.Trim();
        if (GradeWords.TryGetValue(text, out var word))
        {
            grade = word;
            return true;
        }

        if (text.StartsWith("Grade", StringComparison.OrdinalIgnoreCase))
        {
            text = text[5..].Trim();
        }

        foreach (var suffix in OrdinalSuffixes)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                text = text[..^2];
                break;
            }
        }

        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
            && number is >= 1 and <= 12)
        {
            grade = number.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return true;
        }

        grade = "";
        return false;
    }

    /// <summary>Whether a code map's target is a canonical value of the field.</summary>
    public static bool IsCanonical(CanonicalField field, string value) => field switch
    {
        CanonicalField.Sex => Enum.TryParse<Sex>(value, ignoreCase: false, out _) && !int.TryParse(value, out _),
        CanonicalField.Race => Enum.TryParse<Race>(value, ignoreCase: false, out _) && !int.TryParse(value, out _),
        CanonicalField.Ethnicity => Enum.TryParse<Ethnicity>(value, ignoreCase: false, out _) && !int.TryParse(value, out _),
        CanonicalField.Grade => TryParseGrade(value, out var grade) && grade == value,
        CanonicalField.Program or CanonicalField.ServiceType => !string.IsNullOrWhiteSpace(value),
        _ => false,
    };

    /// <summary>The canonical values of a field, for error messages.</summary>
    public static string Describe(CanonicalField field) => field switch
    {
        CanonicalField.Sex => string.Join(", ", Enum.GetNames<Sex>()),
        CanonicalField.Race => string.Join(", ", Enum.GetNames<Race>()),
        CanonicalField.Ethnicity => string.Join(", ", Enum.GetNames<Ethnicity>()),
        CanonicalField.Grade => "PK, K, 1 to 12",
        _ => "any non-empty text",
    };
}

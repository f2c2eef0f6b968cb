
namespace ChildShare.Core.Agreements;

/// <summary>
/// What an agreement that permits <c>DeIdentified</c> exports asks of them (see EXPORTS.md). Every
/// member has a protective default, so an agreement without terms still exports safely.
/// </summary>
public sealed record DeidentificationTerms
{
    public const double DefaultMaxSuppression = 0.05;

    /// <summary>The k of k-anonymity; null: the agreement's minimum cell size.</summary>
    public int? K { get; init; }

    /// <summary>Quasi-identifiers, generalized together; null: all of <see cref="QuasiIdentifierNames.Default"/>. Attributes not listed are not exported.</summary>
    public IReadOnlyList<string>? QuasiIdentifiers { get; init; }

    /// <summary>The largest share of children that may be suppressed (0 to 0.5).</summary>
    public double MaxSuppression { get; init; } = DefaultMaxSuppression;

    /// <summary>Whether a second file of one row per service record may be requested.</summary>
    public bool ServiceRows { get; init; }

    /// <summary>School name to district name (a generalization level of school); empty: school generalizes to its school level.</summary>
    public IReadOnlyDictionary<string, string>? SchoolDistricts { get; init; }

    /// <summary>Optional sensitive attribute for l-diversity (<c>serviceTypes</c> or <c>programs</c>).</summary>
    public string? SensitiveAttribute { get; init; }

    /// <summary>The l of l-diversity over <see cref="SensitiveAttribute"/> (distinct values per class); 1: none.</summary>
    public int L { get; init; } = 1;
}

/// <summary>The checks an agreement's de-identification terms must pass (called by the agreement validator).</summary>
public static class DeidentificationTermsValidator
{
    public const int SmallestK = 2;
    public const int LargestK = 100_000;
    public const double LargestMaxSuppression = 0.5;

    /// <summary>Sensitive attributes l-diversity can be asked over.</summary>
    public static readonly IReadOnlyList<string> SensitiveAttributes = ["serviceTypes", "programs"];

    public static List<string> Validate(DeidentificationTerms terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        var errors = new List<string>();
        if (terms.K is { } k && k is < SmallestK or > LargestK)
        {
            errors.Add($"The k of de-identified exports is between {SmallestK} and {LargestK:N0}.");
        }

        if (double.IsNaN(terms.MaxSuppression) || terms.MaxSuppression is < 0 or > LargestMaxSuppression)
        {
            errors.Add($"The suppression limit of de-identified exports is between 0 and {LargestMaxSuppression}.");
        }

        foreach (var name in (terms.QuasiIdentifiers ?? []).Where(q => QuasiIdentifierNames.Canonical(q) is null))
        {
            errors.Add($"'{name}' is not a quasi-identifier; they are {string.Join(", ", QuasiIdentifierNames.Default)}.");
        }

        if (terms.SensitiveAttribute is { } sensitive && !SensitiveAttributes.Contains(sensitive, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"The sensitive attribute is one of {string.Join(", ", SensitiveAttributes)}.");
        }

        if (terms.L is < 1 or > 100)
        {
            errors.Add("The l of l-diversity is between 1 and 100.");
        }

        if (terms.L > 1 && terms.SensitiveAttribute is null)
        {
            errors.Add("l-diversity needs a sensitive attribute.");
        }

        return errors;
    }
}

/// <summary>
/// The quasi-identifiers a de-identified export may carry, by the names an agreement's terms use. Their generalization
/// hierarchies are the export's (Sharing/Deidentified/QuasiIdentifiers.cs); the names live here so an agreement is
/// validated without the export.
/// </summary>
public static class QuasiIdentifierNames
{
    public const string Age = "age";
    public const string Sex = "sex";
    public const string Race = "race";
    public const string Ethnicity = "ethnicity";
    public const string Zip = "zip";
    public const string Grade = "grade";
    public const string School = "school";

    public static readonly IReadOnlyList<string> Default = [Age, Sex, Race, Ethnicity, Zip, Grade, School];

    public static string? Canonical(string name) => Default.FirstOrDefault(d => string.Equals(d, name?.Trim(), StringComparison.OrdinalIgnoreCase));
}

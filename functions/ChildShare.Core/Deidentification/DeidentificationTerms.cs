namespace ChildShare.Core.Deidentification;

/// <summary>
/// What an agreement that permits <c>DeIdentified</c> exports asks of them (see EXPORTS.md). Every
/// member has a protective default, so an agreement without terms still exports safely.
/// </summary>
public sealed record DeidentificationTerms
{
    public const double DefaultMaxSuppression = 0.05;

    /// <summary>The k of k-anonymity; null: the agreement's minimum cell size.</summary>
    public int? K { get; init; }

    /// <summary>Quasi-identifiers, generalized together; null: all of <see cref="QuasiIdentifiers.Default"/>. Attributes not listed are not exported.</summary>
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

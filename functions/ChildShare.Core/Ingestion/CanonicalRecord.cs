using System.Text.Json.Serialization;

namespace ChildShare.Core.Ingestion;

/// <summary>Sex as reported. Unknown where the provider did not say.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Sex>))]
public enum Sex
{
    Unknown,
    Female,
    Male,
    NonBinary,
}

/// <summary>The US federal race categories, with "two or more" for children reported with several.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Race>))]
public enum Race
{
    Unknown,
    AmericanIndianOrAlaskaNative,
    Asian,
    BlackOrAfricanAmerican,
    NativeHawaiianOrOtherPacificIslander,
    White,
    TwoOrMore,
}

/// <summary>Hispanic or Latino ethnicity as reported.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Ethnicity>))]
public enum Ethnicity
{
    Unknown,
    HispanicOrLatino,
    NotHispanicOrLatino,
}

/// <summary>
/// A name as the provider wrote it (for display in consented identifiable reports) and the folded
/// form used for matching. The matching form is null for placeholders such as "Unknown" or "Baby Boy".
/// </summary>
public sealed record PersonName(string Display, string? Match);

/// <summary>
/// Who the child is, as one provider knows them. Only the local child id and one name part are required: a child without a
/// birth date or without a first (or last) name is still a child served, accepted with an incomplete identity (see
/// <see cref="IsIncomplete"/>); linkage links it with the evidence it has.
/// </summary>
public sealed record ChildIdentity
{
    public required string LocalChildId { get; init; }

    public string? StateStudentId { get; init; }

    public required PersonName FirstName { get; init; }

    public PersonName? MiddleName { get; init; }

    public required PersonName LastName { get; init; }

    public string? Suffix { get; init; }

    /// <summary>Null when the row gave none, or one ingestion could not use (unreadable, in the future, outside the configured ages): the identity is then incomplete.</summary>
    public DateOnly? BirthDate { get; init; }

    /// <summary>True when the first name, the last name (or their matching forms: placeholders) or the birth date is missing.</summary>
    public bool IsIncomplete => FirstName.Match is null || LastName.Match is null || BirthDate is null;

    /// <summary>The street address as the provider wrote it (for display in consented identifiable reports), or null.</summary>
    public string? StreetAddress { get; init; }
}

/// <summary>Demographics as one provider reports them.</summary>
public sealed record Demographics
{
    public Sex Sex { get; init; }

    public Race Race { get; init; }

    /// <summary>Every race reported, for children reported with two or more.</summary>
    public IReadOnlyList<Race> Races { get; init; } = [];

    public Ethnicity Ethnicity { get; init; }

    /// <summary>Five-digit zip code, or null.</summary>
    public string? Zip { get; init; }

    /// <summary>PK, K, or 1 to 12, or null.</summary>
    public string? Grade { get; init; }

    public string? School { get; init; }
}

/// <summary>One service or enrollment record.</summary>
public sealed record ServiceRecord
{
    public required string Program { get; init; }

    public required string ServiceType { get; init; }

    public required DateOnly Start { get; init; }

    /// <summary>Null while the service is still open.</summary>
    public DateOnly? End { get; init; }

    public double? Hours { get; init; }

    public int? DaysAttended { get; init; }
}

/// <summary>One accepted upload row: one child and optionally one service record.</summary>
public sealed record CanonicalRecord(int LineNumber, ChildIdentity Identity, Demographics Demographics, ServiceRecord? Service)
{
    /// <summary>Values of the row that could not be used and were left out (the row is kept): listed in the rejects file as notes.</summary>
    public IReadOnlyList<RowRejection> Notes { get; init; } = [];
}

using System.Text.Json.Serialization;

namespace ChildShare.Core.Ingestion;

/// <summary>The fields of ChildShare's canonical model that a provider's columns map to.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CanonicalField>))]
public enum CanonicalField
{
    LocalChildId,
    StateStudentId,
    FirstName,
    MiddleName,
    LastName,
    Suffix,

    /// <summary>A whole name in one column: "Last, First Middle" or "First Middle Last".</summary>
    FullName,
    BirthDate,
    Sex,
    Race,
    Ethnicity,
    Zip,
    Grade,
    School,
    Program,
    ServiceType,
    ServiceStart,
    ServiceEnd,
    Hours,
    DaysAttended,

    /// <summary>
    /// Optional: the child's street address as one line ("123 N Main St Apt 4"). Kept as written with the
    /// direct identifiers and offered to linkage in its match form (<see cref="AddressNormalizer"/>).
    /// </summary>
    StreetAddress,
}

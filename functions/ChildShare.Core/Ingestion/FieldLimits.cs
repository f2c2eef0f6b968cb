namespace ChildShare.Core.Ingestion;

/// <summary>
/// How long a cell of each canonical field, and a row, may be. A cell past its limit rejects its
/// row; a quoted cell that runs past its limit across a line break is taken for an unclosed quote
/// swallowing the rows after it (see <see cref="UploadFileReader"/>). Unmapped columns are not kept
/// and only count toward the row's limits.
/// </summary>
public static class FieldLimits
{
    /// <summary>LocalChildId and StateStudentId.</summary>
    public const int Identifier = 100;

    /// <summary>FirstName, MiddleName, LastName and Suffix.</summary>
    public const int NamePart = 100;

    /// <summary>FullName: a whole name in one cell.</summary>
    public const int FullName = 200;

    /// <summary>BirthDate, ServiceStart and ServiceEnd (a date, maybe with a time).</summary>
    public const int Date = 40;

    /// <summary>Sex, Race, Ethnicity, Grade, Zip, Hours, DaysAttended: codes and numbers (several race codes fit).</summary>
    public const int Code = 200;

    /// <summary>School, Program and ServiceType: free text, kept and shown in reports.</summary>
    public const int FreeText = 200;

    /// <summary>The longest physical line, and the longest row across its lines, in characters.</summary>
    public const int MaxRowCharacters = 65_536;

    /// <summary>The most physical lines one row may span through quoted line breaks.</summary>
    public const int MaxLinesPerRow = 20;

    /// <summary>The longest cell accepted for a canonical field, in characters after trimming.</summary>
    public static int For(CanonicalField field) => field switch
    {
        CanonicalField.LocalChildId or CanonicalField.StateStudentId => Identifier,
        CanonicalField.FirstName or CanonicalField.MiddleName or CanonicalField.LastName or CanonicalField.Suffix => NamePart,
        CanonicalField.FullName => FullName,
        CanonicalField.BirthDate or CanonicalField.ServiceStart or CanonicalField.ServiceEnd => Date,
        CanonicalField.School or CanonicalField.Program or CanonicalField.ServiceType => FreeText,
        CanonicalField.StreetAddress => AddressNormalizer.MaxLength,
        _ => Code,
    };
}

namespace ChildShare.Core.Sharing.Identifiable;

/// <summary>
/// The data categories a consent may cover, and what each releases in an identifiable report:
/// <list type="bullet">
/// <item><c>identity</c>: the identities row (local id, names, suffix, birth date, state student id), never the street address.</item>
/// <item><c>address</c>: the identities row's street address, on its own opt-in: a consent recorded for
/// <c>identity</c> before addresses were collected never covered it.</item>
/// <item><c>demographics</c>: the record's birth date, sex, race(s), ethnicity and zip.</item>
/// <item><c>academic</c>: the record's grade and school.</item>
/// <item><c>enrollment</c>: each service record's program and dates (start, end, as of).</item>
/// <item><c>services</c>: each service record's service type (what kind of service), with its program and dates.</item>
/// <item><c>attendance</c>: each service record's hours and days attended, with its program and dates.</item>
/// </list>
/// Service records are released only when their period overlaps the consent's data dates.
/// </summary>
public static class ConsentCategories
{
    public const string Identity = "identity";
    public const string Address = "address";
    public const string Demographics = "demographics";
    public const string Academic = "academic";
    public const string Enrollment = "enrollment";
    public const string Services = "services";
    public const string Attendance = "attendance";

    public static readonly IReadOnlyList<string> All = [Identity, Address, Demographics, Academic, Enrollment, Services, Attendance];

    /// <summary>The categories carried by service records.</summary>
    public static readonly IReadOnlyList<string> ServiceCategories = [Enrollment, Services, Attendance];

    public static string? Canonical(string? category) =>
        All.FirstOrDefault(c => string.Equals(c, category?.Trim(), StringComparison.OrdinalIgnoreCase));
}

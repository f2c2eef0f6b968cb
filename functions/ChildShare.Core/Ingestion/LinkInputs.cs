using System.Globalization;
using ChildShare.Core.Linkage;

namespace ChildShare.Core.Ingestion;

/// <summary>What an accepted row offers to linkage: the one place ingestion's identity and demographics become a <see cref="LinkInput"/>.</summary>
public static class LinkInputs
{
    public static LinkInput From(ChildIdentity identity, Demographics demographics)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(demographics);
        var birth = identity.BirthDate;
        return new LinkInput(
            identity.FirstName.Match, identity.LastName.Match,
            birth is { } b ? YearText(b.Year) : null,
            birth is { } m ? TwoDigits[m.Month] : null,
            birth is { } d ? TwoDigits[d.Day] : null,
            SexText(demographics.Sex), demographics.Zip, LinkInput.NormalizeStateId(identity.StateStudentId),
            AddressNormalizer.MatchForm(identity.StreetAddress));
    }

    // Every row formats its birth date's parts: the texts of months, days and plausible years are made once.
    private const int FirstYear = 1900;

    private static readonly string[] TwoDigits = [.. Enumerable.Range(0, 32).Select(i => i.ToString("D2", CultureInfo.InvariantCulture))];

    private static readonly string[] Years = [.. Enumerable.Range(FirstYear, 250).Select(i => i.ToString("D4", CultureInfo.InvariantCulture))];

    private static string YearText(int year) =>
        year - FirstYear is var i && (uint)i < (uint)Years.Length ? Years[i] : year.ToString("D4", CultureInfo.InvariantCulture);

    private static string? SexText(Sex sex) => sex switch
    {
        Sex.Unknown => null,
        Sex.Female => nameof(Sex.Female),
        Sex.Male => nameof(Sex.Male),
        Sex.NonBinary => nameof(Sex.NonBinary),
        _ => sex.ToString(),
    };
}

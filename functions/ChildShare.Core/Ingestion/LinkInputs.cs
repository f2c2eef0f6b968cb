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
        return new LinkInput(
            identity.FirstName.Match, identity.LastName.Match,
            identity.BirthDate?.Year.ToString("D4", CultureInfo.InvariantCulture),
            identity.BirthDate?.Month.ToString("D2", CultureInfo.InvariantCulture),
            identity.BirthDate?.Day.ToString("D2", CultureInfo.InvariantCulture),
            demographics.Sex == Sex.Unknown ? null : demographics.Sex.ToString(), demographics.Zip, LinkInput.NormalizeStateId(identity.StateStudentId),
            AddressNormalizer.MatchForm(identity.StreetAddress));
    }
}

namespace ChildShare.Core.Organizations;

/// <summary>
/// The shape of an organization's id (a provider, a recipient, a key's or a principal's organization),
/// shared by every module that accepts one, so none needs the provider registry (Ingestion) to check it.
/// </summary>
public static class OrganizationIds
{
    /// <summary>Organization ids are folder names and table keys: 2 to 63 lowercase letters, digits and dashes, not starting with a dash.</summary>
    public static bool IsValid(string id) =>
        id.Length is >= 2 and <= 63 && id.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') && id[0] != '-';
}

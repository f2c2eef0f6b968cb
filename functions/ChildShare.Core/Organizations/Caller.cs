using System.Text.Json.Serialization;

namespace ChildShare.Core.Organizations;

/// <summary>The roles a caller can hold. <c>Reader</c> may request shared data; <c>Admin</c> may also manage agreements.</summary>
public static class CallerRoles
{
    public const string Reader = "Reader";
    public const string Admin = "Admin";

    public static readonly IReadOnlyList<string> All = [Reader, Admin];

    public static bool IsValid(string role) => All.Contains(role, StringComparer.Ordinal);
}

/// <summary>How a caller proved who they are.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CallerAuthMethod>))]
public enum CallerAuthMethod
{
    EntraId,
    ApiKey,

    /// <summary>An operator on the command line acting for an organization (<c>--as ORG</c>); the credential id is <c>operator:{user}</c>.</summary>
    Operator,
}

/// <summary>
/// An authenticated caller, always attributed to an organization. <see cref="CredentialId"/> is
/// the API key id or the Entra object id: an account identifier, never a child's.
/// </summary>
public sealed record Caller(string OrganizationId, string Role, CallerAuthMethod Method, string CredentialId)
{
    public bool IsAdmin => Role == CallerRoles.Admin;

    /// <summary>
    /// An operator acting for an organization from the command line: the organization's Reader rights,
    /// never Admin, so the same decision point decides; the audit says who acted on whose behalf.
    /// </summary>
    public static Caller OperatorFor(string organizationId, string operatorName)
    {
        if (!OrganizationIds.IsValid(organizationId))
        {
            throw new ArgumentException("An organization id is 2 to 63 lowercase letters, digits and dashes.", nameof(organizationId));
        }

        return new Caller(organizationId, CallerRoles.Reader, CallerAuthMethod.Operator, "operator:" + operatorName);
    }

    /// <summary>Who acted, in words for the audit: <c>operator:alice on behalf of county-health</c> for an operator, else empty.</summary>
    public string OnBehalfOf => Method == CallerAuthMethod.Operator ? $"{CredentialId} on behalf of {OrganizationId}" : "";

    /// <summary>The community's operator at the command line, acting for no organization (agreements, manifests): audited as <c>operator</c>.</summary>
    public static Caller CommunityOperator(string user) => new("operator", CallerRoles.Admin, CallerAuthMethod.Operator, "operator:" + user);
}

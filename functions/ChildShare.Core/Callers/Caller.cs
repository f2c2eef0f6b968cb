namespace ChildShare.Core.Callers;

/// <summary>The roles a caller can hold. <c>Reader</c> may request shared data; <c>Admin</c> may also manage agreements.</summary>
public static class CallerRoles
{
    public const string Reader = "Reader";
    public const string Admin = "Admin";

    public static readonly IReadOnlyList<string> All = [Reader, Admin];

    public static bool IsValid(string role) => All.Contains(role, StringComparer.Ordinal);
}

/// <summary>How a caller proved who they are.</summary>
public enum CallerAuthMethod
{
    EntraId,
    ApiKey,

    /// <summary>An operator at the command line, acting for a named organization (never over HTTP).</summary>
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
    /// An operator acting for <paramref name="organizationId"/> at the command line: the organization's
    /// own rules apply (a Reader, never an Admin), and the audit names both (credential <c>operator:{user}</c>).
    /// </summary>
    public static Caller OperatorFor(string organizationId, string user) =>
        new(organizationId, CallerRoles.Reader, CallerAuthMethod.Operator, "operator:" + user);

    /// <summary>The community's operator at the command line, acting for no organization (agreements, manifests): audited as <c>operator</c>.</summary>
    public static Caller CommunityOperator(string user) => new("operator", CallerRoles.Admin, CallerAuthMethod.Operator, "operator:" + user);
}

/// <summary>The outcome of resolving a request's credentials: a caller, or why there is none.</summary>
public sealed record CallerResult(Caller? Caller, string? Failure)
{
    public static CallerResult Success(Caller caller) => new(caller, null);

    public static CallerResult Fail(string reason) => new(null, reason);
}

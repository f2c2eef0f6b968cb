namespace ChildShare.Core.Callers;

/// <summary>Caller authentication settings (section <c>Callers</c>).</summary>
public sealed class CallerOptions
{
    public const string SectionName = "Callers";

    /// <summary>
    /// Trust the <c>X-MS-CLIENT-PRINCIPAL</c> header of App Service Authentication (Entra ID sign-in).
    /// In Azure the template sets it from the same parameter that configures App Service
    /// Authentication; even when true, the header is trusted only while the platform reports App
    /// Service Authentication enabled (<see cref="AppServiceAuthentication"/>), because only then does
    /// the platform keep callers from sending the header themselves. False locally.
    /// </summary>
    public bool TrustClientPrincipalHeader { get; set; }

    /// <summary>
    /// The Microsoft Entra authority that issues tokens for this app, e.g.
    /// <c>https://login.microsoftonline.com/{tenant id}</c>. When set (and Entra ID sign-in is on), a 401
    /// names it in <c>WWW-Authenticate</c>, which is how Power BI's organizational account sign-in finds
    /// where to get a token. Empty: no challenge.
    /// </summary>
    public string EntraAuthority { get; set; } = "";

    /// <summary>Days an issued API key stays valid unless the operator says otherwise.</summary>
    public int DefaultApiKeyDays { get; set; } = 365;
}

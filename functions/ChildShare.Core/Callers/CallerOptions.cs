namespace ChildShare.Core.Callers;

/// <summary>Caller authentication settings (section <c>Callers</c>).</summary>
public sealed class CallerOptions
{
    public const string SectionName = "Callers";

    /// <summary>
    /// Trust the <c>X-MS-CLIENT-PRINCIPAL</c> header. Set true only where App Service Authentication
    /// is enabled (it strips that header from incoming requests); false locally, where anyone could send it.
    /// </summary>
    public bool TrustClientPrincipalHeader { get; set; }

    /// <summary>Days an issued API key stays valid unless the operator says otherwise.</summary>
    public int DefaultApiKeyDays { get; set; } = 365;
}

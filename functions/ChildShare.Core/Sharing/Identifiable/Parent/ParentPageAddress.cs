namespace ChildShare.Core.Sharing.Identifiable.Parent;

/// <summary>
/// Where the page's links and forms point: <c>{path}?link={token}&amp;…</c> and <c>{path}/{action}?link={token}</c>.
/// The token travels in the query string, never in the path, because the Functions host's request
/// telemetry keeps a request's path and drops its query (infra/DEPLOY.md): the token is the parent's credential.
/// </summary>
public sealed record ParentPageAddress(string Path, string Token)
{
    /// <summary>The query parameter that carries the link's token.</summary>
    public const string TokenParameter = "link";

    /// <summary>The page itself with more query parameters (<paramref name="query"/> without a leading <c>&amp;</c>).</summary>
    public string View(string query) => $"{Path}?{TokenParameter}={Uri.EscapeDataString(Token)}&{query}";

    /// <summary>A form post of the page (<c>revoke</c> or <c>confirm</c>).</summary>
    public string Post(string action) => $"{Path}/{action}?{TokenParameter}={Uri.EscapeDataString(Token)}";
}

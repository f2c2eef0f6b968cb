using System.ComponentModel.DataAnnotations;

namespace ChildShare.Core.Sharing.Identifiable.Parent;

/// <summary>The parent's signed-link page (section <c>ParentLink</c>, app settings <c>ParentLink__...</c>; see CONSENT.md).</summary>
public sealed class ParentLinkOptions
{
    public const string SectionName = "ParentLink";

    /// <summary>The public address of the function app that links start with (a link is <c>{BaseUrl}/api/parent?link={token}</c>).</summary>
    [Required]
    [Url]
    public string BaseUrl { get; set; } = "http://localhost:7071";

    /// <summary>How long a new link is valid (default 30 days).</summary>
    [Range(1, 365)]
    public int LinkDays { get; set; } = 30;

    /// <summary>Requests one link may make within one clock hour (UTC) before it is refused (429) until the next hour.</summary>
    [Range(1, 100_000)]
    public int RequestsPerLinkPerHour { get; set; } = 60;

    /// <summary>Requests one client address may make to parent pages within one clock hour, whatever link it presents.</summary>
    [Range(1, 100_000)]
    public int RequestsPerClientPerHour { get; set; } = 120;
}

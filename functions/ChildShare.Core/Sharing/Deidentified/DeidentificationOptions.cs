using System.ComponentModel.DataAnnotations;
using ChildShare.Core.Activity;

namespace ChildShare.Core.Sharing.Deidentified;

/// <summary>De-identified export settings (section <c>Deidentification</c>).</summary>
public sealed class DeidentificationOptions
{
    public const string SectionName = "Deidentification";

    /// <summary>Exports with more rows than this are written to the exports container and returned as a short-lived link.</summary>
    [Range(0, 10_000_000)]
    public int InlineRowLimit { get; set; } = 50_000;

    /// <summary>Minutes a download link stays valid.</summary>
    [Range(1, 1440)]
    public int LinkMinutes { get; set; } = 15;
}

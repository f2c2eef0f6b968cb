using System.ComponentModel.DataAnnotations;

namespace ChildShare.Core.Ingestion;

/// <summary>Rules and limits of ingestion (section <c>Ingestion</c>).</summary>
public sealed class IngestionOptions
{
    public const string SectionName = "Ingestion";

    /// <summary>The youngest plausible age, in whole years on the day of the upload.</summary>
    [Range(0, 30)]
    public int MinChildAgeYears { get; set; }

    /// <summary>The oldest plausible age, in years on the day of the upload (child-serving programs reach 21 to 25).</summary>
    [Range(1, 30)]
    public int MaxChildAgeYears { get; set; } = 25;

    /// <summary>Deliveries of one upload before its manifest is marked failed and it is not retried again.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Entities buffered before batches are written: bounds memory however large the file.</summary>
    [Range(100, 100_000)]
    public int MaxBufferedEntities { get; set; } = 5000;

    /// <summary>
    /// Rows between two progress reports while parsing: often enough for a display, rarely enough to cost nothing. Not a setting (internal, so configuration never binds it): a
    /// test lowers it to see every report on a small file.
    /// </summary>
    internal int ProgressEveryRows { get; set; } = 5000;
}

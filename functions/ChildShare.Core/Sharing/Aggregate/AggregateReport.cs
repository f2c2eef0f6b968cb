using System.Text.Json.Serialization;
using ChildShare.Core.Activity;

namespace ChildShare.Core.Sharing.Aggregate;

/// <summary>
/// One flat row of an aggregate report. Every row has every column, whatever the grouping, so
/// Power BI sees one schema: a dimension not grouped by, or summed over in a subtotal or total,
/// reads <c>(all)</c>. <see cref="Children"/> is null exactly when <see cref="Suppressed"/>, and then
/// <see cref="SuppressionReason"/> is <see cref="Suppression"/> (otherwise empty).
/// </summary>
public sealed record ReportRow(
    string PeriodStart,
    string PeriodEnd,
    string RowType,
    string Provider,
    string Program,
    string ServiceType,
    string Sex,
    string Race,
    string Ethnicity,
    string AgeBand,
    string Grade,
    string Zip3,
    long? Children,
    bool Suppressed,
    string SuppressionReason)
{
    /// <summary>
    /// The one <see cref="SuppressionReason"/> of every hidden cell. Small cells and the cells hidden
    /// to protect them are labelled alike: a label "complementary" would tell a reader that the cell
    /// holds at least the minimum, which with the shown margins can pin the small cell beside it.
    /// </summary>
    public const string Suppression = "small-cell";

    /// <summary>The columns, in order, as JSON property and CSV header names.</summary>
    public static readonly IReadOnlyList<string> Columns =
        ["periodStart", "periodEnd", "rowType", "provider", "program", "serviceType", "sex", "race", "ethnicity", "ageBand", "grade", "zip3", "children", "suppressed", "suppressionReason"];
}

/// <summary>A provider whose data is in the report, under which agreement.</summary>
public sealed record IncludedProvider(string ProviderId, string AgreementId, int AgreementVersion);

/// <summary>A provider whose data is not in the report, and why.</summary>
public sealed record ExcludedProvider(string ProviderId, string Reason);

/// <summary>
/// How many cells were hidden and what protection the shown counts carry; never the values, and
/// not which hidden cells are small and which were hidden to protect them: that split turns the
/// bounds of hidden cells into exact values (REPORTS.md, "Differencing and combining reports").
/// </summary>
public sealed record SuppressionReceipt(
    int MinimumCellSize,
    int CellsSuppressed,
    string DifferencingProtection,
    IReadOnlyList<string> Explanation);

/// <summary>The report metadata that travels with every page.</summary>
public sealed record ReportMetadata(
    string PeriodStart,
    string PeriodEnd,
    IReadOnlyList<string> GroupBy,
    string CountedUnit,
    string DemographicRule,
    IReadOnlyList<IncludedProvider> ProvidersIncluded,
    IReadOnlyList<ExcludedProvider> ProvidersExcluded,
    SuppressionReceipt Suppression,
    int TotalRows);

/// <summary>One page of a report: its rows and the metadata.</summary>
public sealed record ReportPage(
    [property: JsonPropertyName("value")] IReadOnlyList<ReportRow> Value,
    [property: JsonPropertyName("metadata")] ReportMetadata Metadata,
    [property: JsonIgnore] int Skip,
    [property: JsonIgnore] int Top,
    [property: JsonIgnore] ReportFormat Format)
{
    [JsonIgnore]
    public bool HasMore => Skip + Value.Count < Metadata.TotalRows;
}

public enum ReportStatus
{
    Ok,
    BadRequest,
    Forbidden,
}

/// <summary>What the report service answers: a page, or a bad request's errors, or a refusal and its reasons.</summary>
public sealed record ReportResult(ReportStatus Status, ReportPage? Page, IReadOnlyList<string> Errors, IReadOnlyList<ExcludedProvider> Excluded)
{
    /// <summary>What the run read and built (entities read, cells...), for the benchmark and diagnostics.</summary>
    public ReportRunStats? Stats { get; init; }
}

/// <summary>The grouping makes more cells than a report builds.</summary>
public sealed class ReportTooLargeException(string message) : Exception(message);

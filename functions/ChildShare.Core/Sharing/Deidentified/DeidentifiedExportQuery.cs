using System.Globalization;
using System.Text.Json.Serialization;
using ChildShare.Core.Activity;

namespace ChildShare.Core.Sharing.Deidentified;

[JsonConverter(typeof(JsonStringEnumConverter<ExportFormat>))]
public enum ExportFormat
{
    Json,
    Csv,
    Parquet,
}

[JsonConverter(typeof(JsonStringEnumConverter<ExportRows>))]
public enum ExportRows
{
    Children,
    Services,
}

[JsonConverter(typeof(JsonStringEnumConverter<ExportDelivery>))]
public enum ExportDelivery
{
    Auto,
    Inline,
    Link,
}

/// <summary>
/// The parameters of <c>GET /api/exports/deidentified</c>: <c>agreement</c> (required), <c>from</c>
/// and <c>to</c> (the period, inclusive, <c>yyyy-MM-dd</c>, required), <c>format</c> (<c>json</c>,
/// default, <c>csv</c> or <c>parquet</c>; Accept <c>text/csv</c> also selects CSV), <c>rows</c> (<c>children</c>,
/// default, or <c>services</c>), <c>delivery</c> (<c>auto</c>, default, <c>inline</c> or <c>link</c>).
/// </summary>
public sealed record DeidentifiedExportQuery(string AgreementId, DateOnly From, DateOnly To, ExportFormat Format, ExportRows Rows, ExportDelivery Delivery)
{
    public const int MaxDays = 366 * 5;

    public static readonly IReadOnlyList<string> Known = ["agreement", "from", "to", "format", "rows", "delivery", "api-key"];

    public static (DeidentifiedExportQuery? Query, List<string> Errors) Parse(IReadOnlyDictionary<string, string?> parameters, string? accept)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var errors = new List<string>();
        string? Get(string name) => parameters.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
        foreach (var unknown in parameters.Keys.Where(k => !Known.Contains(k, StringComparer.OrdinalIgnoreCase)))
        {
            errors.Add($"Unknown parameter '{Trim(unknown)}'. Known: {string.Join(", ", Known.Where(k => k != "api-key"))}.");
        }

        var agreement = Get("agreement")?.Trim();
        if (string.IsNullOrEmpty(agreement))
        {
            errors.Add("agreement is required: the id of the data sharing agreement the export is made under.");
        }

        var from = Date(Get("from"), "from", errors);
        var to = Date(Get("to"), "to", errors);
        if (from is { } f && to is { } t)
        {
            if (t < f)
            {
                errors.Add("'to' is before 'from'.");
            }
            else if (t.DayNumber - f.DayNumber + 1 > MaxDays)
            {
                errors.Add($"The period is at most {MaxDays} days.");
            }
        }

        var format = (Get("format")?.Trim().ToLowerInvariant()) switch
        {
            null or "" => accept?.Contains("text/csv", StringComparison.OrdinalIgnoreCase) == true ? ExportFormat.Csv : ExportFormat.Json,
            "json" => ExportFormat.Json,
            "csv" => ExportFormat.Csv,
            "parquet" => ExportFormat.Parquet,
            _ => Error<ExportFormat>("format is json, csv or parquet.", errors),
        };
        var rows = (Get("rows")?.Trim().ToLowerInvariant()) switch
        {
            null or "" or "children" => ExportRows.Children,
            "services" => ExportRows.Services,
            _ => Error<ExportRows>("rows is children or services.", errors),
        };
        var delivery = (Get("delivery")?.Trim().ToLowerInvariant()) switch
        {
            null or "" or "auto" => ExportDelivery.Auto,
            "inline" => ExportDelivery.Inline,
            "link" => ExportDelivery.Link,
            _ => Error<ExportDelivery>("delivery is auto, inline or link.", errors),
        };
        return errors.Count > 0 || from is null || to is null || agreement is null
            ? (null, errors)
            : (new DeidentifiedExportQuery(agreement, from.Value, to.Value, format, rows, delivery), errors);
    }

    /// <summary>The parameters as audited: known names only, never the API key.</summary>
    public static Dictionary<string, string> ForAudit(IReadOnlyDictionary<string, string?> parameters) =>
        parameters.Where(p => Known.Contains(p.Key, StringComparer.OrdinalIgnoreCase) && !string.Equals(p.Key, "api-key", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(p => p.Key, p => Trim(p.Value ?? ""), StringComparer.OrdinalIgnoreCase);

    private static T Error<T>(string message, List<string> errors)
    {
        errors.Add(message);
        return default!;
    }

    private static DateOnly? Date(string? text, string name, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add($"{name} is required (yyyy-MM-dd).");
            return null;
        }

        if (DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        errors.Add($"'{name}' is not a date (yyyy-MM-dd).");
        return null;
    }

    private static string Trim(string value) => value.Length > 64 ? value[..64] : value;
}

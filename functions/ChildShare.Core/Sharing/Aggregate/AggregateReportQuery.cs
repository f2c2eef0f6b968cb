using System.Globalization;
using System.Text.Json.Serialization;
using ChildShare.Core.Activity;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Sharing.Aggregate;

[JsonConverter(typeof(JsonStringEnumConverter<ReportFormat>))]
public enum ReportFormat
{
    Json,
    Csv,
}

/// <summary>One row-set for the whole period, or one per calendar month (<c>interval=month</c>, a time series).</summary>
public enum ReportInterval
{
    None,
    Month,
}

/// <summary>
/// The parameters of <c>GET /api/reports/aggregate</c>, parsed and validated.
/// <list type="bullet">
/// <item><c>from</c>, <c>to</c>: the period, inclusive (<c>yyyy-MM-dd</c>, or an ISO date-time whose date is taken).</item>
/// <item><c>RangeStart</c>, <c>RangeEnd</c>: the same with Power BI's meaning of these names:
/// RangeStart inclusive, RangeEnd exclusive (the period ends the day before RangeEnd).</item>
/// <item><c>groupBy</c>: up to three dimensions, comma-separated or repeated.</item>
/// <item><c>format</c>: <c>json</c> (default) or <c>csv</c>; an Accept header of <c>text/csv</c> also selects CSV.</item>
/// <item><c>interval</c>: <c>month</c> for one row-set per calendar month of the period (from a month's first day to a month's last day).</item>
/// <item><c>$top</c> (1 to 5000, default 5000) and <c>$skip</c>: paging of the rows.</item>
/// </list>
/// </summary>
public sealed record AggregateReportQuery(DateOnly From, DateOnly To, IReadOnlyList<string> GroupBy, ReportFormat Format, int Top, int Skip)
{
    public const int MaxTop = 5000;
    public const int MaxDays = 366 * 5;

    /// <summary><see cref="ReportInterval.Month"/>: the period in whole calendar months, each counted on its own.</summary>
    public ReportInterval Interval { get; init; }

    /// <summary>The periods counted: the whole period, or each calendar month of it.</summary>
    public IReadOnlyList<(DateOnly From, DateOnly To)> Periods() => Interval == ReportInterval.Month
        ? ActivityMonths.MonthsBetween(From, To).Select(m => (new DateOnly(m.Year, m.Month, 1), new DateOnly(m.Year, m.Month, 1).AddMonths(1).AddDays(-1))).ToList()
        : [(From, To)];

    /// <summary>The parameters this endpoint knows; any other (except the API key) is an error, so typos do not go unnoticed.</summary>
    public static readonly IReadOnlyList<string> Known = ["from", "to", "RangeStart", "RangeEnd", "groupBy", "interval", "format", "$top", "$skip", "api-key"];

    public static (AggregateReportQuery? Query, IReadOnlyList<string> Errors) Parse(IReadOnlyDictionary<string, string?> parameters, string? accept)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var errors = new List<string>();
        string? Get(string name) => parameters.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

        foreach (var name in parameters.Keys.Where(k => !Known.Contains(k, StringComparer.OrdinalIgnoreCase)))
        {
            errors.Add($"Unknown parameter '{name}'; the parameters are {string.Join(", ", Known.Where(k => k != "api-key"))}.");
        }

        var from = Date(Get("from"), "from", errors, exclusiveEnd: false);
        var rangeStart = Date(Get("RangeStart"), "RangeStart", errors, exclusiveEnd: false);
        var to = Date(Get("to"), "to", errors, exclusiveEnd: false);
        var rangeEnd = Date(Get("RangeEnd"), "RangeEnd", errors, exclusiveEnd: true);
        if (from is not null && rangeStart is not null && from != rangeStart)
        {
            errors.Add("Give either from or RangeStart, not both with different dates.");
        }

        if (to is not null && rangeEnd is not null && to != rangeEnd)
        {
            errors.Add("Give either to or RangeEnd, not both with different dates.");
        }

        var start = from ?? rangeStart;
        var end = to ?? rangeEnd;
        if (start is null && !errors.Any(e => e.Contains("'from'", StringComparison.Ordinal) || e.Contains("'RangeStart'", StringComparison.Ordinal)))
        {
            errors.Add("The period start is required: from=yyyy-MM-dd (or RangeStart).");
        }

        if (end is null && !errors.Any(e => e.Contains("'to'", StringComparison.Ordinal) || e.Contains("'RangeEnd'", StringComparison.Ordinal)))
        {
            errors.Add("The period end is required: to=yyyy-MM-dd (or RangeEnd).");
        }

        if (start is { } s && end is { } e)
        {
            if (e < s)
            {
                errors.Add("The period ends before it starts.");
            }
            else if (e.DayNumber - s.DayNumber + 1 > MaxDays)
            {
                errors.Add($"A period is at most {MaxDays} days.");
            }
        }

        var groupBy = new List<string>();
        foreach (var name in (Get("groupBy") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (ReportDimensions.Canonical(name) is { } dimension)
            {
                if (groupBy.Contains(dimension))
                {
                    errors.Add($"The dimension {dimension} is given twice.");
                }
                else
                {
                    groupBy.Add(dimension);
                }
            }
            else
            {
                errors.Add($"'{Clip(name)}' is not a dimension; groupBy takes up to three of {string.Join(", ", ReportDimensions.All)}.");
            }
        }

        if (groupBy.Count > 3)
        {
            errors.Add("groupBy takes at most three dimensions.");
        }

        var interval = ReportInterval.None;
        switch (Get("interval")?.Trim().ToLowerInvariant())
        {
            case null or "":
                break;
            case "month":
                interval = ReportInterval.Month;

                // Whole calendar months only: each month's counts are those of a report of that month, which every protection allows.
                if (start is { } first && first.Day != 1)
                {
                    errors.Add("With interval=month the period starts on a month's first day (from=yyyy-MM-01).");
                }

                if (end is { } last && last.AddDays(1).Day != 1)
                {
                    errors.Add("With interval=month the period ends on a month's last day (to=yyyy-MM-30 or -31, or RangeEnd on the next month's first day).");
                }

                break;
            default:
                errors.Add("interval is month (one row-set per calendar month), or absent for one row-set over the whole period.");
                break;
        }

        var format = ReportFormat.Json;
        switch (Get("format")?.Trim().ToLowerInvariant())
        {
            case null or "":
                if (accept?.Contains("text/csv", StringComparison.OrdinalIgnoreCase) == true && accept?.Contains("application/json", StringComparison.OrdinalIgnoreCase) != true)
                {
                    format = ReportFormat.Csv;
                }

                break;
            case "json":
                break;
            case "csv":
                format = ReportFormat.Csv;
                break;
            default:
                errors.Add("format is json or csv.");
                break;
        }

        var top = PageParameters.Integer(Get("$top"), "$top", MaxTop, 1, MaxTop, errors);
        var skip = PageParameters.Integer(Get("$skip"), "$skip", 0, 0, int.MaxValue, errors);
        return errors.Count > 0 || start is null || end is null
            ? (null, errors)
            : (new AggregateReportQuery(start.Value, end.Value, groupBy, format, top, skip) { Interval = interval }, errors);
    }

    /// <summary>
    /// The parameters as the audit records them: only the known ones, minus the API key; dimension
    /// names are recorded only when they are dimensions, and other values only as date and number
    /// characters, so nothing a caller types can put an identifier in the audit.
    /// </summary>
    public static Dictionary<string, string> ForAudit(IReadOnlyDictionary<string, string?> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var audit = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters)
        {
            var known = Known.FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));
            if (known is null || known == "api-key")
            {
                audit["unknownParameters"] = (int.Parse(audit.GetValueOrDefault("unknownParameters", "0"), CultureInfo.InvariantCulture) + (known is null ? 1 : 0))
                    .ToString(CultureInfo.InvariantCulture);
                continue;
            }

            audit[known] = known == "groupBy"
                ? string.Join(',', (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(d => ReportDimensions.Canonical(d) ?? "?"))
                : new string((value ?? "").Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or ':' or '.' or '+').Take(32).ToArray());
        }

        audit.Remove("unknownParameters", out var unknown);
        if (unknown is not null && unknown != "0")
        {
            audit["unknownParameters"] = unknown;
        }

        return audit;
    }

    private static DateOnly? Date(string? text, string name, List<string> errors, bool exclusiveEnd)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        text = text.Trim();
        DateOnly? date = null;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
        {
            date = d;
        }
        else if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var dt))
        {
            date = DateOnly.FromDateTime(dt.UtcDateTime);
            if (exclusiveEnd && dt.UtcDateTime.TimeOfDay != TimeSpan.Zero)
            {
                // An exclusive end in the middle of a day still includes that day.
                date = date.Value.AddDays(1);
            }
        }

        if (date is null || date.Value.Year is < 2000 or > 2100)
        {
            errors.Add($"'{name}' is not a date between 2000 and 2100 (yyyy-MM-dd).");
            return null;
        }

        return exclusiveEnd ? date.Value.AddDays(-1) : date;
    }

    private static string Clip(string text) => text.Length <= 64 ? text : text[..64] + "…";
}

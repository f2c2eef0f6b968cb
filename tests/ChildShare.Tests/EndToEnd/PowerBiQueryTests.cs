using System.Globalization;
using System.Text.RegularExpressions;
using ChildShare.Cli;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.EndToEnd;

/// <summary>
/// The documented Power BI query (<c>functions/ChildShare.Core/Sharing/Aggregate/powerbi/aggregate-by-month.pq</c>, shown in
/// REPORTS.md): its <c>Web.Contents</c> call is read out of the M text (static base URL, <c>RelativePath</c>,
/// <c>Query</c>, <c>Timeout</c>) and sent to the served app over real HTTP, with the key as Power Query adds it
/// (<c>ApiKeyName</c>: the <c>api-key</c> query parameter).
/// </summary>
[Collection(ServedAppCollection.Name)]
public sealed class PowerBiQueryTests(ServedApp app)
{
    private static readonly string Query = File.ReadAllText(Path.Combine(RepositoryRoot.Path, DemoSharing.PowerBiQueryFile));

    [Fact]
    public void PowerBiQuery_WebContents_StaticBaseUrlRelativePathAndATimeoutAboveTheDefault()
    {
        var m = PowerQueryText.WithoutComments(Query);

        // Web.Contents(BaseUrl, ...) with BaseUrl a literal: the service can refresh a data source whose URL it knows before running the query.
        Assert.Matches(@"Web\.Contents\(\s*BaseUrl\s*,", m);
        Assert.Matches(@"^https://[^""]+$", PowerQueryText.Binding(m, "BaseUrl"));
        Assert.Equal("api/reports/aggregate", PowerQueryText.Field(m, "RelativePath"));
        var timeout = Regex.Match(m, @"Timeout\s*=\s*#duration\((\d+),\s*(\d+),\s*(\d+),\s*(\d+)\)");
        Assert.True(timeout.Success, "The query sets no Timeout: Web.Contents then gives up after 100 s.");
        var duration = new TimeSpan(int.Parse(timeout.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(timeout.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(timeout.Groups[3].Value, CultureInfo.InvariantCulture), int.Parse(timeout.Groups[4].Value, CultureInfo.InvariantCulture));
        Assert.InRange(duration, TimeSpan.FromSeconds(231), TimeSpan.FromHours(1));
        Assert.Equal("api-key", PowerQueryText.Field(m, "ApiKeyName"));
        Assert.DoesNotContain("RangeStart", m, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PowerBiQuery_ItsUrl_AcceptedByTheServedAppAsAMonthlySeries()
    {
        var response = await app.GetAsync(Url(PowerQueryText.WithoutComments(Query)), null);

        Assert.True(response.Status == 200, response.Body);
        Assert.Equal("application/json", response.MediaType);
        var months = response.Json.GetProperty("value").EnumerateArray().Select(r => r.GetProperty("periodStart").GetString()).Distinct().ToList();
        Assert.Equal(11, months.Count);
        Assert.Equal("2025-08-01", months[0]);
        Assert.All(months, month => Assert.EndsWith("-01", month, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PowerBiQuery_MonthWithChildren_CountedInItsOwnRowSet()
    {
        // The same URL shape over the served community's month (September 2026).
        var m = PowerQueryText.WithoutComments(Query).Replace("\"2025-08-01\"", "\"2026-08-01\"", StringComparison.Ordinal)
            .Replace("\"2026-06-30\"", "\"2026-10-31\"", StringComparison.Ordinal);

        var response = await app.GetAsync(Url(m), null);

        Assert.True(response.Status == 200, response.Body);
        var totals = response.Json.GetProperty("value").EnumerateArray().Where(r => r.GetProperty("rowType").GetString() == "total")
            .ToDictionary(r => r.GetProperty("periodStart").GetString()!, r => r.GetProperty("children").GetInt64());
        Assert.Equal(["2026-08-01", "2026-09-01", "2026-10-01"], totals.Keys);
        Assert.Equal(0, totals["2026-08-01"]);
        Assert.True(totals["2026-09-01"] > 0);
        Assert.Equal(0, totals["2026-10-01"]);
    }

    [Fact]
    public void ReportsMd_ShowsTheQueryFileAsItIs()
    {
        var reports = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "functions", "ChildShare.Core", "Sharing", "Aggregate", "REPORTS.md")).ReplaceLineEndings("\n");

        Assert.Contains(Query.ReplaceLineEndings("\n").Trim(), reports, StringComparison.Ordinal);
    }

    /// <summary>The first page's URL as Power Query builds it: RelativePath, the Query record (in order), then the key of ApiKeyName.</summary>
    private string Url(string m)
    {
        var query = PowerQueryText.Query(m, new Dictionary<string, string> { ["skip"] = "0" });
        return "/" + PowerQueryText.Field(m, "RelativePath") + "?"
            + string.Join("&", query.Select(p => $"{Uri.EscapeDataString(p.Name)}={Uri.EscapeDataString(p.Value)}"))
            + "&api-key=" + Uri.EscapeDataString(app.Key("county-health"));
    }
}

/// <summary>Just enough of the M language to read a Web.Contents call's options out of a query's text.</summary>
internal static class PowerQueryText
{
    /// <summary>The query without its line comments (whole lines starting with <c>//</c>; a URL's <c>//</c> stays).</summary>
    public static string WithoutComments(string m) => Regex.Replace(m, @"^[ \t]*//[^\n]*", "", RegexOptions.Multiline);

    /// <summary>A let binding whose value is a text or number literal: <c>Name = "value",</c>.</summary>
    public static string Binding(string m, string name)
    {
        var match = Regex.Match(m, $@"^\s*{Regex.Escape(name)}\s*=\s*(""(?<text>[^""]*)""|(?<number>\d+))\s*,", RegexOptions.Multiline);
        Assert.True(match.Success, $"The query binds no literal {name}.");
        return match.Groups["text"].Success ? match.Groups["text"].Value : match.Groups["number"].Value;
    }

    /// <summary>A text field of the options record: <c>RelativePath = "..."</c>.</summary>
    public static string Field(string m, string name)
    {
        var match = Regex.Match(m, $@"\b{Regex.Escape(name)}\s*=\s*""(?<value>[^""]*)""");
        Assert.True(match.Success, $"The query has no {name} = \"...\".");
        return match.Groups["value"].Value;
    }

    /// <summary>The <c>Query = [ ... ]</c> record, each field's expression evaluated (literals, bindings, function arguments, Text.From).</summary>
    public static List<(string Name, string Value)> Query(string m, IReadOnlyDictionary<string, string> arguments)
    {
        var start = Regex.Match(m, @"\bQuery\s*=\s*\[");
        Assert.True(start.Success, "The query has no Query = [ ... ] record.");
        var depth = 1;
        var end = start.Index + start.Length;
        while (depth > 0)
        {
            depth += m[end] switch { '[' => 1, ']' => -1, _ => 0 };
            end++;
        }

        var fields = new List<(string, string)>();
        foreach (var field in m[(start.Index + start.Length)..(end - 1)].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = Regex.Match(field, @"^(#""(?<quoted>[^""]+)""|(?<name>\w+))\s*=\s*(?<expression>.+)$", RegexOptions.Singleline);
            Assert.True(parts.Success, $"Cannot read the Query field '{field}'.");
            fields.Add((parts.Groups["quoted"].Success ? parts.Groups["quoted"].Value : parts.Groups["name"].Value, Evaluate(m, parts.Groups["expression"].Value.Trim(), arguments)));
        }

        return fields;
    }

    private static string Evaluate(string m, string expression, IReadOnlyDictionary<string, string> arguments)
    {
        if (Regex.Match(expression, @"^""(?<text>[^""]*)""$") is { Success: true } text)
        {
            return text.Groups["text"].Value;
        }

        if (Regex.Match(expression, @"^Text\.From\((?<inner>.+)\)$") is { Success: true } call)
        {
            return Evaluate(m, call.Groups["inner"].Value.Trim(), arguments);
        }

        if (Regex.IsMatch(expression, @"^\d+$"))
        {
            return expression;
        }

        return arguments.TryGetValue(expression, out var argument) ? argument : Binding(m, expression);
    }
}

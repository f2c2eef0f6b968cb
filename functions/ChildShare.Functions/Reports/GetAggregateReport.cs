using System.Text.Json;
using ChildShare.Core.Activity;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Reports;

/// <summary>
/// <c>GET /api/reports/aggregate</c>: counts of unique children for a period under the caller's
/// data sharing agreements, small cells suppressed. JSON (<c>value</c> and <c>@odata.nextLink</c>)
/// or CSV. Anonymous at the Functions level; the caller check refuses any request without a
/// caller with a 401 problem.
/// </summary>
public sealed class GetAggregateReport(AggregateReportService reports)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Function(nameof(GetAggregateReport))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "reports/aggregate")] HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await reports.RunAsync(HttpPipeline.CallerOf(request), HttpCallers.QueryParameters(request), request.Headers.Accept.ToString(), cancellationToken);

        return result.Status switch
        {
            ReportStatus.BadRequest => Problems.BadRequest(string.Join(" ", result.Errors), new Dictionary<string, object?> { ["errors"] = result.Errors }),
            ReportStatus.Forbidden => Problems.Forbidden(
                "No data sharing agreement permits this caller an aggregate report over any provider's data for this period and grouping.",
                new Dictionary<string, object?> { ["providersExcluded"] = result.Excluded }),
            _ => Render(request, result.Page!),
        };
    }

    /// <summary>On CSV responses: the differencing protection of the counts (Round5, Noise or None), as in the JSON receipt.</summary>
    public const string ProtectionHeader = "X-ChildShare-Differencing-Protection";

    private static IActionResult Render(HttpRequest request, ReportPage page)
    {
        var next = page.HasMore ? HttpCallers.NextLink(request, page.Skip + page.Value.Count) : null;
        if (page.Format == ReportFormat.Csv)
        {
            if (next is not null)
            {
                request.HttpContext.Response.Headers.Link = $"<{next}>; rel=\"next\"";
            }

            // CSV rows carry no metadata: the protection that applied travels as a header.
            request.HttpContext.Response.Headers[ProtectionHeader] = page.Metadata.Suppression.DifferencingProtection;

            return new ContentResult { Content = ReportCsv.Write(page.Value), ContentType = "text/csv; charset=utf-8", StatusCode = StatusCodes.Status200OK };
        }

        var body = new Dictionary<string, object?> { ["value"] = page.Value };
        if (next is not null)
        {
            body["@odata.nextLink"] = next;
        }

        body["metadata"] = page.Metadata;
        return new ContentResult { Content = JsonSerializer.Serialize(body, Json), ContentType = "application/json; charset=utf-8", StatusCode = StatusCodes.Status200OK };
    }
}

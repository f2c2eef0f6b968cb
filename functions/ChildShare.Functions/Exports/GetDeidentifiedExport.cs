using System.Text.Json;
using ChildShare.Core.Activity;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Exports;

/// <summary>
/// <c>GET /api/exports/deidentified?agreement=&amp;from=&amp;to=</c>: one k-anonymous row per child
/// (or per service record, where the agreement allows) under one data sharing agreement, JSON
/// (<c>value</c> and <c>metadata</c>), CSV or Parquet (metadata in the file's key-value metadata); a large export (or <c>delivery=link</c>) is written to
/// the exports container and answered with a short-lived read link. Anonymous at the Functions
/// level; the caller check refuses any request without a caller with a 401 problem.
/// </summary>
public sealed class GetDeidentifiedExport(DeidentifiedExportService exports)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Function(nameof(GetDeidentifiedExport))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "exports/deidentified")] HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await exports.RunAsync(HttpPipeline.CallerOf(request), HttpCallers.QueryParameters(request), request.Headers.Accept.ToString(), cancellationToken);

        return result.Status switch
        {
            ExportStatus.BadRequest => Problems.BadRequest(string.Join(" ", result.Errors), new Dictionary<string, object?> { ["errors"] = result.Errors }),
            ExportStatus.Forbidden => Problems.Forbidden(string.Join(" ", result.Errors)),
            _ when result.Link is { } link => new ContentResult
            {
                Content = JsonSerializer.Serialize(link, Json), ContentType = "application/json; charset=utf-8", StatusCode = StatusCodes.Status200OK,
            },
            _ when result.Format == ExportFormat.Parquet => new FileContentResult(await result.Table!.ToParquetAsync(result.Metadata!, cancellationToken),
                DeidentifiedExportService.ContentTypeOf(ExportFormat.Parquet)) { FileDownloadName = "deidentified.parquet" },
            _ when result.Format == ExportFormat.Csv => new ContentResult
            {
                Content = result.Table!.ToCsv(), ContentType = "text/csv; charset=utf-8", StatusCode = StatusCodes.Status200OK,
            },
            _ => new ContentResult { Content = result.Table!.ToJson(result.Metadata!), ContentType = "application/json; charset=utf-8", StatusCode = StatusCodes.Status200OK },
        };
    }
}

using Microsoft.Extensions.Logging;

namespace ChildShare.Functions.Http;

/// <summary>
/// Keeps request URLs, and so an <c>api-key</c> query parameter, out of the worker's logs.
/// The worker's ASP.NET Core server logs "Request starting/finished {method} {scheme}://{host}{path}{query}"
/// at Information (category <c>Microsoft.AspNetCore.Hosting.Diagnostics</c>); any logging provider
/// added later (Application Insights or OpenTelemetry in the worker) would export that line with
/// the key in it. ASP.NET Core's own categories are held to Warning, which never carries a URL.
/// The host side (request telemetry, its own traces) is described in infra/DEPLOY.md.
/// </summary>
public static class RequestLogFilters
{
    public const string AspNetCoreCategory = "Microsoft.AspNetCore";

    public static ILoggingBuilder AddRequestLogFilters(this ILoggingBuilder logging) =>
        logging.AddFilter(AspNetCoreCategory, LogLevel.Warning);
}

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace ChildShare.Functions.Http;

/// <summary>RFC 9457 problem responses: a type, a title, a status and a detail a caller can act on; never a stack trace.</summary>
public static class Problems
{
    public static ObjectResult Create(int status, string title, string detail, IDictionary<string, object?>? extensions = null)
    {
        var problem = new ProblemDetails
        {
            Type = $"https://www.rfc-editor.org/rfc/rfc9110#status.{status}",
            Title = title,
            Status = status,
            Detail = detail,
        };
        foreach (var (key, value) in extensions ?? new Dictionary<string, object?>())
        {
            problem.Extensions[key] = value;
        }

        var result = new ObjectResult(problem) { StatusCode = status };
        result.ContentTypes.Add("application/problem+json");
        return result;
    }

    public static ObjectResult BadRequest(string detail, IDictionary<string, object?>? extensions = null) =>
        Create(StatusCodes.Status400BadRequest, "The request is not valid", detail, extensions);

    public static ObjectResult Unauthorized(string detail) => Create(StatusCodes.Status401Unauthorized, "Authentication required", detail);

    public static ObjectResult Forbidden(string detail, IDictionary<string, object?>? extensions = null) =>
        Create(StatusCodes.Status403Forbidden, "Not permitted", detail, extensions);

    public static ObjectResult NotFound(string detail) => Create(StatusCodes.Status404NotFound, "Not found", detail);

    public static ObjectResult AuditUnavailable() =>
        Create(StatusCodes.Status503ServiceUnavailable, "Audit unavailable", "The audit could not record the request, so nothing was released or changed. Try again later.");

    /// <summary>An unexpected failure: nothing of the exception, only the trace id to quote when reporting it.</summary>
    public static ObjectResult InternalError(string traceId) =>
        Create(StatusCodes.Status500InternalServerError, "Internal error", "The request failed. Quote the trace id when reporting it.",
            new Dictionary<string, object?> { ["traceId"] = traceId });
}

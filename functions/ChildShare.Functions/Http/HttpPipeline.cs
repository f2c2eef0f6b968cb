using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Callers;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Functions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace ChildShare.Functions.Http;

/// <summary>
/// What runs around every HTTP function, in the function app (<see cref="HttpPipelineMiddleware"/>)
/// and in <c>childshare serve</c> and the end-to-end tests (the local host's dispatcher) alike:
/// <list type="number">
/// <item>the caller is resolved from the request's credentials and kept on the request
/// (<see cref="CallerOf"/>), or the request is refused with a 401 problem before the function runs;
/// the routes of <see cref="FunctionCatalog.NeedsNoCaller"/> (health, OpenAPI, the parent's signed
/// links) resolve none;</item>
/// <item>the exceptions the services use for a caller's mistakes and for refusals become their RFC 9457
/// problems: invalid (400, a body that does not parse included), not permitted (403), conflict (409),
/// stale If-Match (412), audit outage (503, nothing released or changed);</item>
/// <item>anything else is a 500 problem carrying only a trace id: the exception's message could quote
/// data, so it is neither returned nor logged (only its type is).</item>
/// </list>
/// Authorization beyond "who is calling" stays in the services, which the command line shares.
/// </summary>
public sealed partial class HttpPipeline(CallerResolver callers, ILogger<HttpPipeline> logger)
{
    private static readonly object CallerKey = new();

    /// <summary>The caller the pipeline resolved for this request.</summary>
    /// <exception cref="InvalidOperationException">The request did not come through the pipeline, or its route resolves no caller.</exception>
    public static Caller CallerOf(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.HttpContext.Items.TryGetValue(CallerKey, out var caller) && caller is Caller resolved
            ? resolved
            : throw new InvalidOperationException("No caller was resolved for this request: HTTP functions run through HttpPipeline.");
    }

    /// <summary>Runs the HTTP function <paramref name="functionName"/> (its name in <see cref="FunctionCatalog"/>) for <paramref name="context"/>.</summary>
    public Task<IActionResult> RunAsync(string functionName, HttpContext context, Func<Task<IActionResult?>> function)
    {
        ArgumentNullException.ThrowIfNull(functionName);
        return RunAsync(functionName, !FunctionCatalog.NeedsNoCaller(functionName), context, function);
    }

    /// <summary>Runs a function for <paramref name="context"/>, resolving its caller first when <paramref name="resolveCaller"/>.</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification =
        "The last resort of every HTTP function: any exception becomes an RFC 9457 problem (a 500 with only a trace id when unexpected), never a stack trace or a message that could quote data.")]
    public async Task<IActionResult> RunAsync(string functionName, bool resolveCaller, HttpContext context, Func<Task<IActionResult?>> function)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(function);
        try
        {
            if (resolveCaller && await RefusalAsync(context) is { } refusal)
            {
                return refusal;
            }

            return await function() ?? throw new InvalidOperationException("The function returned no result.");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: there is nobody to answer.
            throw;
        }
        catch (Exception ex)
        {
            return Map(functionName, context, ex);
        }
    }

    /// <summary>Resolves the caller into the request, or the 401 problem to answer (with the Entra ID challenge when sign-in is on).</summary>
    private async Task<IActionResult?> RefusalAsync(HttpContext context)
    {
        var result = await callers.ResolveAsync(HttpCallers.CredentialsOf(context.Request), context.RequestAborted);
        if (result.Caller is { } caller)
        {
            context.Items[CallerKey] = caller;
            return null;
        }

        if (callers.Challenge is { } challenge)
        {
            context.Response.Headers.WWWAuthenticate = challenge;
        }

        return Problems.Unauthorized(result.Failure ?? "Authentication is required.");
    }

    private IActionResult Map(string functionName, HttpContext context, Exception exception)
    {
        // The services' exceptions below carry messages written for the caller, which name no child data.
        switch (exception)
        {
            case InvalidRequestBodyException ex:
                return Problems.BadRequest(ex.Message);
            case ConsentValidationException ex:
                return Problems.BadRequest(ex.Message, new Dictionary<string, object?> { ["errors"] = ex.Errors });
            case AgreementValidationException ex:
                return Problems.BadRequest(ex.Message, new Dictionary<string, object?> { ["errors"] = ex.Errors });
            case ConsentForbiddenException ex:
                return Problems.Forbidden(ex.Message);
            case ConsentConflictException ex:
                return Problems.Create(StatusCodes.Status409Conflict, "Conflict", ex.Message);
            case ConsentPreconditionException ex:
                return Problems.Create(StatusCodes.Status412PreconditionFailed, "Precondition failed", ex.Message);
            case AuditUnavailableException:
                return Problems.AuditUnavailable();
            case ActivityRebuildingException ex:
                return Problems.Create(StatusCodes.Status503ServiceUnavailable, "Activity store being rebuilt", ex.Message);
        }

        // The same trace id ASP.NET Core's own problem details carry: the operation's, else the request's.
        var traceId = Activity.Current?.Id ?? context.TraceIdentifier;
        LogFunctionFailed(logger, functionName, exception.GetType().Name, traceId);
        return Problems.InternalError(traceId);
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Error, Message = "Function {Function} failed ({ErrorType}), trace {TraceId}")]
    private static partial void LogFunctionFailed(ILogger logger, string function, string errorType, string traceId);
}

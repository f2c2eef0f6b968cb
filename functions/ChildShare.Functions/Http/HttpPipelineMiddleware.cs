using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace ChildShare.Functions.Http;

/// <summary>
/// The function app's door to <see cref="HttpPipeline"/>: registered for HTTP triggers only
/// (<see cref="IsHttpTrigger"/>), after the ASP.NET Core integration's own middleware has put the
/// request's <c>HttpContext</c> on the function context; that integration executes the
/// <see cref="IActionResult"/> left as the invocation's result, the function's or the pipeline's problem.
/// </summary>
public sealed class HttpPipelineMiddleware(HttpPipeline pipeline) : IFunctionsWorkerMiddleware
{
    public static bool IsHttpTrigger(FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.FunctionDefinition.InputBindings.Values.Any(b => string.Equals(b.Type, "httpTrigger", StringComparison.OrdinalIgnoreCase));
    }

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.GetHttpContext() ?? throw new InvalidOperationException("HTTP functions need the ASP.NET Core integration (ConfigureFunctionsWebApplication).");
        var result = await pipeline.RunAsync(context.FunctionDefinition.Name, http, async () =>
        {
            await next(context);
            return context.GetInvocationResult().Value as IActionResult;
        });
        context.GetInvocationResult().Value = result;
    }
}

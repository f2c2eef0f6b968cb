using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Support;

/// <summary>Calls a function class's method the way the app does: through an <see cref="HttpPipeline"/> built from the test's services.</summary>
public static class TestHttp
{
    public static Task<IActionResult> RunAsync(IServiceProvider services, HttpContext context, Func<Task<IActionResult>> function) =>
        ActivatorUtilities.GetServiceOrCreateInstance<HttpPipeline>(services)
            .RunAsync("test", resolveCaller: true, context, async () => await function());

    /// <summary>Runs <paramref name="function"/> for <paramref name="request"/> through the pipeline.</summary>
    public static Task<IActionResult> RunAsync(IServiceProvider services, HttpRequest request, Func<HttpRequest, Task<IActionResult>> function) =>
        RunAsync(services, request.HttpContext, () => function(request));
}

using System.Reflection;
using ChildShare.Functions.Hosting;
using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Cli.Serve;

/// <summary>
/// Runs a function method the way the isolated worker does: a new instance of its class per
/// invocation, constructed from the application's services (the worker's default activator uses
/// <see cref="ActivatorUtilities"/> too), its parameters bound by type and, for route values, by name.
/// </summary>
public static class FunctionInvoker
{
    /// <summary>
    /// Runs an HTTP function for a request through <see cref="HttpPipeline"/> (the caller resolved, failures
    /// mapped to problems, as the app's middleware does) and executes the resulting <see cref="IActionResult"/>
    /// as the worker's ASP.NET Core integration does.
    /// </summary>
    public static async Task InvokeAsync(HttpFunction function, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(context);
        var routeValues = context.GetRouteData().Values;
        var arguments = function.Method.GetParameters().Select(object? (p) => p.ParameterType switch
        {
            var t when t == typeof(HttpRequest) => context.Request,
            var t when t == typeof(CancellationToken) => context.RequestAborted,
            _ => routeValues.FirstOrDefault(v => string.Equals(v.Key, p.Name, StringComparison.OrdinalIgnoreCase)).Value?.ToString(),
        }).ToArray();
        var pipeline = context.RequestServices.GetRequiredService<HttpPipeline>();
        var action = await pipeline.RunAsync(function.Name, context,
            async () => await RunAsync(function.Class, function.Method, context.RequestServices, arguments) as IActionResult);
        if (!context.RequestAborted.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            await action.ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor()));
        }
    }

    /// <summary>Creates the function's class from <paramref name="services"/>, calls the method and awaits it; the result (of a <c>Task&lt;T&gt;</c> too).</summary>
    public static async Task<object?> RunAsync(Type functionClass, MethodInfo method, IServiceProvider services, object?[] arguments)
    {
        ArgumentNullException.ThrowIfNull(method);
        var instance = method.IsStatic ? null : ActivatorUtilities.CreateInstance(services, functionClass);
        object? returned;
        try
        {
            returned = method.Invoke(instance, arguments);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }

        if (returned is not Task task)
        {
            return returned;
        }

        await task;
        return method.ReturnType.IsGenericType ? method.ReturnType.GetProperty(nameof(Task<object>.Result))!.GetValue(task) : null;
    }
}

using System.Reflection;
using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Hosting;

/// <summary>One HTTP function: its name, methods, route template (under <see cref="FunctionCatalog.RoutePrefix"/>) and the method that runs it.</summary>
public sealed record HttpFunction(string Name, IReadOnlyList<string> Methods, string Route, Type Class, MethodInfo Method)
{
    /// <summary>The route as a URL path template, e.g. <c>/api/consents/{id:length(32)}</c>.</summary>
    public string Path => $"/{FunctionCatalog.RoutePrefix}/{Route}";

    /// <summary>The route's parameter names (without constraints), in order.</summary>
    public IReadOnlyList<string> RouteParameters { get; } = FunctionCatalog.ParametersOf(Route);
}

/// <summary>One blob-triggered function: the container and path pattern it watches and the method that runs it.</summary>
public sealed record BlobFunction(string Name, string Container, string Connection, Type Class, MethodInfo Method);

/// <summary>One timer-triggered function: its schedule expression as written (possibly a <c>%setting%</c>) and the method that runs it.</summary>
public sealed record TimerFunction(string Name, string Schedule, Type Class, MethodInfo Method);

/// <summary>
/// The function app's functions, read from the <c>[Function]</c> and trigger attributes of this
/// assembly: the same attributes the Worker SDK reads to write <c>functions.metadata</c> for the
/// Functions host. The local host (<c>childshare serve</c>), the OpenAPI document and the end-to-end
/// tests all take their route table from here, so a new function needs no list to be kept by hand.
/// A function whose signature the local host could not bind is refused here, loudly, rather than
/// served wrongly.
/// </summary>
public static class FunctionCatalog
{
    /// <summary>The Functions host's default route prefix (host.json sets no other).</summary>
    public const string RoutePrefix = "api";

    /// <summary>HTTP functions anyone may call (everything else resolves a caller first and answers 401 without one).</summary>
    public static readonly IReadOnlySet<string> Anonymous = new HashSet<string>(StringComparer.Ordinal)
    {
        // Says only whether storage and the key are reachable, for probes that hold no credential.
        nameof(ChildShare.Functions.Http.GetHealth),

        // Describes the API; holds no data.
        nameof(ChildShare.Functions.Http.GetOpenApiDocument),
    };

    /// <summary>
    /// HTTP functions a parent reaches through a signed link (CONSENT.md): no caller is resolved, the
    /// opaque token in the path is the credential, and a bad token is a plain page that reveals nothing.
    /// </summary>
    public static readonly IReadOnlySet<string> SignedLink = new HashSet<string>(StringComparer.Ordinal)
    {
        nameof(ChildShare.Functions.Consent.ParentPage),
        "ParentPageRevoke",
        "ParentPageConfirm",
    };

    /// <summary>HTTP functions that resolve no caller: <see cref="Anonymous"/> and <see cref="SignedLink"/>.</summary>
    public static bool NeedsNoCaller(string functionName) => Anonymous.Contains(functionName) || SignedLink.Contains(functionName);

    private static readonly Lazy<Catalog> Functions = new(() => Read(typeof(FunctionCatalog).Assembly));

    public static IReadOnlyList<HttpFunction> Http => Functions.Value.Http;

    public static IReadOnlyList<BlobFunction> Blob => Functions.Value.Blob;

    public static IReadOnlyList<TimerFunction> Timer => Functions.Value.Timer;

    /// <summary>Every function name with a [Function] attribute, whatever its trigger.</summary>
    public static IReadOnlyList<string> All => Functions.Value.All;

    public static IReadOnlyList<string> ParametersOf(string route) =>
        route.Split('/').Where(s => s.StartsWith('{') && s.EndsWith('}'))
            .Select(s => s[1..^1].Split(':', '=', '?')[0].TrimStart('*')).ToList();

    private sealed record Catalog(List<HttpFunction> Http, List<BlobFunction> Blob, List<TimerFunction> Timer, List<string> All);

    private static Catalog Read(Assembly assembly)
    {
        var catalog = new Catalog([], [], [], []);
        foreach (var type in assembly.GetTypes().Where(t => t.IsClass && t.IsPublic).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            {
                if (method.GetCustomAttribute<FunctionAttribute>() is not { } function)
                {
                    continue;
                }

                catalog.All.Add(function.Name);
                var parameters = method.GetParameters();
                if (parameters.Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).OfType<HttpTriggerAttribute>().FirstOrDefault() is { } http)
                {
                    var route = (http.Route ?? function.Name).Trim('/');
                    var methods = (http.Methods ?? []).Select(m => m.ToUpperInvariant()).ToList();
                    var named = ParametersOf(route);
                    Require(function.Name, parameters, p =>
                        p.ParameterType == typeof(HttpRequest) || p.ParameterType == typeof(CancellationToken)
                        || (p.ParameterType == typeof(string) && named.Contains(p.Name!, StringComparer.OrdinalIgnoreCase)));
                    RequireReturns(function.Name, method);
                    catalog.Http.Add(new HttpFunction(function.Name, methods, route, type, method));
                }
                else if (parameters.Select(p => p.GetCustomAttribute<BlobTriggerAttribute>()).OfType<BlobTriggerAttribute>().FirstOrDefault() is { } blob)
                {
                    // A string named by the path's only expression (uploads/{name}) is the blob's name in its container, as the host binds it.
                    var named = ParametersOf(blob.BlobPath);
                    Require(function.Name, parameters, p => p.ParameterType == typeof(BlobClient) || p.ParameterType == typeof(CancellationToken)
                        || (p.ParameterType == typeof(string) && named.Count == 1 && named.Contains(p.Name!, StringComparer.OrdinalIgnoreCase)));
                    catalog.Blob.Add(new BlobFunction(function.Name, blob.BlobPath.Split('/')[0], blob.Connection ?? "AzureWebJobsStorage", type, method));
                }
                else if (parameters.Select(p => p.GetCustomAttribute<TimerTriggerAttribute>()).OfType<TimerTriggerAttribute>().FirstOrDefault() is { } timer)
                {
                    Require(function.Name, parameters, p => p.ParameterType == typeof(TimerInfo) || p.ParameterType == typeof(CancellationToken));
                    catalog.Timer.Add(new TimerFunction(function.Name, timer.Schedule, type, method));
                }
                else
                {
                    throw new NotSupportedException($"Function {function.Name} has a trigger the local host does not serve; teach FunctionCatalog and the local host about it.");
                }
            }
        }

        return catalog;
    }

    private static void Require(string function, ParameterInfo[] parameters, Func<ParameterInfo, bool> bindable)
    {
        if (parameters.FirstOrDefault(p => !bindable(p)) is { } unbound)
        {
            throw new NotSupportedException(
                $"Function {function}: the local host cannot bind parameter {unbound.Name} of type {unbound.ParameterType.Name}; teach FunctionCatalog and the local host about it.");
        }
    }

    private static void RequireReturns(string function, MethodInfo method)
    {
        if (method.ReturnType != typeof(Task<Microsoft.AspNetCore.Mvc.IActionResult>) && method.ReturnType != typeof(Microsoft.AspNetCore.Mvc.IActionResult))
        {
            throw new NotSupportedException($"Function {function} returns {method.ReturnType.Name}; the local host executes IActionResult (or Task of it) only.");
        }
    }
}

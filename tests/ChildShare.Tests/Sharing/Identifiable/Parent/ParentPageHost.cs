using System.Net;
using ChildShare.Functions.Consent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChildShare.Tests.Sharing.Identifiable.Parent;

/// <summary>
/// A real HTTP server for the browser tests, and nothing more: Kestrel on 127.0.0.1 (a free port) routing
/// the parent page's three routes to the <see cref="ParentPage"/> function class built from the test's own
/// application services, with the real <see cref="HttpRequest"/>, and executing the <see cref="IActionResult"/>
/// it returns as the Functions host does. (When <c>childshare serve</c> lands, these tests can run against it.)
/// </summary>
public sealed class ParentPageHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ParentPageHost(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public static async Task<ParentPageHost> StartAsync(IServiceProvider services)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddMvcCore();
        var app = builder.Build();
        var page = ActivatorUtilities.CreateInstance<ParentPage>(services);
        app.MapGet("/api/parent", (HttpContext http) => ExecuteAsync(http, page.ViewAsync(http.Request, http.RequestAborted)));
        app.MapPost("/api/parent/revoke", (HttpContext http) => ExecuteAsync(http, page.RevokeAsync(http.Request, http.RequestAborted)));
        app.MapPost("/api/parent/confirm", (HttpContext http) => ExecuteAsync(http, page.ConfirmAsync(http.Request, http.RequestAborted)));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ParentPageHost(app, address.TrimEnd('/'));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static async Task ExecuteAsync(HttpContext http, Task<IActionResult> function) =>
        await (await function).ExecuteResultAsync(new ActionContext(http, http.GetRouteData(), new ActionDescriptor()));
}

using System.Net;
using ChildShare.Core;
using ChildShare.Functions.Hosting;
using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChildShare.Cli.Serve;

/// <summary>What <c>childshare serve</c> runs: where it listens and how often it looks for new uploads.</summary>
public sealed record LocalHostOptions
{
    /// <summary>The port on 127.0.0.1; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = 7071;

    /// <summary>How often the uploads container is listed for blobs without a final manifest.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);

    public LogLevel LogLevel { get; init; } = LogLevel.Warning;
}

/// <summary>
/// A local host for the function app, for machines without Azure Functions Core Tools: Kestrel on
/// 127.0.0.1 serving every HTTP function of <see cref="FunctionCatalog"/> at its route, through the
/// same function classes and the same <c>AddChildShareCore</c>
/// registrations and settings as the app; each <c>IActionResult</c> is executed by ASP.NET Core MVC,
/// which is what the worker's ASP.NET Core integration (<c>ConfigureFunctionsWebApplication</c>,
/// which calls <c>AddMvc</c>) does, so status codes, headers, content types and bodies are the app's.
/// Blob-triggered functions are fed by <see cref="UploadPoller"/> and timer functions by
/// <see cref="TimerScheduler"/>. Every HTTP function runs through the app's <see cref="HttpPipeline"/>
/// (caller, problems, a 500 problem with a trace id for an unexpected exception). An unknown route is a
/// 404 with no body, as from the Functions host; an exception while the result is written, a bare 500.
/// </summary>
public static partial class LocalFunctionHost
{
    public static WebApplication Create(LocalHostOptions options, IEnumerable<KeyValuePair<string, string?>>? settings = null, Action<IServiceCollection>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });

        // The command line's settings (environment variables with the app settings' names, Azurite by default), nothing else.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(CliHost.Configuration(settings));
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(options.LogLevel);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        // AddMvc brings data protection, which warns that its keys (unused here: no cookies, no antiforgery) are kept unencrypted.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, options.Port));

        builder.Services.AddMvc();
        configure?.Invoke(builder.Services);
        builder.Services.AddChildShareCore(builder.Configuration);
        builder.Services.AddChildShareHttpPipeline();
        builder.Services.AddSingleton(options);
        builder.Services.AddHostedService<UploadPoller>();
        builder.Services.AddHostedService<TimerScheduler>();

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LocalFunctionHost));
        foreach (var function in FunctionCatalog.Http)
        {
            Task Handle(HttpContext context) => HandleAsync(function, context, logger);
            var endpoint = function.Methods.Count == 0 ? app.Map(function.Path, Handle) : app.MapMethods(function.Path, function.Methods, Handle);
            endpoint.WithDisplayName(function.Name).WithName(function.Name);
        }

        return app;
    }

    /// <summary>The base URL the started host listens on (e.g. <c>http://127.0.0.1:7071</c>).</summary>
    public static Uri BaseAddress(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The host is not listening yet; start it first.");
        return new Uri(address);
    }

    private static async Task HandleAsync(HttpFunction function, HttpContext context, ILogger logger)
    {
        try
        {
            await FunctionInvoker.InvokeAsync(function, context);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            // Only what the pipeline could not catch (writing the result): the message could quote data, so only the type is logged.
            LogFunctionFailed(logger, function.Name, ex.GetType().Name);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            }
        }
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Error, Message = "Function {Function} failed ({ErrorType})")]
    private static partial void LogFunctionFailed(ILogger logger, string function, string errorType);
}

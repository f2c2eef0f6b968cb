using System.CommandLine;
using ChildShare.Core.Storage;
using ChildShare.Functions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChildShare.Cli.Serve;

/// <summary><c>childshare serve [--port 7071]</c>: the function app on this machine, without Core Tools (see <see cref="LocalFunctionHost"/>).</summary>
public static class ServeCommand
{
    public static Command Create(Option<bool> verbose)
    {
        var port = new Option<int>("--port") { Description = "The port on 127.0.0.1 (default 7071, as func start).", DefaultValueFactory = _ => 7071 };
        port.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 65535)
            {
                r.AddError("--port is a TCP port from 1 to 65535.");
            }
        });
        var poll = new Option<int>("--poll-seconds") { Description = "How often new uploads are looked for (default 5).", DefaultValueFactory = _ => 5 };
        poll.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 3600)
            {
                r.AddError("--poll-seconds is from 1 to 3600.");
            }
        });
        var command = new Command("serve", "Serve the function app's HTTP functions on 127.0.0.1 (the same classes and settings), ingest new uploads and run the timers.");
        command.Options.Add(port);
        command.Options.Add(poll);
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = new LocalHostOptions
            {
                Port = result.GetValue(port),
                PollInterval = TimeSpan.FromSeconds(result.GetValue(poll)),
                LogLevel = result.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning,
            };
            await using var app = LocalFunctionHost.Create(options);
            try
            {
                // Locally the host prepares the storage it serves (in Azure the template creates it).
                await app.Services.GetRequiredService<ChildShareStorage>().EnsureCreatedAsync(cancellationToken: cancellationToken);
                await app.StartAsync(cancellationToken);
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"Cannot listen on 127.0.0.1:{options.Port} ({ex.GetType().Name}): is another host running? Try --port.");
                return CliErrors.ExitCode;
            }
            catch (Exception ex) when (CliErrors.Describe(ex) is { } message)
            {
                await Console.Error.WriteLineAsync(message);
                return CliErrors.ExitCode;
            }

            var baseUrl = LocalFunctionHost.BaseAddress(app).ToString().TrimEnd('/');
            Console.WriteLine($"ChildShare functions on {baseUrl}/{FunctionCatalog.RoutePrefix}/ (Ctrl+C stops)");
            foreach (var function in FunctionCatalog.Http)
            {
                Console.WriteLine($"  {string.Join(",", function.Methods),-5} {baseUrl}{function.Path}   {function.Name}");
            }

            Console.WriteLine($"Uploads are ingested every {options.PollInterval.TotalSeconds:0} s; timers: {string.Join(", ", FunctionCatalog.Timer.Select(t => t.Name))}.");
            if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ChildShare.Core.Callers.CallerOptions>>().Value.TrustClientPrincipalHeader)
            {
                // Only App Service Authentication makes that header trustworthy; here anyone who reaches the port could claim any principal.
                await Console.Error.WriteLineAsync("Warning: Callers__TrustClientPrincipalHeader is true: any local caller can claim any Entra principal. Use API keys locally.");
            }

            Console.WriteLine("An API key: childshare apikey-issue --org ORG [--role Reader|Admin], then");
            Console.WriteLine($"  curl -H 'X-Api-Key: csk_...' '{baseUrl}/{FunctionCatalog.RoutePrefix}/reports/aggregate?from=2026-09-01&to=2026-09-30&groupBy=provider'");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C: stop below.
            }

            await app.StopAsync(CancellationToken.None);
            return 0;
        });
        return command;
    }
}

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChildShare.Cli;

/// <summary>
/// Where a command gets its services and writes its output: the application's services from the
/// environment and the console, unless a test (or the demo) gives its own.
/// </summary>
public sealed record CliContext(Func<LogLevel, ServiceProvider> Services, TextWriter Out, TextWriter Error)
{
    public static CliContext Default { get; } = new(level => CliHost.Build(logLevel: level), Console.Out, Console.Error);
}

/// <summary>
/// Adds a command that runs over the application's services: builds them per invocation, runs the
/// action, and turns the errors an operator can fix (those <c>isOperatorError</c> accepts) into a
/// message and exit code 2 instead of a stack trace.
/// </summary>
public static class CliCommands
{
    public static Command Add(
        Command root,
        Option<bool> verbose,
        string name,
        string description,
        Option[] options,
        Func<IServiceProvider, ParseResult, CancellationToken, Task> action,
        Func<Exception, bool> isOperatorError,
        CliContext? context = null)
    {
        var cli = context ?? CliContext.Default;
        var command = new Command(name, description);
        foreach (var option in options)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            await using var services = cli.Services(r.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
            try
            {
                await action(services, r, ct);
                return 0;
            }
            catch (Exception ex) when (isOperatorError(ex) || CliErrors.Describe(ex) is not null)
            {
                await cli.Error.WriteLineAsync(CliErrors.Describe(ex) ?? ex.Message);
                return CliErrors.ExitCode;
            }
        });
        root.Subcommands.Add(command);
        return command;
    }
}

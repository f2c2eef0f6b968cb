using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace ChildShare.Cli;

/// <summary>
/// Adds a command that runs over the application's services: builds them per invocation, runs the
/// action, and turns the errors an operator can fix (those <c>isOperatorError</c> accepts) into a
/// message and exit code 2 instead of a stack trace.
/// </summary>
public static class CliCommands
{
    public static Command Add(
        RootCommand root,
        Option<bool> verbose,
        string name,
        string description,
        Option[] options,
        Func<IServiceProvider, ParseResult, CancellationToken, Task> action,
        Func<Exception, bool> isOperatorError)
    {
        var command = new Command(name, description);
        foreach (var option in options)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            await using var services = CliHost.Build(logLevel: r.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
            try
            {
                await action(services, r, ct);
                return 0;
            }
            catch (Exception ex) when (isOperatorError(ex) || CliErrors.Describe(ex) is not null)
            {
                await Console.Error.WriteLineAsync(CliErrors.Describe(ex) ?? ex.Message);
                return CliErrors.ExitCode;
            }
        });
        root.Subcommands.Add(command);
        return command;
    }
}

using System.CommandLine;
using System.CommandLine.Parsing;
using Azure;
using ChildShare.Core.Ingestion;

namespace ChildShare.Cli;

/// <summary>A mistake the operator can fix (an unknown blob or upload id...): printed as one clear line, exit code 2, never a stack trace.</summary>
public sealed class OperatorException(string message) : Exception(message);

/// <summary>Turns the errors an operator can fix into words, and holds the validators the commands share.</summary>
public static class CliErrors
{
    public const int ExitCode = 2;

    /// <summary>What to tell the operator about <paramref name="error"/>, or null when it is a bug (then the stack trace is worth having).</summary>
    public static string? Describe(Exception error) => error switch
    {
        OperatorException => error.Message,
        ProfileValidationException profile => "The mapping profile is not valid:" + string.Concat(profile.Errors.Select(e => Environment.NewLine + "  - " + e)),
        // A null argument is a bug, not the operator's mistake: it keeps its stack trace.
        ArgumentException argument when argument is not ArgumentNullException => argument.ParamName is { } name ? argument.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : argument.Message,
        FileNotFoundException file => $"No such file: {file.FileName ?? file.Message}",
        DirectoryNotFoundException or UnauthorizedAccessException or PathTooLongException => error.Message,
        RequestFailedException { Status: 0 } or AggregateException { InnerExceptions: [RequestFailedException { Status: 0 }, ..] } or HttpRequestException =>
            "The storage does not answer. Is Azurite running (source infra/local/azurite.sh && azurite_up), and is ChildShareStorage right?",
        _ => null,
    };

    /// <summary>Runs an action, printing an operator's error as words on standard error with exit code 2.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return await action();
        }
        catch (Exception ex) when (Describe(ex) is { } message)
        {
            await Console.Error.WriteLineAsync(message);
            return ExitCode;
        }
    }

    /// <summary>Provider and organization ids: 2 to 63 lowercase letters, digits and dashes.</summary>
    public static void MustBeId(Option<string> option) =>
        Check(option, ProviderRegistry.IsValidId, $"{option.Name} is an id of 2 to 63 lowercase letters, digits and dashes (not starting with a dash).");

    public static void MustExist(Option<string> option) => Check(option, File.Exists, $"{option.Name}: no such file.", quote: true);

    public static void MustExistDirectory(Option<string> option) => Check(option, Directory.Exists, $"{option.Name}: no such folder.", quote: true);

    public static void MustBeUploadId(Option<string> option) => Check(option, ManifestStore.IsValidUploadId, $"{option.Name} is an upload id: 32 lowercase hexadecimal characters.");

    /// <summary>A value one of <paramref name="values"/>, in any case; parsed to the value as written there.</summary>
    public static void OneOf(Option<string> option, IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = r => r.Tokens.Count == 0 ? option.DefaultValueFactory?.Invoke(r) ?? values[0] : values.FirstOrDefault(v => string.Equals(v, r.Tokens[0].Value, StringComparison.OrdinalIgnoreCase)) ?? r.Tokens[0].Value;
        Check(option, v => values.Contains(v, StringComparer.OrdinalIgnoreCase), $"{option.Name} is one of {string.Join(", ", values)}.");
    }

    private static void Check(Option option, Func<string, bool> valid, string message, bool quote = false) =>
        option.Validators.Add((OptionResult r) =>
        {
            if (r.Tokens.Count > 0 && !valid(r.Tokens[0].Value))
            {
                r.AddError(quote ? $"{message} ({r.Tokens[0].Value})" : message);
            }
        });
}

using System.Diagnostics;

namespace ChildShare.Tests.Support;

/// <summary>
/// Runs the real operator command line (<c>childshare.dll</c>, built beside the tests) as its own process
/// against a <see cref="TestStorage"/>: exit codes and standard error are what an operator sees.
/// </summary>
public static class CliProcess
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static async Task<Result> RunAsync(TestStorage storage, IEnumerable<KeyValuePair<string, string?>> settings, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CliAssembly());
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in storage.Settings.Concat(settings))
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("The command line did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await output, await error);
    }

    /// <summary>
    /// The command line from its own build output (its deps.json resolves its own dependencies; the copy
    /// beside the tests would resolve the test project's): functions/ChildShare.Cli/bin/{configuration}/{tfm}.
    /// </summary>
    private static string CliAssembly()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var (framework, configuration) = (testOutput.Name, testOutput.Parent!.Name);
        var repository = testOutput.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(repository, "functions", "ChildShare.Cli", "bin", configuration, framework, "childshare.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build functions/ChildShare.Cli first.", path);
    }
}

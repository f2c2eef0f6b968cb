using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ChildShare.Tests.Support;

/// <summary>
/// The Bicep CLI at the version pinned in <c>infra/tools/BicepCli.csproj</c>, found where
/// <c>infra/check-bicep.sh</c> restores it (<c>infra/tools/.packages/</c>) and restored the same way
/// (<c>dotnet restore</c> of that project: only the package registry is reached) when it is missing.
/// </summary>
internal static partial class BicepCli
{
    private static readonly SemaphoreSlim RestoreGate = new(1, 1);

    public static string InfraFolder => Path.Combine(RepositoryRoot.Path, "infra");

    /// <summary>Runs the CLI; returns its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(IReadOnlyList<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(await ExecutableAsync())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("The Bicep CLI did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await errors);
    }

    private static async Task<string> ExecutableAsync()
    {
        var project = Path.Combine(InfraFolder, "tools", "BicepCli.csproj");
        var version = VersionRegex().Match(await File.ReadAllTextAsync(project)) is { Success: true } match
            ? match.Groups["version"].Value
            : throw new InvalidOperationException("infra/tools/BicepCli.csproj pins no Azure.Bicep.CommandLine.linux-x64 version.");
        var executable = Path.Combine(InfraFolder, "tools", ".packages", "azure.bicep.commandline.linux-x64", version, "tools", "bicep");
        await RestoreGate.WaitAsync();
        try
        {
            if (!File.Exists(executable))
            {
                using var restore = Process.Start(new ProcessStartInfo("dotnet", ["restore", project, "--nologo", "--verbosity", "quiet"]) { UseShellExecute = false })
                    ?? throw new InvalidOperationException("dotnet restore did not start.");
                await restore.WaitForExitAsync();
                Assert.True(restore.ExitCode == 0 && File.Exists(executable), $"Restoring the Bicep CLI {version} failed (exit {restore.ExitCode}).");
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(executable, File.GetUnixFileMode(executable) | UnixFileMode.UserExecute);
            }
        }
        finally
        {
            RestoreGate.Release();
        }

        return executable;
    }

    [GeneratedRegex(@"Include=""Azure\.Bicep\.CommandLine\.linux-x64""\s+Version=""\[(?<version>[0-9.]+)\]""")]
    private static partial Regex VersionRegex();
}

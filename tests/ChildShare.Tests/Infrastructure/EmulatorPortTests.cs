using System.Diagnostics;
using System.Text.RegularExpressions;
using ChildShare.Cli;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Infrastructure;

/// <summary>
/// The emulator's ports are one setting (CHILDSHARE_AZURITE_PORT) read by infra/local/azurite.sh (so
/// by tests/run-tests.sh and the demo), the tests and the command line (so serve); the script never
/// uses an emulator it did not start unless told to. The tests' own Azurite stands in for "one that
/// already listens".
/// </summary>
public sealed partial class EmulatorPortTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    /// <summary>The blob port of the Azurite the tests run against.</summary>
    private static int RunningBlobPort =>
        BlobPortRegex().Match(TestStorage.ConnectionString) is { Success: true } match ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 10000;

    private static async Task<(int Exit, string Output)> RunAsync(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in new[] { "ChildShareStorage", "CHILDSHARE_TEST_STORAGE", "CHILDSHARE_AZURITE_REUSE", CliHost.EmulatorPortVariable })
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    private static Task<(int Exit, string Output)> ScriptAsync(string commands, IReadOnlyDictionary<string, string?> environment) =>
        RunAsync("bash", ["-c", $"source '{Path.Combine(RouteRoot(), "infra", "local", "azurite.sh")}' && {commands}"], environment);

    private static string RouteRoot() => EndToEnd.RouteTableTests.FindRepositoryRoot();

    [Fact]
    public async Task AzuriteScript_PortsTakenByAnEmulatorItDidNotStart_StopsWithoutUsingIt()
    {
        var (exit, output) = await ScriptAsync("azurite_up", new Dictionary<string, string?> { [CliHost.EmulatorPortVariable] = RunningBlobPort.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Assert.NotEqual(0, exit);
        Assert.Contains("is in use by something this script did not start", output, StringComparison.Ordinal);
        Assert.Contains("CHILDSHARE_AZURITE_REUSE=1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AzuriteScript_ToldToReuse_UsesItAndExportsItsPorts()
    {
        var port = RunningBlobPort;
        var (exit, output) = await ScriptAsync("azurite_up && echo \"storage=$ChildShareStorage\" && echo \"tests=$CHILDSHARE_TEST_STORAGE\"",
            new Dictionary<string, string?> { [CliHost.EmulatorPortVariable] = port.ToString(System.Globalization.CultureInfo.InvariantCulture), ["CHILDSHARE_AZURITE_REUSE"] = "1" });

        Assert.True(exit == 0, output);
        Assert.Contains($"storage=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;", output, StringComparison.Ordinal);
        Assert.Contains($"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{port + 1}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{port + 2}/", output, StringComparison.Ordinal);
        Assert.Contains($"tests=DefaultEndpointsProtocol=http", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommandLine_EmulatorPortSettingAlone_TargetsThatEmulator()
    {
        var environment = _storage.Settings.Where(s => s.Key != "ChildShareStorage")
            .ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
        environment[CliHost.EmulatorPortVariable] = RunningBlobPort.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (exit, output) = await RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "childshare.dll"), "agreement-list"], environment);

        Assert.True(exit == 0, output);
        Assert.Equal("[]", output.Trim());
    }

    [GeneratedRegex(@"BlobEndpoint=http://127\.0\.0\.1:(\d+)/")]
    private static partial Regex BlobPortRegex();
}

using System.Diagnostics;
using ChildShare.Core.Ingestion;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Cli;

/// <summary>
/// The built command line run as an operator runs it (a process, its exit code and its output), on a
/// private corner of Azurite: mistakes an operator can fix get one clear line and a non-zero exit, never a stack trace.
/// </summary>
public sealed class CliProcessTests : IAsyncLifetime
{
    private const string GoodProfile = """{"dateFormats":["yyyy-MM-dd"],"columns":{"Id":"LocalChildId","First":"FirstName","Last":"LastName","DOB":"BirthDate"}}""";

    private readonly TestStorage _storage = new();
    private readonly string _folder = Directory.CreateTempSubdirectory("childshare-cli-").FullName;

    public Task InitializeAsync() => _storage.InitializeAsync();

    public async Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        await _storage.DisposeAsync();
    }

    private string File(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    private async Task<(int Exit, string Output, string Error)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "childshare.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in _storage.Settings)
        {
            start.Environment[name.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    private static void AssertOneClearError((int Exit, string Output, string Error) result, string message)
    {
        Assert.NotEqual(0, result.Exit);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error + result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Error + result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegisterProvider_IdWithCapitals_OneClearLine()
    {
        AssertOneClearError(await RunAsync("register-provider", "--provider", "District-North", "--name", "North"), "--provider is an id of 2 to 63 lowercase letters");
    }

    [Fact]
    public async Task Upload_IdWithCapitals_RefusedAndNothingUploaded()
    {
        var csv = File("roster.csv", "Id,First,Last,DOB\n");

        AssertOneClearError(await RunAsync("upload", "--provider", "District-North", "--file", csv), "--provider is an id");
        Assert.False(await _storage.Storage.Uploads.GetBlobClient("District-North/roster.csv").ExistsAsync());
    }

    [Fact]
    public async Task SaveProfile_MissingFile_OneClearLine()
    {
        AssertOneClearError(await RunAsync("save-profile", "--provider", "north", "--profile", Path.Combine(_folder, "nope.json")), "--profile: no such file");
    }

    [Fact]
    public async Task RegisterProvider_BadProfile_EveryProblemListedAndNothingRegistered()
    {
        var profile = File("bad.json", """{"columns":{"Id":"LocalChildId","Born":"Birthday"},"encoding":"latin-9","dateFormat":"x"}""");

        var result = await RunAsync("register-provider", "--provider", "north", "--name", "North", "--profile", profile);

        AssertOneClearError(result, "The mapping profile is not valid:");
        Assert.Equal(2, result.Exit);
        Assert.Contains("\"Born\" maps to \"Birthday\"", result.Error, StringComparison.Ordinal);
        Assert.Contains("encoding must be one of", result.Error, StringComparison.Ordinal);
        Assert.Contains("\"dateFormat\" is not a profile setting", result.Error, StringComparison.Ordinal);
        Assert.Contains("no column maps to BirthDate", result.Error, StringComparison.Ordinal);
        await using var services = TestApp.Build(_storage);
        Assert.Null(await services.GetRequiredService<ProviderRegistry>().GetAsync("north"));
    }

    [Fact]
    public async Task RegisterProvider_KindInAnyCaseWithProfile_RegisteredWithItsCanonicalKind()
    {
        var result = await RunAsync("register-provider", "--provider", "north", "--name", "North", "--kind", "schooldistrict", "--profile", File("good.json", GoodProfile));

        Assert.True(result.Exit == 0, result.Error);
        await using var services = TestApp.Build(_storage);
        var provider = await services.GetRequiredService<ProviderRegistry>().GetAsync("north");
        Assert.Equal(("SchoolDistrict", 1), (provider!.Kind, provider.ActiveProfileVersion));
    }

    [Fact]
    public async Task Ingest_UnknownBlob_OneClearLine()
    {
        var result = await RunAsync("ingest", "--blob", "north/never-uploaded.csv");

        AssertOneClearError(result, "No upload ");
        Assert.Equal(2, result.Exit);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef", "No upload has the id")]
    [InlineData("not-an-upload", "--id is an upload id")]
    public async Task Manifest_UnknownOrMalformedId_OneClearLine(string id, string message)
    {
        AssertOneClearError(await RunAsync("manifest", "--id", id), message);
    }

    [Fact]
    public async Task GenerateCommunity_UnknownSize_RefusedInsteadOfTheSample()
    {
        AssertOneClearError(await RunAsync("generate-community", "--out", _folder, "--size", "huge"), "--size is one of sample, benchmark");
    }
}

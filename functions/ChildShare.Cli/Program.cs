using System.CommandLine;
using ChildShare.Cli;
using ChildShare.Cli.Serve;
using ChildShare.Cli.Synthetic;
using ChildShare.Core.Ingestion;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

var root = new RootCommand("ChildShare operator command line: the function app's services, for local runs, backfills and administration.");
var verbose = new Option<bool>("--verbose") { Description = "Show the services' information logs.", Recursive = true };
root.Options.Add(verbose);

Operator CreateOperator(ParseResult result, out ServiceProvider services)
{
    services = CliHost.Build(logLevel: result.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
    return ActivatorUtilities.CreateInstance<Operator>(services, Console.Out);
}

Command Define(string name, string description, Option[] options, Func<Operator, ParseResult, CancellationToken, Task> action) =>
    DefineWithExitCode(name, description, options, async (op, result, cancellationToken) =>
    {
        await action(op, result, cancellationToken);
        return 0;
    });

// An error the operator can fix (a refused upload path, a missing file...) is one line on standard error and exit code 2 (CliErrors).
Command DefineWithExitCode(string name, string description, Option[] options, Func<Operator, ParseResult, CancellationToken, Task<int>> action)
{
    var command = new Command(name, description);
    foreach (var option in options)
    {
        command.Options.Add(option);
    }

    command.SetAction(async (result, cancellationToken) =>
    {
        var op = CreateOperator(result, out var services);
        await using (services)
        {
            return await CliErrors.RunAsync(() => action(op, result, cancellationToken));
        }
    });
    return command;
}

Option<string> Required(string name, string description) => new(name) { Description = description, Required = true };

var providerId = Required("--provider", "The provider id (lowercase letters, digits, dashes).");
CliErrors.MustBeId(providerId);
var providerName = Required("--name", "The provider's display name.");
var providerKind = new Option<string>("--kind") { Description = $"One of {string.Join(", ", ProviderRegistry.Kinds)} (any case).", DefaultValueFactory = _ => "Other" };
CliErrors.OneOf(providerKind, ProviderRegistry.Kinds);
var profileFile = new Option<string>("--profile") { Description = "A mapping profile JSON file to save as the provider's new active version." };
CliErrors.MustExist(profileFile);
var requiredProfile = Required("--profile", "The mapping profile JSON file.");
CliErrors.MustExist(requiredProfile);
var file = Required("--file", "A local file.");
CliErrors.MustExist(file);
var blobName = new Option<string?>("--as") { Description = "The path under uploads/{provider}/ (default: the file's name)." };
var blob = Required("--blob", "The blob's path inside the uploads container: {provider}/....");
blob.Validators.Add(r =>
{
    if (r.Tokens.Count > 0 && !(r.Tokens[0].Value.Split('/') is [var owner, _, ..] && ProviderRegistry.IsValidId(owner)))
    {
        r.AddError("--blob is {provider}/{path}: the provider's id (lowercase letters, digits, dashes), a slash, then the file's path.");
    }
});
var uploadId = Required("--id", "The upload id.");
CliErrors.MustBeUploadId(uploadId);
var samples = new Option<string>("--samples") { Description = "The folder of sample providers.", DefaultValueFactory = _ => Path.Combine(AppContext.BaseDirectory, "samples") };
CliErrors.MustExistDirectory(samples);

root.Subcommands.Add(Define("init", "Create the containers and tables.", [], (op, _, ct) => op.InitAsync(ct)));
root.Subcommands.Add(Define("register-provider", "Register (or update) a provider, optionally with a mapping profile.",
    [providerId, providerName, providerKind, profileFile],
    (op, r, ct) => op.RegisterProviderAsync(r.GetValue(providerId)!, r.GetValue(providerName)!, r.GetValue(providerKind)!, r.GetValue(profileFile), ct)));
root.Subcommands.Add(Define("save-profile", "Validate and save a provider's mapping profile as its new active version.",
    [providerId, requiredProfile],
    (op, r, ct) => op.SaveProfileAsync(r.GetValue(providerId)!, r.GetValue(requiredProfile)!, ct)));
root.Subcommands.Add(Define("upload", "Upload a file to uploads/{provider}/, as the provider would.", [providerId, file, blobName],
    (op, r, ct) => op.UploadAsync(r.GetValue(providerId)!, r.GetValue(file)!, r.GetValue(blobName), ct)));
var retryFailed = new Option<bool>("--retry-failed")
{
    Description = "Ingest it again even if its manifest says Failed (once the cause is fixed), with a fresh count of attempts.",
};
root.Subcommands.Add(Define("ingest", "Ingest one upload blob now (what the blob trigger does).", [blob, retryFailed],
    (op, r, ct) => op.IngestAsync(r.GetValue(blob)!, ct, r.GetValue(retryFailed))));
root.Subcommands.Add(DefineWithExitCode("ingest-pending",
    "Ingest every upload whose current content has no final manifest (new, overwritten, interrupted, or left waiting); exit code 1 if any failed.", [],
    async (op, _, ct) => (await op.IngestPendingAsync(ct)).Any(o => o.Failed) ? 1 : 0));
root.Subcommands.Add(Define("manifest", "Show an upload's manifest.", [uploadId], (op, r, ct) => op.ShowManifestAsync(r.GetValue(uploadId)!, ct)));

var demo = new Command("demo", "Ingest the sample providers, print every manifest, then show the three sharing modes (aggregate, de-identified, identifiable).");
var keep = new Option<bool>("--keep") { Description = "Leave the emulator and its data running for exploration (infra/local/demo.sh reads it too)." };
demo.Options.Add(samples);
demo.Options.Add(keep);
demo.SetAction(async (result, cancellationToken) =>
{
    var level = result.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning;
    await using var services = CliHost.Build(logLevel: level);
    return await CliErrors.RunAsync(() => Demo.RunAsync(services,
        // The modes' refusals are shown as the commands print them; their warning logs would only repeat them.
        _ => CliHost.Build(logLevel: result.GetValue(verbose) ? LogLevel.Information : LogLevel.Error), result.GetValue(samples)!, Console.Out, result.GetValue(keep),
        cancellationToken));
});
root.Subcommands.Add(demo);

var outDir = Required("--out", "The folder to write provider files and profiles to.");
var size = new Option<string>("--size") { Description = "sample (3 providers, 300 children) or benchmark (5 providers, 100,000 children, 1,000,000 rows).", DefaultValueFactory = _ => "sample" };
CliErrors.OneOf(size, ["sample", "benchmark"]);
var generate = new Command("generate-community", "Write a seeded synthetic community's provider files, profiles and providers.json.");
generate.Options.Add(outDir);
generate.Options.Add(size);
generate.SetAction(result =>
{
    var spec = result.GetValue(size) == "benchmark" ? CommunitySpec.Benchmark : CommunitySpec.Sample;
    foreach (var written in new SyntheticCommunity(spec).WriteTo(result.GetValue(outDir)!))
    {
        Console.WriteLine($"wrote {written}");
    }

    return 0;
});
root.Subcommands.Add(generate);
root.Subcommands.Add(LinkageCommands.Create(verbose));
root.Subcommands.Add(ServeCommand.Create(verbose));

AgreementCommands.AddTo(root, verbose);
ConsentCommands.AddTo(root, verbose);
ModeCommands.AddTo(root, verbose);
ActivityCommands.AddTo(root, verbose);

return await root.Parse(args).InvokeAsync();

using System.CommandLine;
using System.Text.Json;
using ChildShare.Core.Ingestion;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChildShare.Cli;

/// <summary>
/// The README's first command: registers the sample providers, uploads their files and ingests
/// them through the same code path as the blob trigger, prints every manifest, then shows the
/// three sharing modes on the ingested community (<see cref="DemoSharing"/>).
/// </summary>
public static class Demo
{
    private sealed record SampleProvider(string Id, string Name, string Kind, string Profile, string[] Files);

    /// <param name="services">The operator's services (ingestion, consents, agreements, keys).</param>
    /// <param name="modeServices">Builds the services of one sharing-mode command, as <c>childshare report</c> and <c>export</c> do.</param>
    /// <param name="samplesDirectory">The sample providers (<c>providers.json</c>, profiles, files).</param>
    /// <param name="output">Where everything is written.</param>
    /// <param name="keep">Whether the emulator and data stay up after the demo (<c>demo --keep</c>): the closing lines say so.</param>
    /// <param name="cancellationToken">Stops the demo.</param>
    /// <returns>0 when every upload finished and each mode behaved as the demo says; 1 otherwise.</returns>
    public static async Task<int> RunAsync(IServiceProvider services, Func<LogLevel, ServiceProvider> modeServices, string samplesDirectory, TextWriter output,
        bool keep, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(output);
        var op = ActivatorUtilities.CreateInstance<Operator>(services, output);
        var catalog = Path.Combine(samplesDirectory, "providers.json");
        var providers = JsonSerializer.Deserialize<SampleProvider[]>(await File.ReadAllTextAsync(catalog, cancellationToken), Operator.PrintOptions)
            ?? throw new InvalidOperationException($"{catalog} lists no providers.");

        await op.InitAsync(cancellationToken);
        foreach (var provider in providers)
        {
            await op.RegisterProviderAsync(provider.Id, provider.Name, provider.Kind, Path.Combine(samplesDirectory, provider.Profile), cancellationToken);
            foreach (var file in provider.Files)
            {
                await op.UploadAsync(provider.Id, Path.Combine(samplesDirectory, file), null, cancellationToken);
            }
        }

        // An upload from a provider nobody registered: kept, not processed, and its manifest says why.
        var stray = Path.Combine(samplesDirectory, "unregistered-provider.csv");
        if (File.Exists(stray))
        {
            await op.UploadAsync("unknown-org", stray, null, cancellationToken);
        }

        var outcomes = await op.IngestPendingAsync(cancellationToken);
        await output.WriteLineAsync();
        await output.WriteLineAsync("upload                            provider         status                     read  accepted  rejected");
        foreach (var m in outcomes.Select(o => o.Manifest).OfType<UploadManifest>())
        {
            await output.WriteLineAsync($"{m.UploadId}  {m.ProviderId,-15}  {m.Status,-25}  {m.RowsRead,5}  {m.RowsAccepted,8}  {m.RowsRejected,8}");
        }

        var (records, children) = await op.CountChildrenAsync(cancellationToken);
        await output.WriteLineAsync();
        await output.WriteLineAsync($"{records} provider records link into {children} community children (a child served by several providers counts once).");
        await output.WriteLineAsync("Rejected rows are listed (line, field, reason) in the rejects container; run the demo again and every upload is recognized, nothing counted twice.");
        var failed = outcomes.Any(o => o.Failed);
        if (!DemoSharing.SampleProviders.All(id => providers.Any(p => p.Id == id)))
        {
            return failed ? 1 : 0;
        }

        var modes = new RootCommand();
        var verbose = new Option<bool>("--verbose") { Recursive = true };
        modes.Options.Add(verbose);
        ModeCommands.AddTo(modes, verbose, modeServices);
        var sharing = new DemoSharing(services, output, commandLine => modes.Parse(commandLine).InvokeAsync(new InvocationConfiguration { Output = output, Error = output },
            cancellationToken));
        var shown = await sharing.RunAsync(keep, cancellationToken);

        // The parent's page (CONSENT.md): a sample consent for the district's first sample child, and its signed link.
        await output.WriteLineAsync();
        await output.WriteLineAsync("== The parent's page ==");
        await op.ParentLinkAsync("district-north", "S100001", "bright-futures", cancellationToken);
        await sharing.WriteTryItAsync(keep);
        return failed || !shown ? 1 : 0;
    }
}

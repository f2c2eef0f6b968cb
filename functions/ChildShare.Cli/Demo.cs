using System.Text.Json;
using ChildShare.Core.Ingestion;

namespace ChildShare.Cli;

/// <summary>
/// The README's first command: registers the sample providers, uploads their files and ingests
/// them through the same code path as the blob trigger, then prints every manifest.
/// </summary>
public static class Demo
{
    private sealed record SampleProvider(string Id, string Name, string Kind, string Profile, string[] Files);

    public static async Task<int> RunAsync(Operator op, string samplesDirectory, TextWriter output, CancellationToken cancellationToken)
    {
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
        if (providers.Any(p => p.Id == "district-north") && providers.Any(p => p.Id == "bright-futures"))
        {
            // The parent's page (CONSENT.md): a sample consent for the district's first sample child, and its signed link.
            await output.WriteLineAsync();
            await op.ParentLinkAsync("district-north", "S100001", "bright-futures", cancellationToken);
        }

        return outcomes.Any(o => o.Failed) ? 1 : 0;
    }
}

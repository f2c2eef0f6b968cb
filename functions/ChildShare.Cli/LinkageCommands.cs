using System.CommandLine;
using ChildShare.Core.Linkage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChildShare.Cli;

/// <summary>
/// <c>linkage show</c>: a provider child's community child and every member's reason code;
/// <c>linkage split</c>: separate two provider children for good (a do-not-link constraint that
/// later uploads honour), re-form their cluster and rebuild the moved records' summaries.
/// Children are named by provider id and the provider's own local child id; only keyed tokens are printed.
/// </summary>
public static class LinkageCommands
{
    public static Command Create(Option<bool> verbose)
    {
        var linkage = new Command("linkage", "Inspect and correct record linkage (which provider records are the same child).");
        var provider = new Option<string>("--provider") { Description = "The provider id.", Required = true };
        var localId = new Option<string>("--local-id") { Description = "The provider's local child id.", Required = true };
        var show = new Command("show", "Show the community child of a provider record, with the reason code of each member.");
        show.Options.Add(provider);
        show.Options.Add(localId);
        show.SetAction(async (result, cancellationToken) =>
        {
            await using var services = CliHost.Build(logLevel: result.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
            var admin = services.GetRequiredService<LinkageAdmin>();
            var key = await admin.ProviderChildAsync(result.GetValue(provider)!, result.GetValue(localId)!, cancellationToken);
            var cluster = await admin.ShowAsync(key, cancellationToken);
            if (cluster is not { } found)
            {
                Console.WriteLine("That provider record has not been linked.");
                return 1;
            }

            Console.WriteLine($"child {found.ClusterKey}: {found.Members.Count} provider records");
            foreach (var member in found.Members)
            {
                Console.WriteLine($"  {member.ProviderChild}  {member.Rule}  variants={member.Variants}{(member.HasConstraints ? "  do-not-link" : "")}");
            }

            return 0;
        });

        var providerB = new Option<string>("--other-provider") { Description = "The other record's provider id.", Required = true };
        var localIdB = new Option<string>("--other-local-id") { Description = "The other record's local child id.", Required = true };
        var split = new Command("split", "Record that two provider records are different children and split their community child.");
        foreach (var option in new[] { provider, localId, providerB, localIdB })
        {
            split.Options.Add(option);
        }

        split.SetAction(async (result, cancellationToken) =>
        {
            await using var services = CliHost.Build(logLevel: result.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
            var admin = services.GetRequiredService<LinkageAdmin>();
            var a = await admin.ProviderChildAsync(result.GetValue(provider)!, result.GetValue(localId)!, cancellationToken);
            var b = await admin.ProviderChildAsync(result.GetValue(providerB)!, result.GetValue(localIdB)!, cancellationToken);
            var outcome = await admin.SplitAsync(a, b, cancellationToken);
            Console.WriteLine($"split: {outcome.ClusterA} / {outcome.ClusterB}; {outcome.Moved.Count} provider records moved; the constraint holds for later uploads.");
            return 0;
        });

        linkage.Subcommands.Add(show);
        linkage.Subcommands.Add(split);
        return linkage;
    }
}

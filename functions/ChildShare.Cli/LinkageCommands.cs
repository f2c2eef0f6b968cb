using System.CommandLine;
using ChildShare.Core.Linkage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChildShare.Cli;

/// <summary>
/// <c>linkage show</c>: a provider child's community child and every member's reason code;
/// <c>linkage review</c>: the pairs the model was unsure of, with the agreement pattern of their fields (never a value);
/// <c>linkage merge</c>: confirm two provider children are one child (a must-link constraint that later uploads keep);
/// <c>linkage split</c>: separate two provider children for good (a do-not-link constraint that
/// later uploads honour), re-form their cluster and rebuild the moved records' summaries.
/// Children are named by provider id and the provider's own local child id; only keyed tokens are printed.
/// <c>linkage known-blocks</c>: build the known-blocks set of a store begun before it.
/// <c>linkage prune-review</c>: delete the review entries closed since they were queued (the function app does it daily).
/// Review, prune, merge and split are audited with the actor <c>operator:{user}</c>.
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

        var actor = "operator:" + Environment.UserName;
        // merge and split take the records by provider and local id, or by the keyed provider-child key that review prints.
        var providerA = new Option<string>("--provider") { Description = "The provider id (or give --child)." };
        var localIdA = new Option<string>("--local-id") { Description = "The provider's local child id (or give --child)." };
        var childA = new Option<string>("--child") { Description = "The keyed provider-child key, as linkage review prints it." };
        var providerB = new Option<string>("--other-provider") { Description = "The other record's provider id (or give --other-child)." };
        var localIdB = new Option<string>("--other-local-id") { Description = "The other record's local child id (or give --other-child)." };
        var childB = new Option<string>("--other-child") { Description = "The other keyed provider-child key." };
        async Task<(string A, string B)> PairOf(LinkageAdmin admin, ParseResult result, CancellationToken cancellationToken) => (
            result.GetValue(childA) ?? await admin.ProviderChildAsync(Required(result, providerA), Required(result, localIdA), cancellationToken),
            result.GetValue(childB) ?? await admin.ProviderChildAsync(Required(result, providerB), Required(result, localIdB), cancellationToken));
        var split = new Command("split", "Record that two provider records are different children and split their community child (audited).");
        var merge = new Command("merge", "Confirm that two provider records are the same child and join their community children (audited).");
        foreach (var option in new[] { providerA, localIdA, childA, providerB, localIdB, childB })
        {
            split.Options.Add(option);
            merge.Options.Add(option);
        }

        split.SetAction(async (result, cancellationToken) =>
        {
            await using var services = CliHost.Build(logLevel: result.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
            var admin = services.GetRequiredService<LinkageAdmin>();
            var (a, b) = await PairOf(admin, result, cancellationToken);
            var outcome = await admin.SplitAsync(a, b, actor, cancellationToken);
            Console.WriteLine($"split: {outcome.ClusterA} / {outcome.ClusterB}; {outcome.Moved.Count} provider records moved; the constraint holds for later uploads.");
            return 0;
        });

        merge.SetAction(async (result, cancellationToken) =>
        {
            await using var services = CliHost.Build(logLevel: result.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
            var admin = services.GetRequiredService<LinkageAdmin>();
            var (a, b) = await PairOf(admin, result, cancellationToken);
            var outcome = await admin.MergeAsync(a, b, actor, cancellationToken);
            Console.WriteLine($"merged: {outcome.ClusterKey}; {outcome.Moved.Count} provider records moved; the must-link holds for later uploads.");
            return 0;
        });

        var max = new Option<int>("--max") { Description = "At most this many pairs, strongest first.", DefaultValueFactory = _ => 50 };
        var review = new Command("review", "List the pairs the model was unsure of, with the agreement pattern of their fields (audited; no values).");
        review.Options.Add(max);
        review.SetAction(async (result, cancellationToken) =>
        {
            await using var services = CliHost.Build(logLevel: result.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
            var items = await services.GetRequiredService<LinkageAdmin>().ReviewAsync(result.GetValue(max), actor, cancellationToken);
            Console.WriteLine($"{items.Count} pairs to review (confirm one with linkage merge, or separate it with linkage split):");
            foreach (var item in items)
            {
                Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"  {item.ProviderChildA}  {item.ProviderChildB}  w{item.Weight:+0.0;-0.0}{(item.Ambiguous ? "  ambiguous (fits two children)" : "")}  {item.Pattern}"));
            }

            return 0;
        });

        var pruneReview = new Command("prune-review",
            "Delete the review entries whose records have since been joined or separated (under the linkage lock; audited). The function app does it daily.");
        pruneReview.SetAction(async (result, cancellationToken) =>
        {
            await using var services = CliHost.Build(logLevel: result.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
            var pruned = await services.GetRequiredService<LinkageAdmin>().PruneReviewsAsync(actor, cancellationToken);
            Console.WriteLine($"{pruned} closed review entries deleted.");
            return 0;
        });

        var knownBlocks = new Command("known-blocks",
            "Build the known-blocks set of a store begun before it (one scan of the token index, under the linkage lock), so uploads skip reading blocks that do not exist.");
        knownBlocks.SetAction(async (result, cancellationToken) =>
        {
            await using var services = CliHost.Build(logLevel: result.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
            var tokens = await services.GetRequiredService<LinkageAdmin>().RebuildKnownBlocksAsync(cancellationToken);
            Console.WriteLine($"known-blocks set: {tokens} tokens; later uploads read only the blocks of tokens in it.");
            return 0;
        });

        linkage.Subcommands.Add(show);
        linkage.Subcommands.Add(review);
        linkage.Subcommands.Add(pruneReview);
        linkage.Subcommands.Add(knownBlocks);
        linkage.Subcommands.Add(merge);
        linkage.Subcommands.Add(split);
        return linkage;
    }

    private static string Required(ParseResult result, Option<string> option) =>
        result.GetValue(option) ?? throw new ArgumentException($"{option.Name} is required (or give the keyed provider-child key).");
}

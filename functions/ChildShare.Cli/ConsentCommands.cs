using System.CommandLine;
using System.Text.Json;
using ChildShare.Core.Consent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChildShare.Cli;

/// <summary>
/// The operator's consent commands: run the expiry job by hand (what the timer does), list consents
/// nearing expiry, revoke a consent a parent revoked by phone or letter. Actor <c>operator:{user}</c>.
/// </summary>
public static class ConsentCommands
{
    private static readonly JsonSerializerOptions Print = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static void AddTo(RootCommand root, Option<bool> verbose)
    {
        ArgumentNullException.ThrowIfNull(root);
        var actor = "operator:" + Environment.UserName;
        var days = new Option<int?>("--days") { Description = "The window in days (default: Consent__RenewalWindowDays)." };
        var org = new Option<string?>("--org") { Description = "Only consents this organization is party to." };
        var id = new Option<string>("--id") { Description = "The consent id.", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why (as the parent stated it).", Required = true };

        Command Define(string name, string description, Option[] options, Func<IServiceProvider, ParseResult, CancellationToken, Task> action) =>
            CliCommands.Add(root, verbose, name, description, options, action, ex => ex is ConsentValidationException or ConsentConflictException or ArgumentException);

        Define("expire-consents", "Mark consents past their expiry as expired and list those expiring soon (the timer's job, by hand; idempotent).", [],
            async (s, _, ct) =>
            {
                var result = await s.GetRequiredService<ConsentExpiryJob>().RunAsync(actor, ct);
                Console.WriteLine($"{result.Expired} consent(s) expired; {result.IndexRowsRead} index row(s) over {result.DaysRead} day(s) read; {result.ExpiringSoon.Count} expiring soon.");
                Show(result.ExpiringSoon);
            });
        Define("consents-expiring", "List active consents expiring within the window.", [days, org], async (s, r, ct) =>
            Show((await s.GetRequiredService<ConsentService>().ListExpiringAsync(ConsentActor.System(actor), r.GetValue(org), r.GetValue(days), ct)).Select(ConsentView.From)));
        Define("consent-revoke", "Revoke a consent (audited).", [id, reason], async (s, r, ct) =>
            Show(ConsentView.From(await s.GetRequiredService<ConsentService>().RevokeAsync(ConsentActor.System(actor), r.GetValue(id)!, r.GetValue(reason)!, ct)
                ?? throw new ArgumentException("No such consent."))));
    }

    private static void Show(object value) => Console.WriteLine(JsonSerializer.Serialize(value, Print));
}

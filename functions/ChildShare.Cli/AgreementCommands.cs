using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Callers;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChildShare.Cli;

/// <summary>
/// The operator's commands for agreements, Entra principal mappings and API keys. Changes are
/// audited with the actor <c>operator:{user}</c>.
/// </summary>
public static class AgreementCommands
{
    private static readonly JsonSerializerOptions Print = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static void AddTo(RootCommand root, Option<bool> verbose)
    {
        ArgumentNullException.ThrowIfNull(root);
        var id = new Option<string>("--id") { Description = "The agreement id (lowercase letters, digits, dashes).", Required = true };
        var title = new Option<string>("--title") { Description = "A short title.", DefaultValueFactory = _ => "" };
        var parties = new Option<string>("--parties") { Description = "Providers whose data it covers: a,b or a,b:2026-09-15 (joined on).", Required = true };
        var recipients = new Option<string>("--recipients") { Description = "Organizations that may request: a,b.", Required = true };
        var modes = new Option<string>("--modes") { Description = "Aggregate, DeIdentified, Identifiable (comma-separated).", DefaultValueFactory = _ => "Aggregate" };
        var purpose = new Option<string>("--purpose") { Description = "The purpose of the sharing.", Required = true };
        var from = new Option<string>("--effective") { Description = "Effective from (yyyy-MM-dd).", Required = true };
        var to = new Option<string?>("--ends") { Description = "Ends on (yyyy-MM-dd), inclusive; omit for open-ended." };
        var minimum = new Option<int>("--min-cell") { Description = "Minimum cell size (2 to 100000).", DefaultValueFactory = _ => DataSharingAgreement.DefaultMinimumCellSize };
        var dimensions = new Option<string>("--dimensions") { Description = $"Allowed report dimensions, or 'all': {string.Join(", ", ReportDimensions.All)}.", DefaultValueFactory = _ => "all" };
        var protection = new Option<string>("--protection")
        {
            Description = "Differencing protection: Round5 (default), Noise, or None (exact counts, one whole calendar month at a time).",
            DefaultValueFactory = _ => DataSharingAgreement.DefaultProtection.ToString(),
        };
        var document = new Option<string>("--document") { Description = "Reference to the signed document.", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why the agreement ends.", Required = true };
        var on = new Option<string?>("--on") { Description = "Last day in force (yyyy-MM-dd); default today." };
        var tenant = new Option<string>("--tenant") { Description = "Entra tenant id.", Required = true };
        var objectId = new Option<string>("--object-id") { Description = "Entra object id of the user, group-less app or managed identity.", Required = true };
        var org = new Option<string>("--org") { Description = "Organization id.", Required = true };
        var role = new Option<string>("--role") { Description = "Reader or Admin (any case).", DefaultValueFactory = _ => CallerRoles.Reader };
        CliErrors.OneOf(role, CallerRoles.All);
        var label = new Option<string>("--label") { Description = "What the key is for (e.g. power-bi).", DefaultValueFactory = _ => "power-bi" };
        var days = new Option<int>("--days") { Description = "Days until the key expires.", DefaultValueFactory = _ => 365 };
        var keyId = new Option<string>("--key-id") { Description = "The key id (the 16 hex digits after csk_).", Required = true };
        var orgFilter = new Option<string?>("--org") { Description = "Only this organization's keys." };
        var actor = "operator:" + Environment.UserName;
        var parentConfirmation = new Option<bool>("--require-parent-confirmation")
        {
            Description = "Identifiable consents under this agreement are in force only once the parent confirms them on the parent page.",
        };

        DataSharingAgreement Terms(ParseResult r) => new()
        {
            Id = r.GetValue(id)!,
            Title = r.GetValue(title)!,
            Parties = List(r.GetValue(parties)).Select(p => p.Split(':') is [var provider, var joined] ? new AgreementParty(provider, Day(joined)) : new AgreementParty(p)).ToList(),
            Recipients = List(r.GetValue(recipients)),
            Modes = List(r.GetValue(modes)).Select(m => Enum.Parse<SharingMode>(m, ignoreCase: true)).ToList(),
            Purpose = r.GetValue(purpose)!,
            EffectiveFrom = Day(r.GetValue(from)!),
            EndsOn = r.GetValue(to) is { Length: > 0 } end ? Day(end) : null,
            MinimumCellSize = r.GetValue(minimum),
            AllowedDimensions = r.GetValue(dimensions) is "all" ? ReportDimensions.All : List(r.GetValue(dimensions)).Select(d => ReportDimensions.Canonical(d) ?? d).ToList(),
            Protection = Enum.Parse<DifferencingProtection>(r.GetValue(protection)!, ignoreCase: true),
            DocumentReference = r.GetValue(document)!,
            RequireParentConfirmation = r.GetValue(parentConfirmation),
        };

        Command Define(string name, string description, Option[] options, Func<IServiceProvider, ParseResult, CancellationToken, Task> action) =>
            CliCommands.Add(root, verbose, name, description, options, action, ex => ex is AgreementValidationException or ArgumentException or FormatException);

        Option[] termsOptions = [id, title, parties, recipients, modes, purpose, from, to, minimum, dimensions, protection, document, parentConfirmation];
        Define("agreement-create", "Create a data sharing agreement (audited).", termsOptions, async (s, r, ct) =>
            Show(await s.GetRequiredService<AgreementStore>().CreateAsync(Terms(r), actor, ct)));
        Define("agreement-amend", "Amend an agreement: replaces its terms with a new version (audited).", termsOptions, async (s, r, ct) =>
            Show(await s.GetRequiredService<AgreementStore>().AmendAsync(r.GetValue(id)!, Terms(r), actor, ct) ?? throw new ArgumentException("No such agreement.")));
        Define("agreement-terminate", "Terminate an agreement (audited).", [id, reason, on], async (s, r, ct) =>
            Show(await s.GetRequiredService<AgreementStore>().TerminateAsync(r.GetValue(id)!, r.GetValue(reason)!, actor,
                r.GetValue(on) is { Length: > 0 } day ? Day(day) : null, ct) ?? throw new ArgumentException("No such agreement.")));
        Define("agreement-list", "List agreements (audited).", [], async (s, _, ct) =>
            Show(await s.GetRequiredService<AgreementStore>().ListForAsync(Caller.CommunityOperator(Environment.UserName), ct)));
        Define("principal-map", "Map an Entra principal to an organization and role (audited).", [tenant, objectId, org, role], async (s, r, ct) =>
            Show(await s.GetRequiredService<PrincipalDirectory>().MapAsync(r.GetValue(tenant)!, r.GetValue(objectId)!, r.GetValue(org)!, r.GetValue(role)!, actor, ct)));
        Define("principal-unmap", "Remove an Entra principal's mapping (audited).", [tenant, objectId], async (s, r, ct) =>
            Console.WriteLine(await s.GetRequiredService<PrincipalDirectory>().UnmapAsync(r.GetValue(tenant)!, r.GetValue(objectId)!, actor, ct) ? "Unmapped." : "Was not mapped."));
        Define("apikey-issue", "Issue an API key for an organization; the key is printed once and only its hash is kept (audited).", [org, role, label, days], async (s, r, ct) =>
        {
            var issued = await s.GetRequiredService<ApiKeyStore>().IssueAsync(r.GetValue(org)!, r.GetValue(role)!, r.GetValue(label)!, TimeSpan.FromDays(r.GetValue(days)), actor, ct);
            Show(issued.Info);
            Console.WriteLine($"key (shown once, store it now): {issued.Key}");
        });
        Define("apikey-revoke", "Revoke an API key (audited).", [keyId], async (s, r, ct) =>
            Console.WriteLine(await s.GetRequiredService<ApiKeyStore>().RevokeAsync(r.GetValue(keyId)!, actor, ct) ? "Revoked." : "No such key."));
        Define("apikey-list", "List API keys (ids, organizations, dates; never the keys).", [orgFilter], async (s, r, ct) =>
            Show(await s.GetRequiredService<ApiKeyStore>().ListAsync(r.GetValue(orgFilter), ct)));
    }

    private static void Show(object value) => Console.WriteLine(JsonSerializer.Serialize(value, Print));

    private static List<string> List(string? text) => (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static DateOnly Day(string text) => DateOnly.ParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture);
}

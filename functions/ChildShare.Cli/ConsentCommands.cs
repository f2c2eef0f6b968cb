using System.CommandLine;
using System.Text.Json;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Sharing.Identifiable.Parent;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Cli;

/// <summary>
/// The consent commands. <c>expire-consents</c> runs the timer's job by hand. The <c>consent</c>
/// group acts <c>--as</c> a named organization through the same services, rules and audit as the
/// HTTP API (the audit records an operator acting for that organization): record, show, revoke,
/// renew, and the data owner's review and decision (<c>review</c>, <c>authorize</c>, <c>awaiting</c>),
/// and the renewal list (<c>expiring</c>). Output is JSON.
/// </summary>
public static class ConsentCommands
{
    private static readonly JsonSerializerOptions Print = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static void AddTo(RootCommand root, Option<bool> verbose, CliContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        var cli = context ?? CliContext.Default;
        void Show(object value) => cli.Out.WriteLine(JsonSerializer.Serialize(value, Print));
        var user = Environment.UserName;
        var actor = "operator:" + user;
        var days = new Option<int?>("--days") { Description = "The window in days (default: Consent__RenewalWindowDays)." };
        var id = new Option<string>("--id") { Description = "The consent id.", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why (as the parent stated it).", Required = true };
        var asOrganization = new Option<string>("--as") { Description = "The organization the operator acts for.", Required = true };
        asOrganization.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } org && !ProviderRegistry.IsValidId(org))
            {
                r.AddError("--as is an organization id: 2 to 63 lowercase letters, digits and dashes.");
            }
        });
        var draftFile = new Option<string>("--file") { Description = "A JSON file: the consent (as POST /api/consents takes it), or the renewal.", Required = true };
        var decision = new Option<string>("--decision") { Description = "approve, decline or withdraw.", Required = true };
        decision.AcceptOnlyFromAmong("approve", "decline", "withdraw");
        var note = new Option<string?>("--note") { Description = "The source's own note, kept with its decision." };
        var forOrganization = new Option<string?>("--org") { Description = "Only consents this organization is party to (default: all)." };

        static bool IsOperatorError(Exception ex) =>
            ex is ConsentValidationException or ConsentConflictException or ConsentForbiddenException or ConsentPreconditionException or ArgumentException
                or FileNotFoundException or JsonException or Core.Audit.AuditUnavailableException;

        CliCommands.Add(root, verbose, "expire-consents", "Mark consents past their expiry as expired and list those expiring soon (the timer's job, by hand; idempotent).", [],
            async (s, _, ct) =>
            {
                var result = await s.GetRequiredService<ConsentExpiryJob>().RunAsync(actor, ct);
                cli.Out.WriteLine($"{result.Expired} consent(s) expired; {result.IndexRowsRead} index row(s) over {result.DaysRead} day(s) read; {result.ExpiringSoon.Count} expiring soon.");
                Show(result.ExpiringSoon);
            }, IsOperatorError, cli);

        var consent = new Command("consent", "Parent consents and the data owners' authorizations, acting --as an organization (audited as an operator for it).");
        Caller As(ParseResult r) => Caller.OperatorFor(r.GetValue(asOrganization)!, user);
        void Define(string name, string description, Option[] options, Func<IServiceProvider, ParseResult, CancellationToken, Task> action) =>
            CliCommands.Add(consent, verbose, name, description, options, action, IsOperatorError, cli);

        Define("record", "Record a consent for a child the organization serves (the file names the child by its local id).", [asOrganization, draftFile],
            async (s, r, ct) => Show(ConsentView.From(await s.GetRequiredService<ConsentService>().RecordAsync(As(r), Read<ConsentDraft>(r.GetValue(draftFile)!), ct))));
        Define("show", "Show a consent the organization is party to.", [asOrganization, id], async (s, r, ct) =>
            Show(ConsentView.From(await s.GetRequiredService<ConsentService>().GetAsync(ConsentActor.Of(As(r)), r.GetValue(id)!, ct)
                ?? throw new ArgumentException("No consent with this id is visible to the organization."))));
        Define("revoke", "Revoke a consent (a parent's revocation by phone or letter).", [asOrganization, id, reason], async (s, r, ct) =>
            Show(ConsentView.From(await s.GetRequiredService<ConsentService>().RevokeAsync(ConsentActor.Of(As(r)), r.GetValue(id)!, r.GetValue(reason)!, ct)
                ?? throw new ArgumentException("No consent has this id."))));
        Define("renew", "Renew an active consent (the file holds expiresAt, signature and optionally disclosure, categories, givenAt).", [asOrganization, id, draftFile],
            async (s, r, ct) => Show(ConsentView.From(await s.GetRequiredService<ConsentService>().RenewAsync(As(r), r.GetValue(id)!,
                Read<ConsentRenewal>(r.GetValue(draftFile)!), cancellationToken: ct) ?? throw new ArgumentException("No consent has this id."))));
        Define("review", "As a source: the consent and the organization's own records of its child, to check before deciding.", [asOrganization, id], async (s, r, ct) =>
            Show(await s.GetRequiredService<OwnerAuthorizationService>().ReviewAsync(As(r), r.GetValue(id)!, ct)
                ?? throw new ArgumentException("No consent with this id names the organization as a source.")));
        Define("authorize", "As a source: approve, decline or withdraw releasing the organization's data under a consent.", [asOrganization, id, decision, note],
            async (s, r, ct) => Show(ConsentView.From(await s.GetRequiredService<OwnerAuthorizationService>().DecideAsync(As(r), r.GetValue(id)!,
                new OwnerAuthorizationRequest { Decision = r.GetValue(decision)!, Note = r.GetValue(note) }, ct)
                ?? throw new ArgumentException("No consent with this id is visible to the organization."))));
        Define("awaiting", "As a source: the active consents naming the organization that it has not answered.", [asOrganization], async (s, r, ct) =>
            Show((await s.GetRequiredService<OwnerAuthorizationService>().AwaitingAsync(As(r), ct)).Select(ConsentView.From)));
        Define("expiring", "Active consents expiring within the window (all organizations, or --org).", [days, forOrganization], async (s, r, ct) =>
            Show((await s.GetRequiredService<ConsentService>().ListExpiringAsync(ConsentActor.System(actor), r.GetValue(forOrganization), r.GetValue(days), ct))
                .Select(ConsentView.From)));
        Define("reindex", "Rebuild the index of consents by source (consents stored before it existed, or after a crash); idempotent.", [], async (s, _, ct) =>
            cli.Out.WriteLine($"{await s.GetRequiredService<ConsentStore>().ReindexSourcesAsync(ct)} consent(s) indexed by source."));
        var qr = new Option<string?>("--qr") { Description = "Also write the link's QR code to this PNG file (for a printed form)." };
        var linkId = new Option<string>("--link") { Description = "The link id.", Required = true };
        var document = new Option<string>("--document") { Description = "The disclosure document id (as consents name it).", Required = true };
        var version = new Option<string>("--version") { Description = "The document's version.", Required = true };
        var textFile = new Option<string>("--file") { Description = "The document's exact text (UTF-8).", Required = true };
        Define("link", "Issue a signed link to the parent's page of a consent (prints the URL; --qr writes its QR code).", [asOrganization, id, qr], async (s, r, ct) =>
        {
            var issued = await s.GetRequiredService<ParentLinkService>().IssueAsync(As(r), r.GetValue(id)!, ct)
                ?? throw new ArgumentException("No consent with this id is visible to the organization.");
            if (r.GetValue(qr) is { Length: > 0 } png)
            {
                await File.WriteAllBytesAsync(png, Convert.FromBase64String(issued.QrCodePng), ct);
            }

            Show(new { issued.LinkId, issued.ConsentId, issued.Url, issued.ExpiresAt, qrCode = r.GetValue(qr) });
        });
        Define("link-revoke", "Revoke a parent link the organization issued (its page then shows a plain error).", [asOrganization, id, linkId], async (s, r, ct) =>
            Show(await s.GetRequiredService<ParentLinkService>().RevokeAsync(As(r), r.GetValue(id)!, r.GetValue(linkId)!, ct)
                ?? throw new ArgumentException("The consent has no link with this id issued by the organization.")));
        Define("disclosure-upload", "Store the exact text of a disclosure document shown to parents (written once; prints its SHA-256 for consents).",
            [asOrganization, document, version, textFile], async (s, r, ct) =>
            {
                var text = await File.ReadAllTextAsync(r.GetValue(textFile)!, ct);
                var sha256 = await s.GetRequiredService<DisclosureDocuments>().UploadAsync(As(r), r.GetValue(document)!, r.GetValue(version)!, text, ct);
                Show(new { documentId = r.GetValue(document), version = r.GetValue(version), sha256 });
            });
        root.Subcommands.Add(consent);
    }

    private static T Read<T>(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Print) ?? throw new ArgumentException($"{path} is empty.");
        }
        catch (JsonException)
        {
            // The parser's message can quote the file, which names a child and a parent: it is not echoed.
            throw new ArgumentException($"{path} is not valid JSON for {typeof(T).Name}.");
        }
    }
}

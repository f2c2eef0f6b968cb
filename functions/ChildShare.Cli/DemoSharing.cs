using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Callers;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Core.Sharing.Identifiable;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Cli;

/// <summary>
/// The second half of the demo: the three sharing modes on the ingested sample community, each
/// through the command line's own <c>report</c> and <c>export</c> commands (so the same services,
/// decision point and audit as HTTP), with a line or two saying what is shown. Agreements are
/// created once (a second run finds them); an API key is issued at every run for the closing
/// <c>curl</c> lines.
/// </summary>
public sealed class DemoSharing(IServiceProvider services, TextWriter output, Func<string, Task<int>> run)
{
    /// <summary>The sample providers the demo's agreements name.</summary>
    public static readonly IReadOnlyList<string> SampleProviders = ["district-north", "bright-futures", "valley-clinic"];

    /// <summary>The school year of the sample files, as reports ask for it.</summary>
    public const string From = "2025-08-01";
    public const string To = "2026-06-30";

    /// <summary>
    /// The child of the identifiable report: the clinic's patient who is the district's student S100001 (same name and birth date),
    /// named as the clinic knows it. Only this child's records are ever released by the demo.
    /// </summary>
    public const string ClinicChild = "MRN00000018";

    private const string Recipient = "valley-clinic";
    private const string Source = "district-north";
    private const string AggregateRecipient = "county-health";
    private const string Researcher = "research-lab";

    private readonly Dictionary<string, string> _keys = new(StringComparer.Ordinal);

    /// <returns>Whether every mode behaved as the demo says (a refusal where it says refused, a release where it says allowed).</returns>
    public async Task<bool> RunAsync(bool keep, CancellationToken cancellationToken)
    {
        await CreateAgreementsAsync(cancellationToken);
        var keys = services.GetRequiredService<ApiKeyStore>();
        foreach (var organization in new[] { AggregateRecipient, Researcher, Recipient })
        {
            // Shown once here, as apikey-issue does; the emulator's data is gone when the demo stops, unless --keep.
            _keys[organization] = (await keys.IssueAsync(organization, CallerRoles.Reader, "demo", TimeSpan.FromDays(keep ? 30 : 1), Actor, cancellationToken)).Key;
        }

        await output.WriteLineAsync($"API keys issued (Reader) for {string.Join(", ", _keys.Keys)}: only their hashes are stored; the keys are in the curl lines at the end.");

        var ok = true;
        await HeadingAsync("1. Aggregate report",
            $"{AggregateRecipient} may see counts of unique children across the three providers (agreement demo-aggregate: minimum cell size {DataSharingAgreement.DefaultMinimumCellSize}, Round5).",
            "A child served by two providers counts once in the total. Cells under the minimum are suppressed, with enough others that none can be recomputed,",
            "and shown counts are rounded to 5, so overlapping reports cannot be subtracted. The receipt below says what was done, never what was hidden.");
        ok &= await run($"report aggregate --as {AggregateRecipient} --from {From} --to {To} --group-by provider,race") == 0;

        await HeadingAsync("2. De-identified export",
            $"{Researcher} gets one row per child under agreement demo-deidentified: no name, id or birth date; a research id instead, and the",
            "quasi-identifiers (age, sex, race, ethnicity, zip...) generalized until every row hides among at least k alike (k-anonymity); rows that cannot are suppressed.");
        ok &= await run($"export deidentified --as {Researcher} --agreement demo-deidentified --from {From} --to {To}") == 0;

        await HeadingAsync("3. Identifiable report",
            $"{Recipient} asks for the district's records of its patient {ClinicChild}, who linked to the district's student (same child).",
            $"Identifiable data needs a parent's consent in force, the data owner's ({Source}) own authorization, and an agreement (demo-identifiable).");
        await StepAsync("Without consent: refused.");
        ok &= await IdentifiableAsync() == ModeCommands.Refused;

        var recipient = Caller.OperatorFor(Recipient, Environment.UserName);
        var owner = Caller.OperatorFor(Source, Environment.UserName);
        var consents = services.GetRequiredService<ConsentService>();
        var authorizations = services.GetRequiredService<OwnerAuthorizationService>();
        var consent = (await consents.RecordAsync(recipient, Draft(), cancellationToken)).Consent;
        await StepAsync($"{Recipient} records the parent's consent {consent.Id} (sources {Source}; categories identity, enrollment; expires {consent.ExpiresAt:yyyy-MM-dd}).");
        await StepAsync($"Authorizations: {Decisions(consent)}. The consent alone releases nothing of {Source}'s:");
        ok &= await IdentifiableAsync() == ModeCommands.Refused;

        var awaiting = await authorizations.AwaitingAsync(owner, cancellationToken);
        ok &= awaiting.Any(c => c.Consent.Id == consent.Id);
        await StepAsync($"{Source}'s list of consents awaiting its authorization holds {awaiting.Count} consent(s), this one among them ({(awaiting.Any(c => c.Consent.Id == consent.Id) ? "yes" : "NO")}).");
        var approved = await authorizations.DecideAsync(owner, consent.Id, new OwnerAuthorizationRequest { Decision = "approve" }, cancellationToken);
        await StepAsync($"{Source} reviews it and approves. Authorizations: {(approved is null ? "?" : Decisions(approved.Consent))}. Now allowed:");
        ok &= await IdentifiableAsync() == 0;

        await consents.RevokeAsync(ConsentActor.Of(recipient), consent.Id, "The parent withdrew the consent (demo).", cancellationToken);
        await StepAsync("The parent withdraws the consent (revoked at once, through the same read-time check). Refused again:");
        ok &= await IdentifiableAsync() == ModeCommands.Refused;
        await output.WriteLineAsync("Every request above, refused or served, is in the audit table, as the organization's, with the operator acting for it.");
        if (!ok)
        {
            await output.WriteLineAsync("The demo did not go as described above: see the messages.");
        }

        return ok;
    }

    /// <summary>The closing lines: the same requests against <c>childshare serve</c>, and the Power BI query.</summary>
    public async Task WriteTryItAsync(bool keep)
    {
        if (_keys.Count == 0)
        {
            return;
        }

        const string Base = "http://127.0.0.1:7071";
        await output.WriteLineAsync();
        await output.WriteLineAsync("== Try the same over HTTP ==");
        await output.WriteLineAsync(keep
            ? "The emulator and its data stay up (demo --keep). In another terminal, from the repository:"
            : "The emulator and its data stop with the demo: run `bash infra/local/demo.sh --keep` to keep them, then in another terminal, from the repository:");
        await output.WriteLineAsync("  dotnet run --project functions/ChildShare.Cli -- serve");
        await output.WriteLineAsync($"  curl -H 'X-Api-Key: {_keys[AggregateRecipient]}' '{Base}/api/reports/aggregate?from={From}&to={To}&groupBy=provider,race'");
        await output.WriteLineAsync($"  curl -H 'X-Api-Key: {_keys[AggregateRecipient]}' '{Base}/api/reports/aggregate?from={From}&to={To}&groupBy=provider&interval=month'");
        await output.WriteLineAsync($"  curl -H 'X-Api-Key: {_keys[Researcher]}' '{Base}/api/exports/deidentified?agreement=demo-deidentified&from={From}&to={To}&format=csv'");
        await output.WriteLineAsync($"  curl -X POST -H 'X-Api-Key: {_keys[Recipient]}' -H 'Content-Type: application/json' -d '{{\"child\":\"{ClinicChild}\"}}' '{Base}/api/reports/identifiable'");
        await output.WriteLineAsync($"  curl '{Base}/api/openapi.json'");
        await output.WriteLineAsync($"Power BI Desktop: the query {PowerBiQueryFile} (REPORTS.md, \"Power BI\") with BaseUrl = \"{Base}\" and the {AggregateRecipient} key as a Web API key.");
    }

    private const string Actor = "operator:demo";

    /// <summary>The Power BI query the README and REPORTS.md point to (a test calls its URL shapes).</summary>
    public const string PowerBiQueryFile = "functions/ChildShare.Core/Sharing/Aggregate/powerbi/aggregate-by-month.pq";

    private Task<int> IdentifiableAsync() => run($"report identifiable --as {Recipient} --child {ClinicChild}");

    private async Task HeadingAsync(string title, params string[] lines)
    {
        await output.WriteLineAsync();
        await output.WriteLineAsync($"== {title} ==");
        foreach (var line in lines)
        {
            await output.WriteLineAsync(line);
        }

        await output.WriteLineAsync();
    }

    private async Task StepAsync(string line)
    {
        await output.WriteLineAsync();
        await output.WriteLineAsync("-> " + line);
    }

    private static string Decisions(ConsentRecord consent) => string.Join(", ", consent.AuthorizationsBySource.Select(a => $"{a.SourceId} {a.Decision}"));

    private ConsentDraft Draft() => new()
    {
        LocalChildId = ClinicChild,
        GivenBy = new ConsentGrantor("Sample Parent", "parent"),
        Sources = [Source],
        Recipients = [Recipient],
        Purpose = "Coordinate the clinic's follow-up with the child's school (sample data)",
        Categories = [ConsentCategories.Identity, ConsentCategories.Enrollment],
        AgreementId = "demo-identifiable",
        Disclosure = new ConsentDisclosure("demo-clinic-notice", "1", new string('0', 64)),
        Signature = new ConsentSignature(SignatureMethod.Electronic, Evidence: "demo"),
        ExpiresAt = services.GetRequiredService<TimeProvider>().GetUtcNow().AddDays(90),
    };

    private async Task CreateAgreementsAsync(CancellationToken cancellationToken)
    {
        // The demo's operator manages agreements through the same decision as the agreement-* commands and the admin API.
        var admin = services.GetRequiredService<AgreementAdminService>().Authorize(Caller.CommunityOperator("demo"))
            ?? throw new InvalidOperationException("The community operator may manage agreements.");
        var parties = SampleProviders.Select(p => new AgreementParty(p)).ToList();
        DataSharingAgreement Terms(string id, string title, IReadOnlyList<AgreementParty> from, string recipient, SharingMode mode) => new()
        {
            Id = id,
            Title = title,
            Parties = from,
            Recipients = [recipient],
            Modes = [mode],
            Purpose = "ChildShare demo on synthetic sample data",
            EffectiveFrom = new DateOnly(2024, 1, 1),
            AllowedDimensions = ReportDimensions.All,
            DocumentReference = "samples/demo",
            DeIdentification = mode == SharingMode.DeIdentified ? new DeidentificationTerms { K = 5 } : null,
        };

        var created = new List<string>();
        foreach (var agreement in new[]
        {
            Terms("demo-aggregate", "Community counts", parties, AggregateRecipient, SharingMode.Aggregate),
            Terms("demo-deidentified", "Research extract", parties, Researcher, SharingMode.DeIdentified),
            Terms("demo-identifiable", "School records for the clinic's follow-up", [new AgreementParty(Source)], Recipient, SharingMode.Identifiable),
        })
        {
            if (await admin.GetAsync(agreement.Id, cancellationToken) is null)
            {
                await admin.CreateAsync(agreement, cancellationToken);
                created.Add(agreement.Id);
            }
        }

        await output.WriteLineAsync();
        await output.WriteLineAsync(created.Count > 0
            ? $"Data sharing agreements created: {string.Join(", ", created)} (audited)."
            : "Data sharing agreements demo-aggregate, demo-deidentified and demo-identifiable are in place (from an earlier run).");
    }
}

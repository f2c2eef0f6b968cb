using System.CommandLine;
using System.Text.Json;
using ChildShare.Cli;
using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Identifiable;

/// <summary>
/// The consent commands over the harness's community (issue 11, finding 1 from the command line): an
/// operator acting --as an organization gets exactly what that organization would over HTTP, the
/// data owner decides with <c>consent authorize</c>, and the audit names the operator and the organization.
/// </summary>
public sealed class ConsentCliTests(ConsentHarnessFixture fixture) : IClassFixture<ConsentHarnessFixture>
{
    private readonly ConsentHarness _h = fixture.Harness;

    [Fact]
    public async Task RecordAsRecipient_NamingBothSources_NothingReleasedUntilEachAuthorizesByCommand()
    {
        var child = _h.NextChild();
        var draft = _h.Draft(child, sources: ["district", "clinic"], recipients: ["afterschool"], categories: ConsentCategories.All.ToList()) with
        {
            LocalChildId = $"A{child:D3}",
        };

        var (recorded, recordedOut, _) = await RunWithFileAsync(draft, "consent", "record", "--as", "afterschool", "--file");
        var id = JsonDocument.Parse(recordedOut).RootElement.GetProperty("id").GetString()!;
        var before = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));
        var (awaiting, awaitingOut, _) = await RunAsync("consent", "awaiting", "--as", "district");
        var (reviewed, reviewOut, _) = await RunAsync("consent", "review", "--as", "district", "--id", id);
        var (approved, _, _) = await RunAsync("consent", "authorize", "--as", "district", "--id", id, "--decision", "approve");
        var after = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal(0, recorded);
        Assert.Equal(IdentifiableReportStatus.Forbidden, before.Status);
        Assert.Equal(ConsentDenialReasons.AwaitingOwnerAuthorization, before.Reason);
        Assert.Equal(0, awaiting);
        Assert.Contains(id, awaitingOut, StringComparison.Ordinal);
        Assert.Equal(0, reviewed);
        Assert.Equal($"D{child:D3}", JsonDocument.Parse(reviewOut).RootElement.GetProperty("yourRecords")[0].GetProperty("localChildId").GetString());
        Assert.DoesNotContain($"A{child:D3}", reviewOut, StringComparison.Ordinal);
        Assert.Equal(0, approved);
        Assert.Equal("district", Assert.Single(after.Report!.Sources).ProviderId);
        Assert.Equal(ConsentDenialReasons.AwaitingOwnerAuthorization, Assert.Single(after.Report.Withheld).Reason);
        var audit = await _h.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10");
        var decided = Assert.Single(audit, a => a.GetString("Event") == AuditEvents.ConsentAuthorized && (a.GetString("Parameters") ?? "").Contains(id, StringComparison.Ordinal));
        Assert.Equal("district", decided.GetString("OrganizationId"));
        Assert.Equal(nameof(Core.Organizations.CallerAuthMethod.Operator), decided.GetString("AuthMethod"));
        Assert.StartsWith("operator:", decided.GetString("CredentialId"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_AsARecipient_OneClearLineAndExit2_NothingChanges()
    {
        var child = _h.NextChild();
        var consent = await _h.RecordOnlyAsync(child);

        var (exit, output, error) = await RunAsync("consent", "authorize", "--as", "afterschool", "--id", consent.Consent.Id, "--decision", "approve");
        var (badDecision, _, badError) = await RunAsync("consent", "authorize", "--as", "clinic", "--id", consent.Consent.Id, "--decision", "yes");

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Equal("Only a source named by the consent authorizes releasing its own data under it.", error.Trim());
        Assert.NotEqual(0, badDecision);
        Assert.DoesNotContain("   at ", badError, StringComparison.Ordinal);
        Assert.Equal(consent.Consent.Version, (await _h.Store.GetAsync(consent.Consent.Id))!.Consent.Version);
    }

    [Fact]
    public async Task MadeUpRow_RecordedByCommand_SourceDeclinesByCommand_NothingReleased()
    {
        var child = _h.NextChild();
        var claimed = $"Y{child:D3}";
        await _h.IngestClaimedChildAsync("school-board", claimed, child, $"claimed-cli-{child}.csv");
        var draft = _h.Draft(child, sources: ["district"], recipients: ["school-board"], categories: ["identity", "address"]) with { LocalChildId = claimed };

        var (_, recordedOut, _) = await RunWithFileAsync(draft, "consent", "record", "--as", "school-board", "--file");
        var id = JsonDocument.Parse(recordedOut).RootElement.GetProperty("id").GetString()!;
        var (declined, _, _) = await RunAsync("consent", "authorize", "--as", "district", "--id", id, "--decision", "decline", "--note", "Not a parent on our file");
        var stored = (await _h.Store.GetAsync(id))!.Consent;
        var result = await _h.Reports.RunAsync(ConsentHarness.SchoolBoard, new IdentifiableReportRequest { Child = claimed });

        Assert.Equal(0, declined);
        Assert.Equal(OwnerDecision.Declined, stored.AuthorizationOf("district").Decision);
        Assert.Equal("Not a parent on our file", stored.AuthorizationOf("district").Note);
        Assert.Equal(IdentifiableReportStatus.Forbidden, result.Status);
        Assert.Null(result.Report);
    }

    private async Task<(int Exit, string Out, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var root = new RootCommand();
        ConsentCommands.AddTo(root, new Option<bool>("--verbose"), new CliContext(_ => TestApp.Build(_h.Storage, _h.Time), output, error));
        var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Runs a command whose last argument is a JSON file holding <paramref name="value"/>, then deletes the file.</summary>
    private async Task<(int Exit, string Out, string Error)> RunWithFileAsync(object value, params string[] args)
    {
        var path = Path.Combine(Path.GetTempPath(), $"childshare-consent-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(value, ChildShare.Functions.Consent.ConsentFunctions.Json));
        try
        {
            return await RunAsync([.. args, path]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

using System.CommandLine;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using ChildShare.Cli;
using ChildShare.Core.Agreements;
using ChildShare.Core.Callers;
using ChildShare.Core.Organizations;
using ChildShare.Core.Storage;
using ChildShare.Functions.Admin;
using ChildShare.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Agreements;

/// <summary>
/// The default differencing protection is Round5 wherever an agreement does not name one: a new
/// agreement, an HTTP body, the command line, and an agreement stored before the default changed
/// (whose "None" was written whether or not anyone chose it).
/// </summary>
public sealed class AgreementDefaultTermsTests : AppTests
{

    private AgreementStore Store => Services.GetRequiredService<AgreementStore>();

    private static DataSharingAgreement Unprotected(string id) => new()
    {
        Id = id, Parties = [new AgreementParty("district")], Recipients = ["county-health"], Modes = [SharingMode.Aggregate], Purpose = "Planning",
        EffectiveFrom = new DateOnly(2025, 1, 1), DocumentReference = "https://docs.example.org/dsa/" + id,
    };

    /// <summary>An agreement document exactly as the code before this change stored it: the old default written out, no terms format.</summary>
    private async Task StoreAsBeforeAsync(string id)
    {
        var document = $$"""
            {"id":"{{id}}","version":1,"title":"","parties":[{"providerId":"district","joinedOn":null}],"recipients":["county-health"],"modes":["Aggregate"],
             "purpose":"Planning","effectiveFrom":"2025-01-01","endsOn":null,"minimumCellSize":11,"allowedDimensions":[],"protection":"None",
             "deIdentification":null,"documentReference":"https://docs.example.org/dsa/{{id}}","status":"Active","terminatedOn":null,"terminationReason":"",
             "updatedAt":"2026-01-01T00:00:00+00:00","updatedBy":"operator:someone"}
            """;
        var table = Storage.Storage.Table(TableNames.Agreements);
        await table.AddEntityAsync(new TableEntity("dsa", id) { ["Document"] = document, ["Version"] = 1, ["Status"] = "Active" });
        await table.AddEntityAsync(new TableEntity("dsa-history", $"{id}|000001") { ["Document"] = document });
    }

    /// <summary>POST /api/manage/agreements as an Admin caller; the status code.</summary>
    private async Task<int?> AdminCreateAsync(string body)
    {
        var admin = (await Services.GetRequiredService<ApiKeyStore>().IssueAsync("ops", CallerRoles.Admin, "ops", TimeSpan.FromDays(1), "test")).Key;
        var context = new DefaultHttpContext();
        context.Request.Headers["X-Api-Key"] = admin;
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        var result = await TestHttp.RunAsync(Services, context.Request, r => ActivatorUtilities.CreateInstance<AgreementsAdmin>(Services).CreateAsync(r, CancellationToken.None));
        return (result as ObjectResult)?.StatusCode;
    }

    [Fact]
    public async Task CreateAsync_NoProtectionNamed_Round5()
    {
        await Store.CreateAsync(Unprotected("dsa-plain"), "admin");

        Assert.Equal(DifferencingProtection.Round5, (await Store.GetAsync("dsa-plain"))!.Protection);
    }

    [Fact]
    public async Task AdminCreate_BodyWithoutProtection_Round5()
    {
        var body = JsonSerializer.Serialize(Unprotected("dsa-http"), AgreementStore.Json).Replace(",\"protection\":\"Round5\"", "", StringComparison.Ordinal)
            .Replace(",\"protection\":\"None\"", "", StringComparison.Ordinal);
        Assert.DoesNotContain("protection", body, StringComparison.Ordinal);

        Assert.Equal(201, await AdminCreateAsync(body));
        Assert.Equal(DifferencingProtection.Round5, (await Store.GetAsync("dsa-http"))!.Protection);
    }

    [Fact]
    public async Task AdminCreate_ProtectionAsAnUndefinedNumber_400()
    {
        // The JSON converter accepts numbers: 7 would sort above every protection and publish exact counts for any period.
        var body = JsonSerializer.Serialize(Unprotected("dsa-seven") with { Protection = DifferencingProtection.Noise }, AgreementStore.Json)
            .Replace("\"protection\":\"Noise\"", "\"protection\":7", StringComparison.Ordinal);

        Assert.Equal(400, await AdminCreateAsync(body));
        Assert.Null(await Store.GetAsync("dsa-seven"));
    }

    [Fact]
    public async Task CreateAsync_UndefinedProtection_Rejected()
    {
        var error = await Assert.ThrowsAsync<AgreementValidationException>(() => Store.CreateAsync(Unprotected("dsa-seven") with { Protection = (DifferencingProtection)7 }, "admin"));

        Assert.Contains(error.Errors, e => e.Contains("protection", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetAndList_StoredBeforeTheDefaultChanged_Round5_HistoryAsWritten()
    {
        await StoreAsBeforeAsync("dsa-legacy");

        Assert.Equal(DifferencingProtection.Round5, (await Store.GetAsync("dsa-legacy"))!.Protection);
        Assert.Equal(DifferencingProtection.Round5, (await Store.ListAsync()).Single(a => a.Id == "dsa-legacy").Protection);
        Assert.Equal(DifferencingProtection.None, Assert.Single(await Store.HistoryAsync("dsa-legacy")).Protection);
    }

    [Fact]
    public async Task AmendAsync_StoredBeforeAndNoneChosenAgain_None()
    {
        await StoreAsBeforeAsync("dsa-legacy");
        var terms = (await Store.GetAsync("dsa-legacy"))! with { Protection = DifferencingProtection.None };

        await Store.AmendAsync("dsa-legacy", terms, "operator:chooser");

        Assert.Equal((2, DifferencingProtection.None), ((await Store.GetAsync("dsa-legacy"))!.Version, (await Store.GetAsync("dsa-legacy"))!.Protection));
    }

    [Fact]
    public void Cli_AgreementCreateWithoutProtection_Round5()
    {
        var root = new RootCommand();
        AgreementCommands.AddTo(root, new Option<bool>("--verbose"));

        var parsed = root.Parse("agreement-create --id dsa-x --parties district --recipients county-health --purpose p --effective 2026-01-01 --document d");

        Assert.Empty(parsed.Errors);
        Assert.Equal("Round5", parsed.GetValue<string>("--protection"));
    }
}

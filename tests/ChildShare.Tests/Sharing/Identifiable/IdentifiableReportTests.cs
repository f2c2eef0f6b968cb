using System.Text.Json;
using ChildShare.Core.Audit;
using ChildShare.Core.Sharing.Identifiable;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Identifiable;

/// <summary>The identifiable report on Azurite, over a community ingested through the real path.</summary>
public sealed class IdentifiableReportTests(ConsentHarnessFixture fixture) : IClassFixture<ConsentHarnessFixture>
{
    private readonly ConsentHarness _h = fixture.Harness;

    [Fact]
    public async Task GrantThenRead_ReleasesOnlyConsentedCategoriesOfEachSource()
    {
        var child = _h.NextChild();
        var (first, last, dob) = ConsentHarness.Child(child);
        var consent = await _h.GrantAsync(child, categories: ["identity", "enrollment", "attendance"]);

        var result = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal(IdentifiableReportStatus.Ok, result.Status);
        var sources = result.Report!.Sources.ToDictionary(s => s.ProviderId);
        Assert.Equal(["clinic", "district"], sources.Keys.Order());
        var district = sources["district"];
        Assert.Equal([consent.Consent.Id], district.ConsentIds);
        Assert.Equal("dsa-identifiable", district.AgreementId);
        var identity = Assert.Single(district.Identity!);
        Assert.Equal($"D{child:D3}", identity["localChildId"]);
        Assert.Equal(first, identity["firstName"]);
        Assert.Equal(last, identity["lastName"]);
        Assert.Equal(dob, identity["birthDate"]);
        Assert.False(identity.ContainsKey("streetAddress"));     // "address" was not consented
        Assert.Null(district.Address);
        var service = Assert.Single(district.Services!);
        Assert.Equal("Tutoring", service["program"]);
        Assert.Equal(12.5, Convert.ToDouble(service["hours"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.False(service.ContainsKey("serviceType"));       // "services" was not consented
        Assert.Null(district.Demographics);                       // nor demographics
        Assert.Null(district.Academic);                           // nor academic
        Assert.Equal(ConsentHarness.Child(child).First, Assert.Single(sources["clinic"].Identity!)["firstName"]);
        Assert.DoesNotContain(result.Report.Sources, s => s.ProviderId == "afterschool");
    }

    [Fact]
    public async Task IdentityOnlyConsent_DoesNotReleaseTheStreetAddress()
    {
        var child = _h.NextChild();
        await _h.GrantAsync(child, categories: ["identity"]);

        var result = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));
        var asked = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child, "identity", "address"));

        Assert.Equal(IdentifiableReportStatus.Ok, result.Status);
        Assert.All(result.Report!.Sources, s =>
        {
            Assert.Null(s.Address);
            Assert.DoesNotContain(s.Identity!, i => i.ContainsKey("streetAddress"));
            Assert.DoesNotContain(s.Identity!.SelectMany(i => i.Values), v => v.Contains("Halloran", StringComparison.OrdinalIgnoreCase));
        });
        Assert.Equal(IdentifiableReportStatus.Forbidden, asked.Status);
        Assert.Equal(ConsentDenialReasons.CategoryNotCovered, asked.Reason);
    }

    [Fact]
    public async Task IdentityAndAddressConsent_ReleasesTheStreetAddress()
    {
        var child = _h.NextChild();
        await _h.GrantAsync(child, categories: ["identity", "address"]);

        var result = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal(IdentifiableReportStatus.Ok, result.Status);
        var district = result.Report!.Sources.Single(s => s.ProviderId == "district");
        Assert.Equal(["identity", "address"], district.Categories);
        Assert.Equal(ConsentHarness.StreetAddress(child), Assert.Single(district.Address!)["streetAddress"]);
        Assert.False(Assert.Single(district.Identity!).ContainsKey("streetAddress"));
        Assert.Equal($"D{child:D3}", district.Identity![0]["localChildId"]);
    }

    [Fact]
    public async Task ReuploadWithoutAddressOrStateId_IdentitiesClearedAndReportNoLongerReleasesThem()
    {
        var child = _h.NextChild();
        await _h.GrantAsync(child, categories: ["identity", "address"], sources: ["district"]);
        var stateId = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"95{child:D7}");
        await _h.ReuploadDistrictChildAsync(child, "october.csv", ConsentHarness.StreetAddress(child), stateId);
        var before = Assert.Single((await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child))).Report!.Sources);
        Assert.Equal(stateId, Assert.Single(before.Identity!)["stateStudentId"]);
        Assert.Equal(ConsentHarness.StreetAddress(child), Assert.Single(before.Address!)["streetAddress"]);

        await _h.ReuploadDistrictChildAsync(child, "november.csv", address: "", stateId: "");
        var result = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        var stored = (await _h.Storage.ReadAllAsync(TableNames.Identities)).Single(i => i.GetString("LocalChildId") == $"D{child:D3}");
        Assert.Equal("", stored.GetString("StreetAddress"));
        Assert.Equal("", stored.GetString("StateStudentId"));
        Assert.Equal(IdentifiableReportStatus.Ok, result.Status);
        var district = Assert.Single(result.Report!.Sources);
        var identity = Assert.Single(district.Identity!);
        Assert.False(identity.ContainsKey("stateStudentId"));
        Assert.False(identity.ContainsKey("streetAddress"));
        Assert.Equal($"D{child:D3}", identity["localChildId"]);
        Assert.Empty(district.Address!);
    }

    [Fact]
    public async Task Http_UnknownCategory_Is400Problem_AndAddressIsAccepted()
    {
        var child = _h.NextChild();

        var (unknown, unknownBody, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.RecordAsync(r, CancellationToken.None), "POST", "/api/consents",
            _h.Draft(child, categories: ["identity", "home-address"]), _h.DistrictKey);
        var (unknownAsked, unknownAskedBody, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ReportApi.RunAsync(r, CancellationToken.None), "POST", "/api/reports/identifiable",
            new { child = $"A{child:D3}", categories = new[] { "home-address" } }, _h.AfterschoolKey);
        var (created, _, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ConsentApi.RecordAsync(r, CancellationToken.None), "POST", "/api/consents",
            _h.Draft(child, categories: ["identity", "Address"]), _h.DistrictKey);
        var (status, body, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ReportApi.RunAsync(r, CancellationToken.None), "POST", "/api/reports/identifiable",
            new { child = $"A{child:D3}", categories = new[] { "address" } }, _h.AfterschoolKey);

        Assert.Equal(400, unknown);
        var error = Assert.Single(JsonDocument.Parse(unknownBody).RootElement.GetProperty("errors").EnumerateArray()).GetString();
        Assert.StartsWith("'home-address' is not a data category; the categories are identity, address,", error, StringComparison.Ordinal);
        Assert.Equal(400, unknownAsked);
        Assert.Contains("'home-address' is not a data category",
            Assert.Single(JsonDocument.Parse(unknownAskedBody).RootElement.GetProperty("errors").EnumerateArray()).GetString(), StringComparison.Ordinal);
        Assert.Equal(201, created);
        Assert.Equal(200, status);
        var district = JsonDocument.Parse(body).RootElement.GetProperty("sources").EnumerateArray().Single(s => s.GetProperty("providerId").GetString() == "district");
        Assert.Equal(ConsentHarness.StreetAddress(child), district.GetProperty("address")[0].GetProperty("streetAddress").GetString());
        Assert.False(district.TryGetProperty("identity", out _));
    }

    [Fact]
    public async Task ConsentDataDates_FilterServiceRecords()
    {
        var child = _h.NextChild();
        var draft = _h.Draft(child, categories: ["services"]) with { DataFrom = new DateOnly(2026, 9, 10), DataTo = new DateOnly(2026, 9, 12) };
        await _h.ApproveAsync(ConsentHarness.Clinic, (await _h.Consents.RecordAsync(ConsentHarness.District, draft)).Consent.Id);

        var result = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal(IdentifiableReportStatus.Ok, result.Status);
        var sources = result.Report!.Sources.ToDictionary(s => s.ProviderId);
        Assert.Equal("Academic", Assert.Single(sources["district"].Services!)["serviceType"]); // 1-30 September overlaps 10-12
        Assert.Empty(sources["clinic"].Services!);                                               // 16 September does not
        Assert.Null(sources["district"].Identity);
    }

    [Fact]
    public async Task RevokeThenRead_DeniedAtOnce()
    {
        var child = _h.NextChild();
        var consent = await _h.GrantAsync(child);
        Assert.Equal(IdentifiableReportStatus.Ok, (await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child))).Status);

        var revoked = await _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.District), consent.Consent.Id, "Parent withdrew consent by phone");
        var result = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal(ConsentStatus.Revoked, revoked!.Consent.Status);
        Assert.Equal(_h.Time.GetUtcNow(), revoked.Consent.RevokedAt);
        Assert.Equal(IdentifiableReportStatus.Forbidden, result.Status);
        Assert.Equal(ConsentDenialReasons.Revoked, result.Reason);
        var history = await _h.Store.HistoryAsync(consent.Consent.Id);
        Assert.Equal([ConsentStatus.Active, ConsentStatus.Active, ConsentStatus.Revoked], history.Select(v => v.Status)); // recorded, authorized by clinic, revoked
    }

    [Fact]
    public async Task ReadAMinutePastExpiry_BeforeTheTimerRuns_Denied()
    {
        var child = _h.NextChild();
        var consent = await _h.GrantAsync(child, runs: TimeSpan.FromHours(1));
        Assert.Equal(IdentifiableReportStatus.Ok, (await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child))).Status);

        _h.Time.Advance(TimeSpan.FromMinutes(61));
        var result = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal(ConsentStatus.Active, (await _h.Store.GetAsync(consent.Consent.Id))!.Consent.Status); // the timer has not run
        Assert.Equal(IdentifiableReportStatus.Forbidden, result.Status);
        Assert.Equal(ConsentDenialReasons.Expired, result.Reason);
    }

    [Fact]
    public async Task CategoryNotCovered_Denied()
    {
        var child = _h.NextChild();
        await _h.GrantAsync(child, categories: ["enrollment"]);

        var result = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child, "enrollment", "demographics"));

        Assert.Equal(IdentifiableReportStatus.Forbidden, result.Status);
        Assert.Equal(ConsentDenialReasons.CategoryNotCovered, result.Reason);
        Assert.All(result.Denials, d => Assert.Equal(ConsentDenialReasons.CategoryNotCovered, d.Reason));
    }

    [Fact]
    public async Task ConsentForAnotherRecipient_NoConsent()
    {
        var child = _h.NextChild();
        await _h.GrantAsync(child, recipients: ["school-board"]);

        var result = await _h.Reports.RunAsync(ConsentHarness.Afterschool, ConsentHarness.Ask(child));

        Assert.Equal(IdentifiableReportStatus.Forbidden, result.Status);
        Assert.Equal(ConsentDenialReasons.NoConsent, result.Reason);
        Assert.DoesNotContain(result.Denials, d => d.ProviderId.Length > 0); // sources of others' consents are not even named
    }

    [Fact]
    public async Task ConsentWithoutAnAgreement_NoAgreement()
    {
        // school-board has a consent (the child is not served by it, so ask as district for clinic's data: district is no recipient of the agreement).
        var child = _h.NextChild();
        await _h.ApproveAsync(ConsentHarness.Clinic, (await _h.Consents.RecordAsync(ConsentHarness.District, _h.Draft(child, sources: ["clinic"], recipients: ["district"]))).Consent.Id);

        var result = await _h.Reports.RunAsync(ConsentHarness.District, new IdentifiableReportRequest { Child = $"D{child:D3}" });

        Assert.Equal(IdentifiableReportStatus.Forbidden, result.Status);
        Assert.Equal(ConsentDenialReasons.NoAgreement, result.Reason);
        Assert.Equal("clinic", Assert.Single(result.Denials).ProviderId);
    }

    [Fact]
    public async Task Http_Denial_Is403WithReason_AndNoIdentifierInBodyLogsOrAudit()
    {
        var child = _h.NextChild();
        var consent = await _h.GrantAsync(child);
        await _h.Consents.RevokeAsync(ConsentActor.Of(ConsentHarness.District), consent.Consent.Id, "Parent withdrew");

        var (status, body, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ReportApi.RunAsync(r, CancellationToken.None), "POST", "/api/reports/identifiable",
            new { child = $"A{child:D3}" }, _h.AfterschoolKey);
        var (unknownStatus, unknownBody, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ReportApi.RunAsync(r, CancellationToken.None), "POST", "/api/reports/identifiable",
            new { child = "A999-NOT-A-CHILD" }, _h.AfterschoolKey);
        var (noKey, _, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ReportApi.RunAsync(r, CancellationToken.None), "POST", "/api/reports/identifiable",
            new { child = $"A{child:D3}" }, null);

        Assert.Equal(403, status);
        Assert.Equal(ConsentDenialReasons.Revoked, JsonDocument.Parse(body).RootElement.GetProperty("reason").GetString());
        Assert.Equal(404, unknownStatus);
        Assert.Equal(401, noKey);
        var audit = await _h.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10");
        var texts = new List<string> { body, unknownBody };
        texts.AddRange(_h.Logs.GetSnapshot().Select(l => l.Message + " " + l.Exception));
        texts.AddRange(audit.Select(a => string.Join("|", a.Select(p => p.Value))));
        foreach (var identifier in _h.Identifiers.Append($"A{child:D3}").Append("A999-NOT-A-CHILD"))
        {
            Assert.DoesNotContain(texts, t => IdentifierSearch.AppearsIn(t, identifier));
        }

        var denied = audit.Last(a => a.GetString("Event") == AuditEvents.IdentifiableReport && a.GetString("Outcome") == "Denied");
        Assert.Contains(consent.Consent.Id, denied.GetString("Parameters"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_Grant_ReadAuditsTheConsentRelied()
    {
        var child = _h.NextChild();
        var consent = await _h.GrantAsync(child);

        var (status, body, _) = await ConsentHarness.CallAsync(_h.Services, r => _h.ReportApi.RunAsync(r, CancellationToken.None), "POST", "/api/reports/identifiable",
            new { child = $"A{child:D3}", categories = new[] { "academic" } }, _h.AfterschoolKey);

        Assert.Equal(200, status);
        var sources = JsonDocument.Parse(body).RootElement.GetProperty("sources");
        Assert.Equal("Lincoln Elementary", sources[0].GetProperty("academic")[0].GetProperty("school").GetString());
        var audit = await _h.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10");
        var entry = audit.Last(a => a.GetString("Event") == AuditEvents.IdentifiableReport);
        Assert.Equal("Succeeded", entry.GetString("Outcome"));
        Assert.Contains(consent.Consent.Id, entry.GetString("Parameters"), StringComparison.Ordinal);
        Assert.Equal("dsa-identifiable", entry.GetString("Agreements"));
    }
}

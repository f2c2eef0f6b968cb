using System.Reflection;
using System.Text.Json;
using ChildShare.Core.Ingestion;
using ChildShare.Functions.Hosting;

namespace ChildShare.Tests.EndToEnd;

/// <summary>
/// What each route sends over the wire to a caller it serves: status, Content-Type, headers, the
/// JSON shape (enums as their names everywhere), CSV and paging links.
/// </summary>
[Collection(ServedAppCollection.Name)]
public sealed class WireShapeTests(ServedApp app)
{
    private const string Period = "from=2026-09-01&to=2026-09-30";

    [Fact]
    public async Task GetUploadManifest_Owner_StatusAndEveryEnumAsNames()
    {
        var response = await app.GetAsync($"/api/uploads/{app.DistrictUpload}", app.Key("district"));

        Assert.Equal(200, response.Status);
        Assert.Equal("application/json", response.MediaType);
        Assert.Equal(nameof(UploadStatus.CompletedWithRejections), response.Json.GetProperty("status").GetString());
        Assert.Equal(1, response.Json.GetProperty("rowsRejected").GetInt32());
        AssertEnumsAreNames(response.Json);
    }

    [Fact]
    public async Task GetUploadManifest_BadOrUnknownId_400And404Problems()
    {
        var bad = await app.GetAsync("/api/uploads/NOT-AN-ID", app.Key("district"));
        var unknown = await app.GetAsync("/api/uploads/" + new string('0', 32), app.Key("district"));

        Assert.Equal((400, "application/problem+json"), (bad.Status, bad.MediaType));
        Assert.Equal((404, "application/problem+json"), (unknown.Status, unknown.MediaType));
    }

    [Fact]
    public async Task GetAggregateReport_JsonPaged_NextLinkAbsoluteOnThisHostWithoutTheKey()
    {
        // The key travels in the query, as Power BI sends it: the next link must not repeat it.
        var response = await app.GetAsync($"/api/reports/aggregate?{Period}&groupBy=provider,sex&$top=2&api-key={Uri.EscapeDataString(app.Key("county-health"))}", null);

        Assert.Equal(200, response.Status);
        Assert.Equal("application/json", response.MediaType);
        Assert.Equal(2, response.Json.GetProperty("value").GetArrayLength());
        var next = new Uri(response.Json.GetProperty("@odata.nextLink").GetString()!);
        Assert.Equal(app.BaseAddress.Authority, next.Authority);
        Assert.Equal("/api/reports/aggregate", next.AbsolutePath);
        Assert.Contains("$skip=2", Uri.UnescapeDataString(next.Query), StringComparison.Ordinal);
        Assert.DoesNotContain("api-key", next.Query, StringComparison.OrdinalIgnoreCase);
        Assert.True(response.Json.GetProperty("metadata").GetProperty("suppression").GetProperty("cellsSuppressed").GetInt32() >= 0);
        AssertEnumsAreNames(response.Json);

        var second = await app.GetAsync(next.PathAndQuery, app.Key("county-health"));
        Assert.Equal(200, second.Status);
        Assert.Equal(2, second.Json.GetProperty("value").GetArrayLength());
    }

    [Fact]
    public async Task GetAggregateReport_Csv_TextCsvWithHeaderAndLinkHeader()
    {
        var response = await app.GetAsync($"/api/reports/aggregate?{Period}&groupBy=provider&format=csv&$top=1", app.Key("county-health"));

        Assert.Equal(200, response.Status);
        Assert.Equal("text/csv", response.MediaType);
        Assert.StartsWith("periodStart,periodEnd,rowType,provider", response.Body, StringComparison.Ordinal);
        Assert.Equal(2, response.Body.Trim().Split('\n').Length);
        Assert.Matches("^<http://127\\.0\\.0\\.1:\\d+/api/reports/aggregate\\?.*>; rel=\"next\"$", response.Headers["Link"]);
    }

    [Fact]
    public async Task GetAggregateReport_EntraPrincipal_ServedAsItsOrganization()
    {
        var request = ServedApp.Request(HttpMethod.Get, $"/api/reports/aggregate?{Period}&groupBy=provider");
        request.Headers.Add(Core.Callers.ClientPrincipal.HeaderName, Core.Callers.ClientPrincipal.Encode(ServedApp.PrincipalTenant, ServedApp.PrincipalObject));

        var response = await app.SendAsync(request);

        Assert.Equal(200, response.Status);
    }

    [Fact]
    public async Task GetAggregateReport_BadParameters_400ProblemListingErrors()
    {
        var response = await app.GetAsync("/api/reports/aggregate?from=yesterday&groupBy=shoeSize", app.Key("county-health"));

        Assert.Equal((400, "application/problem+json"), (response.Status, response.MediaType));
        Assert.True(response.Json.GetProperty("errors").GetArrayLength() >= 2);
    }

    [Theory]
    [InlineData("json", "application/json")]
    [InlineData("csv", "text/csv")]
    [InlineData("parquet", "application/vnd.apache.parquet")]
    public async Task GetDeidentifiedExport_Recipient_EachFormatWithItsContentType(string format, string mediaType)
    {
        var response = await app.GetAsync($"/api/exports/deidentified?agreement=dsa-deid&{Period}&format={format}", app.Key("research-lab"));

        Assert.Equal(200, response.Status);
        Assert.Equal(mediaType, response.MediaType);
        if (format == "json")
        {
            Assert.True(response.Json.GetProperty("value").GetArrayLength() > 0);
            Assert.Equal("dsa-deid", response.Json.GetProperty("metadata").GetProperty("agreement").GetString());
            AssertEnumsAreNames(response.Json);
        }

        foreach (var identifier in app.Identifiers)
        {
            Assert.DoesNotContain(identifier, response.Body, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Agreements_AdminLifecycle_StatusCodesLocationAndEnumNames()
    {
        var admin = app.Key("ops");
        var draft = new
        {
            id = "dsa-wire",
            parties = new[] { new { providerId = "district" } },
            recipients = new[] { "wire-partner" },
            modes = new[] { "Aggregate" },
            purpose = "Wire test",
            effectiveFrom = "2026-01-01",
            allowedDimensions = new[] { "provider" },
            documentReference = "https://docs.example.org/dsa/wire",
        };

        var created = await app.PostAsync("/api/manage/agreements", admin, draft);
        var list = await app.GetAsync("/api/manage/agreements", admin);
        var one = await app.GetAsync("/api/manage/agreements/dsa-wire", admin);
        var amended = await app.SendAsync(ServedApp.Request(HttpMethod.Put, "/api/manage/agreements/dsa-wire", admin, draft with { purpose = "Wire test, amended" }));
        var terminated = await app.PostAsync("/api/manage/agreements/dsa-wire/terminate", admin, new { reason = "test over" });
        var unknown = await app.GetAsync("/api/manage/agreements/dsa-nobody", admin);
        var invalid = await app.PostAsync("/api/manage/agreements", admin, draft with { id = "dsa-bad", recipients = Array.Empty<string>() });

        Assert.Equal((201, "application/json"), (created.Status, created.MediaType));
        Assert.Equal("/api/manage/agreements/dsa-wire", created.Headers["Location"]);
        Assert.Equal("Aggregate", created.Json.GetProperty("modes")[0].GetString());
        Assert.Equal(200, list.Status);
        Assert.Contains(list.Json.GetProperty("value").EnumerateArray(), a => a.GetProperty("id").GetString() == "dsa-wire");
        Assert.Equal(200, one.Status);
        Assert.Equal(200, amended.Status);
        Assert.Equal(2, amended.Json.GetProperty("version").GetInt32());
        Assert.Equal(200, terminated.Status);
        Assert.Equal((404, "application/problem+json"), (unknown.Status, unknown.MediaType));
        Assert.Equal((400, "application/problem+json"), (invalid.Status, invalid.MediaType));
        Assert.True(invalid.Json.GetProperty("errors").GetArrayLength() > 0);
        foreach (var body in new[] { created, list, one, amended, terminated })
        {
            AssertEnumsAreNames(body.Json);
        }
    }

    [Fact]
    public async Task Consents_OwnerLifecycle_StatusCodesETagLocationAndEnumNames()
    {
        var district = app.Key("district");
        var recorded = await app.PostAsync("/api/consents", district, app.ConsentDraft(3));
        Assert.Equal((201, "application/json"), (recorded.Status, recorded.MediaType));
        var id = recorded.Json.GetProperty("id").GetString()!;
        Assert.Equal($"/api/consents/{id}", recorded.Headers["Location"]);
        Assert.False(string.IsNullOrEmpty(recorded.Headers["ETag"]));
        Assert.Equal("Active", recorded.Json.GetProperty("status").GetString());

        var read = await app.GetAsync($"/api/consents/{id}", app.Key("clinic"));
        var found = await app.PostAsync("/api/consents/search", district, new { child = "D003" });
        var expiring = await app.GetAsync("/api/consents/expiring?days=365", district);
        var renewRequest = ServedApp.Request(HttpMethod.Post, $"/api/consents/{id}/renew", district, app.RenewalBody(120));
        Assert.True(read.Headers.ContainsKey("ETag"), string.Join(", ", read.Headers.Keys));
        renewRequest.Headers.TryAddWithoutValidation("If-Match", read.Headers["ETag"]);
        var renewed = await app.SendAsync(renewRequest);
        Assert.True(renewed.Status == 201, renewed.Body);
        var renewedId = renewed.Json.GetProperty("id").GetString()!;
        var revoked = await app.PostAsync($"/api/consents/{renewedId}/revoke", district, new { reason = "parent asked" });
        var notJson = await app.PostAsync("/api/consents", district, "{not json");

        Assert.Equal(200, read.Status);
        Assert.Equal(200, found.Status);
        Assert.True(found.Json.GetProperty("value").GetArrayLength() >= 1);
        Assert.Equal(200, expiring.Status);
        Assert.Equal(201, renewed.Status);
        Assert.Equal(200, revoked.Status);
        Assert.Equal("Revoked", revoked.Json.GetProperty("status").GetString());
        Assert.Equal((400, "application/problem+json"), (notJson.Status, notJson.MediaType));
        foreach (var body in new[] { recorded, read, found, expiring, renewed, revoked })
        {
            AssertEnumsAreNames(body.Json);
        }
    }

    [Fact]
    public async Task GetIdentifiableReport_WithoutConsent_403ProblemWithReasonOnly()
    {
        var response = await app.PostAsync("/api/reports/identifiable", app.Key("clinic"), new { child = "C007" });

        Assert.Equal((403, "application/problem+json"), (response.Status, response.MediaType));
        Assert.Equal("no-consent", response.Json.GetProperty("reason").GetString());
        foreach (var identifier in app.Identifiers)
        {
            Assert.DoesNotContain(identifier, response.Body, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task PostBody_NotValidJson_400ProblemThatQuotesNeitherTheBodyNorTheParser()
    {
        // A malformed body can hold a child's local id and a parent's name; the parser's message names the path, the line and
        // the offending character. The problem says only that the body is not valid JSON for what the route reads.
        const string Body = """{"localChildId": "D001", "parentName": "Ana Lopez", "categories": ['identity']}""";

        var consent = await app.PostAsync("/api/consents", app.Key("district"), Body);
        var report = await app.PostAsync("/api/reports/identifiable", app.Key("clinic"), Body);

        foreach (var response in new[] { consent, report })
        {
            Assert.Equal((400, "application/problem+json"), (response.Status, response.MediaType));
            foreach (var fragment in new[] { "D001", "Ana", "Lopez", "identity", "LineNumber", "BytePosition", "Path:", "invalid start" })
            {
                Assert.DoesNotContain(fragment, response.Body, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public async Task GetIdentifiableReport_BadBody_400Problem()
    {
        var response = await app.PostAsync("/api/reports/identifiable", app.Key("clinic"), new { child = "", categories = new[] { "everything" } });

        Assert.Equal((400, "application/problem+json"), (response.Status, response.MediaType));
    }

    [Fact]
    public async Task Logs_RequestsWithTheKeyInTheQuery_NoLineHoldsAKeyOrAChildIdentifier()
    {
        // Power BI sends the key in the query string: no log line (the host's request logs included) may repeat it.
        var key = app.Key("county-health");
        await app.GetAsync($"/api/reports/aggregate?{Period}&groupBy=provider&api-key={Uri.EscapeDataString(key)}", null);
        await app.GetAsync($"/api/uploads/{app.DistrictUpload}?api-key={Uri.EscapeDataString(app.Key("district"))}", null);

        var lines = app.Logs.GetSnapshot().Select(l => l.Message + " " + l.Exception).ToList();

        Assert.NotEmpty(lines);
        Assert.DoesNotContain(lines, l => l.Contains(ChildShare.Core.Callers.ApiKeyStore.Prefix, StringComparison.Ordinal));
        foreach (var identifier in app.Identifiers.Where(i => i.Length > 4))
        {
            Assert.DoesNotContain(lines, l => l.Contains(identifier, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>The camelCase names of every enum-typed property of ChildShare's public types: on the wire each must be a string.</summary>
    private static readonly HashSet<string> EnumProperties = typeof(UploadManifest).Assembly.GetTypes().Concat(typeof(FunctionCatalog).Assembly.GetTypes())
        .Where(t => t.IsPublic).SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        .Where(p => IsEnumLike(p.PropertyType))
        .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)).ToHashSet(StringComparer.Ordinal);

    /// <summary>Properties that are maps: their keys are data (e.g. generalization levels by quasi-identifier), not property names.</summary>
    private static readonly HashSet<string> MapProperties = typeof(UploadManifest).Assembly.GetTypes().Concat(typeof(FunctionCatalog).Assembly.GetTypes())
        .Where(t => t.IsPublic).SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        .Where(p => p.PropertyType.IsGenericType && p.PropertyType.GetInterfaces().Append(p.PropertyType).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)))
        .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)).ToHashSet(StringComparer.Ordinal);

    private static bool IsEnumLike(Type type) =>
        (Nullable.GetUnderlyingType(type) ?? type).IsEnum
        || (type.IsGenericType && type.GetGenericArguments().Any(a => (Nullable.GetUnderlyingType(a) ?? a).IsEnum));

    /// <summary>No property that holds an enum anywhere in ChildShare goes out as a number.</summary>
    internal static void AssertEnumsAreNames(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (EnumProperties.Contains(property.Name))
                    {
                        var values = property.Value.ValueKind == JsonValueKind.Array ? property.Value.EnumerateArray().ToList() : [property.Value];
                        Assert.True(values.All(v => v.ValueKind is not JsonValueKind.Number), $"{property.Name} is sent as a number: {property.Value}");
                    }

                    if (!MapProperties.Contains(property.Name))
                    {
                        AssertEnumsAreNames(property.Value);
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    AssertEnumsAreNames(item);
                }

                break;
        }
    }
}

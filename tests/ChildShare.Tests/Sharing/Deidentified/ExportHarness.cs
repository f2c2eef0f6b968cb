using System.Text.Json;
using ChildShare.Core.Agreements;
using ChildShare.Core.Callers;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Core.Storage;
using ChildShare.Functions.Exports;
using ChildShare.Tests.Activity;
using ChildShare.Tests.Agreements;
using ChildShare.Tests.Sharing.Aggregate;
using ChildShare.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Sharing.Deidentified;

/// <summary>
/// The reports' adversarial community (<see cref="ReportHarness"/>: 72 children, a single non-binary
/// child, a single Pacific Islander child, one child served by all three providers, a provider that
/// joined mid-period) with de-identified agreements for the research organization <c>uni-research</c>:
/// <c>dsa-research</c> (all three providers, k 5, service rows), <c>dsa-research-b</c> (the same
/// parties: research ids must differ), <c>dsa-district-only</c> (one provider only, k 3).
/// </summary>
public sealed class ExportHarness : IAsyncLifetime
{
    public ReportHarness Reports { get; } = new();

    public string ResearchKey { get; private set; } = "";

    /// <summary>Everything identifying the test put in: names, ids, birth dates, child keys, local tokens, provider ids.</summary>
    public List<string> Identifiers { get; } = [];

    public async Task InitializeAsync()
    {
        await Reports.InitializeAsync();
        var agreements = Reports.Services.GetRequiredService<AgreementStore>();
        var parties = new[] { new AgreementParty("district"), new AgreementParty("afterschool"), new AgreementParty("clinic", new DateOnly(2026, 9, 15)) };
        await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-research", "uni-research", "district") with
        {
            Parties = parties, Modes = [SharingMode.DeIdentified], DeIdentification = new DeidentificationTerms { K = 5, ServiceRows = true },
        }, "test");
        await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-research-b", "uni-research", "district") with
        {
            Parties = parties, Modes = [SharingMode.DeIdentified], DeIdentification = new DeidentificationTerms { K = 5 },
        }, "test");
        await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-district-only", "uni-research", "district") with
        {
            Modes = [SharingMode.DeIdentified], DeIdentification = new DeidentificationTerms { K = 3 },
        }, "test");
        ResearchKey = (await Reports.Services.GetRequiredService<ApiKeyStore>().IssueAsync("uni-research", CallerRoles.Reader, "r", TimeSpan.FromDays(90), "test")).Key;

        Identifiers.AddRange(Reports.Identifiers);
        Identifiers.AddRange(["district", "afterschool", "clinic"]);
        foreach (var record in await Reports.Storage.ReadAllAsync(TableNames.Records))
        {
            Identifiers.AddRange([record.RowKey, record.GetString("ChildKey") ?? ""]);
        }
    }

    public Task DisposeAsync() => Reports.DisposeAsync();

    public GetDeidentifiedExport Function => ActivatorUtilities.CreateInstance<GetDeidentifiedExport>(Reports.Services);

    public async Task<(int Status, string ContentType, string Body)> GetAsync(string query, string? accept = null, GetDeidentifiedExport? function = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("childshare.example.org");
        context.Request.Path = "/api/exports/deidentified";
        context.Request.QueryString = new QueryString(query);
        if (accept is not null)
        {
            context.Request.Headers.Accept = accept;
        }

        var result = await TestHttp.RunAsync(Reports.Services, context.Request, r => (function ?? Function).RunAsync(r, CancellationToken.None));
        return result switch
        {
            ContentResult content => (content.StatusCode ?? 200, content.ContentType ?? "", content.Content ?? ""),
            FileContentResult file => (200, file.ContentType, Convert.ToBase64String(file.FileContents)),
            ObjectResult obj => (obj.StatusCode ?? 200, obj.ContentTypes.FirstOrDefault() ?? "", JsonSerializer.Serialize(obj.Value, GetDeidentifiedExport.Json)),
            _ => throw new InvalidOperationException("Unexpected result " + result.GetType().Name),
        };
    }

    /// <summary>The rows and key-value metadata of a Parquet export.</summary>
    public static async Task<(List<string> Columns, List<string[]> Rows, IReadOnlyDictionary<string, string> Metadata)> ParseParquetAsync(byte[] content)
    {
        using var stream = new MemoryStream(content);
        await using var reader = await Parquet.ParquetReader.CreateAsync(stream);
        var fields = reader.Schema.DataFields;
        var columns = fields.Select(f => f.Name).ToList();
        var rows = new List<string[]>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            var values = new List<string[]>();
            foreach (var field in fields)
            {
                var column = new string?[group.RowCount];
                await group.ReadAsync(field, column.AsMemory());
                values.Add(column.Select(v => v ?? "").ToArray());
            }

            for (var r = 0; r < group.RowCount; r++)
            {
                rows.Add(values.Select(v => v[r]).ToArray());
            }
        }

        return (columns, rows, reader.CustomMetadata);
    }

    /// <summary>The rows of a JSON export as the checker reads them.</summary>
    public static (List<string> Columns, List<string[]> Rows, JsonElement Metadata) ParseJson(string body)
    {
        using var document = JsonDocument.Parse(body);
        var rows = document.RootElement.GetProperty("value").EnumerateArray().ToList();
        var columns = rows.Count == 0 ? [] : rows[0].EnumerateObject().Select(p => p.Name).ToList();
        return (columns, rows.Select(r => columns.Select(c => r.GetProperty(c).GetString() ?? "").ToArray()).ToList(), document.RootElement.GetProperty("metadata").Clone());
    }
}

public sealed class ExportHarnessFixture : IAsyncLifetime
{
    public ExportHarness Harness { get; } = new();

    public Task InitializeAsync() => Harness.InitializeAsync();

    public Task DisposeAsync() => Harness.DisposeAsync();
}

using ChildShare.Core.Activity;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Tests.Sharing.Deidentified;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Csv;

/// <summary>
/// Every CSV ChildShare writes (the aggregate report, the de-identified export, the rejected rows)
/// carries hostile values as text: parsed back by an independent RFC 4180 reader, each field is the
/// value, behind an apostrophe exactly when a spreadsheet would run it, and no field runs.
/// </summary>
public sealed class CsvFormulaGuardTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    [Theory]
    [MemberData(nameof(Spreadsheet.HostileCases), MemberType = typeof(Spreadsheet))]
    public void ReportCsv_HostileProgramAndServiceType_CarriedAsText(string value)
    {
        var row = new ReportRow("2026-09-01", "2026-09-30", "cell", "district", value, value, "(all)", "(all)", "(all)", "(all)", "(all)", "(all)", 12, false, "");

        var (columns, rows) = ExportChecker.ParseCsv(ReportCsv.Write([row]));

        Assert.Equal(ReportRow.Columns, columns);
        var parsed = Assert.Single(rows);
        Assert.Equal(15, parsed.Length);
        Assert.Equal((Spreadsheet.Expected(value), Spreadsheet.Expected(value)), (parsed[4], parsed[5]));
        Assert.DoesNotContain(parsed, Spreadsheet.RunsAsFormula);
    }

    [Theory]
    [MemberData(nameof(Spreadsheet.HostileCases), MemberType = typeof(Spreadsheet))]
    public void ExportCsv_HostileValues_CarriedAsText(string value)
    {
        var table = new ExportTable(["researchId", "program", value], [["r1", value, "x"], [value, "", value]]);

        var (columns, rows) = ExportChecker.ParseCsv(table.ToCsv());

        Assert.Equal(["researchId", "program", Spreadsheet.Expected(value)], columns);
        Assert.Equal(2, rows.Count);
        Assert.Equal(["r1", Spreadsheet.Expected(value), "x"], rows[0]);
        Assert.Equal([Spreadsheet.Expected(value), "", Spreadsheet.Expected(value)], rows[1]);
        Assert.DoesNotContain(rows.SelectMany(r => r).Concat(columns), Spreadsheet.RunsAsFormula);
    }

    [Fact]
    public async Task RejectsCsv_HostileFieldsAndReasons_CarriedAsText()
    {
        // The rejects blob is opened by providers in a spreadsheet; its writer must not trust that reasons stay constant text.
        var rejections = Spreadsheet.Hostile.Select((v, i) => new RowRejection(i + 2, v, v)).ToList();
        await using (var writer = new RejectsWriter(_storage.Storage.Rejects, "district/roster.csv", "0123456789abcdef0123"))
        {
            await writer.WriteAsync(rejections.Take(10).ToList(), CancellationToken.None);
            await writer.WriteAsync(rejections.Skip(10).ToList(), CancellationToken.None);
        }

        var content = await _storage.Storage.Rejects.GetBlobClient("district/roster.csv.0123456789ab.rejects.csv").DownloadContentAsync();
        var bytes = content.Value.Content.ToArray();
        var (columns, rows) = ExportChecker.ParseCsv(System.Text.Encoding.UTF8.GetString(bytes));

        Assert.False(bytes is [0xEF, 0xBB, 0xBF, ..], "no byte order mark");
        Assert.Equal(["line", "field", "reason"], columns);
        Assert.Equal(rejections.Select(r => new[] { r.LineNumber.ToString(System.Globalization.CultureInfo.InvariantCulture), Spreadsheet.Expected(r.Field), Spreadsheet.Expected(r.Reason) }), rows);
        Assert.DoesNotContain(rows.SelectMany(r => r), Spreadsheet.RunsAsFormula);
    }
}

using System.CommandLine;
using System.Text.Json;
using ChildShare.Cli;
using ChildShare.Core.Audit;
using ChildShare.Tests.EndToEnd;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Cli;

/// <summary>
/// <c>report aggregate</c>, <c>export deidentified</c> and <c>report identifiable</c> acting as an
/// organization, on the served app's community: the same services, decisions and audit as HTTP.
/// </summary>
[Collection(ServedAppCollection.Name)]
public sealed class ModeCommandsTests(ServedApp app)
{
    private const string Period = "--from 2026-09-01 --to 2026-09-30";

    private async Task<(int Exit, string Output, string Error)> RunAsync(string commandLine)
    {
        var root = new RootCommand();
        var verbose = new Option<bool>("--verbose") { Recursive = true };
        root.Options.Add(verbose);
        ModeCommands.AddTo(root, verbose, _ => TestApp.Build(app.Storage, app.Time));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await root.Parse(commandLine).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task ReportAggregate_Recipient_TableWithTheSuppressionReceipt()
    {
        var (exit, output, error) = await RunAsync($"report aggregate --as county-health {Period} --group-by provider,sex");

        Assert.True(exit == 0, error);
        Assert.Contains("row", output, StringComparison.Ordinal);
        Assert.Contains("provider", output, StringComparison.Ordinal);
        Assert.Contains("Suppression receipt (minimum cell size 3)", output, StringComparison.Ordinal);
        Assert.Contains("district (dsa-aggregate v1)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportAggregate_Json_TheRowsTheHttpRouteSends()
    {
        var (exit, output, _) = await RunAsync($"report aggregate --as county-health {Period} --group-by provider --format JSON");
        var http = await app.GetAsync("/api/reports/aggregate?from=2026-09-01&to=2026-09-30&groupBy=provider", app.Key("county-health"));

        Assert.Equal(0, exit);
        Assert.Equal(http.Json.GetProperty("value").GetRawText(), JsonDocument.Parse(output).RootElement.GetProperty("value").GetRawText()
            .Replace("\n", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReportAggregate_IntervalMonth_OneRowSetPerMonthWithItsMonth()
    {
        var (exit, output, error) = await RunAsync("report aggregate --as county-health --from 2026-08-01 --to 2026-09-30 --interval month");

        Assert.True(exit == 0, error);
        Assert.Matches(@"(?m)^month\s+row\s+provider\s+children", output);
        Assert.Matches(@"(?m)^2026-08\s+total\s+\(all\)\s+0\s*$", output);
        Assert.Matches(@"(?m)^2026-09\s+total\s+\(all\)\s+\d+", output);
        Assert.Contains("interval: month", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportAggregate_CsvToAFile_HeaderAndRows()
    {
        var file = Path.Combine(Path.GetTempPath(), $"childshare-{Guid.NewGuid():N}.csv");
        try
        {
            var (exit, output, _) = await RunAsync($"report aggregate --as county-health {Period} --format csv --out {file}");

            Assert.Equal(0, exit);
            Assert.Contains("Wrote", output, StringComparison.Ordinal);
            Assert.StartsWith("periodStart,periodEnd,rowType", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ReportAggregate_OrganizationWithoutAgreement_RefusedAndAuditedAsOperatorOnItsBehalf()
    {
        var (exit, output, error) = await RunAsync($"report aggregate --as school-board {Period}");

        Assert.Equal(ModeCommands.Refused, exit);
        Assert.Empty(output);
        Assert.Contains("Refused", error, StringComparison.Ordinal);
        var entries = await app.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10");
        var entry = entries.Last(e => e.GetString("Event") == AuditEvents.AggregateReport && e.GetString("OrganizationId") == "school-board" && e.GetString("AuthMethod") == "Operator");
        Assert.Equal("Forbidden", entry.GetString("Outcome"));
        Assert.Equal($"operator:{Environment.UserName} on behalf of school-board", entry.GetString("Actor"));
        Assert.Equal("Reader", entry.GetString("Role"));
    }

    [Fact]
    public async Task ReportAggregate_Served_AuditedAsOperatorOnBehalfOfTheOrganization()
    {
        await RunAsync($"report aggregate --as county-health {Period} --group-by sex");

        var entries = await app.Services.GetRequiredService<AuditLog>().ReadMonthAsync("2026-10");
        Assert.Contains(entries, e => e.GetString("Event") == AuditEvents.AggregateReport && e.GetString("Outcome") == "Succeeded"
            && e.GetString("OrganizationId") == "county-health" && e.GetString("Actor") == $"operator:{Environment.UserName} on behalf of county-health");
    }

    [Theory]
    [InlineData("--from 2026-13-01 --to 2026-09-30", "--from is a date")]
    [InlineData("--from 2026-09-01 --to 2026-09-30 --format xml", "--format is one of")]
    [InlineData("--from 2026-09-01", "--to")]
    public async Task ReportAggregate_BadOptions_OneClearLineNoStackTrace(string options, string message)
    {
        var (exit, _, error) = await RunAsync($"report aggregate --as county-health {options}");

        Assert.NotEqual(0, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportAggregate_OrganizationIdWithCapitals_RefusedByTheValidator()
    {
        var (exit, _, error) = await RunAsync($"report aggregate --as County-Health {Period}");

        Assert.NotEqual(0, exit);
        Assert.Contains("--as is an organization id", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportDeidentified_Recipient_SummaryAndFirstRowsOnTheTerminal()
    {
        var (exit, output, error) = await RunAsync($"export deidentified --as research-lab --agreement dsa-deid {Period}");

        Assert.True(exit == 0, error);
        Assert.Contains("k wanted 2, achieved", output, StringComparison.Ordinal);
        Assert.Contains("Generalization:", output, StringComparison.Ordinal);
        Assert.Contains("researchId", output, StringComparison.Ordinal);
        foreach (var identifier in app.Identifiers)
        {
            Assert.DoesNotContain(identifier, output, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Theory]
    [InlineData("csv")]
    [InlineData("parquet")]
    public async Task ExportDeidentified_OutFile_WholeExportWritten(string format)
    {
        var file = Path.Combine(Path.GetTempPath(), $"childshare-{Guid.NewGuid():N}.{format}");
        try
        {
            var (exit, _, error) = await RunAsync($"export deidentified --as research-lab --agreement dsa-deid {Period} --format {format} --out {file}");

            Assert.True(exit == 0, error);
            Assert.True(new FileInfo(file).Length > 0);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ExportDeidentified_NotARecipient_Refused()
    {
        var (exit, output, error) = await RunAsync($"export deidentified --as county-health --agreement dsa-deid {Period}");

        Assert.Equal(ModeCommands.Refused, exit);
        Assert.Empty(output);
        Assert.Contains("not a recipient", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportDeidentified_ParquetWithoutOut_ValidatorError()
    {
        var (exit, _, error) = await RunAsync($"export deidentified --as research-lab --agreement dsa-deid {Period} --format parquet");

        Assert.NotEqual(0, exit);
        Assert.Contains("--out FILE", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportIdentifiable_WithoutConsent_RefusedWithTheReason()
    {
        var (exit, output, error) = await RunAsync("report identifiable --as clinic --child C005");

        Assert.Equal(ModeCommands.Refused, exit);
        Assert.Empty(output);
        Assert.Contains("no-consent", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportIdentifiable_UnknownChild_NotFound()
    {
        var (exit, _, error) = await RunAsync("report identifiable --as clinic --child C-NOBODY");

        Assert.Equal(ModeCommands.Refused, exit);
        Assert.Contains("has no record of this child", error, StringComparison.Ordinal);
    }
}

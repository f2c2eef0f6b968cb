using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using ChildShare.Core.Activity;
using ChildShare.Core.Audit;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Core.Sharing.Identifiable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChildShare.Cli;

/// <summary>
/// The three sharing modes from the command line, each acting as a named organization
/// (<c>--as ORG</c>): <c>report aggregate</c>, <c>export deidentified</c> and <c>report identifiable</c>.
/// They call the same services as the HTTP functions, so the same decision point decides and the same
/// audit records the request, as the organization with the actor <c>operator:{user} on behalf of ORG</c>
/// (<see cref="Caller.OperatorFor"/>: the organization's Reader rights, never Admin). Output: a table
/// on a terminal, <c>--format json|csv</c> for machines, <c>--out FILE</c> to write it to a file.
/// Exit codes: 0 served, 2 the request is not valid, 3 refused or not found, 4 the audit is unavailable, 5 the activity store is
/// being rebuilt (reports and exports wait for its end).
/// </summary>
public static class ModeCommands
{
    public const int Invalid = 2;
    public const int Refused = 3;
    public const int AuditUnavailable = 4;
    public const int ActivityRebuilding = 5;

    /// <summary>One invocation: the services, where output and errors go, and its cancellation.</summary>
    private sealed record Invocation(IServiceProvider Services, TextWriter Output, TextWriter Error, CancellationToken Cancellation);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <param name="root">The root command to add <c>report</c> and <c>export</c> to.</param>
    /// <param name="verbose">The root's <c>--verbose</c> option.</param>
    /// <param name="services">Builds the application's services for one invocation (tests point it at their storage).</param>
    public static void AddTo(RootCommand root, Option<bool> verbose, Func<LogLevel, ServiceProvider>? services = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        services ??= level => CliHost.Build(logLevel: level);
        var asOrg = new Option<string>("--as") { Description = "The organization to act as (its id): its agreements and consents decide, and the audit names it.", Required = true };
        asOrg.Validators.Add(r => Validate(r, ProviderRegistry.IsValidId, "--as is an organization id: 2 to 63 lowercase letters, digits and dashes."));
        var from = DateOption("--from", "The period's first day (yyyy-MM-dd).", required: true);
        var to = DateOption("--to", "The period's last day (yyyy-MM-dd), inclusive.", required: true);
        var output = new Option<string?>("--out") { Description = "Write the result to this file instead of the terminal." };

        var report = new Command("report", "Reports: aggregate (counts of unique children) or identifiable (one consented child).");
        var groupBy = new Option<string>("--group-by") { Description = $"Dimensions, comma-separated: {string.Join(", ", ReportDimensions.All)}.", DefaultValueFactory = _ => "provider" };
        var top = new Option<int?>("--top") { Description = "At most this many rows (a page; default all up to 5000)." };
        var skip = new Option<int?>("--skip") { Description = "Skip this many rows (the next page)." };
        var reportFormat = FormatOption("table", "json", "csv");
        var interval = new Option<string?>("--interval") { Description = "month: one row-set per calendar month (the period from a month's first day to a month's last day)." };
        interval.AcceptOnlyFromAmong("month");
        var aggregate = Define("aggregate", "Unique children by the chosen dimensions under the organization's agreements, small cells suppressed.",
            [asOrg, from, to, groupBy, interval, top, skip, reportFormat, output]);
        aggregate.SetAction((r, ct) => RunAsync(services, r, verbose, run => AggregateAsync(run,
            Caller(r, asOrg), r.GetValue(from)!, r.GetValue(to)!, r.GetValue(groupBy)!, r.GetValue(interval), r.GetValue(top), r.GetValue(skip), r.GetValue(reportFormat)!,
            r.GetValue(output)), ct));
        report.Subcommands.Add(aggregate);

        var child = new Option<string>("--child") { Description = "The acting organization's own local id for the child.", Required = true };
        var categories = new Option<string?>("--categories") { Description = $"Categories wanted, comma-separated (default: all a consent in force covers): {string.Join(", ", ConsentCategories.All)}." };
        var identFrom = DateOption("--from", "Only records from this day (yyyy-MM-dd).", required: false);
        var identTo = DateOption("--to", "Only records up to this day (yyyy-MM-dd).", required: false);
        var identFormat = FormatOption("table", "json");
        var identifiable = Define("identifiable", "A child's consented records from the sources that share them with the organization.",
            [asOrg, child, categories, identFrom, identTo, identFormat, output]);
        identifiable.SetAction((r, ct) => RunAsync(services, r, verbose, run => IdentifiableAsync(run, Caller(r, asOrg), r.GetValue(child)!,
            r.GetValue(categories), r.GetValue(identFrom), r.GetValue(identTo), r.GetValue(identFormat)!, r.GetValue(output)), ct));
        report.Subcommands.Add(identifiable);
        root.Subcommands.Add(report);

        var export = new Command("export", "Exports: de-identified child-level rows under one agreement.");
        var agreement = new Option<string>("--agreement") { Description = "The agreement id.", Required = true };
        var rows = new Option<string>("--rows") { Description = "children (one row per child) or services (one per service record, where the agreement allows).", DefaultValueFactory = _ => "children" };
        rows.AcceptOnlyFromAmong("children", "services");
        var exportFormat = FormatOption("table", "json", "csv", "parquet");
        var deidentified = Define("deidentified", "k-anonymous rows under one agreement: the anonymization summary and the first rows on a terminal, all of them in a file.",
            [asOrg, agreement, from, to, rows, exportFormat, output]);
        deidentified.Validators.Add(r =>
        {
            if (r.GetValue(exportFormat) == "parquet" && r.GetValue(output) is null)
            {
                r.AddError("--format parquet writes a binary file: give --out FILE.");
            }
        });
        deidentified.SetAction((r, ct) => RunAsync(services, r, verbose, run => DeidentifiedAsync(run, Caller(r, asOrg), r.GetValue(agreement)!,
            r.GetValue(from)!, r.GetValue(to)!, r.GetValue(rows)!, r.GetValue(exportFormat)!, r.GetValue(output)), ct));
        export.Subcommands.Add(deidentified);
        root.Subcommands.Add(export);
    }

    private static Command Define(string name, string description, Option[] options)
    {
        var command = new Command(name, description);
        foreach (var option in options)
        {
            command.Options.Add(option);
        }

        return command;
    }

    private static Option<string> DateOption(string name, string description, bool required)
    {
        var option = new Option<string>(name) { Description = description, Required = required };
        option.Validators.Add(r => Validate(r, t => DateOnly.TryParseExact(t, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
            $"{name} is a date written yyyy-MM-dd."));
        return option;
    }

    private static Option<string> FormatOption(params string[] formats)
    {
        var option = new Option<string>("--format") { Description = $"{string.Join(", ", formats)} (default {formats[0]}).", DefaultValueFactory = _ => formats[0] };
        option.CustomParser = r => r.Tokens.Count == 0 ? formats[0] : r.Tokens[0].Value.ToLowerInvariant();
        option.Validators.Add(r => Validate(r, f => formats.Contains(f.ToLowerInvariant()), $"--format is one of {string.Join(", ", formats)}."));
        return option;
    }

    private static void Validate(OptionResult result, Func<string, bool> valid, string message)
    {
        if (result.Tokens.Count > 0 && !valid(result.Tokens[0].Value))
        {
            result.AddError(message);
        }
    }

    private static Caller Caller(ParseResult result, Option<string> asOrg) => Core.Organizations.Caller.OperatorFor(result.GetValue(asOrg)!, Environment.UserName);

    private static async Task<int> RunAsync(Func<LogLevel, ServiceProvider> services, ParseResult result, Option<bool> verbose, Func<Invocation, Task<int>> action,
        CancellationToken cancellationToken)
    {
        await using var provider = services(result.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
        try
        {
            return await action(new Invocation(provider, result.InvocationConfiguration.Output, result.InvocationConfiguration.Error, cancellationToken));
        }
        catch (AuditUnavailableException ex)
        {
            await result.InvocationConfiguration.Error.WriteLineAsync(ex.Message);
            return AuditUnavailable;
        }
        catch (ActivityRebuildingException ex)
        {
            await result.InvocationConfiguration.Error.WriteLineAsync(ex.Message);
            return ActivityRebuilding;
        }
        catch (IOException ex) when (!cancellationToken.IsCancellationRequested)
        {
            await result.InvocationConfiguration.Error.WriteLineAsync($"Cannot write the output file ({ex.GetType().Name}): {ex.Message}");
            return Invalid;
        }
    }

    private static async Task<int> AggregateAsync(Invocation run, Caller caller, string from, string to, string groupBy, string? interval, int? top, int? skip,
        string format, string? file)
    {
        var parameters = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["from"] = from, ["to"] = to, ["groupBy"] = groupBy };
        if (interval is not null)
        {
            parameters["interval"] = interval;
        }

        if (top is { } t)
        {
            parameters["$top"] = t.ToString(CultureInfo.InvariantCulture);
        }

        if (skip is { } s)
        {
            parameters["$skip"] = s.ToString(CultureInfo.InvariantCulture);
        }

        var result = await run.Services.GetRequiredService<AggregateReportService>().RunAsync(caller, parameters, null, run.Cancellation);
        switch (result.Status)
        {
            case ReportStatus.BadRequest:
                await run.Error.WriteLineAsync(string.Join(Environment.NewLine, result.Errors));
                return Invalid;
            case ReportStatus.Forbidden:
                await run.Error.WriteLineAsync($"Refused: no data sharing agreement permits {caller.OrganizationId} an aggregate report over any provider's data for this period and grouping.");
                foreach (var excluded in result.Excluded)
                {
                    await run.Error.WriteLineAsync($"  {excluded.ProviderId}: {excluded.Reason}");
                }

                return Refused;
        }

        var page = result.Page!;
        await WriteAsync(run.Output, file, async writer =>
        {
            switch (format)
            {
                case "json":
                    await writer.WriteLineAsync(JsonSerializer.Serialize(new { value = page.Value, metadata = page.Metadata }, Json));
                    break;
                case "csv":
                    await writer.WriteAsync(ReportCsv.Write(page.Value));
                    break;
                default:
                    WriteAggregateTable(writer, page);
                    break;
            }
        }, run.Cancellation);
        return 0;
    }

    private static void WriteAggregateTable(TextWriter writer, ReportPage page)
    {
        var metadata = page.Metadata;
        writer.WriteLine($"Unique children, {metadata.PeriodStart} to {metadata.PeriodEnd}, by {string.Join(", ", metadata.GroupBy)}");
        // A time series (interval=month) says which month each row counts.
        var series = page.Value.Any(r => r.PeriodStart != metadata.PeriodStart || r.PeriodEnd != metadata.PeriodEnd);
        var headers = series ? new List<string> { "month", "row" } : new List<string> { "row" };
        headers.AddRange(metadata.GroupBy);
        headers.Add("children");
        TextTable.Write(writer, headers, page.Value.Select(row =>
        {
            var cells = series ? new List<string> { row.PeriodStart[..7], row.RowType } : new List<string> { row.RowType };
            cells.AddRange(metadata.GroupBy.Select(d => ValueOf(row, d)));
            cells.Add(row.Suppressed ? $"suppressed ({row.SuppressionReason})" : row.Children?.ToString(CultureInfo.InvariantCulture) ?? "");
            return (IReadOnlyList<string>)cells;
        }));
        writer.WriteLine();
        writer.WriteLine($"Providers included: {string.Join(", ", metadata.ProvidersIncluded.Select(p => $"{p.ProviderId} ({p.AgreementId} v{p.AgreementVersion})"))}");
        foreach (var excluded in metadata.ProvidersExcluded)
        {
            writer.WriteLine($"Excluded: {excluded.ProviderId}: {excluded.Reason}");
        }

        writer.WriteLine($"Suppression receipt (minimum cell size {metadata.Suppression.MinimumCellSize}):");
        foreach (var line in metadata.Suppression.Explanation)
        {
            writer.WriteLine("  " + line);
        }

        if (page.HasMore)
        {
            writer.WriteLine($"{metadata.TotalRows - page.Skip - page.Value.Count} more row(s): --skip {page.Skip + page.Value.Count}");
        }
    }

    private static string ValueOf(ReportRow row, string dimension) => dimension switch
    {
        ReportDimensions.Provider => row.Provider,
        ReportDimensions.Program => row.Program,
        ReportDimensions.ServiceType => row.ServiceType,
        ReportDimensions.Sex => row.Sex,
        ReportDimensions.Race => row.Race,
        ReportDimensions.Ethnicity => row.Ethnicity,
        ReportDimensions.AgeBand => row.AgeBand,
        ReportDimensions.Grade => row.Grade,
        ReportDimensions.Zip3 => row.Zip3,
        _ => "",
    };

    private static async Task<int> DeidentifiedAsync(Invocation run, Caller caller, string agreement, string from, string to, string rows, string format, string? file)
    {
        var parameters = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["agreement"] = agreement, ["from"] = from, ["to"] = to, ["rows"] = rows,
            ["format"] = format == "table" ? "json" : format,

            // The command line writes the file itself: never a link to the exports container.
            ["delivery"] = "inline",
        };
        var result = await run.Services.GetRequiredService<DeidentifiedExportService>().RunAsync(caller, parameters, null, run.Cancellation);
        if (result.Status != ExportStatus.Ok)
        {
            await run.Error.WriteLineAsync((result.Status == ExportStatus.Forbidden ? "Refused: " : "") + string.Join(Environment.NewLine, result.Errors));
            return result.Status == ExportStatus.Forbidden ? Refused : Invalid;
        }

        var table = result.Table!;
        var metadata = result.Metadata!;
        if (format == "parquet")
        {
            await File.WriteAllBytesAsync(file!, await table.ToParquetAsync(metadata, run.Cancellation), run.Cancellation);
            await run.Output.WriteLineAsync($"Wrote {table.Rows.Count} row(s) to {file}.");
            return 0;
        }

        await WriteAsync(run.Output, file, async writer =>
        {
            switch (format)
            {
                case "json":
                    await writer.WriteLineAsync(table.ToJson(metadata));
                    break;
                case "csv":
                    await writer.WriteAsync(table.ToCsv());
                    break;
                default:
                    WriteExportSummary(writer, table, metadata, file is null ? 10 : int.MaxValue);
                    break;
            }
        }, run.Cancellation);
        return 0;
    }

    private static void WriteExportSummary(TextWriter writer, ExportTable table, ExportMetadata metadata, int rowsShown)
    {
        var a = metadata.Anonymization;
        writer.WriteLine($"De-identified export under {metadata.Agreement} v{metadata.AgreementVersion}, {metadata.From} to {metadata.To}: {metadata.Rows} rows");
        writer.WriteLine($"k wanted {a.K}, achieved {a.KAchieved}; {a.RecordsSuppressed} of {a.Records} record(s) suppressed (limit {a.SuppressionLimit}); {a.EquivalenceClasses} equivalence class(es)");
        writer.WriteLine("Generalization: " + string.Join("; ", a.Levels.Select(l => a.LevelDescriptions.TryGetValue(l.Key, out var d) ? $"{l.Key} level {l.Value} ({d})" : $"{l.Key} level {l.Value}")));
        writer.WriteLine($"Providers: {string.Join(", ", metadata.ProvidersIncluded)}");
        writer.WriteLine();
        TextTable.Write(writer, table.Columns, table.Rows.Take(rowsShown));
        if (table.Rows.Count > rowsShown)
        {
            writer.WriteLine($"... {table.Rows.Count - rowsShown} more row(s): --format csv --out FILE writes them all.");
        }
    }

    private static async Task<int> IdentifiableAsync(Invocation run, Caller caller, string child, string? categories, string? from, string? to, string format, string? file)
    {
        static DateOnly? Day(string? text) => text is null ? null : DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var request = new IdentifiableReportRequest
        {
            Child = child,
            Categories = categories?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            From = Day(from),
            To = Day(to),
        };
        var result = await run.Services.GetRequiredService<IdentifiableReportService>().RunAsync(caller, request, run.Cancellation);
        switch (result.Status)
        {
            case IdentifiableReportStatus.BadRequest:
                await run.Error.WriteLineAsync(string.Join(Environment.NewLine, result.Errors));
                return Invalid;
            case IdentifiableReportStatus.NotFound:
                await run.Error.WriteLineAsync($"{caller.OrganizationId} has no record of this child.");
                return Refused;
            case IdentifiableReportStatus.Forbidden:
                await run.Error.WriteLineAsync($"Refused ({result.Reason}): no consent in force and data sharing agreement permit releasing this child's records to {caller.OrganizationId}.");
                foreach (var denial in result.Denials)
                {
                    await run.Error.WriteLineAsync($"  {(denial.ProviderId.Length > 0 ? denial.ProviderId : "(no source)")}: {denial.Reason}: {denial.Detail}");
                }

                return Refused;
        }

        var report = result.Report!;
        await WriteAsync(run.Output, file, async writer =>
        {
            if (format == "json")
            {
                await writer.WriteLineAsync(JsonSerializer.Serialize(report, Json));
                return;
            }

            foreach (var source in report.Sources)
            {
                writer.WriteLine($"{source.ProviderId}: categories {string.Join(", ", source.Categories)} (consent {string.Join(", ", source.ConsentIds)}, agreement {source.AgreementId})");
                foreach (var (section, records) in new (string, IEnumerable<IReadOnlyDictionary<string, string>>?)[]
                {
                    ("identity", source.Identity), ("address", source.Address), ("demographics", source.Demographics), ("academic", source.Academic),
                    ("services", source.Services?.Select(s => (IReadOnlyDictionary<string, string>)s.ToDictionary(p => p.Key, p => Convert.ToString(p.Value, CultureInfo.InvariantCulture) ?? ""))),
                })
                {
                    foreach (var record in records ?? [])
                    {
                        writer.WriteLine($"  {section}: {string.Join("; ", record.Select(p => $"{p.Key}={p.Value}"))}");
                    }
                }
            }

            foreach (var withheld in report.Withheld)
            {
                writer.WriteLine($"withheld: {withheld.ProviderId}: {withheld.Reason}: {withheld.Detail}");
            }
        }, run.Cancellation);
        return 0;
    }

    /// <summary>Writes to the file when one is named (and says so on the terminal), else to the terminal.</summary>
    private static async Task WriteAsync(TextWriter terminal, string? file, Func<TextWriter, Task> write, CancellationToken cancellationToken)
    {
        if (file is null)
        {
            await write(terminal);
            return;
        }

        await using (var writer = new StreamWriter(file, append: false, new System.Text.UTF8Encoding(false)))
        {
            await write(writer);
        }

        cancellationToken.ThrowIfCancellationRequested();
        await terminal.WriteLineAsync($"Wrote {file}.");
    }
}

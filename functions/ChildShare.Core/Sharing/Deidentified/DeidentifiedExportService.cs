using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs.Models;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Audit;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChildShare.Core.Sharing.Deidentified;

public enum ExportStatus
{
    Ok,
    BadRequest,
    Forbidden,
}

/// <summary>What the export says about itself (JSON <c>metadata</c>, the link response, the audit detail).</summary>
public sealed record ExportMetadata(
    string Agreement, int AgreementVersion, string From, string To, string Rows, string DemographicRule, string ResearchId,
    IReadOnlyList<string> ProvidersIncluded, int ProvidersExcluded, int Children, AnonymizationSummary Anonymization);

/// <summary>A download link to an export written to the exports container.</summary>
public sealed record ExportLink(Uri Link, DateTimeOffset ExpiresOn, string Format, int Rows, ExportMetadata Metadata);

/// <summary>The outcome of an export request: a table to stream, or a link, or why not.</summary>
public sealed record ExportResult(ExportStatus Status, IReadOnlyList<string> Errors, ExportTable? Table = null, ExportFormat Format = ExportFormat.Json,
    ExportMetadata? Metadata = null, ExportLink? Link = null);

/// <summary>
/// De-identified child-level exports under one agreement (see EXPORTS.md): the decision point says
/// which providers' data the agreement releases for the period; the activity summaries of those
/// providers and the period's years (<see cref="ActivityStore"/>) give the children served in the period and their demographics, resolved
/// by the aggregate report's rule (<see cref="AggregateReportService.DemographicRule"/>, which the report applies through
/// <see cref="ChildAggregator"/> and the export through its own <see cref="ExportChildFold"/>); quasi-identifiers are generalized to k-anonymity by
/// <see cref="KAnonymizer"/>; each child gets a research id keyed by the pseudonymization key and
/// the agreement. Nothing else about a child leaves. Every request is audited before anything is returned.
/// </summary>
public sealed partial class DeidentifiedExportService(
    ChildShareStorage storage,
    ChildRecordStore records,
    ActivityStore activity,
    ProviderRegistry providers,
    AgreementStore agreements,
    AuditLog audit,
    IPseudonymKeyProvider keys,
    IExportLinkIssuer links,
    IOptions<DeidentificationOptions> options,
    TimeProvider time,
    ILogger<DeidentifiedExportService> logger)
{
    public const string ResearchIdRule =
        "researchId: HMAC-SHA256 under the pseudonymization key (Key Vault) of the agreement id and the community child key, 128 bits in hex: "
        + "stable across exports under one agreement (while the key is not rotated), unrelated across agreements.";

    private const int ParallelReads = 8;

    private const string ResearchIdPurpose = "deid-research-v1";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<ExportResult> RunAsync(Caller caller, IReadOnlyDictionary<string, string?> parameters, string? accept, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(parameters);
        var watch = Stopwatch.StartNew();
        var auditParameters = DeidentifiedExportQuery.ForAudit(parameters);
        var (query, errors) = DeidentifiedExportQuery.Parse(parameters, accept);
        if (query is null)
        {
            await audit.AppendAsync(new AuditEntry(AuditEvents.DeidentifiedExport, "BadRequest") { Caller = caller, Parameters = auditParameters, RowsReturned = 0 }, cancellationToken)
                .ConfigureAwait(false);
            return new ExportResult(ExportStatus.BadRequest, errors);
        }

        var agreement = await agreements.GetAsync(query.AgreementId, cancellationToken).ConfigureAwait(false);
        var terms = agreement?.DeIdentification ?? new DeidentificationTerms();
        string? refusal = null;
        if (agreement is null || !agreement.Recipients.Contains(caller.OrganizationId, StringComparer.Ordinal))
        {
            // The same answer whether the agreement does not exist or the caller is not its recipient.
            refusal = $"Organization {caller.OrganizationId} is not a recipient of an agreement with that id.";
        }
        else if (query.Rows == ExportRows.Services && !terms.ServiceRows)
        {
            refusal = $"Agreement {agreement.Id} does not permit service-level rows.";
        }

        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var request = new SharingRequest(SharingMode.DeIdentified, query.From, query.To, []);
        var registered = (await providers.ListAsync(cancellationToken).ConfigureAwait(false)).Select(p => p.Id).Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal).ToList();
        var verdicts = refusal is null ? registered.Select(p => SharingDecisionPoint.Decide(caller, request, p, [agreement!], today)).ToList() : [];
        var included = verdicts.Where(v => v.Allowed).Select(v => v.ProviderId).ToList();
        if (refusal is null && included.Count == 0)
        {
            refusal = verdicts.Select(v => v.Reason).Distinct(StringComparer.Ordinal).FirstOrDefault(r => r.StartsWith("Agreement", StringComparison.Ordinal))
                ?? $"Agreement {agreement!.Id} releases no provider's data for this period.";
        }

        if (refusal is not null)
        {
            await audit.AppendAsync(new AuditEntry(AuditEvents.DeidentifiedExport, "Forbidden")
            {
                Caller = caller, Parameters = auditParameters, RowsReturned = 0, Detail = refusal,
                ProvidersExcluded = verdicts.Where(v => !v.Allowed).Select(v => v.ProviderId).ToList(),
            }, cancellationToken).ConfigureAwait(false);
            LogForbidden(logger, caller.OrganizationId);
            return new ExportResult(ExportStatus.Forbidden, [refusal]);
        }

        ExportTable table;
        ExportMetadata metadata;
        try
        {
            (table, metadata) = await BuildAsync(query, agreement!, terms, included, verdicts.Count - included.Count, cancellationToken).ConfigureAwait(false);
        }
        catch (ActivityRebuildingException ex)
        {
            await audit.AppendAsync(new AuditEntry(AuditEvents.DeidentifiedExport, "Unavailable")
            {
                Caller = caller, Parameters = auditParameters, RowsReturned = 0, Detail = ex.Message,
            }, cancellationToken).ConfigureAwait(false);
            throw;
        }

        var summary = metadata.Anonymization;
        var useLink = query.Delivery == ExportDelivery.Link || (query.Delivery == ExportDelivery.Auto && table.Rows.Count > options.Value.InlineRowLimit);
        await audit.AppendAsync(new AuditEntry(AuditEvents.DeidentifiedExport, "Succeeded")
        {
            Caller = caller,
            Parameters = auditParameters,
            AgreementsRelied = [$"{agreement!.Id}@{agreement.Version}"],
            ProvidersIncluded = included,
            ProvidersExcluded = verdicts.Where(v => !v.Allowed).Select(v => v.ProviderId).ToList(),
            RowsReturned = table.Rows.Count,
            CellsSuppressed = summary.RecordsSuppressed,
            Detail = JsonSerializer.Serialize(new { delivery = useLink ? "link" : "inline", anonymization = summary with { LevelDescriptions = new Dictionary<string, string>() } }, Json),
        }, cancellationToken).ConfigureAwait(false);
        LogServed(logger, caller.OrganizationId, included.Count, summary.Records, summary.RecordsSuppressed, summary.KAchieved, table.Rows.Count, watch.ElapsedMilliseconds);
        if (!useLink)
        {
            return new ExportResult(ExportStatus.Ok, [], table, query.Format, metadata);
        }

        var link = await WriteBlobAsync(query, table, metadata, cancellationToken).ConfigureAwait(false);
        return new ExportResult(ExportStatus.Ok, [], null, query.Format, metadata, link);
    }

    /// <summary>Reads, resolves, anonymizes; the table and its metadata (no audit, no delivery). The benchmark calls the pure part, <see cref="Anonymize"/>.</summary>
    internal async Task<(ExportTable Table, ExportMetadata Metadata)> BuildAsync(
        DeidentifiedExportQuery query, DataSharingAgreement agreement, DeidentificationTerms terms, IReadOnlyList<string> included, int excluded,
        CancellationToken cancellationToken)
    {
        var read = await activity.ReadAsync(Enumerable.Range(query.From.Year, query.To.Year - query.From.Year + 1), cancellationToken).ConfigureAwait(false);
        var key = await keys.GetCurrentKeyAsync(cancellationToken).ConfigureAwait(false);
        var (childTable, children, summary, providerChildren) = Compose(read.Children, included, query.From, query.To, key, agreement.Id, terms, agreement.MinimumCellSize,
            serviceRows: query.Rows == ExportRows.Services);
        var table = childTable;
        if (query.Rows == ExportRows.Services)
        {
            var released = childTable.Rows.Select(r => r[0]).ToHashSet(StringComparer.Ordinal);
            table = await ServiceTableAsync(children.Where(c => released.Contains(c.ResearchId)).ToList(), providerChildren, query, cancellationToken).ConfigureAwait(false);
        }

        var metadata = new ExportMetadata(agreement.Id, agreement.Version, RecordKeys.IsoDate(query.From), RecordKeys.IsoDate(query.To),
            query.Rows == ExportRows.Services ? "services" : "children", AggregateReportService.DemographicRule, ResearchIdRule, included, excluded, children.Count, summary);
        return (table, metadata);
    }

    /// <summary>
    /// Everything between the storage read and the delivery, without storage: the children of the included providers served in the
    /// period, their resolved demographics, research ids and row order, and the anonymized child table; and, with
    /// <paramref name="serviceRows"/>, each child key's provider children (whose service records the service rows read; empty
    /// otherwise: at 100,000 children the map costs a tenth of the compute). The benchmark times this.
    /// </summary>
    internal static ComposedExport Compose(
        IReadOnlyList<(int Year, ProviderChildYear Child)> read, IReadOnlyCollection<string> providerIds, DateOnly from, DateOnly to, PseudonymKey key, string agreementId,
        DeidentificationTerms terms, int minimumCellSize, bool serviceRows)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(providerIds);
        var fold = ExportChildFold.Run(read, providerIds, from, to, serviceRows);
        var childKeys = fold.ChildKeys;
        var researchIds = ResearchIdValues(key, agreementId, childKeys);
        var (programs, serviceTypes) = fold.Values();
        var children = new ExportChild[fold.Count];
        for (var i = 0; i < children.Length; i++)
        {
            children[i] = new ExportChild(ResearchIdText(researchIds[i]), childKeys[i], fold.Demographics(i), programs[i], serviceTypes[i]);
        }

        // Research id order (the rows say nothing about ingestion or providers): the numbers' order is their lowercase hex's ordinal order.
        Array.Sort(researchIds, children);
        var (table, summary) = Anonymize(children, terms, minimumCellSize, from);
        return new ComposedExport(table, children, summary, fold.ProviderChildren());
    }

    /// <summary>
    /// The research id of each child key under an agreement as the 128-bit number whose lowercase hex is the id: exactly
    /// <see cref="Pseudonymizer.Token(string, ReadOnlySpan{string})"/> of ("deid-research-v1", agreement id, child key) (a test checks
    /// it), without the pseudonymizer's per-token copy, lock and cache (every child key is new here): one keyed HMAC per worker,
    /// the key's pads computed once, the purpose and agreement id encoded once.
    /// </summary>
    internal static UInt128[] ResearchIdValues(PseudonymKey key, string agreementId, IReadOnlyList<string> childKeys)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(childKeys);
        var prefix = Encoding.UTF8.GetBytes(ResearchIdPurpose + '\u001f' + agreementId + '\u001f');
        var values = new UInt128[childKeys.Count];
        if (values.Length == 0)
        {
            return values;
        }

        Parallel.ForEach(Partitioner.Create(0, childKeys.Count, 2048), range =>
        {
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key.Material);
            var buffer = new byte[prefix.Length + 256];
            prefix.CopyTo(buffer, 0);
            Span<byte> mac = stackalloc byte[32];
            for (var i = range.Item1; i < range.Item2; i++)
            {
                var childKey = childKeys[i];
                var needed = prefix.Length + Encoding.UTF8.GetMaxByteCount(childKey.Length);
                if (needed > buffer.Length)
                {
                    buffer = new byte[needed];
                    prefix.CopyTo(buffer, 0);
                }

                var length = prefix.Length + Encoding.UTF8.GetBytes(childKey, buffer.AsSpan(prefix.Length));
                hmac.AppendData(buffer, 0, length);
                hmac.GetHashAndReset(mac);
                values[i] = BinaryPrimitives.ReadUInt128BigEndian(mac);
            }
        });
        return values;
    }

    /// <summary>A research id as the export shows it: 32 lowercase hex digits.</summary>
    internal static string ResearchIdText(UInt128 value)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>The pure part: generalize and suppress, and lay out one row per released child.</summary>
    public static (ExportTable Table, AnonymizationSummary Summary) Anonymize(IReadOnlyList<ExportChild> children, DeidentificationTerms terms, int minimumCellSize, DateOnly periodStart)
    {
        ArgumentNullException.ThrowIfNull(children);
        ArgumentNullException.ThrowIfNull(terms);
        var qis = QuasiIdentifierList(terms);
        var sensitiveAttribute = terms.L > 1 ? DeidentificationTermsValidator.SensitiveAttributes
            .FirstOrDefault(a => string.Equals(a, terms.SensitiveAttribute, StringComparison.OrdinalIgnoreCase)) : null;
        var settings = new AnonymizationSettings(qis, terms.K ?? minimumCellSize, terms.MaxSuppression, periodStart, terms.SchoolDistricts,
            sensitiveAttribute is null ? 1 : terms.L, sensitiveAttribute);
        // Children with the same programs often share one list (ExportChildFold): join each list once.
        var joined = new Dictionary<IReadOnlyList<string>, string>(ReferenceEqualityComparer.Instance);
        string Joined(IReadOnlyList<string> values)
        {
            if (!joined.TryGetValue(values, out var text))
            {
                text = string.Join(';', values);
                joined[values] = text;
            }

            return text;
        }

        var sensitive = sensitiveAttribute is null ? null
            : children.Select(c => Joined(sensitiveAttribute == "programs" ? c.Programs : c.ServiceTypes)).ToList();
        var result = KAnonymizer.Anonymize(children.Select(c => c.Demographics).ToList(), settings, sensitive);
        var columns = new List<string> { "researchId" };
        columns.AddRange(qis.Select(QuasiIdentifiers.Column));
        columns.AddRange(["programs", "serviceTypes"]);
        var rows = new List<string[]>(children.Count);
        for (var i = 0; i < children.Count; i++)
        {
            if (result.Values[i] is not { } values)
            {
                continue;
            }

            var row = new string[columns.Count];
            row[0] = children[i].ResearchId;
            values.CopyTo(row, 1);
            row[^2] = Joined(children[i].Programs);
            row[^1] = Joined(children[i].ServiceTypes);
            rows.Add(row);
        }

        return (new ExportTable(columns, rows), result.Summary);
    }

    /// <summary>The agreement's quasi-identifiers in canonical order; unknown names are ignored (the validator should refuse them).</summary>
    public static IReadOnlyList<string> QuasiIdentifierList(DeidentificationTerms terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        var wanted = (terms.QuasiIdentifiers ?? QuasiIdentifierNames.Default).Select(QuasiIdentifierNames.Canonical).OfType<string>().ToHashSet(StringComparer.Ordinal);
        return QuasiIdentifierNames.Default.Where(wanted.Contains).ToList();
    }

    /// <summary>One row per service record of a released child that overlaps the period: what and which years, never exact dates.</summary>
    private async Task<ExportTable> ServiceTableAsync(
        IReadOnlyList<ExportChild> released, IReadOnlyDictionary<string, List<string>> providerChildren, DeidentifiedExportQuery query, CancellationToken cancellationToken)
    {
        var work = released.SelectMany(c => providerChildren.TryGetValue(c.ChildKey, out var keys) ? keys.Select(k => (c.ResearchId, Key: k)) : []).ToList();
        var rows = new ConcurrentBag<string[]>();
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken }, async (item, ct) =>
        {
            var (provider, localToken) = RecordKeys.SplitProviderChild(item.Key);
            foreach (var service in await records.ServicesAsync(provider, localToken, ct).ConfigureAwait(false))
            {
                if (RecordKeys.ParseIsoDate(service.Start) is not { } start)
                {
                    continue;
                }

                var end = RecordKeys.ParseIsoDate(service.End) ?? RecordKeys.ParseIsoDate(service.AsOf) ?? start;
                if (start > query.To || end < query.From)
                {
                    continue;
                }

                rows.Add([item.ResearchId, service.Program, service.ServiceType, start.Year.ToString(CultureInfo.InvariantCulture),
                    string.IsNullOrEmpty(service.End) ? "open" : end.Year.ToString(CultureInfo.InvariantCulture),
                    service.Hours?.ToString("0.##", CultureInfo.InvariantCulture) ?? "", service.DaysAttended?.ToString(CultureInfo.InvariantCulture) ?? ""]);
            }
        }).ConfigureAwait(false);

        var ordered = rows.OrderBy(r => r[0], StringComparer.Ordinal).ThenBy(r => string.Join('|', r.Skip(1)), StringComparer.Ordinal).ToList();
        return new ExportTable(["researchId", "program", "serviceType", "startYear", "endYear", "hours", "daysAttended"], ordered);
    }

    private async Task<ExportLink> WriteBlobAsync(DeidentifiedExportQuery query, ExportTable table, ExportMetadata metadata, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var extension = query.Format switch { ExportFormat.Csv => "csv", ExportFormat.Parquet => "parquet", _ => "json" };
        var name = string.Create(CultureInfo.InvariantCulture, $"deidentified/{query.AgreementId}/{now:yyyyMMddHHmmss}-{Guid.NewGuid():N}.{extension}");
        var blob = storage.Exports.GetBlobClient(name);
        var content = query.Format switch
        {
            ExportFormat.Csv => Encoding.UTF8.GetBytes(table.ToCsv()),
            ExportFormat.Parquet => await table.ToParquetAsync(metadata, cancellationToken).ConfigureAwait(false),
            _ => Encoding.UTF8.GetBytes(table.ToJson(metadata)),
        };
        using (var stream = new MemoryStream(content))
        {
            await blob.UploadAsync(stream, new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = ContentTypeOf(query.Format) } }, cancellationToken)
                .ConfigureAwait(false);
        }

        var expires = now.AddMinutes(options.Value.LinkMinutes);
        var uri = await links.IssueReadLinkAsync(blob, expires, cancellationToken).ConfigureAwait(false);
        return new ExportLink(uri, expires, extension, table.Rows.Count, metadata);
    }

    /// <summary>The media type of a format.</summary>
    public static string ContentTypeOf(ExportFormat format) => format switch
    {
        ExportFormat.Csv => "text/csv; charset=utf-8",
        ExportFormat.Parquet => "application/vnd.apache.parquet",
        _ => "application/json; charset=utf-8",
    };


    [LoggerMessage(EventId = 6001, Level = LogLevel.Information,
        Message = "De-identified export for {OrganizationId}: {Providers} providers, {Children} children, {Suppressed} suppressed, k achieved {KAchieved}, {Rows} rows in {ElapsedMs} ms")]
    private static partial void LogServed(ILogger logger, string organizationId, int providers, int children, int suppressed, int kAchieved, int rows, long elapsedMs);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "De-identified export for {OrganizationId} refused")]
    private static partial void LogForbidden(ILogger logger, string organizationId);

}

/// <summary>What <see cref="DeidentifiedExportService.Compose"/> gives: the child table, every child in the period in row order, the summary, each child key's provider children.</summary>
internal sealed record ComposedExport(ExportTable Table, IReadOnlyList<ExportChild> Children, AnonymizationSummary Summary, IReadOnlyDictionary<string, List<string>> ProviderChildren);

/// <summary>One child as the export sees it before anonymization: research id, the child key (never exported), resolved demographics, what it was served.</summary>
public sealed record ExportChild(string ResearchId, string ChildKey, ResolvedChild Demographics, IReadOnlyList<string> Programs, IReadOnlyList<string> ServiceTypes);

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Sharing.Aggregate;

/// <summary>A computed report: every row after suppression and differencing protection, the receipt, and what computing it read.</summary>
public sealed record ReportSnapshot(IReadOnlyList<ReportRow> Rows, SuppressionReceipt Receipt, ReportRunStats Stats);

/// <summary>
/// Reports computed once per query and data version: the rows a report publishes (already
/// suppressed and protected, no child key or identifier) are kept as a blob in the exports
/// container under <see cref="Prefix"/>, named by a SHA-256 of everything the rows depend on: the
/// period, grouping and any other query parameter except paging and format, the providers
/// included with the agreement versions relied on, the minimum cell size and protection, the key
/// version noise is keyed with, and the activity store's data version
/// (<see cref="ActivityStore"/>). Ingestion, merges and splits change the data version, so a
/// snapshot is never served after new data lands; a snapshot is kept only when the version did
/// not move while it was computed and no write was under way. Pages of a report are then served
/// from its snapshot. Best effort: a snapshot that cannot be read or written is computed again.
/// </summary>
public sealed class ReportSnapshots(ChildShareStorage storage)
{
    public const string Prefix = "report-snapshots/";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Parameters that select rows of a computed report, or its format, or authenticate: not part of what is computed.</summary>
    private static readonly HashSet<string> NotComputed = new(["$top", "$skip", "format", "api-key", "from", "to", "RangeStart", "RangeEnd", "groupBy"], StringComparer.OrdinalIgnoreCase);

    /// <summary>The snapshot name of a query at a data version.</summary>
    public static string Key(
        AggregateReportQuery query, IReadOnlyDictionary<string, string?> parameters, IEnumerable<IncludedProvider> included, int minimum,
        DifferencingProtection protection, string? noiseKeyVersion, long dataVersion)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(included);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"v1\n{RecordKeys.IsoDate(query.From)}\n{RecordKeys.IsoDate(query.To)}\n{string.Join(',', query.GroupBy)}\n");
        foreach (var (name, value) in parameters.Where(p => !NotComputed.Contains(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append(name).Append('=').Append(value).Append('\n');
        }

        foreach (var provider in included.OrderBy(i => i.ProviderId, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"{provider.ProviderId}:{provider.AgreementId}@{provider.AgreementVersion}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"{minimum}\n{protection}\n{noiseKeyVersion}\n{dataVersion}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public async Task<ReportSnapshot?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            var content = await storage.Exports.GetBlobClient(Prefix + key + ".json").DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return content.Value.Content.ToObjectFromJson<ReportSnapshot>(Json);
        }
        catch (RequestFailedException)
        {
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async Task PutAsync(string key, ReportSnapshot snapshot, CancellationToken cancellationToken = default)
    {
        try
        {
            await storage.Exports.GetBlobClient(Prefix + key + ".json").UploadAsync(BinaryData.FromObjectAsJson(snapshot, Json),
                new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException)
        {
            // Best effort: the next page computes it again.
        }
    }
}

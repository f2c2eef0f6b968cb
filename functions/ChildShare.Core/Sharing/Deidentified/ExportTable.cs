using System.Text.Json;
using ChildShare.Core.Activity;
using ChildShare.Core.Csv;
using Parquet;
using Parquet.Schema;

namespace ChildShare.Core.Sharing.Deidentified;

/// <summary>An export's rows as columns of strings (empty: no value), and their JSON and CSV forms.</summary>
public sealed record ExportTable(IReadOnlyList<string> Columns, IReadOnlyList<string[]> Rows)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>CSV in the <see cref="SafeCsv"/> dialect (RFC 4180, header row, formula guard); Power BI reads it as is.</summary>
    public string ToCsv() => SafeCsv.ToText(Columns, Rows);

    /// <summary>The rows as JSON objects (column name to value).</summary>
    public List<Dictionary<string, string>> ToObjects() =>
        Rows.Select(r => Columns.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => r[p.i], StringComparer.Ordinal)).ToList();

    public string ToJson(object metadata) => JsonSerializer.Serialize(new Dictionary<string, object> { ["value"] = ToObjects(), ["metadata"] = metadata }, Json);

    /// <summary>Parquet: one row group, every column a required UTF-8 string; <paramref name="metadata"/> as the file's key-value metadata (JSON).</summary>
    public async Task<byte[]> ToParquetAsync(object metadata, CancellationToken cancellationToken = default)
    {
        var fields = Columns.Select(c => new DataField<string>(c, false)).ToArray();
        var schema = new ParquetSchema(fields);
        using var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(schema, stream, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            writer.CustomMetadata = new Dictionary<string, string> { ["childshare.metadata"] = JsonSerializer.Serialize(metadata, Json) };
            using var group = writer.CreateRowGroup();
            for (var i = 0; i < fields.Length; i++)
            {
                var column = i;
                await group.WriteAsync(fields[i], Rows.Select(r => r[column]).ToArray()).ConfigureAwait(false);
            }
        }

        return stream.ToArray();
    }
}

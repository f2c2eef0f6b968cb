using System.Text;
using System.Text.Json;
using Parquet;
using Parquet.Schema;

namespace ChildShare.Core.Deidentification;

/// <summary>An export's rows as columns of strings (empty: no value), and their JSON and CSV forms.</summary>
public sealed record ExportTable(IReadOnlyList<string> Columns, IReadOnlyList<string[]> Rows)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>RFC 4180 CSV with a header row, UTF-8; Power BI reads it as is.</summary>
    public string ToCsv()
    {
        var text = new StringBuilder();
        text.AppendJoin(',', Columns.Select(Quote)).Append("\r\n");
        foreach (var row in Rows)
        {
            text.AppendJoin(',', row.Select(Quote)).Append("\r\n");
        }

        return text.ToString();
    }

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

    private static string Quote(string value)
    {
        // A leading =, +, - or @ would be a formula in a spreadsheet.
        var safe = value.Length > 0 && "=+-@".Contains(value[0], StringComparison.Ordinal) ? "'" + value : value;
        return safe.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + safe.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : safe;
    }
}

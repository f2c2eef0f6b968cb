using System.Security.Cryptography;
using System.Text;
using nietras.SeparatedValues;

namespace ChildShare.Core.Ingestion;

/// <summary>What one pass over an upload's bytes tells before it is parsed.</summary>
public sealed record UploadFingerprint(string Sha256, long Length, bool IsValidUtf8);

/// <summary>One data row of an upload: its first line number and its cells by canonical field.</summary>
public sealed class UploadRow(int lineNumber, string?[] cells)
{
    public int LineNumber { get; } = lineNumber;

    /// <summary>The trimmed cell of a field, or null where the field is unmapped, absent or blank.</summary>
    public string? this[CanonicalField field] => cells[(int)field];
}

/// <summary>A header that cannot be read with the profile: the file is kept and not processed.</summary>
public sealed class UploadHeaderException(IReadOnlyList<string> problems)
    : Exception("The file's header does not fit the mapping profile: " + string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// Reads provider files as a stream, never whole: CSV or TSV with a header row, UTF-8 (with or
/// without BOM) or Windows-1252, quoted fields with delimiters, quotes and line breaks, CRLF or LF.
/// Parsing is Sep's; this class maps the header through the profile.
/// </summary>
public static class UploadFileReader
{
    private static readonly int FieldCount = Enum.GetValues<CanonicalField>().Length;

    private static readonly CanonicalField[] RequiredColumns = [CanonicalField.LocalChildId, CanonicalField.BirthDate];

    static UploadFileReader() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>Hashes the bytes and checks whether they are valid UTF-8, in one streamed pass.</summary>
    public static async Task<UploadFingerprint> FingerprintAsync(Stream content, CancellationToken cancellationToken = default)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetDecoder();
        var buffer = new byte[81920];
        var chars = new char[buffer.Length + 4];
        var valid = true;
        long length = 0;
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            length += read;
            if (valid)
            {
                try
                {
                    decoder.GetChars(buffer, 0, read, chars, 0, flush: false);
                }
                catch (DecoderFallbackException)
                {
                    valid = false;
                }
            }
        }

        if (valid)
        {
            try
            {
                decoder.GetChars([], 0, 0, chars, 0, flush: true);
            }
            catch (DecoderFallbackException)
            {
                valid = false;
            }
        }

        return new UploadFingerprint(Convert.ToHexStringLower(sha.GetHashAndReset()), length, valid);
    }

    /// <summary>The text encoding to read a file with, from the profile and the fingerprint.</summary>
    public static Encoding EncodingFor(MappingProfile profile, UploadFingerprint fingerprint) => profile.Encoding.ToUpperInvariant() switch
    {
        "WINDOWS-1252" => Encoding.GetEncoding(1252),
        "UTF-8" => new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false),
        _ => fingerprint.IsValidUtf8 ? new UTF8Encoding(false, false) : Encoding.GetEncoding(1252),
    };

    /// <summary>
    /// Reads the rows of a file. Throws <see cref="UploadHeaderException"/> before the first row when
    /// the header lacks a required column or names a mapped column twice. Blank lines are skipped.
    /// </summary>
    public static IEnumerable<UploadRow> ReadRows(Stream content, Encoding encoding, char delimiter, MappingProfile profile)
    {
        using var text = new StreamReader(content, encoding, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        using var reader = Sep.New(delimiter).Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true }).From(text);
        int[]? columnOfField = null;
        foreach (var row in reader)
        {
            if (columnOfField is null)
            {
                columnOfField = MapHeader(row, profile);
                continue;
            }

            var cells = new string?[FieldCount];
            var any = false;
            for (var field = 0; field < FieldCount; field++)
            {
                var column = columnOfField[field];
                if (column < 0 || column >= row.ColCount)
                {
                    continue;
                }

                var value = row[column].Span.Trim();
                if (!value.IsEmpty)
                {
                    cells[field] = value.ToString();
                    any = true;
                }
            }

            if (!any && IsBlank(row))
            {
                continue;
            }

            yield return new UploadRow(row.LineNumberFrom, cells);
        }

        if (columnOfField is null)
        {
            throw new UploadHeaderException(["The file is empty: a header row is required."]);
        }
    }

    private static bool IsBlank(SepReader.Row row)
    {
        for (var i = 0; i < row.ColCount; i++)
        {
            if (!row[i].Span.Trim().IsEmpty)
            {
                return false;
            }
        }

        return true;
    }

    private static int[] MapHeader(SepReader.Row header, MappingProfile profile)
    {
        var problems = new List<string>();
        var columnOfField = Enumerable.Repeat(-1, FieldCount).ToArray();
        var columns = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var duplicates = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < header.ColCount; i++)
        {
            var name = header[i].Span.Trim().TrimStart('\uFEFF').ToString();
            if (!columns.TryAdd(name, i))
            {
                duplicates.Add(name);
            }
        }

        foreach (var (column, field) in profile.Columns)
        {
            var name = column.Trim();
            if (duplicates.Contains(name))
            {
                problems.Add($"Column \"{name}\" (mapped to {field}) appears more than once in the header.");
            }
            else if (columns.TryGetValue(name, out var index))
            {
                columnOfField[(int)field] = index;
            }
        }

        foreach (var field in RequiredColumns)
        {
            if (columnOfField[(int)field] < 0 && !problems.Any(p => p.Contains($"to {field})", StringComparison.Ordinal)))
            {
                problems.Add($"The required column for {field} (\"{ColumnOf(profile, field)}\") is missing.");
            }
        }

        var hasSplitName = columnOfField[(int)CanonicalField.FirstName] >= 0 && columnOfField[(int)CanonicalField.LastName] >= 0;
        if (!hasSplitName && columnOfField[(int)CanonicalField.FullName] < 0)
        {
            problems.Add("The name columns are missing: the file needs the profile's FirstName and LastName columns, or its FullName column.");
        }

        return problems.Count == 0 ? columnOfField : throw new UploadHeaderException(problems);
    }

    private static string ColumnOf(MappingProfile profile, CanonicalField field) =>
        profile.Columns.FirstOrDefault(c => c.Value == field).Key ?? field.ToString();
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// What one pass over an upload's bytes tells before it is parsed: its hash and length, whether it is
/// valid UTF-8, and the encoding its byte order mark names (null when it has none).
/// </summary>
public sealed record UploadFingerprint(string Sha256, long Length, bool IsValidUtf8, string? ByteOrderMark = null);

/// <summary>One data row of an upload: its first line number and its cells by canonical field.</summary>
public sealed class UploadRow(int lineNumber, string?[] cells, IReadOnlyList<RowRejection>? problems = null, bool isUnreadable = false)
{
    public int LineNumber { get; } = lineNumber;

    /// <summary>The trimmed cell of a field, or null where the field is unmapped, absent or blank.</summary>
    public string? this[CanonicalField field] => cells[(int)field];

    /// <summary>
    /// Why the row is rejected before it is normalized: a cell past its field's limit, or the line could
    /// not be read as a row (<see cref="IsUnreadable"/>). Empty for a row to normalize.
    /// </summary>
    public IReadOnlyList<RowRejection> Problems { get; } = problems ?? [];

    /// <summary>The line could not be read as a row (an unclosed quote, a line past its limit...); it has no cells.</summary>
    public bool IsUnreadable { get; } = isUnreadable;
}

/// <summary>A header that cannot be read with the profile: the file is kept and not processed.</summary>
public sealed class UploadHeaderException(IReadOnlyList<string> problems)
    : Exception("The file's header does not fit the mapping profile: " + string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// Reads provider files as a stream, never whole: CSV or TSV with a header row, UTF-8 (with or
/// without BOM), UTF-16 or UTF-32 with a BOM, or Windows-1252, quoted fields with delimiters, quotes
/// and line breaks, CRLF or LF. Cells are held to their field's length (<see cref="FieldLimits"/>),
/// and a broken quote costs its line, never the rows after it (<see cref="DelimitedRecordReader"/>).
/// This class maps the header through the profile.
/// </summary>
public static class UploadFileReader
{
    private static readonly int FieldCount = Enum.GetValues<CanonicalField>().Length;

    private static readonly CanonicalField[] RequiredColumns = [CanonicalField.LocalChildId, CanonicalField.BirthDate];

    static UploadFileReader() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>Hashes the bytes, checks whether they are valid UTF-8 and reads the byte order mark, in one streamed pass.</summary>
    public static async Task<UploadFingerprint> FingerprintAsync(Stream content, CancellationToken cancellationToken = default)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetDecoder();
        var buffer = new byte[81920];
        var chars = new char[buffer.Length + 4];
        var valid = true;
        long length = 0;
        var head = new byte[4];
        var headLength = 0;
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (headLength < head.Length)
            {
                var take = Math.Min(head.Length - headLength, read);
                buffer.AsSpan(0, take).CopyTo(head.AsSpan(headLength));
                headLength += take;
            }

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

        return new UploadFingerprint(Convert.ToHexStringLower(sha.GetHashAndReset()), length, valid, ByteOrderMarkOf(head.AsSpan(0, headLength)));
    }

    /// <summary>
    /// The text encoding to read a file with: the one its byte order mark names (the reader honours a
    /// BOM whatever the profile says, so the manifest must name it too), else the profile's, where
    /// <c>auto</c> is UTF-8 when the bytes are valid UTF-8 and Windows-1252 otherwise.
    /// </summary>
    public static Encoding EncodingFor(MappingProfile profile, UploadFingerprint fingerprint) => fingerprint.ByteOrderMark switch
    {
        "utf-8" => new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false),
        "utf-16" => new UnicodeEncoding(bigEndian: false, byteOrderMark: true),
        "utf-16BE" => new UnicodeEncoding(bigEndian: true, byteOrderMark: true),
        "utf-32" => new UTF32Encoding(bigEndian: false, byteOrderMark: true),
        "utf-32BE" => new UTF32Encoding(bigEndian: true, byteOrderMark: true),
        _ => profile.Encoding.ToUpperInvariant() switch
        {
            "WINDOWS-1252" => Encoding.GetEncoding(1252),
            "UTF-8" => new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false),
            _ => fingerprint.IsValidUtf8 ? new UTF8Encoding(false, false) : Encoding.GetEncoding(1252),
        },
    };

    /// <summary>The encoding a byte order mark at the start of a file names, as the reader would detect it.</summary>
    private static string? ByteOrderMarkOf(ReadOnlySpan<byte> start) => start switch
    {
        [0xEF, 0xBB, 0xBF, ..] => "utf-8",
        [0xFF, 0xFE, 0x00, 0x00, ..] => "utf-32",
        [0xFF, 0xFE, ..] => "utf-16",
        [0xFE, 0xFF, ..] => "utf-16BE",
        [0x00, 0x00, 0xFE, 0xFF, ..] => "utf-32BE",
        _ => null,
    };

    /// <summary>
    /// Reads the rows of a file. Throws <see cref="UploadHeaderException"/> before the first row when
    /// the header cannot be read, lacks a required column or names a mapped column twice. Blank lines
    /// are skipped. A line that cannot be read as a row, or a row with a cell past its field's limit,
    /// comes back with its <see cref="UploadRow.Problems"/>; the rows after it are read as usual.
    /// </summary>
    public static IEnumerable<UploadRow> ReadRows(Stream content, Encoding encoding, char delimiter, MappingProfile profile)
    {
        using var text = new StreamReader(content, encoding, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        var reader = new DelimitedRecordReader(text, delimiter);
        var header = reader.Read() ?? throw new UploadHeaderException(["The file is empty: a header row is required."]);
        if (header.IsBroken)
        {
            throw new UploadHeaderException([$"The header row cannot be read: {header.BrokenReason}."]);
        }

        var columnOfField = MapHeader(header.Cells, profile);
        var fieldOfColumn = new CanonicalField?[header.Columns];
        var limits = new int[header.Columns];
        for (var field = 0; field < FieldCount; field++)
        {
            if (columnOfField[field] >= 0)
            {
                fieldOfColumn[columnOfField[field]] = (CanonicalField)field;
                limits[columnOfField[field]] = FieldLimits.For((CanonicalField)field);
            }
        }

        reader.Expect(header.Columns, limits);
        while (reader.Read() is { } record)
        {
            if (record.IsBroken)
            {
                var where = record.BrokenColumn < 0 ? "row"
                    : record.BrokenColumn < fieldOfColumn.Length && fieldOfColumn[record.BrokenColumn] is { } brokenField ? brokenField.ToString()
                    : string.Create(CultureInfo.InvariantCulture, $"column {record.BrokenColumn + 1}");
                yield return new UploadRow(record.LineNumber, new string?[FieldCount],
                    [new RowRejection(record.LineNumber, where, record.BrokenReason!)], isUnreadable: true);
                continue;
            }

            var cells = new string?[FieldCount];
            for (var field = 0; field < FieldCount; field++)
            {
                var column = columnOfField[field];
                if (column >= 0 && column < record.Cells.Count)
                {
                    cells[field] = record.Cells[column];
                }
            }

            IReadOnlyList<RowRejection> problems = record.TooLong.Count == 0 ? [] : record.TooLong
                .Select(column => fieldOfColumn[column]!.Value)
                .Select(field => new RowRejection(record.LineNumber, field.ToString(),
                    string.Create(CultureInfo.InvariantCulture, $"is longer than {FieldLimits.For(field)} characters")))
                .ToList();
            yield return new UploadRow(record.LineNumber, cells, problems);
        }
    }

    private static int[] MapHeader(IReadOnlyList<string?> header, MappingProfile profile)
    {
        var problems = new List<string>();
        var columnOfField = Enumerable.Repeat(-1, FieldCount).ToArray();
        var columns = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var duplicates = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < header.Count; i++)
        {
            var name = (header[i] ?? "").TrimStart('\uFEFF').Trim();
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

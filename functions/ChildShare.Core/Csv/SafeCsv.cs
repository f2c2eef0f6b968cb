using System.Globalization;
using System.Text;
using nietras.SeparatedValues;

namespace ChildShare.Core.Csv;

/// <summary>
/// The one CSV dialect ChildShare writes (aggregate reports, de-identified exports, rejected rows),
/// and its formula guard. Writing is <see cref="SafeCsvWriter"/>'s, on Sep.
/// <list type="bullet">
/// <item>RFC 4180: comma separated, CRLF after every record (the last too), a header record first;
/// a field holding a comma, a double quote, CR or LF is enclosed in double quotes and its quotes are
/// doubled; nothing else is quoted.</item>
/// <item>UTF-8 without a byte order mark.</item>
/// <item>Formula guard (<see cref="Guard"/>): a field a spreadsheet could run as a formula gets a
/// leading apostrophe, which spreadsheets read as "this is text".</item>
/// </list>
/// </summary>
public static class SafeCsv
{
    public const char Separator = ',';

    public const string NewLine = "\r\n";

    /// <summary>UTF-8 without a byte order mark (Power BI and scripts read it as is; a BOM would become part of the first column name for many).</summary>
    public static readonly Encoding Encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// The characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a
    /// formula or a DDE call: = + - @, and their fullwidth and small forms, which input methods and
    /// some spreadsheets fold to the ASCII ones.
    /// </summary>
    private const string FormulaStarts = "=+-@\uFF1D\uFF0B\uFF0D\uFF20\uFE66\uFE62\uFE63\uFE6B";

    /// <summary>
    /// True when a spreadsheet could take <paramref name="value"/> as a formula: it starts with a tab,
    /// CR or LF (OWASP's list; spreadsheets strip them), or its first character after any leading
    /// white space, control or invisible format characters (space, no-break space, zero-width space,
    /// byte order mark, which spreadsheets and import options trim) is one of the formula starts.
    /// </summary>
    public static bool NeedsGuard(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return false;
        }

        if (value[0] is '\t' or '\r' or '\n')
        {
            return true;
        }

        foreach (var ch in value)
        {
            if (FormulaStarts.Contains(ch, StringComparison.Ordinal))
            {
                return true;
            }

            if (!char.IsWhiteSpace(ch) && !char.IsControl(ch) && CharUnicodeInfo.GetUnicodeCategory(ch) != UnicodeCategory.Format)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>
    /// The value as a CSV field may carry it: prefixed with an apostrophe when <see cref="NeedsGuard"/>,
    /// otherwise unchanged. Applied to every field, numbers included (a negative number reads
    /// <c>'-1</c>), so no caller can forget it; JSON and Parquet carry values unguarded.
    /// </summary>
    public static string Guard(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return NeedsGuard(value) ? "'" + value : value;
    }

    /// <summary>A whole table (header, then rows) as CSV text in the dialect.</summary>
    public static string ToText(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = NewLine };
        using (var writer = new SafeCsvWriter(text, header))
        {
            foreach (var row in rows)
            {
                writer.WriteRow(row);
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// Reads CSV in the dialect back into records (the header is the first), unquoting fields; for
    /// tests and clients. Guarded fields keep their apostrophe: the guard is one way.
    /// </summary>
    public static List<string[]> Read(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var records = new List<string[]>();
        if (text.Length == 0)
        {
            return records;
        }

        using var reader = Sep.New(Separator).Reader(o => o with { HasHeader = false, Unescape = true, CultureInfo = CultureInfo.InvariantCulture }).FromText(text);
        foreach (var row in reader)
        {
            records.Add(row[0..row.ColCount].ToStringsArray());
        }

        return records;
    }
}

/// <summary>
/// Writes one CSV table in the <see cref="SafeCsv"/> dialect to a text or a stream: a header, then
/// rows of exactly as many fields, every field through <see cref="SafeCsv.Guard"/>. The header is
/// written even when there are no rows. Not thread-safe.
/// </summary>
public sealed class SafeCsvWriter : IDisposable, IAsyncDisposable
{
    private readonly SepWriter _writer;
    private readonly int _columns;

    /// <summary>Writes to <paramref name="destination"/>; its <see cref="TextWriter.NewLine"/> must be CRLF (<see cref="SafeCsv.NewLine"/>). Disposing the writer disposes it.</summary>
    public SafeCsvWriter(TextWriter destination, IReadOnlyList<string> header)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(header);
        if (destination.NewLine != SafeCsv.NewLine)
        {
            throw new ArgumentException("The destination must end lines with CRLF.", nameof(destination));
        }

        if (header.Count == 0)
        {
            throw new ArgumentException("A CSV table has at least one column.", nameof(header));
        }

        _columns = header.Count;
        _writer = Sep.New(SafeCsv.Separator).Writer(o => o with { Escape = true, WriteHeader = true, CultureInfo = CultureInfo.InvariantCulture })
            .To(destination, leaveOpen: false);
        _writer.Header.Add(header.Select(SafeCsv.Guard).ToArray());
    }

    /// <summary>Writes to a stream in UTF-8 without a byte order mark; disposing the writer disposes the stream.</summary>
    public static SafeCsvWriter ToStream(Stream stream, IReadOnlyList<string> header) =>
        new(new StreamWriter(stream ?? throw new ArgumentNullException(nameof(stream)), SafeCsv.Encoding) { NewLine = SafeCsv.NewLine }, header);

    public void WriteRow(IReadOnlyList<string> fields)
    {
        Check(fields);
        using var row = _writer.NewRow();
        for (var i = 0; i < fields.Count; i++)
        {
            row[i].Set(SafeCsv.Guard(fields[i]));
        }
    }

    public async ValueTask WriteRowAsync(IReadOnlyList<string> fields, CancellationToken cancellationToken = default)
    {
        Check(fields);
        await using var row = _writer.NewRow(cancellationToken);
        for (var i = 0; i < fields.Count; i++)
        {
            row[i].Set(SafeCsv.Guard(fields[i]));
        }
    }

    public void Dispose() => _writer.Dispose();

    public ValueTask DisposeAsync() => _writer.DisposeAsync();

    private void Check(IReadOnlyList<string> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count != _columns)
        {
            throw new ArgumentException($"A row has {_columns} fields; this one has {fields.Count}.", nameof(fields));
        }
    }
}

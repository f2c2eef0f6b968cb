using System.Globalization;
using System.Text;

namespace ChildShare.Core.Ingestion;

/// <summary>One record of a delimited file as read: its kept cells, or why it could not be read.</summary>
internal sealed class DelimitedRecord(int lineNumber, List<string?>? cells = null)
{
    /// <summary>The physical line the record starts on (1 is the header).</summary>
    public int LineNumber { get; } = lineNumber;

    /// <summary>How many columns the record has.</summary>
    public int Columns { get; set; }

    /// <summary>
    /// Trimmed cells by column: null where the column is not kept, is blank, or is past its limit. The reader fills one list for
    /// every record, so the cells are read before the next record is.
    /// </summary>
    public List<string?> Cells { get; } = cells ?? [];

    private List<int>? _tooLong;

    /// <summary>Kept columns whose cell is longer than the column's limit (the record itself is sound); the list is made only for such a cell.</summary>
    public IReadOnlyList<int> TooLong => _tooLong ?? (IReadOnlyList<int>)[];

    internal void AddTooLong(int column) => (_tooLong ??= []).Add(column);

    /// <summary>Null for a readable record; otherwise why its first line is rejected (never a value).</summary>
    public string? BrokenReason { get; private set; }

    /// <summary>The column the reason is about (where a quote opened), or -1 when it is about the whole row.</summary>
    public int BrokenColumn { get; private set; } = -1;

    public bool IsBroken => BrokenReason is not null;

    internal bool IsBlank { get; set; } = true;

    internal bool HasStrayText { get; set; }

    internal int SpannedPastLimitColumn { get; set; } = -1;

    internal int LastLine { get; set; }

    internal List<DelimitedRecordReader.PhysicalLine>? Continuation { get; set; }

    internal DelimitedRecord Break(int column, string reason)
    {
        BrokenColumn = column;
        BrokenReason = reason;
        return this;
    }
}

/// <summary>
/// A streaming reader of delimited text (RFC 4180 quoting: a quote opens a value only at its start,
/// a doubled quote inside is one quote; CRLF, LF or CR line ends) that bounds what one record can
/// hold, so an unclosed quote cannot pull the rows after it into one value and no line is ever
/// buffered whole. A record is <em>broken</em>, and only its first line is rejected, when a quoted
/// value runs past its column's limit across a line break, runs on into a line that is a whole row of
/// the header's width by itself, is still open after
/// <see cref="FieldLimits.MaxLinesPerRow"/> lines or at the end of the file, when a row spanning
/// lines has text after a closing quote or not the header's width, or when a line is longer than
/// <see cref="FieldLimits.MaxRowCharacters"/> (skipped unread). The lines a broken record had taken
/// are read again, and until a line parses as a whole row of the header's width each line is
/// rejected in turn (resynchronization); every sound row after that is read as usual.
/// </summary>
internal sealed class DelimitedRecordReader(TextReader text, char delimiter)
{
    private readonly char[] _buffer = new char[1 << 14];
    private readonly StringBuilder _line = new();
    private readonly StringBuilder _quoted = new();
    private readonly Stack<PhysicalLine> _replay = new();
    private readonly List<string?> _cells = [];
    private int _position;
    private int _length;
    private int _lastLine;
    private int[]? _limits;
    private int _width;
    private int _resyncAfter;

    /// <summary>A physical line; <c>Text</c> is null when the line was longer than the limit and skipped unread.</summary>
    internal readonly record struct PhysicalLine(int Number, string? Text);

    /// <summary>
    /// From now on keep only the columns with a positive limit (a cell past it is reported in
    /// <see cref="DelimitedRecord.TooLong"/>) and hold rows that span lines to the header's width.
    /// Before this call every column is kept (the header).
    /// </summary>
    public void Expect(int width, int[] limits)
    {
        _width = width;
        _limits = limits;
    }

    /// <summary>The next record (blank lines are skipped), a broken one included; null at the end. Its cells are valid until the next call.</summary>
    public DelimitedRecord? Read()
    {
        while (NextRecord() is { } record)
        {
            if (record.IsBroken)
            {
                Replay(record.Continuation);
                _resyncAfter = record.LineNumber;
                return record;
            }

            if (record.IsBlank && record.Continuation is null)
            {
                continue;
            }

            if (_resyncAfter > 0)
            {
                if (record.Columns != _width || record.HasStrayText)
                {
                    Replay(record.Continuation);
                    return record.Break(-1, string.Create(CultureInfo.InvariantCulture,
                        $"is not a whole row of the header's {_width} columns; skipped while reading resumes after the broken row at line {_resyncAfter}"));
                }

                _resyncAfter = 0;
            }

            return record;
        }

        return null;
    }

    /// <summary>The next record as read from its first line on, or null at the end of the file.</summary>
    private DelimitedRecord? NextRecord()
    {
        if (ReadInBuffer() is { } record)
        {
            return record;
        }

        if (NextLine() is not { } first)
        {
            return null;
        }

        if (first.Text is not { } text)
        {
            return new DelimitedRecord(first.Number) { LastLine = first.Number }.Break(-1, string.Create(CultureInfo.InvariantCulture,
                $"the line is longer than {FieldLimits.MaxRowCharacters} characters; it was skipped unread"));
        }

        return Parse(first.Number, text, mayContinue: true)!;
    }

    /// <summary>
    /// The common case, read without making a string of the line: a data row whose line is whole in the buffer and whose quotes
    /// close on it, parsed where it lies. Null (nothing consumed) for any other line, which <see cref="NextLine"/> and
    /// <see cref="Parse"/> read as before: the header, lines given back after a broken row, a line cut by the buffer's end or
    /// the file's, and a quoted value that runs on past its line.
    /// </summary>
    private DelimitedRecord? ReadInBuffer()
    {
        if (_limits is null || _replay.Count > 0 || _position >= _length)
        {
            return null;
        }

        var span = _buffer.AsSpan(_position, _length - _position);
        var end = span.IndexOfAny('\r', '\n');
        if (end < 0 || end > FieldLimits.MaxRowCharacters || Parse(_lastLine + 1, span[..end], mayContinue: false) is not { } record)
        {
            return null;
        }

        // Consumed only once parsed: looking past a CR for its LF may refill the buffer the line lies in.
        _lastLine++;
        _position += end + 1;
        if (span[end] == '\r' && (_position < _length || Fill()) && _buffer[_position] == '\n')
        {
            _position++;
        }

        return record;
    }

    /// <summary>
    /// Parses a record from its first line on. With <paramref name="mayContinue"/> false (the line still lies in the buffer), a
    /// quoted value that runs on past the line gives null before anything is read on; otherwise the record reads the lines it
    /// spans.
    /// </summary>
    private DelimitedRecord? Parse(int lineNumber, ReadOnlySpan<char> text, bool mayContinue)
    {
        // One list of cells for every record (read before the next), not a list a row.
        _cells.Clear();
        var record = new DelimitedRecord(lineNumber, _cells) { LastLine = lineNumber };
        var total = text.Length;
        var position = 0;
        var column = 0;
        var inQuotes = false;
        var spanned = false;
        _quoted.Clear();
        while (true)
        {
            if (inQuotes)
            {
                var quote = text[position..].IndexOf('"') is var offset and >= 0 ? position + offset : -1;
                if (quote < 0)
                {
                    if (!mayContinue)
                    {
                        return null;
                    }

                    // The line ends inside a quoted value: it goes on with the next line, within limits.
                    _quoted.Append(text[position..]);
                    var lines = 1 + (record.Continuation?.Count ?? 0);
                    if (_quoted.Length > LimitOf(column))
                    {
                        return record.Break(column, string.Create(CultureInfo.InvariantCulture,
                            $"a quoted value runs on past the end of its line and past the column's limit of {LimitOf(column)} characters (an unclosed quote?)"));
                    }

                    if (lines >= FieldLimits.MaxLinesPerRow)
                    {
                        return record.Break(column, string.Create(CultureInfo.InvariantCulture,
                            $"a quoted value is still open after {FieldLimits.MaxLinesPerRow} lines (an unclosed quote?)"));
                    }

                    if (NextLine() is not { } next)
                    {
                        return record.Break(column, "a quoted value is not closed before the end of the file");
                    }

                    (record.Continuation ??= []).Add(next);
                    record.LastLine = next.Number;
                    if (next.Text is null)
                    {
                        return record.Break(column, string.Create(CultureInfo.InvariantCulture,
                            $"a quoted value runs on into a line longer than {FieldLimits.MaxRowCharacters} characters"));
                    }

                    // A line that is a whole row on its own is a row the open quote is swallowing, even if a stray
                    // quote later closes it in the right place (a value ending in '"' followed by a delimiter).
                    if (_limits is not null && IsWholeRow(next.Text))
                    {
                        return record.Break(column, string.Create(CultureInfo.InvariantCulture,
                            $"a quoted value runs on into line {next.Number}, which is a whole row of the header's {_width} columns (an unclosed quote?)"));
                    }

                    total += next.Text.Length + 1;
                    if (total > FieldLimits.MaxRowCharacters)
                    {
                        return record.Break(-1, string.Create(CultureInfo.InvariantCulture,
                            $"the row is longer than {FieldLimits.MaxRowCharacters} characters across its lines (an unclosed quote?)"));
                    }

                    _quoted.Append('\n');
                    text = next.Text;
                    position = 0;
                    spanned = true;
                    continue;
                }

                _quoted.Append(text[position..quote]);
                if (quote + 1 < text.Length && text[quote + 1] == '"')
                {
                    _quoted.Append('"');
                    position = quote + 2;
                    continue;
                }

                inQuotes = false;
                var end = EndOfValue(text, quote + 1);
                var tail = text[(quote + 1)..end];
                if (!tail.IsWhiteSpace())
                {
                    record.HasStrayText = true;
                }

                _quoted.Append(tail);
                EndValue(record, column, _quoted.ToString(), spanned);
                _quoted.Clear();
                spanned = false;
                column++;
                if (end == text.Length)
                {
                    break;
                }

                position = end + 1;
                continue;
            }

            if (position < text.Length && text[position] == '"')
            {
                inQuotes = true;
                position++;
                continue;
            }

            var stop = EndOfValue(text, position);
            EndValue(record, column, text[position..stop], spanned: false);
            column++;
            if (stop == text.Length)
            {
                break;
            }

            position = stop + 1;
        }

        record.Columns = column;
        if (record.Continuation is null)
        {
            return record;
        }

        // A row that spans lines is trusted only when it ends as a sound row: otherwise a quote that never
        // closed where it should have may have taken the rows after it.
        if (record.SpannedPastLimitColumn >= 0)
        {
            return record.Break(record.SpannedPastLimitColumn, string.Create(CultureInfo.InvariantCulture,
                $"a quoted value with a line break is longer than the column's limit of {LimitOf(record.SpannedPastLimitColumn)} characters (an unclosed quote?)"));
        }

        if (record.HasStrayText)
        {
            return record.Break(-1, string.Create(CultureInfo.InvariantCulture,
                $"the row spans lines {record.LineNumber} to {record.LastLine} and text follows a closing quote (an unclosed quote?)"));
        }

        if (_limits is not null && column != _width)
        {
            return record.Break(-1, string.Create(CultureInfo.InvariantCulture,
                $"the row spans lines {record.LineNumber} to {record.LastLine} and has {column} columns, not the header's {_width} (an unclosed quote?)"));
        }

        return record;
    }

    /// <summary>Whether a line read alone is a whole row of the header's width: every quote closed, no text after one.</summary>
    private bool IsWholeRow(string line)
    {
        var columns = 1;
        var position = 0;
        while (true)
        {
            if (position < line.Length && line[position] == '"')
            {
                var from = position + 1;
                while (true)
                {
                    var quote = line.IndexOf('"', from);
                    if (quote < 0)
                    {
                        return false;
                    }

                    if (quote + 1 < line.Length && line[quote + 1] == '"')
                    {
                        from = quote + 2;
                        continue;
                    }

                    position = quote + 1;
                    break;
                }

                var end = EndOfValue(line, position);
                if (!line.AsSpan(position, end - position).IsWhiteSpace())
                {
                    return false;
                }

                position = end;
            }
            else
            {
                position = EndOfValue(line, position);
            }

            if (position == line.Length)
            {
                return columns == _width;
            }

            position++;
            columns++;
        }
    }

    private int EndOfValue(ReadOnlySpan<char> text, int from)
    {
        var index = text[from..].IndexOf(delimiter);
        return index < 0 ? text.Length : from + index;
    }

    private void EndValue(DelimitedRecord record, int column, ReadOnlySpan<char> raw, bool spanned)
    {
        var value = raw.Trim();
        if (!value.IsEmpty)
        {
            record.IsBlank = false;
        }

        var limit = _limits is null ? FieldLimits.MaxRowCharacters : column < _limits.Length ? _limits[column] : 0;
        if (limit <= 0)
        {
            record.Cells.Add(null);
            return;
        }

        if (value.Length > limit)
        {
            record.Cells.Add(null);
            record.AddTooLong(column);
            if (spanned && record.SpannedPastLimitColumn < 0)
            {
                record.SpannedPastLimitColumn = column;
            }

            return;
        }

        record.Cells.Add(value.IsEmpty ? null : value.ToString());
    }

    /// <summary>How long a quoted value of a column may run across lines: its limit, or the row's for columns not kept.</summary>
    private int LimitOf(int column) =>
        _limits is not null && column < _limits.Length && _limits[column] > 0 ? _limits[column] : FieldLimits.MaxRowCharacters;

    private void Replay(List<PhysicalLine>? lines)
    {
        if (lines is null)
        {
            return;
        }

        for (var i = lines.Count - 1; i >= 0; i--)
        {
            _replay.Push(lines[i]);
        }
    }

    /// <summary>The next physical line, from the lines given back first; a line past the limit is skipped, not buffered.</summary>
    private PhysicalLine? NextLine()
    {
        if (_replay.TryPop(out var replayed))
        {
            return replayed;
        }

        _line.Clear();
        var tooLong = false;
        var any = false;
        while (true)
        {
            if (_position >= _length && !Fill())
            {
                return any ? Complete(tooLong) : null;
            }

            any = true;
            var span = _buffer.AsSpan(_position, _length - _position);
            var end = span.IndexOfAny('\r', '\n');
            if (end < 0)
            {
                tooLong = Append(span, tooLong);
                _position = _length;
                continue;
            }

            // The common case, a whole line within the buffer, becomes its string without a copy through the builder.
            var whole = _line.Length == 0 && !tooLong && end <= FieldLimits.MaxRowCharacters ? new string(span[..end]) : null;
            if (whole is null)
            {
                tooLong = Append(span[..end], tooLong);
            }

            _position += end + 1;
            if (span[end] == '\r' && (_position < _length || Fill()) && _buffer[_position] == '\n')
            {
                _position++;
            }

            return whole is null ? Complete(tooLong) : Complete(whole);
        }
    }

    private bool Append(ReadOnlySpan<char> part, bool tooLong)
    {
        if (tooLong)
        {
            return true;
        }

        if (_line.Length + part.Length > FieldLimits.MaxRowCharacters)
        {
            _line.Clear();
            return true;
        }

        _line.Append(part);
        return false;
    }

    private PhysicalLine Complete(bool tooLong)
    {
        _lastLine++;
        if (tooLong)
        {
            return new PhysicalLine(_lastLine, null);
        }

        return Complete(_line.ToString(), counted: true);
    }

    private PhysicalLine Complete(string line, bool counted = false)
    {
        if (!counted)
        {
            _lastLine++;
        }

        return new PhysicalLine(_lastLine, _lastLine == 1 ? line.TrimStart('\uFEFF') : line);
    }

    private bool Fill()
    {
        _position = 0;
        _length = text.Read(_buffer, 0, _buffer.Length);
        return _length > 0;
    }
}

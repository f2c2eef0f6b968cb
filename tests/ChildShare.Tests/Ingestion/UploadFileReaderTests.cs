using System.Globalization;
using System.Text;
using ChildShare.Core.Ingestion;

namespace ChildShare.Tests.Ingestion;

/// <summary>The parser's recovery rule: a broken quote or an overlong line costs its own line, never the rows after it.</summary>
public sealed class UploadFileReaderTests
{
    private const string Header = "Id,First,Last,DOB,School,Notes";

    private static readonly MappingProfile Profile = MappingProfile.Parse("""
        {
          "columns": { "Id": "LocalChildId", "First": "FirstName", "Last": "LastName", "DOB": "BirthDate", "School": "School" }
        }
        """);

    private static List<UploadRow> Read(string text) => Read(new MemoryStream(Encoding.UTF8.GetBytes(text)));

    private static List<UploadRow> Read(Stream stream) => UploadFileReader.ReadRows(stream, new UTF8Encoding(false), ',', Profile).ToList();

    private static string Row(int i) => string.Create(CultureInfo.InvariantCulture, $"C{i},First{i},Last{i},2015-01-02,Lincoln Elementary,");

    [Fact]
    public void ReadRows_UnclosedQuoteInAFreeTextCell_RejectsItsLineAndReadsEveryRowAfterIt()
    {
        var text = new StringBuilder(Header).Append('\n').Append("C0,First0,Last0,2015-01-02,\"Lincoln Elem,\n");
        for (var i = 1; i < 60; i++)
        {
            text.Append(Row(i)).Append('\n');
        }

        var rows = Read(text.ToString());

        Assert.Equal(60, rows.Count);
        var broken = rows[0];
        Assert.True(broken.IsUnreadable);
        var rejection = Assert.Single(broken.Problems);
        Assert.Equal((2, "School"), (rejection.LineNumber, rejection.Field));
        Assert.Contains("runs on into line 3, which is a whole row of the header's 6 columns", rejection.Reason, StringComparison.Ordinal);
        Assert.All(rows.Skip(1), row => Assert.Empty(row.Problems));
        Assert.Equal(Enumerable.Range(3, 59), rows.Skip(1).Select(r => r.LineNumber));
        Assert.Equal(Enumerable.Range(1, 59).Select(i => "C" + i), rows.Skip(1).Select(r => r[CanonicalField.LocalChildId]));
        Assert.All(rows.Skip(1), row => Assert.Equal("Lincoln Elementary", row[CanonicalField.School]));
    }

    [Fact]
    public void ReadRows_UnclosedQuoteThatAStrayQuoteClosesInTheRightPlace_IsBrokenAndTheRowsItTookAreReadAgain()
    {
        // The quote opened on line 2 is "closed" by the quote ending line 3's school, followed by a delimiter, so the
        // row would even have the header's width: line 3 is a whole row on its own, so line 2 is broken.
        var rows = Read($"""
            {Header}
            C1,Ana,Lopez,2015-01-02,"Lincoln,
            C2,Ben,Okafor,2014-03-04,Adams "East",
            C3,Cy,Tupou,2013-05-06,"Jefferson, East",
            """);

        var rejection = Assert.Single(rows[0].Problems);
        Assert.Equal((2, "School"), (rejection.LineNumber, rejection.Field));
        Assert.Equal(["C2", "C3"], rows.Skip(1).Select(r => r[CanonicalField.LocalChildId]));
        Assert.Equal(["Adams \"East\"", "Jefferson, East"], rows.Skip(1).Select(r => r[CanonicalField.School]));
        Assert.All(rows.Skip(1), row => Assert.Empty(row.Problems));
    }

    [Fact]
    public void ReadRows_UnclosedQuoteInTheLastColumnThatALaterQuoteCloses_IsBrokenByTheTextAfterIt()
    {
        // Notes is the last column: the lines it takes are not whole rows alone, but text follows the quote that closes it.
        var rows = Read($"""
            {Header}
            C1,Ana,Lopez,2015-01-02,Adams,"call mom
            then dad
            see "file" first
            C2,Ben,Okafor,2014-03-04,Adams,
            """);

        Assert.Contains("text follows a closing quote", Assert.Single(rows[0].Problems).Reason, StringComparison.Ordinal);
        Assert.Equal([2, 3, 4], rows.Where(r => r.IsUnreadable).Select(r => r.LineNumber));
        Assert.Equal("C2", Assert.Single(rows, r => !r.IsUnreadable)[CanonicalField.LocalChildId]);
    }

    [Fact]
    public void ReadRows_QuotedValuePastItsFieldLimitAcrossLines_IsBroken()
    {
        var prose = new string('x', 90);
        var rows = Read($"{Header}\nC1,Ana,Lopez,2015-01-02,\"{prose}\n{prose}\n{prose}\n{prose}\",\nC2,Ben,Okafor,2014-03-04,Adams,\n");

        var rejection = Assert.Single(rows[0].Problems);
        Assert.Equal((2, "School"), (rejection.LineNumber, rejection.Field));
        Assert.Contains("past the column's limit of 200 characters", rejection.Reason, StringComparison.Ordinal);
        Assert.Equal("C2", Assert.Single(rows, r => !r.IsUnreadable)[CanonicalField.LocalChildId]);
    }

    [Fact]
    public void ReadRows_QuotedLineBreaksWithinLimits_AreOneRow()
    {
        var rows = Read($"{Header}\r\nC1,\"Ana \"\"Annie\"\"\",Lopez,2015-01-02,\"Lincoln\r\nEast\",\"three\nline\nnote\"\r\nC2,Ben,Okafor,2014-03-04,Adams,\r\n");

        Assert.Equal(2, rows.Count);
        Assert.Equal("Ana \"Annie\"", rows[0][CanonicalField.FirstName]);
        Assert.Equal("Lincoln\nEast", rows[0][CanonicalField.School]);
        Assert.Equal(6, rows[1].LineNumber);    // the row before spans lines 2 to 5
        Assert.All(rows, row => Assert.Empty(row.Problems));
    }

    [Fact]
    public void ReadRows_ManyRowsAcrossBufferBoundaries_ReadEveryCellAndLineNumberAsWritten()
    {
        // Far more than the reader's buffer: rows cut by its end, CRLF split between two fills, CR-only and LF line ends, quoted
        // values on one line and across lines, blank lines. Every row must come back as written, on its own line number.
        var text = new StringBuilder(Header).Append("\r\n");
        var line = 2;
        var expected = new List<(int Line, string Id, string First, string School)>();
        for (var i = 0; i < 3000; i++)
        {
            var end = (i % 3) switch { 0 => "\r\n", 1 => "\n", _ => "\r" };
            var first = i % 7 == 0 ? $"\"Ann, \"\"{i}\"\"\"" : $"First{i}";
            var school = i % 11 == 0 ? $"\"North{end}Campus {i}\"" : $"School {i}";
            text.Append(CultureInfo.InvariantCulture, $"C{i},{first},Last{i},2015-01-02,{school},note {new string('x', i % 97)}{end}");
            expected.Add((line, $"C{i}", i % 7 == 0 ? $"Ann, \"{i}\"" : $"First{i}", i % 11 == 0 ? $"North\nCampus {i}" : $"School {i}"));
            line += i % 11 == 0 ? 2 : 1;
            if (i % 13 == 0)
            {
                text.Append(end);
                line++;
            }
        }

        var rows = Read(text.ToString());

        Assert.Equal(expected, rows.Select(r => (r.LineNumber, r[CanonicalField.LocalChildId]!, r[CanonicalField.FirstName]!, r[CanonicalField.School]!)));
        Assert.All(rows, row => Assert.Empty(row.Problems));
    }

    [Fact]
    public void ReadRows_QuoteStillOpenAfterTheLineBudget_IsBrokenAndTheLinesAfterAreRejectedUntilARowParses()
    {
        // An unmapped Notes column has no field limit: the line budget stops the quote instead.
        var notes = string.Join('\n', Enumerable.Range(1, 25).Select(i => "note line " + i));
        var rows = Read($"{Header}\nC1,Ana,Lopez,2015-01-02,Adams,\"{notes}\"\nC2,Ben,Okafor,2014-03-04,Adams,\n");

        var rejected = rows.Where(r => r.IsUnreadable).ToList();
        Assert.Equal(Enumerable.Range(2, 25), rejected.Select(r => r.LineNumber));
        Assert.Contains($"still open after {FieldLimits.MaxLinesPerRow} lines", rejected[0].Problems.Single().Reason, StringComparison.Ordinal);
        Assert.Equal("column 6", rejected[0].Problems.Single().Field);
        Assert.All(rejected.Skip(1), r => Assert.Contains("resumes after the broken row at line 2", r.Problems.Single().Reason, StringComparison.Ordinal));
        Assert.Equal("C2", Assert.Single(rows, r => !r.IsUnreadable)[CanonicalField.LocalChildId]);
    }

    [Fact]
    public void ReadRows_QuoteOpenAtTheEndOfTheFile_RejectsThatRow()
    {
        var rows = Read($"{Header}\nC1,Ana,Lopez,2015-01-02,Adams,\nC2,Ben,Okafor,2014-03-04,\"Adams");

        Assert.Empty(rows[0].Problems);
        Assert.Contains("not closed before the end of the file", Assert.Single(rows[1].Problems).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadRows_RowThatSpansLinesWithTheWrongWidth_IsBroken()
    {
        var rows = Read($"{Header}\nC1,Ana,Lopez,2015-01-02,\"Adams\nEast\"\nC2,Ben,Okafor,2014-03-04,Adams,\n");

        Assert.Contains("has 5 columns, not the header's 6", Assert.Single(rows[0].Problems).Reason, StringComparison.Ordinal);
        Assert.Equal(3, rows[1].LineNumber);
        Assert.Equal("C2", rows[2][CanonicalField.LocalChildId]);
        Assert.True(rows[1].IsUnreadable);    // "East"" on its own is not a row of six columns
    }

    [Fact]
    public void ReadRows_LineOfFiftyMegabytes_IsRejectedWithoutBeingBufferedAndTheNextRowsAreRead()
    {
        var before = Encoding.UTF8.GetBytes($"{Header}\n{Row(1)}\nC2,Ana,Lopez,2015-01-02,\"");
        var after = Encoding.UTF8.GetBytes($"\n{Row(3)}\n");
        using var stream = new GeneratedStream(before, (byte)'x', 50L << 20, after);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var rows = Read(stream);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.Equal([2, 3, 4], rows.Select(r => r.LineNumber));
        Assert.Contains("longer than 65536 characters", Assert.Single(rows[1].Problems).Reason, StringComparison.Ordinal);
        Assert.Equal("C3", rows[2][CanonicalField.LocalChildId]);
        Assert.True(allocated < 20L << 20, $"reading a 50 MB line allocated {allocated} bytes: it must be skipped, not buffered");
    }

    [Fact]
    public void ReadRows_CellPastItsFieldLimitOnOneLine_RejectsTheRowNamingTheFieldOnly()
    {
        var rows = Read($"{Header}\nC1,Ana,{new string('L', 101)},2015-01-02,Adams,\nC2,Ben,Okafor,2014-03-04,Adams,\n");

        var rejection = Assert.Single(rows[0].Problems);
        Assert.False(rows[0].IsUnreadable);
        Assert.Equal((2, "LastName", "is longer than 100 characters"), (rejection.LineNumber, rejection.Field, rejection.Reason));
        Assert.Empty(rows[1].Problems);
    }

    [Fact]
    public void ReadRows_HeaderWithAnUnclosedQuote_IsNotReadable()
    {
        var error = Assert.Throws<UploadHeaderException>(() => Read("Id,First,\"Last,DOB\nC1,Ana,Lopez,2015-01-02\n"));

        Assert.StartsWith("The header row cannot be read", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void ReadRows_RejectionReasons_NeverQuoteAValue()
    {
        var rows = Read($"{Header}\nSECRET-ID,Zacharias,Quintanilla,2015-01-02,\"Evergreen,\nSECRET-2,Yolanda,{new string('Q', 120)},2015-01-02,Adams,\n");

        var reasons = rows.SelectMany(r => r.Problems).Select(p => p.Field + " " + p.Reason).ToList();
        Assert.NotEmpty(reasons);
        foreach (var secret in new[] { "SECRET", "Zacharias", "Quintanilla", "Evergreen", "Yolanda", "QQQ" })
        {
            Assert.DoesNotContain(reasons, r => r.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>A stream of a head, a long run of one byte, and a tail, produced as it is read (never held whole).</summary>
    private sealed class GeneratedStream(byte[] head, byte filler, long fillerLength, byte[] tail) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => head.Length + fillerLength + tail.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var written = 0;
            while (written < count && _position < Length)
            {
                buffer[offset + written++] = _position < head.Length ? head[_position]
                    : _position < head.Length + fillerLength ? filler
                    : tail[_position - head.Length - fillerLength];
                _position++;
            }

            return written;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

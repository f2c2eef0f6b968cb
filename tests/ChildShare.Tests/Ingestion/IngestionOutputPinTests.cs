using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;

namespace ChildShare.Tests.Ingestion;

/// <summary>
/// Pins, bit for bit, what ingestion's per-row CPU path produces for tricky rows: the reader's cells,
/// the normalizer's record or rejections, the keyed tokens (local token, exact child key, cluster seed)
/// and the linkage encodings under every hardening. Stored tokens, keys and encodings must never change
/// with an optimization (issue 13, goal 4): a changed digest means a changed token. The golden digests
/// were taken on main (74e5ecc) before any of the CPU work.
/// </summary>
public sealed class IngestionOutputPinTests
{
    private static readonly Pseudonymizer Pseudonymizer = new(new PseudonymKey("pin", Enumerable.Range(0, 32).Select(i => (byte)(i * 7 + 3)).ToArray()));

    private static readonly DateOnly Today = new(2026, 10, 15);

    private static readonly MappingProfile SplitNames = MappingProfile.Parse("""
        {
          "dateFormats": ["MM/dd/yyyy", "yyyy-MM-dd", "M/d/yyyy"],
          "columns": { "id": "LocalChildId", "ssid": "StateStudentId", "first": "FirstName", "middle": "MiddleName", "last": "LastName",
                       "suffix": "Suffix", "dob": "BirthDate", "sex": "Sex", "race": "Race", "eth": "Ethnicity", "zip": "Zip",
                       "grade": "Grade", "school": "School", "program": "Program", "type": "ServiceType", "start": "ServiceStart",
                       "end": "ServiceEnd", "hours": "Hours", "days": "DaysAttended", "address": "StreetAddress" },
          "codeMaps": { "Race": { "7": "NativeHawaiianOrOtherPacificIslander", "W": "White", "B": "BlackOrAfricanAmerican" },
                        "Sex": { "1": "Female", "2": "Male" }, "Program": { "HS": "Head Start" }, "Grade": { "KG": "K" } }
        }
        """);

    private static readonly MappingProfile FullNames = MappingProfile.Parse("""
        {
          "dateFormats": ["yyyy-MM-dd"],
          "columns": { "id": "LocalChildId", "name": "FullName", "dob": "BirthDate", "program": "Program", "start": "ServiceStart",
                       "address": "StreetAddress", "sex": "Sex" }
        }
        """);

    private const string SplitHeader = "id,ssid,first,middle,last,suffix,dob,sex,race,eth,zip,grade,school,program,type,start,end,hours,days,address";

    /// <summary>Hand-picked rows: ASCII, diacritics, compatibility forms, placeholders, titles, suffixes, quoting, control characters, bad values.</summary>
    private static readonly string[] SplitRows =
    [
        "A-1,ab-12 34,John,,Smith,,03/02/2015,M,W,N,12345,3,Lincoln,HS,Class,09/01/2025,06/15/2026,1.5,20,123 N. Main St. Apt #4B",
        " a-1 ,,José,Luis,García-López,,2015-03-02,F,7;W,H,12345-6789,K,,Head Start,Home Visit,2025-09-01,,,,\"123 north main street, 4b\"",
        "A-2,,Zoë,,Ærøskøbing,,3/2/2015,2,B,,1234,KG,,Pre-K,,09/01/2025,,x,20,Unknown",
        "A-3,,Łukasz,,Nguyễn,,03/02/2015,1,W;B;W,,,PK,,,Meals,09/01/2025,08/01/2025,,,PO Box 5",
        "A-4,,Ｊｏｈｎ,,ǅoković,,03/02/2015,X,W,,,13,,HS,,09/01/2025,,,,12345",
        "A-5,,O'Brien,,Mc Donald,,03/02/2015,,,,,,,HS,,09/01/2025,,,,St James Pl",
        "A-6,,Unknown,,Baby Boy,,03/02/2015,,,,,,,HS,,09/01/2025,,,,Gibso n Circuit",
        "A-7,,Mr,,Smith Jr,,03/02/2015,,,,,,,HS,,09/01/2025,,,,１２３ Ｍａｉｎ Ｓｔ",
        "A-8,,Mary Kate,Anne Marie,van der Berg,III,02/31/2015,,,,,,,HS,,09/01/2025,,,,\"45 Elm\tAve\nUnit 2\"",
        "A-9,,\"Ann\u0001\",,Lee,,03/02/2015,,,,,,,HS,,09/01/2025,,,,",
        "A-10,,Ann,,Lee,,03/02/2030,,,,,,,HS,,09/01/2025,,,,",
        "A-11,,Ann,,Lee,,03/02/1990,,,,,,,HS,,09/01/2025,,,,",
        "A-12,,Ann,,Lee,,03/02/2015 00:00:00,,,,,,,,,,,,,",
        "A-13,,,,,,03/02/2015,,,,,,,HS,,09/01/2025,,,,",
        "A-14,,Ann,,,,,,,,,,,HS,,,,,,",
        ",,Ann,,Lee,,03/02/2015,,,,,,,HS,,09/01/2025,,,,",
        "A-15,,Iñigo 😀,,Straße,Sr,03/02/2015,F,Q,,,,,HS,,2025-13-01,,-1,400000,\"123 N Main St N.W.\"",
        "A-16,,ıİ,,Đặng,,03/02/2015,,,,,,,,,,,,,",
        "A-17,,\"  Ann  \",,\"  Lee\t \",,03/02/2015,,,,,,,HS,,09/01/2025,,,,",
        "A-18,,Ann,,Lee,,03/03/2015,,,,,,,HS,Class,09/01/2025,,,,Apt E 12 W 3rd St",
        "A-19,,Bob,,Bob,,12/12/2014,M,,,,,,,Class,09/01/2025,,,,The Same",
    ];

    private const string FullHeader = "name,id,dob,program,start,address,sex";

    private static readonly string[] FullRows =
    [
        "\"García, José Luis\",F-1,2015-03-02,HS,2025-09-01,,F",
        "Dr. John Q Public Jr,F-2,2015-03-02,HS,2025-09-01,,M",
        "\"Smith, Mr John III\",F-3,2015-03-02,HS,2025-09-01,,",
        "Prince,F-4,2015-03-02,HS,2025-09-01,,",
        "\"O'Neil, Mary-Kate\",F-5,2015-03-02,HS,2025-09-01,,",
        "\"Lee,\",F-6,2015-03-02,HS,2025-09-01,,",
        "\"  ,  Ann\",F-7,2015-03-02,HS,2025-09-01,,",
    ];

    /// <summary>SHA-256 (first 8 bytes, hex) of each row's dump, in file order: split-name rows, full-name rows, then the generated rows in one digest.</summary>
    private static readonly string[] Golden =
    [
        "d2243eae7aa9c174", "566e8219b8c55365", "6df65516a8bbc23e", "0337718409701967", "407968f57f2ae126", "1fccd03cd1b9a838", "10dc1033b9f3c676",
        "03379284e83ba578", "958b7e521de2efa2", "b028e2baffef89f2", "ae349f3e0da6473c", "07cc087a38055d69", "790361e54dc46360", "bb53bac057ddaa39",
        "da26ef2df1ea7a71", "1cd5e7358dc266d6", "01d30acd1184afed", "7c948b435cffccb9", "35232e93898e3721", "dcf85e94ca5e19c6", "ac401ae1b87ddabd",
        "598ca6f3287cb353", "1a14af5a31006b89", "ae594f18c402a73e", "9584f3201d697d0d", "37db66c31969b853", "378ad3e4eb2f7d9a", "8f4ab9c756839b49",
        "e48c7a33bb79b97d",
    ];

    [Fact]
    public void IngestionCpuPath_TrickyRows_OutputsUnchanged()
    {
        var actual = new List<string>();
        actual.AddRange(DumpFile(SplitNames, SplitHeader, SplitRows, "split").Select(Digest));
        actual.AddRange(DumpFile(FullNames, FullHeader, FullRows, "full").Select(Digest));
        actual.Add(Digest(string.Join("\n", DumpFile(SplitNames, SplitHeader, GeneratedRows(400), "generated"))));

        Assert.True(Golden.SequenceEqual(actual), "changed digests (golden vs actual):\n"
            + string.Join("\n", actual.Select((a, i) => $"{i}: {(i < Golden.Length ? Golden[i] : "-")} {a}{(i < Golden.Length && Golden[i] == a ? "" : "  <-- changed")}")));
    }

    /// <summary>Rows from a seeded generator over an alphabet of hard characters: the cases no one thought to write by hand.</summary>
    private static string[] GeneratedRows(int count)
    {
        const string letters = "abcxyzAEIOUQZéÉèüÜñÑçÇøØßæœÆŒłŁđĐþıİ'’`-. ,#0123456789ǅﬁＡｂ①Ⅳẞŉ";
        string[] given = ["Ann", "Bob", "Mr", "Jr", "III", "Dr", "Unknown", "Baby", "Test", "X", "Mary Kate", "Jean-Luc", "St", "N", "Apt"];
        var random = new Random(13);
        string Word()
        {
            if (random.Next(3) == 0)
            {
                return given[random.Next(given.Length)];
            }

            var builder = new StringBuilder();
            for (var i = random.Next(1, 12); i > 0; i--)
            {
                builder.Append(letters[random.Next(letters.Length)]);
            }

            return builder.ToString().Replace(",", " ", StringComparison.Ordinal);
        }

        string Quoted(string value) => "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        string[] sexes = ["", "M", "F", "1", "2", "N", "?"];
        string[] races = ["", "W", "B", "7", "W;B", "Asian", "Z"];
        string[] grades = ["", "K", "PK", "KG", "5", "12", "13"];
        var rows = new string[count];
        for (var i = 0; i < count; i++)
        {
            var dob = new DateOnly(2008, 1, 1).AddDays(random.Next(0, 7000));
            var dobText = random.Next(10) == 0 ? "13/45/2015" : dob.ToString(random.Next(2) == 0 ? "MM/dd/yyyy" : "yyyy-MM-dd", CultureInfo.InvariantCulture);
            var start = new DateOnly(2025, 1, 1).AddDays(random.Next(0, 500));
            var address = random.Next(4) == 0 ? "" : $"{random.Next(1, 9999)} {Word()} {Word()} {Word()}";
            rows[i] = string.Join(',',
                "G-" + random.Next(0, 150).ToString(CultureInfo.InvariantCulture), random.Next(5) == 0 ? Quoted(Word()) : "",
                Quoted(Word()), random.Next(3) == 0 ? Quoted(Word()) : "", Quoted(Word() + (random.Next(4) == 0 ? " " + Word() : "")),
                random.Next(8) == 0 ? "Jr" : "", dobText, sexes[random.Next(sexes.Length)], races[random.Next(races.Length)], "",
                random.Next(3) == 0 ? "" : random.Next(10000, 99999).ToString(CultureInfo.InvariantCulture), grades[random.Next(grades.Length)],
                "", random.Next(2) == 0 ? "HS" : Quoted(Word()), random.Next(2) == 0 ? "" : "Class",
                start.ToString("MM/dd/yyyy", CultureInfo.InvariantCulture), "", "", "", Quoted(address));
        }

        return rows;
    }

    private static List<string> DumpFile(MappingProfile profile, string header, string[] rows, string providerId)
    {
        var text = header + "\n" + string.Join("\n", rows) + "\n";
        using var stream = new MemoryStream(new UTF8Encoding(false).GetBytes(text));
        var normalizer = new RowNormalizer(profile, new IngestionOptions(), Today);
        var encoders = Enum.GetValues<BloomHardening>().Select(h => new LinkEncoder(Pseudonymizer, h)).ToList();
        var exact = new ExactMatchLinker();
        var dumps = new List<string>();
        foreach (var row in UploadFileReader.ReadRows(stream, new UTF8Encoding(false), ',', profile))
        {
            var dump = new StringBuilder();
            dump.Append(CultureInfo.InvariantCulture, $"line {row.LineNumber}|unreadable {row.IsUnreadable}\n");
            foreach (var field in Enum.GetValues<CanonicalField>())
            {
                dump.Append(CultureInfo.InvariantCulture, $"{field}={row[field] ?? "<null>"}\n");
            }

            foreach (var problem in row.Problems)
            {
                dump.Append(CultureInfo.InvariantCulture, $"problem {problem}\n");
            }

            // The reader's row as ingestion passes it (RowNormalizerTests cover the cell-function form, which shares the rules).
            var result = normalizer.Normalize(row);
            foreach (var rejection in result.Rejections)
            {
                dump.Append(CultureInfo.InvariantCulture, $"rejected {rejection}\n");
            }

            if (result.Record is { } record)
            {
                DumpRecord(dump, record, providerId, encoders, exact);
            }

            dumps.Add(dump.ToString());
        }

        return dumps;
    }

    private static void DumpRecord(StringBuilder dump, CanonicalRecord record, string providerId, List<LinkEncoder> encoders, ExactMatchLinker exact)
    {
        var (identity, demographics) = (record.Identity, record.Demographics);
        dump.Append(CultureInfo.InvariantCulture,
            $"identity {identity.LocalChildId}|{identity.StateStudentId}|{identity.FirstName}|{identity.MiddleName}|{identity.LastName}|{identity.Suffix}|{identity.BirthDate:yyyy-MM-dd}|{identity.StreetAddress}|incomplete {identity.IsIncomplete}\n");
        dump.Append(CultureInfo.InvariantCulture,
            $"demographics {demographics.Sex}|{demographics.Race}|{string.Join(";", demographics.Races)}|{demographics.Ethnicity}|{demographics.Zip}|{demographics.Grade}|{demographics.School}\n");
        if (record.Service is { } service)
        {
            dump.Append(CultureInfo.InvariantCulture,
                $"service {service.Program}|{service.ServiceType}|{service.Start:yyyy-MM-dd}|{service.End:yyyy-MM-dd}|{service.Hours?.ToString("R", CultureInfo.InvariantCulture)}|{service.DaysAttended}|{RecordKeys.ServiceKey(service.Program, service.ServiceType, service.Start)}\n");
        }

        foreach (var note in record.Notes)
        {
            dump.Append(CultureInfo.InvariantCulture, $"note {note}\n");
        }

        var localToken = RecordKeys.LocalToken(Pseudonymizer, providerId, identity.LocalChildId);
        var link = exact.LinkAsync(new LinkSubject(providerId, localToken, LinkInputs.From(identity, demographics)), Pseudonymizer).AsTask().Result;
        dump.Append(CultureInfo.InvariantCulture, $"local {localToken}|exact {link.ChildKey} {link.Rule}|seed {IncrementalLinker.SeedOf(Pseudonymizer, RecordKeys.ProviderChild(providerId, localToken))}\n");
        var input = LinkInputs.From(identity, demographics);
        // The sex is the code value, null when unknown: shown as the enum spelled it, so the pin reads the same.
        dump.Append(CultureInfo.InvariantCulture, $"input {input with { Sex = input.Sex ?? nameof(Sex.Unknown) }}\n");
        dump.Append(CultureInfo.InvariantCulture, $"forms {NameNormalizer.Fold(identity.FirstName.Display)}|{NameNormalizer.SuffixOf(identity.LastName.Display)}|{AddressNormalizer.MatchForm(identity.StreetAddress)}\n");
        foreach (var encoder in encoders)
        {
            // Twice: the second encoding comes from the encoder's caches and must be the same.
            dump.Append(CultureInfo.InvariantCulture, $"encoding {encoder.Hardening} {encoder.Encode(input).Serialize()}\n");
            dump.Append(CultureInfo.InvariantCulture, $"again {encoder.Hardening} {encoder.Encode(input).Serialize()}\n");
        }
    }

    private static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 8));
}

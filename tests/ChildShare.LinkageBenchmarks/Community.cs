using ChildShare.Cli.Synthetic;
using ChildShare.Core.Ingestion;

namespace ChildShare.LinkageBenchmarks;

/// <summary>One distinct provider-child identity: a row with a typo is a second variant of the same local id.</summary>
public sealed record Subject(string Provider, string LocalId, ChildIdentity Identity, Demographics Demographics);

public static class Community
{
    /// <summary>
    /// Writes the synthetic community once (cached in the temp folder) and reads every row through the
    /// real parser and normalizer, keeping each distinct provider-child identity once, in file order.
    /// </summary>
    public static async Task<List<Subject>> LoadSubjectsAsync(CommunitySpec spec)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"childshare-linkage-bench-{spec.Children}");
        if (!File.Exists(Path.Combine(dir, "providers.json")))
        {
            Console.WriteLine($"writing the synthetic community to {dir} ...");
            new SyntheticCommunity(spec).WriteTo(dir);
        }

        var today = new DateOnly(2026, 10, 15);
        var subjects = new List<Subject>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, _, _) in SyntheticCommunity.ProviderCatalog.Take(spec.Providers))
        {
            var file = Directory.GetFiles(dir, id + ".*").Single(f => !f.EndsWith(".json", StringComparison.Ordinal));
            var profile = MappingProfile.Parse(await File.ReadAllTextAsync(Path.Combine(dir, id + ".profile.json")));
            UploadFingerprint fingerprint;
            await using (var stream = File.OpenRead(file))
            {
                fingerprint = await UploadFileReader.FingerprintAsync(stream);
            }

            var normalizer = new RowNormalizer(profile, new IngestionOptions(), today);
            await using var content = File.OpenRead(file);
            foreach (var row in UploadFileReader.ReadRows(content, UploadFileReader.EncodingFor(profile, fingerprint), profile.DelimiterFor(Path.GetFileName(file)), profile))
            {
                if (normalizer.Normalize(row.LineNumber, field => row[field]).Record is { } record)
                {
                    var i = record.Identity;
                    var variant = $"{id}|{i.LocalChildId}|{i.FirstName.Match}|{i.LastName.Match}|{i.BirthDate}|{i.StateStudentId}|{record.Demographics.Sex}|{record.Demographics.Zip}";
                    if (seen.Add(variant))
                    {
                        subjects.Add(new Subject(id, i.LocalChildId, i, record.Demographics));
                    }
                }
            }
        }

        return subjects;
    }
}

using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ChildShare.Cli;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.Cli;

/// <summary>README command 1, on a private corner of Azurite: the sample providers end to end, twice.</summary>
[Collection(SlowTests.Name)]
[Trait(SlowTests.Category, SlowTests.Slow)]
public sealed class DemoTests : IAsyncLifetime
{
    private readonly TestStorage _storage = new();

    public Task InitializeAsync() => _storage.InitializeAsync();

    public Task DisposeAsync() => _storage.DisposeAsync();

    [Fact]
    public async Task Demo_SampleProviders_IngestWithRejectionsAndASecondRunCountsNothingTwice()
    {
        var time = new FakeTimeProvider(TestApp.Now);
        await using var services = TestApp.Build(_storage, time);
        var output = new StringWriter();
        var op = ActivatorUtilities.CreateInstance<Operator>(services, (TextWriter)output);

        var exit = await RunDemoAsync(services, time, output);
        var identityRows = await _storage.ReadAllAsync(TableNames.Identities);
        var identities = identityRows.Count;
        var activity = (await _storage.ReadActivityMonthsAsync()).Count;
        var again = await RunDemoAsync(services, time, output);

        Assert.Equal(0, exit);
        Assert.Equal(0, again);
        var parentLinks = (await _storage.ReadAllAsync(TableNames.ParentLinks)).Select(l => l.GetString("ConsentId")).ToList();
        Assert.Equal(2, parentLinks.Count);
        Assert.Single(parentLinks.Distinct());
        Assert.Contains("/api/parent?link=", output.ToString(), StringComparison.Ordinal);
        var manifests = (await _storage.ReadAllAsync(TableNames.Manifests)).Where(m => m.RowKey == "manifest").ToList();
        Assert.Equal(4, manifests.Count);
        // Rows whose birth date cannot be used are kept (an incomplete identity, noted), so a file may complete without rejections.
        Assert.Equal(3, manifests.Count(m => m.GetString("Status") is nameof(UploadStatus.CompletedWithRejections) or nameof(UploadStatus.Completed)));
        Assert.Contains(manifests, m => m.GetString("Status") == nameof(UploadStatus.CompletedWithRejections));
        Assert.Single(manifests, m => m.GetString("Status") == nameof(UploadStatus.NotProcessed));
        Assert.InRange(identities, 300, 700);
        Assert.All(identityRows.Where(i => i.PartitionKey == "valley-clinic"), i => Assert.False(string.IsNullOrEmpty(i.GetString("StreetAddress"))));
        Assert.DoesNotContain(identityRows, i => i.PartitionKey != "valley-clinic" && !string.IsNullOrEmpty(i.GetString("StreetAddress")));
        Assert.Equal(identities, (await _storage.ReadAllAsync(TableNames.Identities)).Count);
        Assert.Equal(activity, (await _storage.ReadActivityMonthsAsync()).Count);
        Assert.Contains("CompletedWithRejections", output.ToString(), StringComparison.Ordinal);
        var (records, children) = await op.CountChildrenAsync(CancellationToken.None);
        Assert.Equal(identities, records);
        Assert.InRange(children, 250, 300);
        Assert.Contains($"{records} provider records link into {children} community children", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_SampleCommunity_ShowsTheThreeModesAndReleasesOnlyTheConsentedChild()
    {
        var time = new FakeTimeProvider(TestApp.Now);
        await using var services = TestApp.Build(_storage, time);
        var output = new StringWriter();

        var exit = await RunDemoAsync(services, time, output);

        var text = output.ToString();
        Assert.True(exit == 0, text);
        // (a) the aggregate report with a suppressed cell and its receipt
        var aggregate = Section(text, "== 1. Aggregate report ==", "== 2.");
        Assert.Contains("suppressed (small-cell)", aggregate, StringComparison.Ordinal);
        Assert.Matches(@"Suppression receipt \(minimum cell size 11\)", aggregate);
        Assert.Contains("differencing: Round5", aggregate, StringComparison.Ordinal);
        // (b) the de-identified export's summary and first rows
        var export = Section(text, "== 2. De-identified export ==", "== 3.");
        Assert.Matches(@"k wanted 5, achieved \d+", export);
        Assert.Contains("Generalization:", export, StringComparison.Ordinal);
        Assert.Matches(@"\d+ of \d+ record\(s\) suppressed", export);
        Assert.Contains("researchId", export, StringComparison.Ordinal);
        // (c) refused without consent, refused while the owner has not authorized, allowed, refused once revoked
        var identifiable = Section(text, "== 3. Identifiable report ==", "== The parent's page ==");
        var outcomes = Regex.Matches(identifiable, @"^(Refused \((?<reason>[a-z-]+)\)|(?<allowed>district-north: categories))", RegexOptions.Multiline)
            .Select(m => m.Groups["allowed"].Success ? "allowed" : m.Groups["reason"].Value).ToList();
        Assert.Equal(["no-consent", "awaiting-owner-authorization", "allowed", "revoked"], outcomes);
        Assert.Contains("district-north Pending", identifiable, StringComparison.Ordinal);
        Assert.Contains("district-north Approved", identifiable, StringComparison.Ordinal);
        Assert.Contains("/api/parent?link=", text, StringComparison.Ordinal);
        // The closing lines: curl against childshare serve, and the Power BI query.
        Assert.Matches(@"curl -H 'X-Api-Key: csk_[^']+' 'http://127\.0\.0\.1:7071/api/reports/aggregate\?", text);
        Assert.Contains("interval=month", text, StringComparison.Ordinal);
        Assert.Contains(DemoSharing.PowerBiQueryFile, text, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(RepositoryRoot.Path, DemoSharing.PowerBiQueryFile)));
        // Nothing identifies a child the demo did not release (the district's S100001, the clinic's MRN00000018).
        foreach (var identifier in SampleIdentifiers().Except(["S100001", "900000001", "MRN00000018", "2022-02-10", "02/10/2022", "2/10/2022"]))
        {
            Assert.DoesNotMatch($@"(?<![\w-]){Regex.Escape(identifier)}(?![\w-])", text);
        }

        Assert.All(Regex.Matches(text, "^  identity: .*$", RegexOptions.Multiline), m => Assert.Contains("S100001", m.Value, StringComparison.Ordinal));
    }

    private Task<int> RunDemoAsync(ServiceProvider services, FakeTimeProvider time, TextWriter output) =>
        Demo.RunAsync(services, _ => TestApp.Build(_storage, time), Path.Combine(AppContext.BaseDirectory, "samples"), output, keep: false, CancellationToken.None);

    private static string Section(string text, string start, string end)
    {
        var from = text.IndexOf(start, StringComparison.Ordinal);
        Assert.True(from >= 0, $"'{start}' is not in the output");
        var to = text.IndexOf(end, from + start.Length, StringComparison.Ordinal);
        return to < 0 ? text[from..] : text[from..to];
    }

    /// <summary>Every local id, state id and birth date (as written, and ISO) of the sample files.</summary>
    private static HashSet<string> SampleIdentifiers()
    {
        var identifiers = new HashSet<string>(StringComparer.Ordinal);
        var samples = Path.Combine(AppContext.BaseDirectory, "samples");
        foreach (var (file, columns, format) in new[]
        {
            ("district-north.csv", new[] { "StudentID", "StateID", "DOB" }, "MM/dd/yyyy"),
            ("bright-futures.csv", new[] { "Participant #", "Birth Date" }, "yyyy-MM-dd"),
            ("valley-clinic.csv", new[] { "MRN", "DOB" }, "M/d/yyyy"),
        })
        {
            var rows = ReadCsv(File.ReadAllText(Path.Combine(samples, file), Encoding.Latin1));
            var header = rows[0].Select(h => h.Trim('\uFEFF', '\u00EF', '\u00BB', '\u00BF')).ToList();
            foreach (var row in rows.Skip(1).Where(r => r.Count == header.Count))
            {
                foreach (var column in columns)
                {
                    var value = row[header.IndexOf(column)].Trim();
                    if (value.Length == 0)
                    {
                        continue;
                    }

                    identifiers.Add(value);
                    if (DateOnly.TryParseExact(value, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                    {
                        identifiers.Add(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                    }
                }
            }
        }

        return identifiers;
    }

    /// <summary>A plain RFC 4180 reader (quoted fields with commas, quotes and line breaks), apart from the product's.</summary>
    private static List<List<string>> ReadCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"' && cell.Length == 0)
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(cell.ToString());
                cell.Clear();
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                row.Add(cell.ToString());
                cell.Clear();
                rows.Add(row);
                row = [];
            }
            else
            {
                cell.Append(c);
            }
        }

        if (cell.Length > 0 || row.Count > 0)
        {
            row.Add(cell.ToString());
            rows.Add(row);
        }

        return rows;
    }
}

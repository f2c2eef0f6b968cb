using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using ChildShare.Cli;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using ChildShare.Tests.Linkage.Evaluation;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace ChildShare.Tests.Linkage;

/// <summary>
/// Linkage end to end on Azurite through the real ingestion path: FEBRL dataset1 as three
/// providers' uploads, the unique-child count read back from the <c>children</c> and <c>activity</c>
/// tables, an upload that merges two clusters, and an operator split that survives re-ingestion.
/// </summary>
[Collection(SlowTests.Name)]
public sealed class LinkageStorageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Profile = """
        {
          "dateFormats": ["yyyy-MM-dd"],
          "columns": {
            "Id": "LocalChildId", "StateId": "StateStudentId", "First": "FirstName", "Last": "LastName", "DOB": "BirthDate",
            "Zip": "Zip", "Program": "Program", "Start": "ServiceStart", "End": "ServiceEnd", "Address": "StreetAddress"
          }
        }
        """;

    private const string Header = "Id,StateId,First,Last,DOB,Zip,Program,Start,End,Address";

    private readonly TestStorage _storage = new();
    private ServiceProvider _services = null!;

    private IngestionService Ingestion => _services.GetRequiredService<IngestionService>();

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        _services = TestApp.Build(_storage, new FakeTimeProvider(TestApp.Now));
        var providers = _services.GetRequiredService<ProviderRegistry>();
        foreach (var provider in Febrl.Providers)
        {
            await providers.RegisterAsync(provider, provider, "Other");
            await providers.SaveProfileAsync(provider, Profile);
        }
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _storage.DisposeAsync();
    }

    [Fact]
    [Trait(SlowTests.Category, SlowTests.Slow)]
    public async Task IngestAsync_FebrlDataset1AsThreeUploads_CountsEachChildLikeTheEngineAndKeepsIncompleteIdentities()
    {
        var roster = Febrl.Load("dataset1.csv");
        var incomplete = 0;
        foreach (var provider in Febrl.Providers)
        {
            var mine = roster.Rows.Where(r => r.ProviderId == provider).ToList();
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            var manifest = await IngestAsync($"{provider}/febrl-dataset1.csv", mine.Select(Row));
            incomplete += manifest.RowsIncompleteIdentity;
            output.WriteLine($"{provider}: {stopwatch.ElapsedMilliseconds} ms, {manifest.RowsAccepted} accepted ({manifest.RowsIncompleteIdentity} incomplete), {manifest.RowsRejected} rejected");
        }

        var children = await _storage.ReadAllAsync(TableNames.Children);
        var stored = children.Select(c => c.GetString("ChildKey")).Distinct().Count();
        var inActivity = (await _storage.ReadActivityMonthsAsync()).Select(a => a.GetString("ChildKey")).Distinct().Count();

        // The same rows through the normalizer and the in-memory engine, with the same key (RosterEvaluation.Today is the app's today).
        var pseudonymizer = new Pseudonymizer(PseudonymKey.FromBase64("local-dev-1", CliHost.DevelopmentKey));
        var rows = RosterEvaluation.Normalize(roster);
        var expected = RosterEvaluation.Measure("dataset1", roster, rows, LinkModelOptions.Default, pseudonymizer);

        output.WriteLine($"stored children {stored}, in activity {inActivity}, engine {expected.FoundChildren}, truth {expected.TrueChildren}; "
            + string.Create(CultureInfo.InvariantCulture, $"engine P={expected.Precision:F4} R={expected.Recall:F4}, incomplete {incomplete}"));
        Assert.Equal(rows.Count(r => r.Input is not null), children.Count);
        Assert.Equal(rows.Count(r => r.IncompleteIdentity), incomplete);
        Assert.True(incomplete > 0);
        Assert.Equal(stored, inActivity);
        Assert.Equal(expected.FoundChildren, stored);
        Assert.True(expected.Precision >= 0.99);
    }

    [Fact]
    public async Task An_upload_that_connects_two_clusters_merges_them_and_a_split_survives_reingestion()
    {
        // A and B are different enough not to link; C is A by name and birth date, and B by state id and birth date.
        await IngestAsync("prov-a/a.csv", ["A1,,Maria,Gonzalez,2015-03-02,12345,Tutoring,2026-09-01,2026-09-30"]);
        await IngestAsync("prov-b/b.csv", ["B1,S-9988,Tina,Whitfield,2015-03-02,12345,Meals,2026-09-01,2026-09-30"]);
        var a = await KeyOf("prov-a", "A1");
        var b = await KeyOf("prov-b", "B1");
        Assert.NotEqual(await ChildOf(a), await ChildOf(b));

        await IngestAsync("prov-c/c.csv", ["C1,S9988,Maria,Gonzalez,2015-03-02,12345,Clinic,2026-09-01,2026-09-30"]);
        var c = await KeyOf("prov-c", "C1");
        var merged = await ChildOf(a);
        Assert.Equal(merged, await ChildOf(b));
        Assert.Equal(merged, await ChildOf(c));
        Assert.All(await ActivityOf([a, b, c]), key => Assert.Equal(merged, key));
        var admin = _services.GetRequiredService<LinkageAdmin>();
        var shown = await admin.ShowAsync(a, default);
        Assert.NotNull(shown);
        Assert.Contains(shown.Value.Members, m => m.Rule.StartsWith("ssid+dob", StringComparison.Ordinal));
        Assert.All(shown.Value.Members, m => Assert.Contains("dob=exact", m.Rule, StringComparison.Ordinal));

        var split = await admin.SplitAsync(a, b, "operator:test", default);
        Assert.NotEqual(split.ClusterA, split.ClusterB);
        Assert.NotEqual(await ChildOf(a), await ChildOf(b));
        Assert.Equal(await ChildOf(b), await ChildOf(c));
        var activity = await ActivityOf([a, b]);
        Assert.NotEqual(activity[0], activity[1]);

        // Re-ingesting A (a new upload of the same child) and C does not undo the split.
        await IngestAsync("prov-a/a2.csv", ["A1,,Maria,Gonzalez,2015-03-02,12345,Tutoring,2026-10-01,2026-10-10"]);
        await IngestAsync("prov-c/c2.csv", ["C1,S9988,Maria,Gonzalez,2015-03-02,12345,Clinic,2026-10-01,2026-10-10"]);
        Assert.NotEqual(await ChildOf(a), await ChildOf(b));
        Assert.Equal(await ChildOf(b), await ChildOf(c));
        var children = await _storage.ReadAllAsync(TableNames.Children);
        Assert.Equal(2, children.Select(m => m.PartitionKey).Distinct().Count());
    }

    [Fact]
    public async Task MergeAsync_APairFromTheReviewList_JoinsThemForGoodThroughReingestionAndIsAudited()
    {
        // A child who moved: the same names and birth date, another zip and address. The model is unsure: the pair goes to review.
        await IngestAsync("prov-a/a.csv", ["A1,,Olivia,Walker,2010-02-20,12345,Tutoring,2026-09-01,2026-09-30,12 Banner St"]);
        await IngestAsync("prov-b/b.csv", ["B1,,Olivia,Walker,2010-02-20,54321,Meals,2026-09-01,2026-09-30,7 Oxley Pl"]);
        var a = await KeyOf("prov-a", "A1");
        var b = await KeyOf("prov-b", "B1");
        Assert.NotEqual(await ChildOf(a), await ChildOf(b));
        var admin = _services.GetRequiredService<LinkageAdmin>();

        var review = Assert.Single(await admin.ReviewAsync(10, "operator:test", default));
        Assert.Equal(LinkageStore.ReviewKey(a, b), LinkageStore.ReviewKey(review.ProviderChildA, review.ProviderChildB));
        Assert.Contains("first=exact", review.Pattern, StringComparison.Ordinal);
        Assert.DoesNotContain("OLIVIA", review.Pattern, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("A1", review.ProviderChildA + review.ProviderChildB, StringComparison.Ordinal);

        var merged = await admin.MergeAsync(a, b, "operator:test", default);
        Assert.Equal(merged.ClusterKey, await ChildOf(a));
        Assert.Equal(merged.ClusterKey, await ChildOf(b));
        Assert.All(await ActivityOf([a, b]), key => Assert.Equal(merged.ClusterKey, key));
        Assert.Empty(await admin.ReviewAsync(10, "operator:test", default));

        // New uploads of both records keep them together.
        await IngestAsync("prov-a/a2.csv", ["A1,,Olivia,Walker,2010-02-20,12345,Tutoring,2026-10-01,2026-10-10,12 Banner St"]);
        await IngestAsync("prov-b/b2.csv", ["B1,,Olivia,Walker,2010-02-20,54321,Meals,2026-10-01,2026-10-10,7 Oxley Pl"]);
        Assert.Equal(await ChildOf(a), await ChildOf(b));

        var audit = await _storage.ReadAllAsync(TableNames.Audit);
        var merge = Assert.Single(audit, e => e.GetString("Event") == LinkageAuditEvents.Merged);
        Assert.Equal("operator:test", merge.GetString("Actor"));
        Assert.Contains(a, merge.GetString("Parameters"), StringComparison.Ordinal);
        Assert.Equal(2, audit.Count(e => e.GetString("Event") == LinkageAuditEvents.ReviewListed));
    }

    [Fact]
    public async Task PruneReviewsAsync_AnEntryJoinedByALaterUpload_IsDeletedAndAuditedFirstAndAnOpenOneIsKept()
    {
        // Two children who moved: each pair goes to review. Then prov-b sends Olivia again at her old address: a later upload
        // joins that pair, and its review entry is closed but still stored (the listing skips it and reads it every time).
        await IngestAsync("prov-a/a.csv",
        [
            "A1,,Olivia,Walker,2010-02-20,12345,Tutoring,2026-09-01,2026-09-30,12 Banner St",
            "A2,,Noah,Brooks,2011-07-14,12345,Tutoring,2026-09-01,2026-09-30,40 Keel Rd",
        ]);
        await IngestAsync("prov-b/b.csv",
        [
            "B1,,Olivia,Walker,2010-02-20,54321,Meals,2026-09-01,2026-09-30,7 Oxley Pl",
            "B2,,Noah,Brooks,2011-07-14,54321,Meals,2026-09-01,2026-09-30,3 Tern Ct",
        ]);
        var (a1, b1, a2, b2) = (await KeyOf("prov-a", "A1"), await KeyOf("prov-b", "B1"), await KeyOf("prov-a", "A2"), await KeyOf("prov-b", "B2"));
        var admin = _services.GetRequiredService<LinkageAdmin>();
        Assert.Equal(2, (await admin.ReviewAsync(10, "operator:test", default)).Count);

        await IngestAsync("prov-b/b2.csv", ["B1,,Olivia,Walker,2010-02-20,12345,Meals,2026-10-01,2026-10-10,12 Banner St"]);
        Assert.Equal(await ChildOf(a1), await ChildOf(b1));
        var open = Assert.Single(await admin.ReviewAsync(10, "operator:test", default));
        Assert.Equal(LinkageStore.ReviewKey(a2, b2), LinkageStore.ReviewKey(open.ProviderChildA, open.ProviderChildB));
        Assert.Equal(2, (await _storage.ReadAllAsync(LinkageTables.Review)).Count);

        // With the audit down nothing is deleted.
        await using (var outage = AuditOutage.Build(_storage, new FakeTimeProvider(TestApp.Now)))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => outage.GetRequiredService<LinkageAdmin>().PruneReviewsAsync("operator:test", default));
        }

        Assert.Equal(2, (await _storage.ReadAllAsync(LinkageTables.Review)).Count);

        Assert.Equal(1, await admin.PruneReviewsAsync("operator:test", default));
        var kept = Assert.Single(await _storage.ReadAllAsync(LinkageTables.Review));
        Assert.Equal(LinkageStore.ReviewKey(a2, b2), kept.RowKey);
        Assert.Single(await admin.ReviewAsync(10, "operator:test", default));
        Assert.Equal(0, await admin.PruneReviewsAsync("operator:test", default));

        var pruned = (await _storage.ReadAllAsync(TableNames.Audit)).Where(e => e.GetString("Event") == LinkageAuditEvents.ReviewPruned).ToList();
        Assert.Equal([0L, 1L], pruned.Select(e => e.GetInt64("RowsReturned") ?? -1).Order());
        Assert.All(pruned, e => Assert.Equal("operator:test", e.GetString("Actor")));
        Assert.All(pruned, e => Assert.DoesNotContain(a1, e.GetString("Parameters") ?? "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_weak_link_never_joins_two_local_ids_of_one_provider()
    {
        await IngestAsync("prov-a/twins.csv",
        [
            "T1,,Sam,Lee,2016-05-05,12345,Tutoring,2026-09-01,2026-09-30",
            "T2,,Sam,Lee,2016-05-05,12345,Tutoring,2026-09-01,2026-09-30",
        ]);
        Assert.NotEqual(await ChildOf(await KeyOf("prov-a", "T1")), await ChildOf(await KeyOf("prov-a", "T2")));

        // Another provider's record fits both: it joins one of them, never both.
        await IngestAsync("prov-b/sam.csv", ["X1,,Sam,Lee,2016-05-05,12345,Meals,2026-09-01,2026-09-30"]);
        Assert.NotEqual(await ChildOf(await KeyOf("prov-a", "T1")), await ChildOf(await KeyOf("prov-a", "T2")));
    }

    private static string Row(RosterRow r) => string.Join(',',
        r.LocalId, r.StateId, Clean(r.First), Clean(r.Last), r.BirthDate, r.Zip, "Program-" + r.ProviderId, "2026-09-01", "2026-09-30", Clean(r.Address));

    private static string Clean(string value) => value.Replace(",", " ", StringComparison.Ordinal).Replace("\"", "", StringComparison.Ordinal);

    private async Task<UploadManifest> IngestAsync(string blobName, IEnumerable<string> rows)
    {
        var content = Header + "\n" + string.Join("\n", rows) + "\n";
        var blob = await _storage.UploadAsync(blobName, new UTF8Encoding(false).GetBytes(content));
        var manifest = await Ingestion.IngestAsync(blob);
        Assert.NotEqual(UploadStatus.Failed, manifest.Status);
        return manifest;
    }

    private async Task<string> KeyOf(string providerId, string localId) =>
        await _services.GetRequiredService<LinkageAdmin>().ProviderChildAsync(providerId, localId, default);

    private async Task<string> ChildOf(string providerChild)
    {
        var rows = (await _storage.ReadAllAsync(TableNames.Children))
            .Where(row => row.RowKey.EndsWith("|" + providerChild, StringComparison.Ordinal))
            .Select(row => row.GetString("ChildKey"))
            .ToList();

        return Assert.Single(rows);
    }

    private async Task<List<string>> ActivityOf(IEnumerable<string> providerChildren)
    {
        var activity = await _storage.ReadActivityMonthsAsync();
        return providerChildren.Select(k => activity.First(a => a.RowKey == k).GetString("ChildKey") ?? "").ToList();
    }
}

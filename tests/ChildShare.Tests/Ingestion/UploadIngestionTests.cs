using System.Text;
using Azure.Storage.Blobs;
using ChildShare.Tests.Support;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Ingestion;

/// <summary>The upload path end to end on Azurite: real blobs in, real tables out.</summary>
[Collection(SlowTests.Name)]
public sealed class UploadIngestionTests : IAsyncLifetime
{
    private const string Header = "Id,First,Last,DOB,Sex,Race,Zip,Grade,Program,Start,End";
    private readonly IngestionHarness _harness = new();

    public Task InitializeAsync() => _harness.InitializeAsync();

    public Task DisposeAsync() => _harness.DisposeAsync();

    private static string Blob(string name) => $"{IngestionHarness.ProviderId}/{name}";

    [Fact]
    public async Task IngestAsync_SameBlobDeliveredTwice_CountsOnce()
    {
        var blob = await _harness.Storage.UploadAsync(Blob("twice.csv"), Encoding.UTF8.GetBytes($"""
            {Header}
            A1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-09-01,2026-09-30
            A1,Ana,Lopez,2015-03-02,F,5,12345,3,Arts,2026-09-10,2026-10-05
            """));

        var first = await _harness.Ingestion.IngestAsync(blob);
        var second = await _harness.Ingestion.IngestAsync(blob);

        Assert.Equal(UploadStatus.Completed, first.Status);
        Assert.Equal(first, second);
        Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Identities));
        var record = Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Records));
        Assert.Equal(2, StoredService.Deserialize(record.GetString("Services")).Count);
        Assert.Equal(2, (await _harness.Storage.ReadActivityMonthsAsync()).Count);
    }

    [Fact]
    public async Task IngestAsync_ProvidersKnownChildrenSetLostWhileItsChildIsLinkedToAnothers_KeepsTheChildsEarlierServices()
    {
        // The child is seen by two providers and linked; then only test-district's known-children set is lost. Its next file must not
        // treat the child as new: the rebuild would skip its records row and drop the service of the first file.
        await _harness.Providers.RegisterAsync("other-district", "Other District", "SchoolDistrict");
        await _harness.Providers.SaveProfileAsync("other-district", IngestionHarness.DefaultProfile);
        await _harness.IngestTextAsync(Blob("september.csv"), $"{Header}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-09-01,2026-09-30\n");
        await _harness.IngestTextAsync("other-district/roster.csv", $"{Header}\nX9,Ana,Lopez,2015-03-02,F,5,12345,3,Arts,2026-09-01,2026-09-30\n");
        Assert.Single((await _harness.Storage.ReadAllAsync(TableNames.Records)).Select(r => r.GetString("ChildKey")).Distinct());
        await _harness.Storage.Storage.Locks.DeleteBlobAsync(_harness.Storage.Storage.LockName("known-children/" + IngestionHarness.ProviderId));

        var october = await _harness.Storage.UploadAsync(Blob("october.csv"),
            Encoding.UTF8.GetBytes($"{Header}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-10-01,2026-10-30\n"));
        var manifest = await IngestUntilFinalAsync(october);

        Assert.Equal(UploadStatus.Completed, manifest.Status);
        var record = (await _harness.Storage.ReadAllAsync(TableNames.Records)).Single(r => r.PartitionKey == IngestionHarness.ProviderId);
        Assert.Equal(2, StoredService.Deserialize(record.GetString("Services")).Count);
        Assert.Single((await _harness.Storage.ReadAllAsync(TableNames.Records)).Select(r => r.GetString("ChildKey")).Distinct());
    }

    private async Task<UploadManifest> IngestUntilFinalAsync(BlobClient blob)
    {
        // The blob trigger delivers a failed attempt again.
        try
        {
            return await _harness.Ingestion.IngestAsync(blob);
        }
        catch (UploadRetryException)
        {
            return await _harness.Ingestion.IngestAsync(blob);
        }
    }

    [Fact]
    public async Task IngestAsync_InterruptedAttemptRedone_DoesNotDuplicate()
    {
        var content = Encoding.UTF8.GetBytes($"{Header}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-09-01,2026-09-30\n");
        var blob = await _harness.Storage.UploadAsync(Blob("redo.csv"), content);
        var manifest = await _harness.Ingestion.IngestAsync(blob);

        // As if the host died before the manifest was final: the next delivery redoes the work with the same keys.
        var manifests = new ManifestStore(new ManifestTable(_harness.Storage.Storage), _harness.Storage.Storage);
        await manifests.SaveAsync(manifest with { Status = UploadStatus.Processing });
        var redone = await _harness.Ingestion.IngestAsync(blob);

        Assert.Equal(UploadStatus.Completed, redone.Status);
        Assert.Equal(2, redone.Attempts);
        var record = Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Records));
        Assert.Single(StoredService.Deserialize(record.GetString("Services")));
        Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Children));
    }

    [Fact]
    public async Task IngestAsync_SameContentUnderAnotherName_IsADuplicate()
    {
        var content = $"{Header}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-09-01,2026-09-30\n";
        var first = await _harness.IngestTextAsync(Blob("roster.csv"), content);

        var again = await _harness.IngestTextAsync(Blob("roster (1).csv"), content);

        Assert.Equal(UploadStatus.Duplicate, again.Status);
        Assert.Equal(first.UploadId, again.DuplicateOf);
        Assert.Equal(0, again.RowsRead);
    }

    [Fact]
    public async Task IngestAsync_BadRows_AreRejectedWithLineFieldAndReasonAndTheRestLands()
    {
        var manifest = await _harness.IngestTextAsync(Blob("bad-rows.csv"), $"""
            {Header}
            A1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-09-01,2026-09-30
            A2,Ben,Okafor,,M,5,12345,3,Tutoring,2026-09-01,
            A3,Cy,Tupou,2014-01-01,M,9,12345,3,Tutoring,2026-09-01,
            A4,Di,Begay,2013-05-05,F,5,12345,3,Tutoring,2026-09-10,2026-09-01
            A5,Ed,Kim,2012-02-02,M,5,12345,3,Tutoring,2026-09-01,
            """);

        // A2 has no birth date: still a child served, accepted with an incomplete identity.
        Assert.Equal(UploadStatus.CompletedWithRejections, manifest.Status);
        Assert.Equal((5, 3, 2, 1), (manifest.RowsRead, manifest.RowsAccepted, manifest.RowsRejected, manifest.RowsIncompleteIdentity));
        var rejects = await ReadRejectsAsync(manifest);
        Assert.Equal(
            [
                "line,field,reason",
                "4,Race,is not a known code (add it to the profile's code map)",
                "5,ServiceEnd,is before the service start",
            ],
            rejects);
        Assert.DoesNotContain(rejects, line => line.Contains("Okafor", StringComparison.Ordinal) || line.Contains("Tupou", StringComparison.Ordinal));
        Assert.True(await _harness.Storage.Storage.Uploads.GetBlobClient(Blob("bad-rows.csv")).ExistsAsync(), "the original file is kept");
    }

    [Fact]
    public async Task IngestAsync_UnknownProvider_IsKeptAndNotProcessed()
    {
        var manifest = await _harness.IngestTextAsync("nobody-knows/roster.csv", $"{Header}\nA1,Ana,Lopez,2015-03-02,F,5,12345,3,,,\n");

        Assert.Equal(UploadStatus.NotProcessed, manifest.Status);
        Assert.Contains("not registered", manifest.Reason, StringComparison.Ordinal);
        Assert.Empty(await _harness.Storage.ReadAllAsync(TableNames.Identities));
        Assert.True(await _harness.Storage.Storage.Uploads.GetBlobClient("nobody-knows/roster.csv").ExistsAsync());
    }

    [Fact]
    public async Task IngestAsync_ProviderWithoutProfile_IsNotProcessed()
    {
        await _harness.Providers.RegisterAsync("no-profile", "No Profile Yet", "Other");

        var manifest = await _harness.IngestTextAsync("no-profile/roster.csv", $"{Header}\n");

        Assert.Equal(UploadStatus.NotProcessed, manifest.Status);
        Assert.Contains("no mapping profile", manifest.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngestAsync_FileOutsideAProviderFolder_IsNotProcessed()
    {
        var manifest = await _harness.IngestTextAsync("stray.csv", $"{Header}\n");

        Assert.Equal(UploadStatus.NotProcessed, manifest.Status);
    }

    [Fact]
    public async Task IngestAsync_Windows1252File_KeepsAccentsForDisplayAndFoldsForMatching()
    {
        var encoding = CodePagesEncoding();
        var manifest = await _harness.IngestTextAsync(Blob("excel.csv"), $"{Header}\r\nA1,José,Núñez,2015-03-02,M,5,12345,3,Tutoring,2026-09-01,\r\n", encoding);

        Assert.Equal(UploadStatus.Completed, manifest.Status);
        Assert.Equal("windows-1252", manifest.Encoding);
        var identity = Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Identities));
        Assert.Equal("José", identity.GetString("FirstName"));
        Assert.Equal("Núñez", identity.GetString("LastName"));
    }

    [Fact]
    public async Task IngestAsync_Utf8WithBomAndQuotedNewlines_ReadsEveryRowWithTheRightLineNumbers()
    {
        var text = $"{Header}\r\n" +
                   "A1,\"Ana \"\"Annie\"\"\",\"Lopez,\nGarcía\",2015-03-02,F,5,12345,3,Tutoring,2026-09-01,\r\n" +
                   "A2,Ben,Okafor,2099-01-01,M,5,12345,3,Tutoring,2026-09-01,\r\n";
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(text)).ToArray();

        var manifest = await _harness.IngestBytesAsync(Blob("quoted.csv"), bytes);

        // A birth date in the future is left out and noted; the row (and its child) is kept.
        Assert.Equal((2, 2, 0, 1), (manifest.RowsRead, manifest.RowsAccepted, manifest.RowsRejected, manifest.RowsIncompleteIdentity));
        Assert.Equal("4,BirthDate,is in the future; the row was kept without it", (await ReadRejectsAsync(manifest))[1]);
        var identities = await _harness.Storage.ReadAllAsync(TableNames.Identities);
        Assert.Equal("Lopez, García", identities.Single(i => i.GetString("LocalChildId") == "A1").GetString("LastName"));    // a line break in a cell becomes a space
        Assert.Equal("", identities.Single(i => i.GetString("LocalChildId") == "A2").GetString("BirthDate"));
    }

    [Fact]
    public async Task IngestAsync_TabSeparatedFile_IsReadByItsExtension()
    {
        var manifest = await _harness.IngestTextAsync(Blob("roster.tsv"), $"{Header.Replace(',', '\t')}\nA1\tAna\tLopez\t2015-03-02\tF\t5\t12345\t3\tTutoring\t2026-09-01\t\n");

        Assert.Equal(1, manifest.RowsAccepted);
    }

    [Fact]
    public async Task IngestAsync_EmptyFile_IsNotProcessed()
    {
        var manifest = await _harness.IngestBytesAsync(Blob("empty.csv"), []);

        Assert.Equal(UploadStatus.NotProcessed, manifest.Status);
        Assert.Contains("empty", manifest.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngestAsync_HeaderOnly_CompletesWithNoRows()
    {
        var manifest = await _harness.IngestTextAsync(Blob("header-only.csv"), Header + "\r\n");

        Assert.Equal(UploadStatus.Completed, manifest.Status);
        Assert.Equal(0, manifest.RowsRead);
    }

    [Fact]
    public async Task IngestAsync_MissingRequiredColumn_IsNotProcessedAndSaysWhich()
    {
        var manifest = await _harness.IngestTextAsync(Blob("no-dob.csv"), "Id,First,Last\nA1,Ana,Lopez\n");

        Assert.Equal(UploadStatus.NotProcessed, manifest.Status);
        Assert.Contains("BirthDate", manifest.Reason, StringComparison.Ordinal);
        Assert.Contains("\"DOB\"", manifest.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngestAsync_DuplicateMappedColumn_IsNotProcessed()
    {
        var manifest = await _harness.IngestTextAsync(Blob("dup-col.csv"), "Id,First,Last,DOB,DOB\nA1,Ana,Lopez,2015-03-02,2015-03-03\n");

        Assert.Equal(UploadStatus.NotProcessed, manifest.Status);
        Assert.Contains("more than once", manifest.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngestAsync_ChildInManyRows_IsOneChildWithAllServices()
    {
        var manifest = await _harness.IngestTextAsync(Blob("many-rows.csv"), $"""
            {Header}
            A1,Ana,Lopez,2015-03-02,F,,12345,3,Tutoring,2026-09-01,2026-09-30
            A1,Ana,Lopez,2015-03-02,,5,,3,Arts,2026-10-01,
            a1 ,Ana,Lopez,2015-03-02,F,5,12345,3,Sports,2026-08-01,2026-08-31
            """);

        Assert.Equal(1, manifest.ChildrenTouched);
        var record = Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Records));
        Assert.Equal("White", record.GetString("Race"));
        Assert.Equal("Female", record.GetString("Sex"));
        Assert.Equal(3, StoredService.Deserialize(record.GetString("Services")).Count);
        var months = (await _harness.Storage.ReadActivityMonthsAsync()).Select(a => a.PartitionKey).Order().ToList();
        Assert.Equal(["2026-08", "2026-09", "2026-10"], months);
    }

    [Fact]
    public async Task IngestAsync_ExactSameChildAtTwoProviders_SharesOneChildKey()
    {
        await _harness.Providers.RegisterAsync("second-org", "Second Org", "AfterSchoolProgram");
        await _harness.Providers.SaveProfileAsync("second-org", IngestionHarness.DefaultProfile);

        await _harness.IngestTextAsync(Blob("a.csv"), $"{Header}\nA1,José,Núñez,2015-03-02,M,5,12345,3,Tutoring,2026-09-01,\n");
        await _harness.IngestTextAsync("second-org/b.csv", $"{Header}\nZ9,JOSE,NUNEZ,2015-03-02,M,5,12345,3,Arts,2026-09-01,\n");

        var children = await _harness.Storage.ReadAllAsync(TableNames.Children);
        Assert.Equal(2, children.Count);
        Assert.Single(children.Select(c => c.GetString("ChildKey")).Distinct());
    }

    [Fact]
    public async Task IngestAsync_NoKeyHoldsARawIdentifier()
    {
        await _harness.IngestTextAsync(Blob("keys.csv"), $"{Header}\nLOCAL-77,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-09-01,\n");

        foreach (var table in TableNames.All)
        {
            foreach (var entity in await _harness.Storage.ReadAllAsync(table))
            {
                foreach (var key in new[] { entity.PartitionKey, entity.RowKey })
                {
                    Assert.DoesNotContain("LOCAL-77", key, StringComparison.OrdinalIgnoreCase);
                    Assert.DoesNotContain("Lopez", key, StringComparison.OrdinalIgnoreCase);
                    Assert.DoesNotContain("2015-03-02", key, StringComparison.Ordinal);
                }
            }
        }

        var nonIdentityTables = TableNames.All.Where(t => t != TableNames.Identities);
        foreach (var table in nonIdentityTables)
        {
            foreach (var entity in await _harness.Storage.ReadAllAsync(table))
            {
                Assert.DoesNotContain(entity.Select(p => p.Value).OfType<string>(), v => v.Contains("Lopez", StringComparison.Ordinal) || v.Contains("LOCAL-77", StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public async Task IngestAsync_StreetAddress_IsStoredWithTheIdentityOnly()
    {
        var manifest = await _harness.IngestTextAsync(Blob("addresses.csv"), $"""
            {Header},Address
            A1,Ana,Lopez,2015-03-02,F,5,12345,3,Tutoring,2026-09-01,2026-09-30,"4417 N. Larkspur Hollow Rd, Apt #2"
            A2,Ben,Okafor,2014-06-07,M,5,12345,3,Tutoring,2026-09-01,2026-09-30,
            """);

        Assert.Equal((UploadStatus.Completed, 2), (manifest.Status, manifest.RowsAccepted));
        var identities = (await _harness.Storage.ReadAllAsync(TableNames.Identities)).ToDictionary(i => i.GetString("LocalChildId"));
        Assert.Equal("4417 N. Larkspur Hollow Rd, Apt #2", identities["A1"].GetString("StreetAddress"));
        Assert.Equal("", identities["A2"].GetString("StreetAddress"));    // written empty so a later upload clears an earlier address
        foreach (var table in TableNames.All.Where(t => t != TableNames.Identities))
        {
            foreach (var entity in await _harness.Storage.ReadAllAsync(table))
            {
                var values = entity.Select(p => p.Value?.ToString() ?? "").Append(entity.PartitionKey).Append(entity.RowKey).ToList();
                Assert.DoesNotContain(values, v => v.Contains("Larkspur", StringComparison.OrdinalIgnoreCase));
            }
        }
    }

    [Fact]
    [Trait(SlowTests.Category, SlowTests.Slow)]
    public async Task IngestAsync_RowsPastEveryBufferAndChunk_AllLand()
    {
        // 5,000 rows of 2,500 children cross each size the write path works in: the batch writer's buffer (lowered here to
        // 500 entities), the linker's chunks of 2,000 records and query pages of 1,000 entities. How ingestion scales with
        // a community's size is the ingestion benchmark's question (tests/ChildShare.Benchmarks), not this test's.
        const int Rows = 5_000, Children = 2_500;
        var builder = new StringBuilder(Header).Append('\n');
        for (var i = 0; i < Rows; i++)
        {
            // Two services a child, one unreadable birth date in a thousand rows.
            var child = i % Children;
            var month = 1 + i / Children;
            var birth = i % 1000 == 999 ? "not-a-date" : $"2015-{1 + child % 12:D2}-{1 + child % 28:D2}";
            builder.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"C{child},First{child},Last{child},{birth},F,5,12345,3,Program{month},2026-0{month}-01,2026-0{month}-20\n");
        }

        await using var services = TestApp.Build(_harness.Storage, _harness.Time, [new("Ingestion:MaxBufferedEntities", "500")]);
        var blob = await _harness.Storage.UploadAsync(Blob("big.csv"), Encoding.UTF8.GetBytes(builder.ToString()));
        var manifest = await services.GetRequiredService<IngestionService>().IngestAsync(blob);

        // A row whose birth date cannot be read is kept without it (its child is still served): noted, not rejected.
        Assert.Equal(UploadStatus.Completed, manifest.Status);
        Assert.Equal((Rows, Rows, 0, Rows / 1000), (manifest.RowsRead, manifest.RowsAccepted, manifest.RowsRejected, manifest.RowsIncompleteIdentity));
        Assert.NotNull(manifest.RejectsBlobName);
        Assert.Equal(Children, manifest.ChildrenTouched);
        Assert.Equal(Children, (await _harness.Storage.ReadAllAsync(TableNames.Identities)).Count);
        Assert.Equal(Children * 2, (await _harness.Storage.ReadActivityMonthsAsync()).Count);    // each child's two months
    }

    private async Task<List<string>> ReadRejectsAsync(UploadManifest manifest)
    {
        Assert.NotNull(manifest.RejectsBlobName);
        var content = await _harness.Storage.Storage.Rejects.GetBlobClient(manifest.RejectsBlobName).DownloadContentAsync();
        return content.Value.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
    }

    private static Encoding CodePagesEncoding()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return Encoding.GetEncoding(1252);
    }
}

using System.Globalization;
using System.Text;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;
using ChildShare.Functions.Ingestion;
using ChildShare.Tests.Support;

namespace ChildShare.Tests.Ingestion;

/// <summary>Rosters that neither leak nor lose rows: broken quotes, overlong lines, control characters, encodings, conflicting rows.</summary>
public sealed class RosterRobustnessTests : IAsyncLifetime
{
    private const string Provider = "school-roster";
    private const string Header = "Id,First,Last,DOB,School,Address";
    private readonly IngestionHarness _harness = new();

    public async Task InitializeAsync()
    {
        await _harness.InitializeAsync();
        await _harness.Providers.RegisterAsync(Provider, "School Roster", "SchoolDistrict");
        await _harness.Providers.SaveProfileAsync(Provider, """
            {
              "dateFormats": ["yyyy-MM-dd"],
              "columns": { "Id": "LocalChildId", "First": "FirstName", "Last": "LastName", "DOB": "BirthDate", "School": "School", "Address": "StreetAddress" }
            }
            """);
    }

    public Task DisposeAsync() => _harness.DisposeAsync();

    // Addresses only where a test needs them: one street shared by thousands of children makes linkage slow on Azurite.
    private static string Row(int i, bool address = false) => string.Create(CultureInfo.InvariantCulture,
        $"KID{i:D5},Given{i},Family{i},2015-{1 + i % 12:D2}-{1 + i % 28:D2},Lincoln Elementary,{(address ? $"{100 + i} Oak St" : "")}");

    // Good rows after a broken one; children repeat after "children" rows (linking 10,000 new children takes minutes on Azurite).
    private static string Roster(int goodRows, string brokenRow, bool addresses = false, int? children = null)
    {
        var text = new StringBuilder(Header).Append('\n').Append(brokenRow).Append('\n');
        for (var i = 0; i < goodRows; i++)
        {
            text.Append(Row(1 + i % (children ?? goodRows), addresses)).Append('\n');
        }

        return text.ToString();
    }

    [Fact]
    public async Task IngestAsync_UnclosedQuoteInSchool_NoOtherChildsDataLandsInTheRecord()
    {
        var manifest = await _harness.IngestTextAsync($"{Provider}/unclosed.csv", Roster(120, "KID00000,Ana,Lopez,2015-03-02,\"Lincoln Elem,1 Elm St", addresses: true));

        Assert.Equal(UploadStatus.CompletedWithRejections, manifest.Status);
        Assert.Equal((121, 120, 1, 1), (manifest.RowsRead, manifest.RowsAccepted, manifest.RowsRejected, manifest.RowsUnreadable));
        var records = await _harness.Storage.ReadAllAsync(TableNames.Records);
        Assert.Equal(120, records.Count);
        Assert.All(records, r => Assert.Equal("Lincoln Elementary", r.GetString("School")));
        var identities = await _harness.Storage.ReadAllAsync(TableNames.Identities);
        Assert.DoesNotContain(identities, i => i.GetString("LocalChildId") == "KID00000");
        Assert.All(identities, i => Assert.DoesNotContain("KID", i.GetString("StreetAddress"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task IngestAsync_UnclosedQuoteAtLine2Of10000Rows_RejectsThatLineAndLandsTheOther9999()
    {
        var manifest = await _harness.IngestTextAsync($"{Provider}/big-unclosed.csv",
            Roster(9_999, "KID00000,Ana,Lopez,2015-03-02,\"Lincoln Elem,1 Elm St", children: 250));

        Assert.Equal((10_000, 9_999, 1), (manifest.RowsRead, manifest.RowsAccepted, manifest.RowsRejected));
        Assert.Equal(250, manifest.ChildrenTouched);
        Assert.Equal(250, (await _harness.Storage.ReadAllAsync(TableNames.Identities)).Count);
        Assert.Equal(0, manifest.IdentityConflicts);
        var rejects = await ReadRejectsAsync(manifest);
        Assert.Equal(2, rejects.Count);
        Assert.Equal("2,School,\"a quoted value runs on into line 3, which is a whole row of the header's 6 columns (an unclosed quote?)\"", rejects[1]);
    }

    [Fact]
    public async Task IngestAsync_LineOfFiftyMegabytes_IsRejectedAndTheUploadCompletes()
    {
        var content = new MemoryStream();
        content.Write(Encoding.UTF8.GetBytes($"{Header}\n{Row(1)}\nKID00002,Ben,Okafor,2014-01-01,\""));
        content.Write(Enumerable.Repeat((byte)'x', 50 << 20).ToArray());
        content.Write(Encoding.UTF8.GetBytes($"\n{Row(3)}\n"));

        var manifest = await _harness.IngestBytesAsync($"{Provider}/long-line.csv", content.ToArray());

        Assert.Equal(UploadStatus.CompletedWithRejections, manifest.Status);
        Assert.Equal(1, manifest.Attempts);
        Assert.Equal((3, 2, 1), (manifest.RowsRead, manifest.RowsAccepted, manifest.RowsRejected));
        Assert.Equal("3,row,the line is longer than 65536 characters; it was skipped unread", (await ReadRejectsAsync(manifest))[1]);
    }

    [Fact]
    public async Task IngestAsync_ControlCharactersInNames_AreRefusedAndLineBreaksBecomeSpaces()
    {
        var manifest = await _harness.IngestTextAsync($"{Provider}/controls.csv",
            $"{Header}\nKID1,An\u0000a,Lopez,2015-03-02,Adams,\nKID2,Ben,Oka\u001bfor,2014-01-01,Adams,\nKID3,Cy,\"Tu\r\npou\",2013-01-01,\"Adams\tEast\",\n");

        Assert.Equal((3, 1, 2), (manifest.RowsRead, manifest.RowsAccepted, manifest.RowsRejected));
        var rejects = await ReadRejectsAsync(manifest);
        Assert.Equal($"2,FirstName,{ControlCharacters.RefusedReason}", rejects[1]);
        Assert.Equal($"3,LastName,{ControlCharacters.RefusedReason}", rejects[2]);
        var identity = Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Identities));
        Assert.Equal("Tu pou", identity.GetString("LastName"));
        Assert.Equal("Adams East", Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Records)).GetString("School"));
    }

    [Fact]
    public async Task IngestAsync_Utf16FileWithAByteOrderMark_ManifestNamesTheEncodingUsed()
    {
        var text = $"{Header}\r\nKID1,José,Núñez,2015-03-02,Adams,\r\n";
        var bytes = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(text)).ToArray();

        var manifest = await _harness.IngestBytesAsync($"{Provider}/utf16.csv", bytes);

        Assert.Equal(UploadStatus.Completed, manifest.Status);
        Assert.Equal("utf-16", manifest.Encoding);
        Assert.Equal("Núñez", Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Identities)).GetString("LastName"));
    }

    [Fact]
    public async Task IngestAsync_OneChildWithManyBirthDates_CountsTheConflictAndKeepsTheLastRow()
    {
        var text = new StringBuilder(Header).Append('\n');
        var start = new DateOnly(2014, 1, 1);
        for (var i = 0; i < 1_000; i++)
        {
            var birth = start.AddDays(i % 861).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            text.Append(CultureInfo.InvariantCulture, $"KID1,Ana,Lopez,{birth},Adams,\n");
        }

        text.Append("KID2,Ben,Okafor,2014-01-01,Adams,\nKID2,BEN,Okafor,2014-01-01,Adams,\n");

        var manifest = await _harness.IngestTextAsync($"{Provider}/conflicts.csv", text.ToString());

        Assert.Equal(UploadStatus.Completed, manifest.Status);
        Assert.Equal(1, manifest.IdentityConflicts);
        Assert.Equal("BirthDate", manifest.IdentityConflictFields);
        var identity = (await _harness.Storage.ReadAllAsync(TableNames.Identities)).Single(i => i.GetString("LocalChildId") == "KID1");
        Assert.Equal(start.AddDays(999 % 861).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), identity.GetString("BirthDate"));
    }

    [Fact]
    public async Task BlobFunction_PathThatLeavesTheProviderFolder_IsNotProcessedAndNothingIsRead()
    {
        var victim = await _harness.Storage.UploadAsync($"{Provider}/x.csv", Encoding.UTF8.GetBytes($"{Header}\n{Row(1)}\n"));
        const string delivered = IngestionHarness.ProviderId + "/../" + Provider + "/x.csv";
        var blob = _harness.Storage.Storage.Uploads.GetBlobClient(delivered);

        await new IngestProviderUpload(_harness.Ingestion).RunAsync(blob, delivered, CancellationToken.None);

        var manifests = await _harness.Storage.ReadAllAsync(TableNames.Manifests);
        var refused = Assert.Single(manifests, m => m.GetString("BlobName") == delivered);
        Assert.Equal(nameof(UploadStatus.NotProcessed), refused.GetString("Status"));
        Assert.Equal(IngestionHarness.ProviderId, refused.GetString("ProviderId"));
        Assert.Empty(await _harness.Storage.ReadAllAsync(TableNames.Identities));
        Assert.DoesNotContain(manifests, m => m.GetString("BlobName") == victim.Name);
    }

    [Fact]
    public async Task IngestAsync_FileOverwrittenBetweenItsTwoPasses_IsNotProcessedAndItsNewContentIsANewUpload()
    {
        var name = $"{Provider}/monthly.csv";
        await _harness.Storage.UploadAsync(name, Encoding.UTF8.GetBytes($"{Header}\n{Row(1)}\n"));
        var racing = new OverwrittenBeforeSecondRead(_harness.Storage, name, Encoding.UTF8.GetBytes($"{Header}\n{Row(2)}\n"));

        var raced = await _harness.Ingestion.IngestAsync(racing);
        var redelivered = await _harness.Ingestion.IngestAsync(_harness.Storage.Storage.Uploads.GetBlobClient(name));

        Assert.Equal(UploadStatus.NotProcessed, raced.Status);
        Assert.Contains("overwritten while it was read", raced.Reason, StringComparison.Ordinal);
        Assert.Equal(UploadStatus.Completed, redelivered.Status);
        Assert.NotEqual(raced.UploadId, redelivered.UploadId);
        Assert.Equal("KID00002", Assert.Single(await _harness.Storage.ReadAllAsync(TableNames.Identities)).GetString("LocalChildId"));
    }

    /// <summary>A blob client whose blob another writer replaces just before the second read (the parse after the fingerprint).</summary>
    private sealed class OverwrittenBeforeSecondRead(TestStorage storage, string name, byte[] replacement)
        : Azure.Storage.Blobs.BlobClient(TestStorage.ConnectionString, storage.Options.UploadsContainer, name)
    {
        private int _reads;

        public override async Task<Stream> OpenReadAsync(Azure.Storage.Blobs.Models.BlobOpenReadOptions options, CancellationToken cancellationToken = default)
        {
            if (++_reads == 2)
            {
                await storage.UploadAsync(Name, replacement);
            }

            return await base.OpenReadAsync(options, cancellationToken);
        }
    }

    private async Task<List<string>> ReadRejectsAsync(UploadManifest manifest)
    {
        Assert.NotNull(manifest.RejectsBlobName);
        var content = await _harness.Storage.Storage.Rejects.GetBlobClient(manifest.RejectsBlobName).DownloadContentAsync();
        return content.Value.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
    }
}

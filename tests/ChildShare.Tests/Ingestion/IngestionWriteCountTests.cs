using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Storage;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.Ingestion;

/// <summary>
/// How many entities an upload writes, counted in the transactions sent to Azurite: a child's identity and staging row once an upload,
/// whatever order its rows come in, so the write path grows with the children and the services, not with the rows twice over.
/// </summary>
public sealed class IngestionWriteCountTests : IAsyncLifetime
{
    private const string Header = "Id,First,Last,DOB,Sex,Race,Zip,Program,Start,End,Address";

    private readonly TestStorage _storage = new();
    private readonly TransactionOperationCounter _counter = new();
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        await _storage.InitializeAsync();
        _services = TestApp.Build(_storage, new FakeTimeProvider(TestApp.Now),
            configure: services => services.AddSingleton(_ => _storage.StorageWithTablePolicy(_counter)));
        var providers = _services.GetRequiredService<ProviderRegistry>();
        await providers.RegisterAsync(IngestionHarness.ProviderId, "Test District", "SchoolDistrict");
        await providers.SaveProfileAsync(IngestionHarness.ProviderId, IngestionHarness.DefaultProfile);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _storage.DisposeAsync();
    }

    [Fact]
    public async Task IngestAsync_ChildrenWhoseRowsAreInterleaved_WritesEachChildsIdentityAndStagingRowOnceFromTheFile()
    {
        // 150 children, three services each, the rows in round-robin order (no two rows of a child within 150 rows of each other);
        // each child's last row moves it to a new street address.
        const int Children = 150, RowsEach = 3;
        var file = new StringBuilder(Header).Append('\n');
        for (var round = 0; round < RowsEach; round++)
        {
            for (var child = 0; child < Children; child++)
            {
                var street = round == RowsEach - 1 ? "9 New Road" : "1 Old Lane";
                file.Append(System.Globalization.CultureInfo.InvariantCulture,
                    $"C{child},First{child},Last{child},2015-{1 + child % 12:D2}-{1 + child % 28:D2},F,5,12345,Program{round},2026-0{1 + round}-01,2026-0{1 + round}-20,{child} {street}\n");
            }
        }

        var blob = await _storage.UploadAsync($"{IngestionHarness.ProviderId}/interleaved.csv", Encoding.UTF8.GetBytes(file.ToString()));
        var manifest = await _services.GetRequiredService<IngestionService>().IngestAsync(blob);

        Assert.Equal(UploadStatus.Completed, manifest.Status);
        // Identities: one row a child from the file, and the linker's final key and rule merged into it.
        Assert.Equal(Children + Children, _counter.OperationsOn(_storage.Options.TablePrefix + TableNames.Identities));
        // Staging: a child's services packed in one row, one row a child from the file, one a child with the linker's final key.
        Assert.Equal(Children + Children + Children, _counter.OperationsOn(_storage.Options.TablePrefix + TableNames.UploadStaging));

        // What was written once is what writing every row in turn would have left: the last row's address.
        var identities = await _storage.ReadAllAsync(TableNames.Identities);
        Assert.Equal(Children, identities.Count);
        Assert.All(identities, i => Assert.EndsWith("9 New Road", i.GetString("StreetAddress"), StringComparison.Ordinal));

        // Every service reached its child's record, once.
        var records = await _storage.ReadAllAsync(TableNames.Records);
        Assert.Equal(Children, records.Count);
        Assert.All(records, r => Assert.Equal(["Program0", "Program1", "Program2"],
            StoredService.Deserialize(r.GetString("Services")).Select(s => s.Program).Order(StringComparer.Ordinal)));
    }

    /// <summary>Counts the operations of each table in the entity group transactions sent (one request line per operation).</summary>
    private sealed class TransactionOperationCounter : HttpPipelineSynchronousPolicy
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

        public int OperationsOn(string physicalTable) =>
            _lines.Count(l => l.Contains("/" + physicalTable + "(", StringComparison.Ordinal) || l.Contains("/" + physicalTable + " ", StringComparison.Ordinal));

        public override void OnSendingRequest(HttpMessage message)
        {
            if (message.Request.Method != RequestMethod.Post || !message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) ||
                message.Request.Content is not { } content)
            {
                return;
            }

            using var body = new MemoryStream();
            content.WriteTo(body, default);
            foreach (var line in Encoding.UTF8.GetString(body.ToArray()).Split('\n'))
            {
                if (line.StartsWith("PATCH ", StringComparison.Ordinal) || line.StartsWith("PUT ", StringComparison.Ordinal) ||
                    line.StartsWith("POST ", StringComparison.Ordinal) || line.StartsWith("DELETE ", StringComparison.Ordinal) ||
                    line.StartsWith("MERGE ", StringComparison.Ordinal))
                {
                    _lines.Enqueue(line);
                }
            }
        }
    }
}

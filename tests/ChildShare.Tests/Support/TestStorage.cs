using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Options;

namespace ChildShare.Tests.Support;

/// <summary>
/// A private corner of the Azurite account for one test class: tables with a unique prefix and
/// containers with unique names, created before and deleted after, so tests run in parallel
/// against one Azurite without seeing each other. Real blob and table protocol, never a fake.
/// </summary>
public sealed class TestStorage : IAsyncLifetime
{
    /// <summary>
    /// CHILDSHARE_TEST_STORAGE when it names a storage connection string (tests/run-tests.sh exports
    /// the one of the Azurite it started), else Azurite on the ports of CHILDSHARE_AZURITE_PORT (the
    /// one setting the scripts and the command line read; default 10000-10002).
    /// </summary>
    public static readonly string ConnectionString =
        Environment.GetEnvironmentVariable("CHILDSHARE_TEST_STORAGE") is { Length: > 0 } custom ? custom : ChildShare.Cli.CliHost.EmulatorConnectionString();

    public TestStorage()
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        Options = new StorageOptions
        {
            TablePrefix = "t" + id,
            UploadsContainer = "uploads-" + id,
            RejectsContainer = "rejects-" + id,
            ExportsContainer = "exports-" + id,
            LocksContainer = "locks-" + id,
            DisclosuresContainer = "disclosures-" + id,
        };
        Tables = new TableServiceClient(ConnectionString, WithAzureLimits(new TableClientOptions()));
        Blobs = new BlobServiceClient(ConnectionString);
        Storage = new ChildShareStorage(Tables, Blobs, Microsoft.Extensions.Options.Options.Create(Options));
    }

    public StorageOptions Options { get; }

    public TableServiceClient Tables { get; }

    public BlobServiceClient Blobs { get; }

    public ChildShareStorage Storage { get; }

    /// <summary>The application's storage over this corner, with <paramref name="policy"/> in the table pipeline (to count the table requests sent).</summary>
    public ChildShareStorage StorageWithTablePolicy(HttpPipelinePolicy policy)
    {
        var options = WithAzureLimits(new TableClientOptions());
        options.AddPolicy(policy, HttpPipelinePosition.PerCall);
        return new ChildShareStorage(new TableServiceClient(ConnectionString, options), Blobs, Microsoft.Extensions.Options.Options.Create(Options));
    }

    /// <summary>Client options whose pipeline holds every request to Azure's table limits (<see cref="AzureTableLimits"/>): Azurite does not.</summary>
    public static TableClientOptions WithAzureLimits(TableClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AddPolicy(new AzureTableLimits(), HttpPipelinePosition.PerCall);
        return options;
    }

    /// <summary>The settings that point the application's own DI wiring at this corner of Azurite.</summary>
    public IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        new("ChildShareStorage", ConnectionString),
        new("Storage:TablePrefix", Options.TablePrefix),
        new("Storage:UploadsContainer", Options.UploadsContainer),
        new("Storage:RejectsContainer", Options.RejectsContainer),
        new("Storage:ExportsContainer", Options.ExportsContainer),
        new("Storage:LocksContainer", Options.LocksContainer),
        new("Storage:DisclosuresContainer", Options.DisclosuresContainer),
    ];

    public async Task InitializeAsync() => await Storage.EnsureCreatedAsync();

    public async Task DisposeAsync()
    {
        await foreach (var table in Tables.QueryAsync(t => t.Name.CompareTo(Options.TablePrefix) >= 0 && t.Name.CompareTo(Options.TablePrefix + "~") < 0))
        {
            await Tables.DeleteTableAsync(table.Name);
        }

        foreach (var container in new[] { Options.UploadsContainer, Options.RejectsContainer, Options.ExportsContainer, Options.LocksContainer, Options.DisclosuresContainer })
        {
            await Blobs.GetBlobContainerClient(container).DeleteIfExistsAsync();
        }
    }

    /// <summary>Uploads text as a provider file and returns its blob client.</summary>
    public async Task<BlobClient> UploadAsync(string blobName, byte[] content)
    {
        var blob = Storage.Uploads.GetBlobClient(blobName);
        await blob.UploadAsync(new BinaryData(content), overwrite: true);
        return blob;
    }

    public async Task<List<TableEntity>> ReadAllAsync(string logicalTable)
    {
        var entities = new List<TableEntity>();
        await foreach (var entity in Storage.Table(logicalTable).QueryAsync<TableEntity>())
        {
            entities.Add(entity);
        }

        return entities;
    }
}

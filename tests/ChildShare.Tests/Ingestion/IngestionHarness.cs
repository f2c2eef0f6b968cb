using System.Text;
using ChildShare.Core.Ingestion;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.Ingestion;

/// <summary>A registered provider with a profile, on a private corner of Azurite, ready to ingest uploads.</summary>
public sealed class IngestionHarness : IAsyncLifetime
{
    public const string ProviderId = "test-district";

    public const string DefaultProfile = """
        {
          "dateFormats": ["yyyy-MM-dd", "MM/dd/yyyy"],
          "columns": {
            "Id": "LocalChildId", "First": "FirstName", "Last": "LastName", "DOB": "BirthDate", "Sex": "Sex",
            "Race": "Race", "Zip": "Zip", "Grade": "Grade", "Program": "Program", "Start": "ServiceStart", "End": "ServiceEnd",
            "Address": "StreetAddress"
          },
          "codeMaps": { "Race": { "4": "NativeHawaiianOrOtherPacificIslander", "5": "White" } }
        }
        """;

    public TestStorage Storage { get; } = new();

    public FakeTimeProvider Time { get; } = new(TestApp.Now);

    public ServiceProvider Services { get; private set; } = null!;

    public IngestionService Ingestion => Services.GetRequiredService<IngestionService>();

    public ProviderRegistry Providers => Services.GetRequiredService<ProviderRegistry>();

    public async Task InitializeAsync()
    {
        await Storage.InitializeAsync();
        Services = TestApp.Build(Storage, Time, [new("Ingestion:MaxAttempts", "2")]);
        await Providers.RegisterAsync(ProviderId, "Test District", "SchoolDistrict");
        await Providers.SaveProfileAsync(ProviderId, DefaultProfile);
    }

    public async Task DisposeAsync()
    {
        await Services.DisposeAsync();
        await Storage.DisposeAsync();
    }

    public Task<UploadManifest> IngestTextAsync(string blobName, string content, Encoding? encoding = null) =>
        IngestBytesAsync(blobName, (encoding ?? new UTF8Encoding(false)).GetBytes(content));

    public async Task<UploadManifest> IngestBytesAsync(string blobName, byte[] content)
    {
        var blob = await Storage.UploadAsync(blobName, content);
        return await Ingestion.IngestAsync(blob);
    }
}

using ChildShare.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChildShare.Cli;

/// <summary>
/// The command line's services: the same registrations as the function app, configured from
/// environment variables with the app settings' names (<c>ChildShareStorage</c>,
/// <c>Pseudonymization__KeySource</c>...). With nothing set, it targets Azurite (on the ports of
/// <c>CHILDSHARE_AZURITE_PORT</c>, default 10000) with the development key of <c>local.settings.sample.json</c>.
/// </summary>
public static class CliHost
{
    /// <summary>The development key: for Azurite and sample data only, never for real children.</summary>
    public const string DevelopmentKey = "bG9jYWwtZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcmVhbC1kYXRhLTAwMDA=";

    /// <summary>The one setting of the local emulator's ports: the blob port, queue and table on the next two (default 10000). Read by the scripts too.</summary>
    public const string EmulatorPortVariable = "CHILDSHARE_AZURITE_PORT";

    /// <summary>Azurite on the ports of <see cref="EmulatorPortVariable"/>, or on its default ports (10000-10002).</summary>
    public static string EmulatorConnectionString()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(EmulatorPortVariable), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var blob)
            || blob is < 1 or > 65533)
        {
            return "UseDevelopmentStorage=true";
        }

        // Azurite's published development account; the same string infra/local/azurite.sh exports.
        return "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
            + string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{blob + 1}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{blob + 2}/devstoreaccount1;");
    }

    /// <summary>The settings: development defaults, then environment variables, then <paramref name="overrides"/>.</summary>
    public static IConfiguration Configuration(IEnumerable<KeyValuePair<string, string?>>? overrides = null)
    {
        // Azurite by default, unless the environment names identity-based storage (…__blobServiceUri).
        var identityBasedStorage = Environment.GetEnvironmentVariable("ChildShareStorage__blobServiceUri") is { Length: > 0 };
        return new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ChildShareStorage"] = identityBasedStorage ? null : EmulatorConnectionString(),
                ["Pseudonymization:KeySource"] = "Settings",
                ["Pseudonymization:LocalKey"] = DevelopmentKey,
                ["Pseudonymization:LocalKeyVersion"] = "local-dev-1",
                ["Consent:ExpirySchedule"] = "0 0 * * * *",
            })
            .AddEnvironmentVariables()
            .AddInMemoryCollection(overrides ?? [])
            .Build();
    }

    public static ServiceProvider Build(
        IEnumerable<KeyValuePair<string, string?>>? overrides = null, LogLevel logLevel = LogLevel.Warning, Action<IServiceCollection>? configure = null)
    {
        var configuration = Configuration(overrides);
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(logLevel));
        configure?.Invoke(services);
        services.AddChildShareCore(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }
}

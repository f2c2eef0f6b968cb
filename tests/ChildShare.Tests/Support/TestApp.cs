using Azure.Core;
using Azure.Data.Tables;
using ChildShare.Cli;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.Support;

/// <summary>
/// The application's own DI wiring (the same registrations the function app makes), pointed at a
/// <see cref="TestStorage"/>, with a fake clock and a development key.
/// </summary>
public static class TestApp
{
    /// <summary>The fixed "now" of tests: 2026-10-15 12:00 UTC unless a test moves the clock.</summary>
    public static readonly DateTimeOffset Now = new(2026, 10, 15, 12, 0, 0, TimeSpan.Zero);

    public static ServiceProvider Build(TestStorage storage, FakeTimeProvider? time = null, IEnumerable<KeyValuePair<string, string?>>? settings = null,
        Action<IServiceCollection>? configure = null)
    {
        var clock = time ?? new FakeTimeProvider(Now);
        var overrides = storage.Settings.Concat(settings ?? []);
        return CliHost.Build(overrides, LogLevel.Warning, services =>
        {
            services.AddSingleton<TimeProvider>(clock);

            // The app's own storage clients from its settings, with Azure's table limits in the pipeline (Azurite does not hold to them).
            services.AddSingleton(sp =>
            {
                var (tables, blobs) = StorageClientFactory.Create(sp.GetRequiredService<IConfiguration>(), TestStorage.WithAzureLimits(new TableClientOptions()),
                    sp.GetService<TokenCredential>());
                return new ChildShareStorage(tables, blobs, sp.GetRequiredService<IOptions<StorageOptions>>());
            });
            configure?.Invoke(services);
        });
    }
}

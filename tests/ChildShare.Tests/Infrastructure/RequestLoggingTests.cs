using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace ChildShare.Tests.Infrastructure;

/// <summary>
/// An API key passed as <c>?api-key=</c> (what Power Query's <c>ApiKeyName</c> sends) must not reach a
/// log. The worker is an ASP.NET Core server (ConfigureFunctionsWebApplication); these tests run a
/// request through the same ASP.NET Core hosting with the worker's logging filters and read every
/// record any logger wrote.
/// </summary>
public sealed partial class RequestLoggingTests
{
    private const string Key = "csk_0123456789abcdef_ThisIsNotARealSecretButShapedLikeOne0000000";

    private static async Task<IReadOnlyList<FakeLogRecord>> LogsOfOneRequestAsync(bool workerFilters)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Trace).AddFakeLogging();
        if (workerFilters)
        {
            builder.Logging.AddRequestLogFilters();
        }

        await using var app = builder.Build();
        app.MapGet("/api/reports/aggregate", (ILogger<RequestLoggingTests> logger) =>
        {
            ReportServed(logger);
            return "ok";
        });
        await app.StartAsync();
        using (var client = app.GetTestClient())
        {
            using var response = await client.GetAsync(new Uri($"/api/reports/aggregate?from=2026-09-01&api-key={Key}", UriKind.Relative));
            response.EnsureSuccessStatusCode();
        }

        await app.StopAsync();
        return app.Services.GetRequiredService<FakeLogCollector>().GetSnapshot();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Report served")]
    private static partial void ReportServed(ILogger logger);

    private static bool MentionsKey(FakeLogRecord record) =>
        record.Message.Contains(Key, StringComparison.Ordinal)
        || record.StructuredState?.Any(p => p.Value?.Contains(Key, StringComparison.Ordinal) == true) == true;

    [Fact]
    public async Task Request_ApiKeyInQuery_InNoWorkerLog()
    {
        var logs = await LogsOfOneRequestAsync(workerFilters: true);

        Assert.DoesNotContain(logs, MentionsKey);
        Assert.Contains(logs, r => r.Message == "Report served"); // the app's own logs still flow
    }

    [Fact]
    public async Task Request_WithoutTheWorkerFilters_AspNetCoreLogsTheKey()
    {
        // Why the filters exist: ASP.NET Core's request logging writes the whole URL, query string included.
        var logs = await LogsOfOneRequestAsync(workerFilters: false);

        Assert.Contains(logs, r => MentionsKey(r) && r.Category!.StartsWith(RequestLogFilters.AspNetCoreCategory, StringComparison.Ordinal));
    }
}

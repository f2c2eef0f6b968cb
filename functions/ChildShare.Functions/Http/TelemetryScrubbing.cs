using System.Text.RegularExpressions;
using Azure.Identity;
using ChildShare.Functions.Hosting;
using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.ApplicationInsights.Extensibility;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Functions.Http;

/// <summary>
/// The worker's Application Insights telemetry, on exactly when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c>
/// is set (the template sets it; locally it is empty, and nothing is sent). Every URL the worker's telemetry
/// carries (request URLs and names, dependency data and names: storage, Key Vault, any HTTP call, and any
/// property holding a URL) goes through <see cref="ScrubUrl(string)"/> before it leaves the process: no query
/// string (so no <c>api-key</c>, Functions <c>code</c>, SAS <c>sig</c> or any other parameter value) and no
/// path segment other than the app's own route words (so no upload, consent or parent-link id, no blob name,
/// no table key). The host's own request telemetry already drops the query string (infra/DEPLOY.md).
/// </summary>
public static partial class TelemetryScrubbing
{
    /// <summary>The setting that turns telemetry on (as the Functions host reads it).</summary>
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary><c>Authorization=AAD</c> (optionally <c>;ClientId=...</c>): send with the app's managed identity, as the host does (the component's local auth is off).</summary>
    public const string AuthenticationStringSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>What a path segment that is not a route word becomes.</summary>
    public const string Redacted = "{id}";

    private static readonly Lazy<HashSet<string>> RouteWords = new(() =>
    {
        var words = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { FunctionCatalog.RoutePrefix };
        foreach (var function in FunctionCatalog.Http)
        {
            words.UnionWith(function.Route.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => !s.StartsWith('{')));
        }

        return words;
    });

    /// <summary>Adds the worker's Application Insights telemetry with the URL scrubber, when the connection string is set.</summary>
    public static IServiceCollection AddChildShareTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var connectionString = configuration[ConnectionStringSetting];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return services;
        }

        services.AddApplicationInsightsTelemetryWorkerService(options => options.ConnectionString = connectionString);
        services.ConfigureFunctionsApplicationInsights();
        // A processor, not an initializer: it runs after every initializer (the SDK's own parsers add blob and table names as properties).
        services.AddApplicationInsightsTelemetryProcessor<ScrubTelemetryUrls>();
        if (ManagedIdentity(configuration[AuthenticationStringSetting]) is { } identity)
        {
            services.Configure<TelemetryConfiguration>(telemetry => telemetry.SetAzureTokenCredential(new ManagedIdentityCredential(identity)));
        }

        return services;
    }

    /// <summary>The identity an authentication string names: system-assigned for <c>Authorization=AAD</c>, a user-assigned one with <c>ClientId=</c>; null without <c>AAD</c>.</summary>
    public static ManagedIdentityId? ManagedIdentity(string? authenticationString)
    {
        var parts = (authenticationString ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var authorization) || !string.Equals(authorization, "AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return parts.TryGetValue("ClientId", out var clientId) && clientId.Length > 0 ? ManagedIdentityId.FromUserAssignedClientId(clientId) : ManagedIdentityId.SystemAssigned;
    }

    /// <summary>
    /// A URL as telemetry may keep it: scheme, host, port and the path with every segment that is not one of
    /// the app's route words replaced by <see cref="Redacted"/>; no query, no fragment, no user info. Text that
    /// is not an absolute URL is returned as it is, except a path (starting with <c>/</c>), which is scrubbed alike.
    /// </summary>
    public static string ScrubUrl(string url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return url;
        }

        if (url.StartsWith('/'))
        {
            return ScrubPath(url);
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return url;
        }

        return $"{uri.Scheme}://{uri.Authority}{ScrubPath(uri.AbsolutePath)}";
    }

    /// <summary>Free text (a property, a dependency's data) with every http(s) URL in it scrubbed.</summary>
    public static string ScrubText(string text) =>
        string.IsNullOrEmpty(text) ? text : text.StartsWith('/') ? ScrubPath(text) : EmbeddedUrl().Replace(text, m => ScrubUrl(m.Value));

    [GeneratedRegex(@"https?://[^\s""'<>]+", RegexOptions.IgnoreCase)]
    private static partial Regex EmbeddedUrl();

    /// <summary>A request or dependency name (<c>GET /api/uploads/0123...</c>): its method kept, its path scrubbed.</summary>
    public static string ScrubName(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return name;
        }

        // "GET /api/uploads/0123", or the SDK's "PUT account/container/blob": whatever follows the method is a URL or a path.
        var space = name.IndexOf(' ', StringComparison.Ordinal);
        return space > 0 && space < name.Length - 1 ? name[..space] + " " + ScrubPathOrUrl(name[(space + 1)..]) : ScrubPathOrUrl(name);
    }

    private static string ScrubPathOrUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? ScrubUrl(text) : ScrubPath(text);

    private static string ScrubPath(string path)
    {
        var end = path.IndexOfAny(['?', '#']);
        var segments = (end < 0 ? path : path[..end]).Split('/');
        return string.Join('/', segments.Select(s => s.Length == 0 || RouteWords.Value.Contains(s) ? s : Redacted));
    }
}

/// <summary>
/// Scrubs every telemetry item of the worker before it is sent: request and dependency URLs and names
/// (<see cref="TelemetryScrubbing.ScrubUrl(string)"/>), any property holding a URL, and the names the SDK's
/// storage parsers copy out of a URL into properties (the blob's name; table and queue keys).
/// </summary>
public sealed class ScrubTelemetryUrls(ITelemetryProcessor next) : ITelemetryProcessor
{
    /// <summary>Properties the Application Insights storage parsers fill from a URL's path, which can name a file or a key.</summary>
    public static readonly IReadOnlySet<string> PathProperties = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "Blob", "PartitionKey", "RowKey", "Entity", "Message" };

    public void Process(ITelemetry item)
    {
        Scrub(item);
        next.Process(item);
    }

    public static void Scrub(ITelemetry telemetry)
    {
        switch (telemetry)
        {
            case RequestTelemetry request:
                request.Url = request.Url is null ? null : new Uri(TelemetryScrubbing.ScrubUrl(request.Url.ToString()));
                request.Name = TelemetryScrubbing.ScrubName(request.Name);
                break;
            case DependencyTelemetry dependency:
                dependency.Data = TelemetryScrubbing.ScrubText(dependency.Data);
                dependency.Name = TelemetryScrubbing.ScrubName(dependency.Name);
                break;
        }

        if (telemetry is ISupportProperties { Properties: { } properties })
        {
            foreach (var (key, value) in properties.ToList())
            {
                if (PathProperties.Contains(key))
                {
                    properties[key] = TelemetryScrubbing.Redacted;
                }
                else if (value is not null && value.Contains("://", StringComparison.Ordinal))
                {
                    properties[key] = TelemetryScrubbing.ScrubText(value);
                }
            }
        }
    }
}

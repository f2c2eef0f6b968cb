using ChildShare.Core.Callers;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Mvc;

namespace ChildShare.Functions.Http;

/// <summary>
/// Reads a request's credentials, query and paging links. HTTP triggers are anonymous at the
/// Functions level (and App Service Authentication lets unauthenticated requests through) so Power BI
/// can call them with an API key alone; <see cref="HttpPipeline"/> resolves the caller from
/// <see cref="CredentialsOf"/> and refuses every request without one (401) before the function runs.
/// </summary>
public static class HttpCallers
{
    public static PresentedCredentials CredentialsOf(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);

        // A credential given twice is joined with a comma, which no key or principal reads as: refused, never guessed between.
        static string? Value(Microsoft.Extensions.Primitives.StringValues values) => values.Count > 0 ? values.ToString() : null;
        return new PresentedCredentials(
            Value(request.Headers[ClientPrincipal.HeaderName]),
            Value(request.Headers[CallerResolver.ApiKeyHeaderName]),
            Value(request.Query[CallerResolver.ApiKeyQueryName]));
    }

    /// <summary>The query string as one value per parameter name (case-insensitive; repeated names joined with commas).</summary>
    public static Dictionary<string, string?> QueryParameters(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Query.GroupBy(q => q.Key, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => (string?)string.Join(',', g.SelectMany(q => q.Value).Where(v => !string.IsNullOrEmpty(v))), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The next page's absolute URL: the same query with <c>$skip</c> moved on, and never the API key.</summary>
    public static string NextLink(HttpRequest request, int skip)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = new QueryBuilder();
        foreach (var (key, values) in request.Query)
        {
            if (string.Equals(key, CallerResolver.ApiKeyQueryName, StringComparison.OrdinalIgnoreCase) || string.Equals(key, "$skip", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var value in values)
            {
                query.Add(key, value ?? "");
            }
        }

        query.Add("$skip", skip.ToString(CultureInfo.InvariantCulture));
        return UriHelper.BuildAbsolute(request.Scheme, request.Host, request.PathBase, request.Path, query.ToQueryString());
    }
}

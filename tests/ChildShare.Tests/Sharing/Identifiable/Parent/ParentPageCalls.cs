using ChildShare.Core.Sharing.Identifiable.Parent;
using ChildShare.Functions.Consent;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace ChildShare.Tests.Sharing.Identifiable.Parent;

/// <summary>A parent page's answer: status, HTML and the response headers.</summary>
public sealed record PageAnswer(int Status, string Html, IHeaderDictionary Headers)
{
    public string Header(string name) => Headers[name].ToString();
}

/// <summary>Calls the parent page function class as the host would (DefaultHttpContext), from one client address.</summary>
public sealed class ParentPageCalls(IServiceProvider services)
{
    public ParentPage Page { get; } = ActivatorUtilities.CreateInstance<ParentPage>(services);

    public static string TokenOf(string url) => url[(url.LastIndexOf('=') + 1)..];

    public Task<PageAnswer> GetAsync(string token, string? query = null, string? acceptLanguage = null, string client = "203.0.113.7") =>
        CallAsync("GET", "/api/parent", Query(token, query), null, acceptLanguage, client, null, r => Page.ViewAsync(r, CancellationToken.None));

    /// <summary>The query of a page request: the token as the link carries it, then <paramref name="more"/> (<c>?a=b</c> or <c>a=b</c>).</summary>
    private static string Query(string token, string? more) =>
        "?link=" + Uri.EscapeDataString(token) + (string.IsNullOrEmpty(more) ? "" : "&" + more.TrimStart('?'));

    public Task<PageAnswer> PostAsync(string token, string action, string? formToken, string client = "203.0.113.7", string? userAgent = "Mozilla/5.0 (Test)",
        Dictionary<string, string>? headers = null) =>
        CallAsync("POST", $"/api/parent/{action}", Query(token, null), new Dictionary<string, StringValues> { ["form"] = formToken ?? "", ["lang"] = "en" }, null, client, userAgent,
            r => action == "revoke" ? Page.RevokeAsync(r, CancellationToken.None) : Page.ConfirmAsync(r, CancellationToken.None), headers);

    /// <summary>The form token a rendered page carries for <paramref name="action"/> (its hidden <c>form</c> field).</summary>
    public static string FormTokenIn(string html, string action)
    {
        var at = html.IndexOf($"/{action}?link=", StringComparison.Ordinal);
        Assert.True(at > 0, $"The page has no {action} form.");
        const string marker = "name=\"form\" value=\"";
        var start = html.IndexOf(marker, at, StringComparison.Ordinal) + marker.Length;
        return html[start..html.IndexOf('"', start)];
    }

    private static IHeaderDictionary WithContentType(HttpContext context, string? contentType)
    {
        // The result is not executed here: its declared content type is the response's.
        context.Response.ContentType = contentType;
        return context.Response.Headers;
    }

    private static async Task<PageAnswer> CallAsync(string method, string path, string? query, Dictionary<string, StringValues>? form, string? acceptLanguage,
        string client, string? userAgent, Func<HttpRequest, Task<IActionResult>> function, Dictionary<string, string>? headers = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("childshare.example.org");
        context.Request.Path = path;
        context.Request.Headers["X-Forwarded-For"] = client;
        if (query is not null)
        {
            context.Request.QueryString = new QueryString(query);
        }

        if (acceptLanguage is not null)
        {
            context.Request.Headers.AcceptLanguage = acceptLanguage;
        }

        if (userAgent is not null)
        {
            context.Request.Headers.UserAgent = userAgent;
        }

        foreach (var (name, value) in headers ?? [])
        {
            context.Request.Headers[name] = value;
        }

        if (form is not null)
        {
            context.Request.ContentType = "application/x-www-form-urlencoded";
            context.Request.Form = new FormCollection(form);
        }

        var result = await function(context.Request);
        return result switch
        {
            ContentResult content => new PageAnswer(content.StatusCode ?? 200, content.Content ?? "", WithContentType(context, content.ContentType)),
            StatusCodeResult code => new PageAnswer(code.StatusCode, "", context.Response.Headers),
            _ => throw new InvalidOperationException("Unexpected result " + result.GetType().Name),
        };
    }
}

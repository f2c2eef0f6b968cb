using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace ChildShare.Functions.Http;

/// <summary>The one reader of JSON request bodies: a body that does not parse is a 400 problem that never quotes it.</summary>
public static class JsonBodies
{
    /// <summary>camelCase, enums by name (case-insensitive): the wire format of every body.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);

    public static async Task<(T? Value, IActionResult? Invalid)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, Options, cancellationToken);
            return value is null ? (null, Problems.BadRequest("The request body is empty.")) : (value, null);
        }
        catch (JsonException)
        {
            // The parser's message can quote the body, which may hold a child's local id or a parent's name: it is not echoed.
            return (null, Problems.BadRequest($"The request body is not valid JSON for {typeof(T).Name}."));
        }
    }
}

using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ChildShare.Functions.Http;

/// <summary>A request body that is empty or does not parse: <see cref="HttpPipeline"/> answers it with a 400 problem.</summary>
public sealed class InvalidRequestBodyException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The one reader of JSON request bodies: a body that does not parse is a 400 problem that never quotes it.</summary>
public static class JsonBodies
{
    /// <summary>camelCase, enums by name (case-insensitive): the wire format of every body.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>The body as a <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidRequestBodyException">The body is empty or not valid JSON for <typeparamref name="T"/>; the message names the type only.</exception>
    public static async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        T? value;
        try
        {
            value = await JsonSerializer.DeserializeAsync<T>(request.Body, Options, cancellationToken);
        }
        catch (JsonException ex)
        {
            // The parser's message can quote the body, which may hold a child's local id or a parent's name: it is not echoed.
            throw new InvalidRequestBodyException($"The request body is not valid JSON for {typeof(T).Name}.", ex);
        }

        return value ?? throw new InvalidRequestBodyException("The request body is empty.");
    }
}

using System.Text;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;

namespace ChildShare.Tests.Support;

/// <summary>
/// Holds every table request to the limits of Azure Table Storage, which Azurite does not enforce: a transaction of at most
/// 100 operations and 4 MiB of payload; an entity of at most 255 properties (its keys and timestamp included) and 1 MiB by
/// Azure's size formula; a string property of at most 64 KiB (32,768 UTF-16 characters); a key of at most 1 KiB. A request
/// past one fails before it is sent, with <see cref="AzureLimitException"/> naming the limit (never a value), as Azure would
/// refuse it. A transaction must also be of one partition and name each entity once (Azurite takes either). In the pipeline of every <see cref="TestStorage"/> table client, so every storage test also checks the limits.
/// </summary>
public sealed class AzureTableLimits : HttpPipelinePolicy
{
    public const int MaxTransactionOperations = 100;
    public const int MaxTransactionBytes = 4 * 1024 * 1024;
    public const int MaxEntityBytes = 1024 * 1024;
    public const int MaxProperties = 255;
    public const int MaxStringChars = 32 * 1024;
    public const int MaxKeyBytes = 1024;

    private static readonly string[] SystemProperties = ["PartitionKey", "RowKey", "Timestamp"];

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(message.Request);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(message.Request);
        return ProcessNextAsync(message, pipeline);
    }

    /// <summary>Throws when the request breaks one of Azure's table limits.</summary>
    public static void Check(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Content is null || request.Method == RequestMethod.Get)
        {
            return;
        }

        using var body = new MemoryStream();
        request.Content.WriteTo(body, CancellationToken.None);
        var text = Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
        if (request.Uri.Path.EndsWith("/$batch", StringComparison.Ordinal))
        {
            if (body.Length > MaxTransactionBytes)
            {
                throw new AzureLimitException($"a transaction's payload is {body.Length:N0} bytes, over Azure's {MaxTransactionBytes:N0}");
            }

            // Each operation's keys: from its URL, or (an insert, whose URL is the table's) from its JSON.
            var keys = new List<(string? PartitionKey, string? RowKey)>();
            foreach (var line in text.Split('\n'))
            {
                if (IsOperationLine(line))
                {
                    keys.Add(KeysOfUrl(line));
                }
                else if (line.TrimEnd('\r') is { Length: > 0 } json && json[0] == '{')
                {
                    CheckEntity(json);
                    if (keys.Count > 0 && keys[^1].PartitionKey is null)
                    {
                        keys[^1] = KeysOfJson(json);
                    }
                }
            }

            if (keys.Count > MaxTransactionOperations)
            {
                throw new AzureLimitException($"a transaction has {keys.Count} operations, over Azure's {MaxTransactionOperations}");
            }

            // Azure takes a transaction of one partition that names each entity once; Azurite takes either.
            if (keys.Select(k => k.PartitionKey).Distinct(StringComparer.Ordinal).Count() > 1)
            {
                throw new AzureLimitException("a transaction spans more than one partition");
            }

            if (keys.Select(k => k.RowKey).Distinct(StringComparer.Ordinal).Count() < keys.Count)
            {
                throw new AzureLimitException("a transaction names one entity more than once");
            }
        }
        else if (text.TrimStart() is { Length: > 0 } json && json[0] == '{' && !json.Contains("\"TableName\"", StringComparison.Ordinal))
        {
            CheckEntity(json);
        }
    }

    private static readonly System.Text.RegularExpressions.Regex UrlKeys =
        new(@"\(PartitionKey='((?:[^']|'')*)',RowKey='((?:[^']|'')*)'\)", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    // An operation's keys in its URL (quotes doubled, then percent-encoded), or none for an insert (POST to the table).
    private static (string? PartitionKey, string? RowKey) KeysOfUrl(string line)
    {
        var match = UrlKeys.Match(line);
        return match.Success ? (UrlKey(match.Groups[1].Value), UrlKey(match.Groups[2].Value)) : (null, null);

        static string UrlKey(string text) => Uri.UnescapeDataString(text).Replace("''", "'", StringComparison.Ordinal);
    }

    private static (string? PartitionKey, string? RowKey) KeysOfJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return (root.TryGetProperty("PartitionKey", out var pk) ? pk.GetString() : null, root.TryGetProperty("RowKey", out var rk) ? rk.GetString() : null);
    }

    // A changeset part's request line: "PATCH http://.../t(PartitionKey='p',RowKey='r') HTTP/1.1".
    private static bool IsOperationLine(string line) =>
        line.EndsWith(" HTTP/1.1", StringComparison.Ordinal) || line.EndsWith(" HTTP/1.1\r", StringComparison.Ordinal);

    /// <summary>Throws when an entity (its JSON as the SDK sends it) breaks a limit; returns its size by Azure's formula.</summary>
    public static long CheckEntity(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name.EndsWith("@odata.type", StringComparison.Ordinal))
            {
                types[property.Name[..^"@odata.type".Length]] = property.Value.GetString() ?? "";
            }
        }

        // Azure's formula: 4 bytes, the keys at 2 bytes a character, and per property 8 bytes, its name at 2 bytes a character and its value.
        long size = 4;
        var properties = SystemProperties.Length;
        foreach (var property in root.EnumerateObject())
        {
            var name = property.Name;
            if (name.Contains('@', StringComparison.Ordinal))
            {
                continue;
            }

            if (name is "PartitionKey" or "RowKey")
            {
                var key = property.Value.GetString() ?? "";
                if (key.Length * 2 > MaxKeyBytes)
                {
                    throw new AzureLimitException($"the {name} is {key.Length:N0} characters, over Azure's {MaxKeyBytes:N0} bytes");
                }

                size += key.Length * 2;
                continue;
            }

            if (name == "Timestamp")
            {
                continue;
            }

            properties++;
            size += 8 + name.Length * 2 + ValueSize(property.Value, types.GetValueOrDefault(name), name);
        }

        if (properties > MaxProperties)
        {
            throw new AzureLimitException($"an entity has {properties} properties, over Azure's {MaxProperties}");
        }

        if (size > MaxEntityBytes)
        {
            throw new AzureLimitException($"an entity is {size:N0} bytes by Azure's formula, over its {MaxEntityBytes:N0}");
        }

        return size;
    }

    private static long ValueSize(JsonElement value, string? type, string name)
    {
        switch (type)
        {
            case "Edm.Binary":
                var bytes = (value.GetString() ?? "").Length * 3 / 4;
                if (bytes > 64 * 1024)
                {
                    throw new AzureLimitException($"the binary property {name} is {bytes:N0} bytes, over Azure's 65,536");
                }

                return bytes + 4;
            case "Edm.DateTime" or "Edm.Int64":
                return 8;
            case "Edm.Guid":
                return 16;
            case "Edm.Double":
                return 8;
            default:
                break;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                var chars = (value.GetString() ?? "").Length;
                if (chars > MaxStringChars)
                {
                    throw new AzureLimitException($"the string property {name} is {chars:N0} characters, over Azure's {MaxStringChars:N0}");
                }

                return chars * 2 + 4;
            case JsonValueKind.Number:
                return value.TryGetInt32(out _) ? 4 : 8;
            case JsonValueKind.True or JsonValueKind.False:
                return 1;
            default:
                return 0;
        }
    }
}

/// <summary>A request Azure Table Storage would refuse for one of its limits.</summary>
public sealed class AzureLimitException(string message) : Exception("Azure Table Storage would refuse this request: " + message);

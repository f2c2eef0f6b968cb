using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChildShare.Core.Storage;

/// <summary>
/// A service record as kept in a child's record row (JSON): short names, because a child may have
/// many. Dates are ISO; an empty end means still open, counted as active through <see cref="AsOf"/>,
/// the date of the upload that last reported it.
/// </summary>
public sealed record StoredService(
    [property: JsonPropertyName("k")] string Key,
    [property: JsonPropertyName("p")] string Program,
    [property: JsonPropertyName("t")] string ServiceType,
    [property: JsonPropertyName("s")] string Start,
    [property: JsonPropertyName("e")] string End,
    [property: JsonPropertyName("a")] string AsOf,
    [property: JsonPropertyName("u")] string UploadId,
    [property: JsonPropertyName("h")] double? Hours = null,
    [property: JsonPropertyName("n")] int? DaysAttended = null)
{
    private static readonly JsonSerializerOptions JsonOptions = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static string Serialize(IEnumerable<StoredService> services) => JsonSerializer.Serialize(services, JsonOptions);

    /// <summary>One service as a JSON object (an element of <see cref="Serialize(IEnumerable{StoredService})"/>'s array).</summary>
    public static string Serialize(StoredService service) => JsonSerializer.Serialize(service, JsonOptions);

    public static List<StoredService> Deserialize(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<List<StoredService>>(json, JsonOptions) ?? [];
}

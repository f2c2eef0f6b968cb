using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ChildShare.Core.Ingestion;

/// <summary>How a provider's re-upload treats that provider's earlier service records of the same children.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ReuploadPolicy>))]
public enum ReuploadPolicy
{
    /// <summary>Records with the same key are corrected in place; earlier records absent from the new file stay.</summary>
    Upsert,

    /// <summary>
    /// The file is the whole truth for every child it names: that child's service records from this
    /// provider's earlier uploads that the new file does not repeat are withdrawn. Children the
    /// file does not name are untouched.
    /// </summary>
    ReplaceChildServices,
}

/// <summary>
/// A provider's versioned mapping profile: which of its columns feed which canonical field, how it
/// writes dates, how its codes translate, and how its files are delimited and encoded. Stored as JSON.
/// </summary>
public sealed record MappingProfile
{
    public static readonly IReadOnlyList<string> SupportedEncodings = ["auto", "utf-8", "windows-1252"];

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
    };

    /// <summary>Set by the registry when the profile is saved; 1, 2, 3...</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Version { get; init; }

    /// <summary>"," or "\t"; null takes tab for .tsv files and comma otherwise.</summary>
    public string? Delimiter { get; init; }

    /// <summary>"auto" (UTF-8, falling back to Windows-1252 when the bytes are not UTF-8), "utf-8" or "windows-1252".</summary>
    public string Encoding { get; init; } = "auto";

    /// <summary>.NET exact date formats tried in order, for example "MM/dd/yyyy".</summary>
    public IReadOnlyList<string> DateFormats { get; init; } = ["yyyy-MM-dd"];

    /// <summary>Provider column name (matched case-insensitively after trimming) to canonical field.</summary>
    public IReadOnlyDictionary<string, CanonicalField> Columns { get; init; } = new Dictionary<string, CanonicalField>();

    /// <summary>Per canonical field (Sex, Race, Ethnicity, Grade, Program, ServiceType), provider code to canonical value.</summary>
    public IReadOnlyDictionary<CanonicalField, IReadOnlyDictionary<string, string>> CodeMaps { get; init; } =
        new Dictionary<CanonicalField, IReadOnlyDictionary<string, string>>();

    /// <summary>Separator of several race codes in one cell, for children reported with two or more races.</summary>
    public string MultiValueSeparator { get; init; } = ";";

    public ReuploadPolicy ReuploadPolicy { get; init; } = ReuploadPolicy.Upsert;

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>
    /// Parses and validates a profile; the exception lists every problem found. Each setting is read
    /// on its own (and each column and code map entry), so one bad value does not hide the others:
    /// a bad one is reported and left out, then the rest is validated as a whole.
    /// </summary>
    public static MappingProfile Parse(string json)
    {
        JsonObject document;
        try
        {
            document = JsonNode.Parse(json ?? "") as JsonObject ?? throw new ProfileValidationException(["The profile must be a JSON object: { \"columns\": { ... }, ... }."]);
        }
        catch (JsonException ex)
        {
            throw new ProfileValidationException([string.Create(CultureInfo.InvariantCulture,
                $"The profile is not valid JSON (line {ex.LineNumber + 1}, position {ex.BytePositionInLine + 1}).")]);
        }

        var errors = new List<string>();
        foreach (var (name, value) in document.ToList())
        {
            var setting = Settings.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
            if (setting is null)
            {
                errors.Add($"\"{name}\" is not a profile setting; the settings are {string.Join(", ", Settings.Select(p => p.Name))}.");
                document.Remove(name);
            }
            else if (setting.Name == "columns" && value is JsonObject columns)
            {
                foreach (var (column, field) in columns.ToList().Where(c => !IsCanonicalField(c.Value)))
                {
                    errors.Add($"columns: \"{column}\" maps to {field?.ToJsonString() ?? "null"}, which is not a canonical field ({string.Join(", ", Enum.GetNames<CanonicalField>())}).");
                    columns.Remove(column);
                }
            }
            else if (setting.Name == "codeMaps" && value is JsonObject maps)
            {
                foreach (var (field, map) in maps.ToList())
                {
                    if (!IsCanonicalField(JsonValue.Create(field)))
                    {
                        errors.Add($"codeMaps: \"{field}\" is not a canonical field.");
                        maps.Remove(field);
                    }
                    else if (map is not JsonObject codes || codes.Any(c => c.Value?.GetValueKind() != JsonValueKind.String))
                    {
                        errors.Add($"codeMaps.{field}: give an object of provider code to canonical value, both strings.");
                        maps.Remove(field);
                    }
                }
            }
            else if (!Reads(value, setting.Type))
            {
                errors.Add($"{setting.Name}: {setting.Expected}.");
                document.Remove(name);
            }
        }

        var profile = document.Deserialize<MappingProfile>(JsonOptions) ?? throw new ProfileValidationException(["The profile is empty."]);
        errors.AddRange(profile.Validate());
        return errors.Count == 0 ? profile : throw new ProfileValidationException(errors);
    }

    /// <summary>The settings a profile may hold: JSON name, type, and what a value must be.</summary>
    private static readonly IReadOnlyList<ProfileSetting> Settings = typeof(MappingProfile)
        .GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance).Where(p => p.SetMethod is not null)
        .Select(p => new ProfileSetting(JsonNamingPolicy.CamelCase.ConvertName(p.Name), p.PropertyType, Expected(p.PropertyType))).ToList();

    private sealed record ProfileSetting(string Name, Type Type, string Expected);

    private static string Expected(Type type) =>
        type == typeof(string) ? "give a string"
        : type == typeof(int) ? "give a whole number"
        : type.IsEnum ? $"give one of {string.Join(", ", Enum.GetNames(type))}"
        : type == typeof(IReadOnlyList<string>) ? "give a list of strings"
        : "give an object";

    private static bool Reads(JsonNode? value, Type type)
    {
        try
        {
            _ = value?.Deserialize(type, JsonOptions);
            return !(type.IsEnum && value?.GetValueKind() != JsonValueKind.String);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsCanonicalField(JsonNode? value) =>
        value?.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is var text
        && !text.Any(char.IsAsciiDigit) && Enum.TryParse<CanonicalField>(text, ignoreCase: true, out _);

    /// <summary>Every problem with this profile, in words a provider's data manager can act on.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Delimiter is not null && Delimiter is not ("," or "\t" or ";" or "|"))
        {
            errors.Add("delimiter must be \",\", \"\\t\", \";\" or \"|\".");
        }

        if (!SupportedEncodings.Contains(Encoding, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"encoding must be one of {string.Join(", ", SupportedEncodings)}.");
        }

        if (DateFormats.Count == 0)
        {
            errors.Add("dateFormats needs at least one format.");
        }

        foreach (var format in DateFormats)
        {
            if (!IsUsableDateFormat(format))
            {
                errors.Add($"dateFormats: \"{format}\" is not a date format with year, month and day.");
            }
        }

        var fieldsMapped = Columns.GroupBy(c => c.Value).ToDictionary(g => g.Key, g => g.Count());
        foreach (var (field, count) in fieldsMapped.Where(f => f.Value > 1))
        {
            errors.Add($"columns: {count} columns map to {field}; map each field from one column.");
        }

        var columnNames = Columns.Keys.Select(k => k.Trim()).GroupBy(k => k, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1);
        foreach (var duplicate in columnNames)
        {
            errors.Add($"columns: column \"{duplicate.Key}\" is listed more than once.");
        }

        if (!fieldsMapped.ContainsKey(CanonicalField.LocalChildId))
        {
            errors.Add("columns: no column maps to LocalChildId, which is required.");
        }

        if (!fieldsMapped.ContainsKey(CanonicalField.BirthDate))
        {
            errors.Add("columns: no column maps to BirthDate, which is required.");
        }

        var hasSplitName = fieldsMapped.ContainsKey(CanonicalField.FirstName) && fieldsMapped.ContainsKey(CanonicalField.LastName);
        if (!hasSplitName && !fieldsMapped.ContainsKey(CanonicalField.FullName))
        {
            errors.Add("columns: map FirstName and LastName, or FullName.");
        }

        if (fieldsMapped.ContainsKey(CanonicalField.ServiceStart)
            && !fieldsMapped.ContainsKey(CanonicalField.Program) && !fieldsMapped.ContainsKey(CanonicalField.ServiceType))
        {
            errors.Add("columns: service records need a Program or ServiceType column beside ServiceStart.");
        }

        if ((fieldsMapped.ContainsKey(CanonicalField.Program) || fieldsMapped.ContainsKey(CanonicalField.ServiceType)
            || fieldsMapped.ContainsKey(CanonicalField.ServiceEnd)) && !fieldsMapped.ContainsKey(CanonicalField.ServiceStart))
        {
            errors.Add("columns: service columns are mapped but no column maps to ServiceStart.");
        }

        foreach (var (field, map) in CodeMaps)
        {
            if (field is not (CanonicalField.Sex or CanonicalField.Race or CanonicalField.Ethnicity or CanonicalField.Grade
                or CanonicalField.Program or CanonicalField.ServiceType))
            {
                errors.Add($"codeMaps: {field} takes no code map; only Sex, Race, Ethnicity, Grade, Program and ServiceType do.");
                continue;
            }

            foreach (var (code, canonical) in map)
            {
                if (!CodeValues.IsCanonical(field, canonical))
                {
                    errors.Add($"codeMaps.{field}: \"{code}\" maps to \"{canonical}\", which is not a canonical {field} value ({CodeValues.Describe(field)}).");
                }
            }
        }

        if (string.IsNullOrEmpty(MultiValueSeparator) || MultiValueSeparator == Delimiter)
        {
            errors.Add("multiValueSeparator must be set and differ from the delimiter.");
        }

        return errors;
    }

    /// <summary>The delimiter for a file, from the profile or the file's extension.</summary>
    public char DelimiterFor(string blobName)
    {
        if (Delimiter is not null)
        {
            return Delimiter[0];
        }

        return blobName.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) || blobName.EndsWith(".tab", StringComparison.OrdinalIgnoreCase)
            ? '\t'
            : ',';
    }

    private static bool IsUsableDateFormat(string format)
    {
        if (string.IsNullOrWhiteSpace(format) || !format.Contains('y') || !format.Contains('M') || !format.Contains('d'))
        {
            return false;
        }

        var sample = new DateOnly(2015, 10, 23);
        var text = sample.ToString(format, CultureInfo.InvariantCulture);
        return DateOnly.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var back) && back == sample;
    }
}

/// <summary>A mapping profile that cannot be saved, with every reason.</summary>
public sealed class ProfileValidationException(IReadOnlyList<string> errors)
    : Exception("The mapping profile is not valid: " + string.Join(" ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ChildShare.Core.Sharing.Identifiable.Parent;

/// <summary>
/// The parent page's words in one language, from the embedded JSON files of <c>Sharing/Identifiable/Parent/Text/</c>
/// (<c>en.json</c>, <c>es.json</c>...): a language, its own name, date formats and the strings. A new
/// language is a new file, no code; a string a language lacks is shown in English. Every string and
/// every value put into one is HTML-encoded by <see cref="Html"/>.
/// </summary>
public sealed class ParentPageText
{
    public const string DefaultLanguage = "en";

    private static readonly Lazy<IReadOnlyDictionary<string, ParentPageText>> Loaded = new(Load);

    private readonly Dictionary<string, string> _strings;
    private readonly ParentPageText? _fallback;

    private ParentPageText(string language, string languageName, string dateFormat, string dateTimeFormat, Dictionary<string, string> strings, ParentPageText? fallback)
    {
        Language = language;
        LanguageName = languageName;
        DateFormat = dateFormat;
        DateTimeFormat = dateTimeFormat;
        _strings = strings;
        _fallback = fallback;
        Culture = CultureInfo.GetCultureInfo(language);
    }

    public string Language { get; }

    /// <summary>The language's name in itself (what the language switch shows).</summary>
    public string LanguageName { get; }

    public string DateFormat { get; }

    public string DateTimeFormat { get; }

    public CultureInfo Culture { get; }

    /// <summary>Every language there is a file for, by its tag.</summary>
    public static IReadOnlyDictionary<string, ParentPageText> All => Loaded.Value;

    /// <summary>The keys of this language's own file (a test checks every language has English's).</summary>
    public IReadOnlyCollection<string> Keys => _strings.Keys;

    /// <summary>The string, as plain text.</summary>
    public string this[string key] => _strings.TryGetValue(key, out var value) ? value : _fallback?[key] ?? key;

    /// <summary>The string, HTML-encoded, with each value HTML-encoded into its placeholders.</summary>
    public string Html(string key, params object[] values) =>
        string.Format(Culture, Encode(this[key]), values.Select(v => (object)Encode(Convert.ToString(v, Culture) ?? "")).ToArray());

    public string Date(DateTimeOffset at) => at.UtcDateTime.ToString(DateFormat, Culture);

    public string Date(DateOnly day) => day.ToString(DateFormat, Culture);

    public string DateTime(DateTimeOffset at) => at.UtcDateTime.ToString(DateTimeFormat, Culture);

    public static string Encode(string value) => HtmlEncoder.Default.Encode(value);

    /// <summary>
    /// The language for a request: the one the switch asked for (<paramref name="requested"/>) when there
    /// is a file for it, else the best of the browser's <c>Accept-Language</c> (by quality, then order;
    /// <c>es-MX</c> matches <c>es</c>), else English.
    /// </summary>
    public static ParentPageText Choose(string? requested, string? acceptLanguage)
    {
        if (Match(requested) is { } chosen)
        {
            return chosen;
        }

        var ranked = (acceptLanguage ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select((item, order) =>
            {
                var parts = item.Split(';', StringSplitOptions.TrimEntries);
                var quality = 1.0;
                foreach (var parameter in parts.Skip(1))
                {
                    if (parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                        && !double.TryParse(parameter[2..], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out quality))
                    {
                        quality = 0;
                    }
                }

                return (Tag: parts[0], Quality: quality, Order: order);
            })
            .Where(l => l.Quality > 0).OrderByDescending(l => l.Quality).ThenBy(l => l.Order);
        return ranked.Select(l => Match(l.Tag)).FirstOrDefault(t => t is not null) ?? All[DefaultLanguage];
    }

    private static ParentPageText? Match(string? tag)
    {
        if (string.IsNullOrWhiteSpace(tag) || tag.Length > 35)
        {
            return null;
        }

        var primary = tag.Split('-')[0].ToLowerInvariant();
        return All.TryGetValue(primary, out var text) ? text : null;
    }

    private static Dictionary<string, ParentPageText> Load()
    {
        var assembly = typeof(ParentPageText).Assembly;
        var files = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("parent-text/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var document = JsonDocument.Parse(stream);
            var root = document.RootElement.Clone();
            files[root.GetProperty("language").GetString()!] = root;
        }

        ParentPageText Build(JsonElement root, ParentPageText? fallback) => new(root.GetProperty("language").GetString()!, root.GetProperty("languageName").GetString()!,
            root.GetProperty("dateFormat").GetString()!, root.GetProperty("dateTimeFormat").GetString()!,
            root.GetProperty("strings").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal), fallback);

        var english = Build(files[DefaultLanguage], null);
        var all = new Dictionary<string, ParentPageText>(StringComparer.Ordinal) { [DefaultLanguage] = english };
        foreach (var (language, root) in files.Where(f => f.Key != DefaultLanguage))
        {
            all[language] = Build(root, english);
        }

        return all;
    }
}

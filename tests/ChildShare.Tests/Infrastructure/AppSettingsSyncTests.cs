using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using ChildShare.Core.Storage;
using ChildShare.Functions.Ingestion;
using ChildShare.Tests.Support;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Tests.Infrastructure;

/// <summary>
/// Keeps three lists of app settings in step: the options the code binds (every class of
/// ChildShare.Core with a <c>public const string SectionName</c>), <c>local.settings.sample.json</c>,
/// and the <c>appSettings</c> object of <c>infra/main.bicep</c> that the function app is deployed with.
/// A setting added to the code must be added to the sample, and one added to the sample must be
/// added to the template, or these tests fail. The template is read as Bicep source, so the tests
/// need no Bicep CLI (CI builds and lints the templates separately, in infra/check-bicep.sh).
/// </summary>
public sealed partial class AppSettingsSyncTests
{
    /// <summary>
    /// Settings of the sample that the template must NOT set, each with the reason. Keep this list
    /// short and explicit: anything else in the sample is expected in Azure.
    /// </summary>
    private static readonly Dictionary<string, string> LocalOnly = new(StringComparer.Ordinal)
    {
        ["Pseudonymization__LocalKey"] = "key material in settings is for local runs and tests; Azure reads the key from Key Vault",
        ["Pseudonymization__LocalKeyVersion"] = "names the version of LocalKey, which Azure never has",
        ["FUNCTIONS_WORKER_RUNTIME"] = "Flex Consumption takes the runtime from functionAppConfig.runtime and rejects this setting",
    };

    /// <summary>
    /// Connections that are connection strings in the sample (Azurite) and identity-based settings
    /// (<c>{name}__...</c>) in Azure: the template must set these forms and never the plain name.
    /// </summary>
    private static readonly Dictionary<string, string[]> IdentityConnections = new(StringComparer.Ordinal)
    {
        ["AzureWebJobsStorage"] = ["AzureWebJobsStorage__accountName"],
        [StorageOptions.ConnectionName] =
        [
            "ChildShareStorage__blobServiceUri",
            "ChildShareStorage__tableServiceUri",
            "ChildShareStorage__queueServiceUri",
            "ChildShareStorage__credential",
        ],
    };

    private static readonly string Root = RepositoryRoot.Path;

    [Fact]
    public void Template_SetsEverySettingOfTheSample()
    {
        var template = TemplateAppSettings();
        var missing = new List<string>();
        foreach (var name in SampleSettings().Keys)
        {
            if (LocalOnly.ContainsKey(name))
            {
                continue;
            }

            var required = IdentityConnections.TryGetValue(name, out var identityForm) ? identityForm : [name];
            missing.AddRange(required.Where(r => !template.ContainsKey(r)));
        }

        Assert.True(missing.Count == 0,
            "infra/main.bicep's appSettings lacks settings of local.settings.sample.json: " + string.Join(", ", missing)
            + ". Add them to the appSettings object (or, for a setting that must never reach Azure, to LocalOnly in this test, with the reason).");
    }

    [Fact]
    public void Template_SetsNoLocalOnlySettingAndNoConnectionString()
    {
        var template = TemplateAppSettings();
        var forbidden = LocalOnly.Keys.Concat(IdentityConnections.Keys).Where(template.ContainsKey).ToList();

        Assert.True(forbidden.Count == 0, "infra/main.bicep must not set: " + string.Join(", ", forbidden));
    }

    [Fact]
    public void Sample_HasEverySettingOfTheCodesOptions()
    {
        var sample = SampleSettings();
        var missing = OptionSettings().Where(o => !o.Matches(sample.Keys)).Select(o => o.Name).ToList();

        Assert.True(missing.Count == 0,
            "local.settings.sample.json lacks settings the code binds: " + string.Join(", ", missing)
            + ". Add them to the sample, then to infra/main.bicep's appSettings.");
    }

    [Fact]
    public void OptionSettings_AreFoundByReflection()
    {
        // Guards the reflection itself: if it found nothing, the test above would pass vacuously.
        var names = OptionSettings().Select(o => o.Name).ToList();

        Assert.Contains("Storage__UploadsContainer", names);
        Assert.Contains("Pseudonymization__KeySource", names);
        Assert.Contains("Ingestion__MaxAttempts", names);
    }

    [Fact]
    public void Exceptions_AreSettingsOfTheSample()
    {
        // An exception for a setting the sample no longer has is stale: remove it.
        var sample = SampleSettings();
        var stale = LocalOnly.Keys.Concat(IdentityConnections.Keys).Where(k => !sample.ContainsKey(k)).ToList();

        Assert.True(stale.Count == 0, "Exceptions in AppSettingsSyncTests name settings the sample lacks: " + string.Join(", ", stale));
    }

    [Fact]
    public void Template_ReadsThePseudonymizationKeyFromKeyVault()
    {
        var template = TemplateAppSettings();

        Assert.Equal("'KeyVault'", template["Pseudonymization__KeySource"]);
        Assert.Equal("keyVault.outputs.uri", template["Pseudonymization__KeyVaultUri"]);
        Assert.Equal("'managedidentity'", template["ChildShareStorage__credential"]);
    }

    [Fact]
    public void Template_CreatesEveryTableAndContainerTheCodeUses()
    {
        var source = File.ReadAllText(MainBicep);
        var tables = BicepBlock(source, "var tables = [", ']')
            .Select(line => line.Trim().Trim('\'')).Where(line => line.Length > 0).ToHashSet(StringComparer.Ordinal);
        var containers = TemplateContainers().Values.ToHashSet(StringComparer.Ordinal);
        var defaults = new StorageOptions();

        Assert.Subset(tables, TableNames.All.ToHashSet(StringComparer.Ordinal));
        Assert.Subset(containers, new HashSet<string>(StringComparer.Ordinal) { defaults.UploadsContainer, defaults.RejectsContainer, defaults.ExportsContainer, defaults.LocksContainer, defaults.DisclosuresContainer });
    }

    [Fact]
    public void BlobTrigger_UsesTheEventGridSourceOnTheTemplatesUploadsContainer()
    {
        // Flex Consumption supports only the Event Grid source; the post-deploy subscription filters on
        // the template's uploads container, so the trigger's path must name the same container.
        var trigger = typeof(IngestProviderUpload).GetMethod(nameof(IngestProviderUpload.RunAsync))!
            .GetParameters().Select(p => p.GetCustomAttribute<BlobTriggerAttribute>()).Single(a => a is not null)!;
        var containers = TemplateContainers();

        Assert.Equal(BlobTriggerSource.EventGrid, trigger.Source);
        Assert.Equal(StorageOptions.ConnectionName, trigger.Connection);
        Assert.Equal(containers["uploads"], trigger.BlobPath.Split('/')[0]);
        Assert.Equal(new StorageOptions().UploadsContainer, containers["uploads"]);
    }

    private static string MainBicep => Path.Combine(Root, "infra", "main.bicep");

    /// <summary>The names and values (Bicep expressions) of <c>var appSettings = { ... }</c> in main.bicep.</summary>
    private static Dictionary<string, string> TemplateAppSettings()
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in BicepBlock(File.ReadAllText(MainBicep), "var appSettings = {", '}'))
        {
            var match = BicepPropertyRegex().Match(line);
            if (match.Success)
            {
                Assert.True(settings.TryAdd(match.Groups["name"].Value, match.Groups["value"].Value),
                    $"appSettings sets {match.Groups["name"].Value} twice");
            }
        }

        Assert.NotEmpty(settings);
        return settings;
    }

    /// <summary>The data storage containers of <c>var containers = { ... }</c> in main.bicep, by key.</summary>
    private static Dictionary<string, string> TemplateContainers() =>
        BicepBlock(File.ReadAllText(MainBicep), "var containers = {", '}')
            .Select(line => BicepPropertyRegex().Match(line)).Where(m => m.Success)
            .ToDictionary(m => m.Groups["name"].Value, m => m.Groups["value"].Value.Trim('\''), StringComparer.Ordinal);

    /// <summary>
    /// The lines between a declaration that opens a block at the end of its line and the line that
    /// closes it at the start of a line (main.bicep keeps these declarations flat), comments dropped.
    /// </summary>
    private static List<string> BicepBlock(string source, string opening, char closing)
    {
        var lines = source.ReplaceLineEndings("\n").Split('\n');
        var start = Array.FindIndex(lines, l => l.TrimEnd() == opening);
        Assert.True(start >= 0, $"infra/main.bicep has no line '{opening}'");
        var end = Array.FindIndex(lines, start + 1, l => l.TrimEnd() == closing.ToString());
        Assert.True(end > start, $"infra/main.bicep does not close '{opening}' with a '{closing}' line");
        return lines[(start + 1)..end].Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal)).ToList();
    }

    private static Dictionary<string, string?> SampleSettings()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "local.settings.sample.json")));
        return document.RootElement.GetProperty("Values").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText(), StringComparer.Ordinal);
    }

    /// <summary>Every setting the options classes of ChildShare.Core bind, as environment-variable names.</summary>
    private static List<OptionSetting> OptionSettings()
    {
        var settings = new List<OptionSetting>();
        foreach (var type in typeof(StorageOptions).Assembly.GetTypes())
        {
            var field = type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static);
            if (field is { IsLiteral: true } && field.FieldType == typeof(string) && field.GetRawConstantValue() is string section)
            {
                AddSettings(type, section, settings, depth: 0);
            }
        }

        return settings;
    }

    private static void AddSettings(Type type, string prefix, List<OptionSetting> settings, int depth)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true } || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var name = $"{prefix}__{property.Name}";
            var valueType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsScalar(valueType))
            {
                settings.Add(new OptionSetting(name, IsPrefix: false));
            }
            else if (typeof(IEnumerable).IsAssignableFrom(valueType) || depth >= 3)
            {
                // A list or map: the sample shows it with at least one entry, {name}__0 or {name}__{key}.
                settings.Add(new OptionSetting(name, IsPrefix: true));
            }
            else
            {
                AddSettings(valueType, name, settings, depth + 1);
            }
        }
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Uri) || type == typeof(Guid);

    /// <summary>A Bicep object property on one line: <c>name: value</c> or <c>'name': value</c>.</summary>
    [GeneratedRegex(@"^\s*'?(?<name>[A-Za-z_][A-Za-z0-9_]*)'?\s*:\s*(?<value>.+?)\s*$")]
    private static partial Regex BicepPropertyRegex();

    private sealed record OptionSetting(string Name, bool IsPrefix)
    {
        public bool Matches(IEnumerable<string> sampleNames) =>
            IsPrefix ? sampleNames.Any(n => n.StartsWith(Name + "__", StringComparison.Ordinal)) : sampleNames.Contains(Name);
    }
}

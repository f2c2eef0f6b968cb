using System.Text.Json.Serialization;

namespace ChildShare.Core.Pseudonymization;

/// <summary>Where the pseudonymization key comes from.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PseudonymKeySource>))]
public enum PseudonymKeySource
{
    /// <summary>A key in application settings: local runs and tests only.</summary>
    Settings,

    /// <summary>The current version of a Key Vault secret: every deployed environment.</summary>
    KeyVault,
}

/// <summary>Settings of the keyed pseudonymization (section <c>Pseudonymization</c>).</summary>
public sealed class PseudonymizationOptions
{
    public const string SectionName = "Pseudonymization";

    /// <summary>Where the HMAC key is read from.</summary>
    public PseudonymKeySource KeySource { get; set; } = PseudonymKeySource.Settings;

    /// <summary>The vault URI, for example https://kv-childshare-dev.vault.azure.net/ (KeyVault source).</summary>
    public string KeyVaultUri { get; set; } = "";

    /// <summary>The secret that holds the base64 key material (KeyVault source).</summary>
    public string SecretName { get; set; } = "pseudonymization-key";

    /// <summary>Base64 key material of at least 32 bytes (Settings source, never in production).</summary>
    public string LocalKey { get; set; } = "";

    /// <summary>The version name recorded with tokens made from <see cref="LocalKey"/>.</summary>
    public string LocalKeyVersion { get; set; } = "local-1";
}

namespace ChildShare.Core.Pseudonymization;

/// <summary>HMAC key material and the version name every token made with it records.</summary>
public sealed class PseudonymKey
{
    public const int MinimumLength = 32;

    public PseudonymKey(string version, byte[] material)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        ArgumentNullException.ThrowIfNull(material);
        if (material.Length < MinimumLength)
        {
            throw new ArgumentException($"A pseudonymization key needs at least {MinimumLength} bytes.", nameof(material));
        }

        Version = version;
        Material = material;
    }

    public string Version { get; }

    internal byte[] Material { get; }

    /// <summary>Parses base64 key material as stored in Key Vault or settings.</summary>
    public static PseudonymKey FromBase64(string version, string base64)
    {
        byte[] material;
        try
        {
            material = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException("The pseudonymization key is not valid base64.");
        }

        return new PseudonymKey(version, material);
    }
}

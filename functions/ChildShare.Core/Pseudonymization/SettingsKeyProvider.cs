using Microsoft.Extensions.Options;

namespace ChildShare.Core.Pseudonymization;

/// <summary>Reads the key from settings: local runs on Azurite and tests.</summary>
public sealed class SettingsKeyProvider(IOptions<PseudonymizationOptions> options) : IPseudonymKeyProvider
{
    private readonly Lazy<PseudonymKey> _key = new(() =>
    {
        var value = options.Value;
        if (string.IsNullOrWhiteSpace(value.LocalKey))
        {
            throw new InvalidOperationException("Pseudonymization:LocalKey is empty; set a base64 key of at least 32 bytes.");
        }

        return PseudonymKey.FromBase64(value.LocalKeyVersion, value.LocalKey);
    });

    public Task<PseudonymKey> GetCurrentKeyAsync(CancellationToken cancellationToken = default) => Task.FromResult(_key.Value);
}

using Microsoft.Extensions.Options;

namespace ChildShare.Core.Pseudonymization;

/// <summary>
/// Reads the current version of the key secret, and caches it for a few minutes so a rotated
/// key is picked up without a restart and without a vault call per upload.
/// </summary>
public sealed class KeyVaultKeyProvider(ISecretSource secrets, IOptions<PseudonymizationOptions> options, TimeProvider time)
    : IPseudonymKeyProvider, IDisposable
{
    public static readonly TimeSpan CacheDuration = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private PseudonymKey? _cached;
    private DateTimeOffset _cachedUntil;

    public async Task<PseudonymKey> GetCurrentKeyAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        if (_cached is not null && now < _cachedUntil)
        {
            return _cached;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_cached is null || now >= _cachedUntil)
            {
                var (value, version) = await secrets.GetSecretAsync(options.Value.SecretName, cancellationToken).ConfigureAwait(false);
                _cached = PseudonymKey.FromBase64(version, value);
                _cachedUntil = now + CacheDuration;
            }

            return _cached;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}

using Azure.Security.KeyVault.Secrets;

namespace ChildShare.Core.Pseudonymization;

/// <summary>Reads secrets with the app's managed identity (DefaultAzureCredential).</summary>
public sealed class KeyVaultSecretSource(SecretClient client) : ISecretSource
{
    public async Task<(string Value, string Version)> GetSecretAsync(string name, CancellationToken cancellationToken = default)
    {
        KeyVaultSecret secret = await client.GetSecretAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (secret.Value, secret.Properties.Version);
    }
}

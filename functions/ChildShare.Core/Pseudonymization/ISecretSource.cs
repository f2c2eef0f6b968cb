namespace ChildShare.Core.Pseudonymization;

/// <summary>The one Key Vault call ChildShare makes, behind an interface so tests can stand in for it.</summary>
public interface ISecretSource
{
    /// <summary>Returns the value and version of the current version of a secret.</summary>
    Task<(string Value, string Version)> GetSecretAsync(string name, CancellationToken cancellationToken = default);
}

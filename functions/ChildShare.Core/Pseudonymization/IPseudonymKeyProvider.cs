namespace ChildShare.Core.Pseudonymization;

/// <summary>Supplies the current pseudonymization key.</summary>
public interface IPseudonymKeyProvider
{
    Task<PseudonymKey> GetCurrentKeyAsync(CancellationToken cancellationToken = default);
}

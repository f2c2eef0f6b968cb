using System.Globalization;
using ChildShare.Core.Pseudonymization;

namespace ChildShare.Core.Storage;

/// <summary>
/// The deterministic keys of ChildShare's entities. Re-processing a row computes the same keys,
/// so writes are upserts that never duplicate. No key holds a raw identifier: local ids appear
/// only as keyed tokens.
/// </summary>
public static class RecordKeys
{
    /// <summary>The row key of a child's state row in its services partition.</summary>
    public const string ChildStateRow = "~child";

    /// <summary>The keyed token of a provider's local child id (trimmed, case-folded).</summary>
    public static string LocalToken(Pseudonymizer pseudonymizer, string providerId, string localChildId) =>
        pseudonymizer.Token("local-v1", providerId, localChildId.Trim().ToUpperInvariant());

    /// <summary><c>{provider}|{local token}</c>: a child's services partition, and its row in summaries and memberships.</summary>
    public static string ProviderChild(string providerId, string localToken) => providerId + "|" + localToken;

    /// <summary>The provider and local token of a <see cref="ProviderChild"/> key.</summary>
    public static (string ProviderId, string LocalToken) SplitProviderChild(string key)
    {
        var bar = key.IndexOf('|', StringComparison.Ordinal);
        return (key[..bar], key[(bar + 1)..]);
    }

    /// <summary>A service record's row key: same program, service type and start date is the same record.</summary>
    public static string ServiceRow(Pseudonymizer pseudonymizer, string program, string serviceType, DateOnly start) =>
        "svc-" + pseudonymizer.Token("service-v1", program.Trim().ToUpperInvariant(), serviceType.Trim().ToUpperInvariant(),
            start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));

    public static string IsoDate(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly? ParseIsoDate(string? text) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;
}

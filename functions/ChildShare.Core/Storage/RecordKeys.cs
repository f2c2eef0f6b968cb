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
    /// <summary>The keyed token of a provider's local child id (trimmed, case-folded).</summary>
    public static string LocalToken(Pseudonymizer pseudonymizer, string providerId, string localChildId) =>
        pseudonymizer.Token("local-v1", providerId, localChildId.Trim().ToUpperInvariant());

    /// <summary><c>{provider}|{local token}</c>: a provider child's row key in summaries and staging.</summary>
    public static string ProviderChild(string providerId, string localToken) => providerId + "|" + localToken;

    /// <summary>The provider and local token of a <see cref="ProviderChild"/> key.</summary>
    public static (string ProviderId, string LocalToken) SplitProviderChild(string key)
    {
        var bar = key.IndexOf('|', StringComparison.Ordinal);
        return (key[..bar], key[(bar + 1)..]);
    }

    /// <summary>A staging row key's provider child, and its service key when it stages a service.</summary>
    public static (string ProviderChild, string? ServiceKey) SplitStagingRow(string rowKey)
    {
        var first = rowKey.IndexOf('|', StringComparison.Ordinal);
        var second = first < 0 ? -1 : rowKey.IndexOf('|', first + 1);
        return second < 0 ? (rowKey, null) : (rowKey[..second], rowKey[(second + 1)..]);
    }

    /// <summary>The partition of a child's memberships: the first two hex characters of its key.</summary>
    public static string ChildBucket(string childKey) => childKey.Length >= 2 ? childKey[..2] : childKey;

    /// <summary>The row of a provider child's membership in a community child.</summary>
    public static string ChildMemberRow(string childKey, string providerChild) => childKey + "|" + providerChild;

    /// <summary>
    /// A service record's key within its provider child: same program, service type and start date is
    /// the same record. Unkeyed (SHA-256): it hashes no identifier, and its partition is already keyed.
    /// </summary>
    public static string ServiceKey(string program, string serviceType, DateOnly start)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(serviceType);

        // A file has a handful of (program, service type) pairs and a row for each service: hash each pair once.
        if (!ServiceHashes.TryGetValue((program, serviceType), out var hash))
        {
            var text = string.Concat(program.Trim().ToUpperInvariant(), "\u001f", serviceType.Trim().ToUpperInvariant());
            Span<byte> digest = stackalloc byte[32];
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text), digest);
            hash = Convert.ToHexStringLower(digest[..8]);
            if (ServiceHashes.Count < ServiceHashLimit)
            {
                ServiceHashes.TryAdd((program, serviceType), hash);
            }
        }

        return string.Create(9 + hash.Length, (start, hash), static (destination, state) =>
        {
            state.start.TryFormat(destination, out _, "yyyyMMdd", CultureInfo.InvariantCulture);
            destination[8] = '-';
            state.hash.CopyTo(destination[9..]);
        });
    }

    // Unkeyed hashes of program and service type names (no identifier): shared by every upload, bounded.
    private const int ServiceHashLimit = 10_000;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Program, string ServiceType), string> ServiceHashes = new();

    public static string IsoDate(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly? ParseIsoDate(string? text) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;
}

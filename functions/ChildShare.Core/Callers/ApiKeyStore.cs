using System.Security.Cryptography;
using System.Text;
using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Callers;

/// <summary>An API key's record (never the key itself).</summary>
public sealed record ApiKeyInfo(string KeyId, string OrganizationId, string Role, string Label, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt);

/// <summary>A newly issued key: <see cref="Key"/> is shown once and never stored.</summary>
public sealed record IssuedApiKey(ApiKeyInfo Info, string Key);

/// <summary>
/// Per-organization API keys for Power BI and scripts. A key reads <c>csk_{key id}_{secret}</c>;
/// the table (<c>apikeys</c>, PK <c>key</c>, RK key id) keeps only the SHA-256 of the whole key,
/// compared in fixed time. An organization may hold several active keys (rotate: issue a new one,
/// switch, revoke the old); revoked and expired keys are refused. Issue and revoke are audited.
/// </summary>
public class ApiKeyStore(ApiKeyTable table, AuditLog audit, TimeProvider time)
{
    public const string Prefix = "csk_";

    public async Task<IssuedApiKey> IssueAsync(string organizationId, string role, string label, TimeSpan lifetime, string actor,
        CancellationToken cancellationToken = default)
    {
        if (!OrganizationIds.IsValid(organizationId))
        {
            throw new ArgumentException("An organization id is 2 to 63 lowercase letters, digits and dashes.", nameof(organizationId));
        }

        if (!CallerRoles.IsValid(role))
        {
            throw new ArgumentException($"A role is one of {string.Join(", ", CallerRoles.All)}.", nameof(role));
        }

        if (lifetime <= TimeSpan.Zero || lifetime > TimeSpan.FromDays(3 * 366))
        {
            throw new ArgumentException("A key lives between one day and three years.", nameof(lifetime));
        }

        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var key = $"{Prefix}{keyId}_{secret}";
        var now = time.GetUtcNow();
        var info = new ApiKeyInfo(keyId, organizationId, role, label, now, now + lifetime, null);
        await audit.AppendAsync(new AuditEntry(AuditEvents.ApiKeyIssued, AuditOutcomes.Committing)
        {
            Actor = actor,
            Parameters = new Dictionary<string, string> { ["keyId"] = keyId, ["organizationId"] = organizationId, ["role"] = role, ["label"] = label },
        }, cancellationToken).ConfigureAwait(false);
        await table.AddAsync(new ApiKeyRow(keyId, organizationId, role, label, Hash(key)) { CreatedAt = now, ExpiresAt = info.ExpiresAt }, cancellationToken)
            .ConfigureAwait(false);
        return new IssuedApiKey(info, key);
    }

    public async Task<bool> RevokeAsync(string keyId, string actor, CancellationToken cancellationToken = default)
    {
        if (await table.GetAsync(keyId, cancellationToken).ConfigureAwait(false) is not { } row)
        {
            return false;
        }

        await audit.AppendAsync(new AuditEntry(AuditEvents.ApiKeyRevoked, AuditOutcomes.Committing)
        {
            Actor = actor,
            Parameters = new Dictionary<string, string> { ["keyId"] = keyId, ["organizationId"] = row.OrganizationId },
        }, cancellationToken).ConfigureAwait(false);
        await table.RevokeAsync(keyId, time.GetUtcNow(), row.ETag, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<List<ApiKeyInfo>> ListAsync(string? organizationId, CancellationToken cancellationToken = default)
    {
        var keys = new List<ApiKeyInfo>();
        foreach (var row in await table.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            var info = ToInfo(row);
            if (organizationId is null || info.OrganizationId == organizationId)
            {
                keys.Add(info);
            }
        }

        return keys;
    }

    /// <summary>The caller a presented key stands for, or why it is refused.</summary>
    public virtual async Task<CallerResult> AuthenticateAsync(string presentedKey, CancellationToken cancellationToken = default)
    {
        var key = presentedKey.Trim();
        var parts = key.StartsWith(Prefix, StringComparison.Ordinal) ? key[Prefix.Length..].Split('_', 2) : [];
        if (parts.Length != 2 || parts[0].Length != 16 || !parts[0].All(char.IsAsciiHexDigitLower))
        {
            return CallerResult.Fail("The API key is not in the form ChildShare issues.");
        }

        if (await table.GetAsync(parts[0], cancellationToken).ConfigureAwait(false) is not { } row
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(row.Hash), Encoding.ASCII.GetBytes(Hash(key))))
        {
            return CallerResult.Fail("The API key is not known.");
        }

        var info = ToInfo(row);
        if (info.RevokedAt is not null)
        {
            return CallerResult.Fail("The API key has been revoked.");
        }

        if (info.ExpiresAt <= time.GetUtcNow())
        {
            return CallerResult.Fail("The API key has expired.");
        }

        return CallerResult.Success(new Caller(info.OrganizationId, info.Role, CallerAuthMethod.ApiKey, info.KeyId));
    }

    internal static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static ApiKeyInfo ToInfo(ApiKeyRow row) =>
        new(row.KeyId, row.OrganizationId, row.Role, row.Label, row.CreatedAt ?? DateTimeOffset.MinValue, row.ExpiresAt ?? DateTimeOffset.MinValue, row.RevokedAt);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

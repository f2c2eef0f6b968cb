using ChildShare.Core.Audit;
using ChildShare.Core.Organizations;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Callers;

/// <summary>An Entra principal's organization and role.</summary>
public sealed record PrincipalMapping(string TenantId, string ObjectId, string OrganizationId, string Role);

/// <summary>
/// The mapping from Entra principals to organizations and roles, as data (table <c>principals</c>,
/// PK tenant id, RK object id), maintained by the operator; every change is audited.
/// </summary>
public class PrincipalDirectory(PrincipalTable table, AuditLog audit, TimeProvider time)
{
    /// <summary>The mapping of a principal, or null. Ids that are not GUIDs are never mapped and never reach storage.</summary>
    public virtual async Task<PrincipalMapping?> FindAsync(string tenantId, string objectId, CancellationToken cancellationToken = default)
    {
        if (!AreGuids(tenantId, objectId))
        {
            return null;
        }

        return await table.GetAsync(Normalize(tenantId), Normalize(objectId), cancellationToken).ConfigureAwait(false) is { } row
            ? new PrincipalMapping(row.TenantId, row.ObjectId, row.OrganizationId, row.Role)
            : null;
    }

    public async Task<PrincipalMapping> MapAsync(string tenantId, string objectId, string organizationId, string role, string actor,
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

        if (!AreGuids(tenantId, objectId))
        {
            throw new ArgumentException("The tenant id and object id are GUIDs.", nameof(objectId));
        }

        var mapping = new PrincipalMapping(Normalize(tenantId), Normalize(objectId), organizationId, role);
        await audit.AppendAsync(new AuditEntry(AuditEvents.PrincipalMapped, AuditOutcomes.Committing)
        {
            Actor = actor,
            Parameters = new Dictionary<string, string> { ["tenantId"] = mapping.TenantId, ["objectId"] = mapping.ObjectId, ["organizationId"] = organizationId, ["role"] = role },
        }, cancellationToken).ConfigureAwait(false);
        await table.ReplaceAsync(new PrincipalRow(mapping.TenantId, mapping.ObjectId, organizationId, role) { UpdatedAt = time.GetUtcNow() }, cancellationToken)
            .ConfigureAwait(false);
        return mapping;
    }

    public async Task<bool> UnmapAsync(string tenantId, string objectId, string actor, CancellationToken cancellationToken = default)
    {
        if (!AreGuids(tenantId, objectId))
        {
            throw new ArgumentException("The tenant id and object id are GUIDs.", nameof(objectId));
        }

        await audit.AppendAsync(new AuditEntry(AuditEvents.PrincipalUnmapped, AuditOutcomes.Committing)
        {
            Actor = actor,
            Parameters = new Dictionary<string, string> { ["tenantId"] = Normalize(tenantId), ["objectId"] = Normalize(objectId) },
        }, cancellationToken).ConfigureAwait(false);
        return await table.DeleteAsync(Normalize(tenantId), Normalize(objectId), cancellationToken).ConfigureAwait(false);
    }

    private static bool AreGuids(string tenantId, string objectId) =>
        Guid.TryParseExact(tenantId.Trim(), "D", out _) && Guid.TryParseExact(objectId.Trim(), "D", out _);

    private static string Normalize(string id) => id.Trim().ToLowerInvariant();
}

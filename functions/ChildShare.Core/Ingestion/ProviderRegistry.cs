using ChildShare.Core.Organizations;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Ingestion;

/// <summary>A provider of data: a school district, an after-school program, a clinic...</summary>
public sealed record Provider(string Id, string DisplayName, string Kind, int ActiveProfileVersion);

/// <summary>
/// The provider registry in Table Storage: one partition per provider, holding its registration
/// (RK <c>provider</c>) and every version of its mapping profile (RK <c>profile-000001</c>...), through <see cref="ProviderTable"/>.
/// </summary>
public class ProviderRegistry(ProviderTable table)
{
    public static readonly IReadOnlyList<string> Kinds =
        ["SchoolDistrict", "AfterSchoolProgram", "HealthClinic", "EarlyLearning", "SocialServices", "Other"];

    /// <summary>Provider ids are folder names and table keys: lowercase letters, digits and dashes.</summary>
    public static bool IsValidId(string id) => OrganizationIds.IsValid(id);

    public virtual async Task RegisterAsync(string id, string displayName, string kind, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(id))
        {
            throw new ArgumentException("A provider id is 2 to 63 lowercase letters, digits and dashes.", nameof(id));
        }

        if (!Kinds.Contains(kind))
        {
            throw new ArgumentException($"A provider kind is one of {string.Join(", ", Kinds)}.", nameof(kind));
        }

        var existing = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await table.MergeAsync(new ProviderRow(id) { DisplayName = displayName, Kind = kind, ActiveProfileVersion = existing?.ActiveProfileVersion ?? 0 }, cancellationToken)
            .ConfigureAwait(false);
    }

    public virtual async Task<Provider?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(id))
        {
            return null;
        }

        return await table.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } row ? ToProvider(row) : null;
    }

    public virtual async Task<IReadOnlyList<Provider>> ListAsync(CancellationToken cancellationToken = default)
    {
        return [.. (await table.ListAsync(cancellationToken).ConfigureAwait(false)).Select(ToProvider)];
    }

    /// <summary>Validates and saves a new profile version, and makes it the active one.</summary>
    /// <exception cref="ProfileValidationException">The profile has problems; nothing is saved.</exception>
    public virtual async Task<MappingProfile> SaveProfileAsync(string providerId, string profileJson, CancellationToken cancellationToken = default)
    {
        var provider = await GetAsync(providerId, cancellationToken).ConfigureAwait(false)
            ?? throw new ProfileValidationException([$"Provider \"{providerId}\" is not registered."]);
        var profile = MappingProfile.Parse(profileJson) with { Version = provider.ActiveProfileVersion + 1 };

        // The version row is added, never replaced: two saves racing for one version cannot both win.
        await table.AddProfileAsync(providerId, profile.Version, profile.ToJson(), cancellationToken).ConfigureAwait(false);
        await table.SetActiveProfileAsync(providerId, profile.Version, cancellationToken).ConfigureAwait(false);
        return profile;
    }

    /// <summary>The provider's active profile, or null when it has none.</summary>
    public virtual async Task<MappingProfile?> GetActiveProfileAsync(Provider provider, CancellationToken cancellationToken = default)
    {
        if (provider.ActiveProfileVersion == 0)
        {
            return null;
        }

        return await table.GetProfileAsync(provider.Id, provider.ActiveProfileVersion, cancellationToken).ConfigureAwait(false) is { } json
            ? MappingProfile.Parse(json) with { Version = provider.ActiveProfileVersion }
            : null;
    }

    private static Provider ToProvider(ProviderRow row) =>
        new(row.ProviderId, row.DisplayName ?? row.ProviderId, row.Kind ?? "Other", row.ActiveProfileVersion ?? 0);
}

using System.Globalization;
using Azure;
using Azure.Data.Tables;
using ChildShare.Core.Storage;
using ChildShare.Core.Organizations;

namespace ChildShare.Core.Ingestion;

/// <summary>A provider of data: a school district, an after-school program, a clinic...</summary>
public sealed record Provider(string Id, string DisplayName, string Kind, int ActiveProfileVersion);

/// <summary>
/// The provider registry in Table Storage: one partition per provider, holding its registration
/// (RK <c>provider</c>) and every version of its mapping profile (RK <c>profile-000001</c>...).
/// </summary>
public class ProviderRegistry(ChildShareStorage storage)
{
    private const string RegistrationRow = "provider";

    public static readonly IReadOnlyList<string> Kinds =
        ["SchoolDistrict", "AfterSchoolProgram", "HealthClinic", "EarlyLearning", "SocialServices", "Other"];

    private TableClient Table => storage.Table(TableNames.Providers);

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
        var entity = new TableEntity(id, RegistrationRow)
        {
            ["DisplayName"] = displayName,
            ["Kind"] = kind,
            ["ActiveProfileVersion"] = existing?.ActiveProfileVersion ?? 0,
        };
        await Table.UpsertEntityAsync(entity, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
    }

    public virtual async Task<Provider?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(id))
        {
            return null;
        }

        var response = await Table.GetEntityIfExistsAsync<TableEntity>(id, RegistrationRow, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!response.HasValue)
        {
            return null;
        }

        var entity = response.Value!;
        return new Provider(id, entity.GetString("DisplayName") ?? id, entity.GetString("Kind") ?? "Other", entity.GetInt32("ActiveProfileVersion") ?? 0);
    }

    public virtual async Task<IReadOnlyList<Provider>> ListAsync(CancellationToken cancellationToken = default)
    {
        var providers = new List<Provider>();
        var filter = TableClient.CreateQueryFilter($"RowKey eq {RegistrationRow}");
        await foreach (var entity in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            providers.Add(new Provider(entity.PartitionKey, entity.GetString("DisplayName") ?? entity.PartitionKey,
                entity.GetString("Kind") ?? "Other", entity.GetInt32("ActiveProfileVersion") ?? 0));
        }

        return providers;
    }

    /// <summary>Validates and saves a new profile version, and makes it the active one.</summary>
    /// <exception cref="ProfileValidationException">The profile has problems; nothing is saved.</exception>
    public virtual async Task<MappingProfile> SaveProfileAsync(string providerId, string profileJson, CancellationToken cancellationToken = default)
    {
        var provider = await GetAsync(providerId, cancellationToken).ConfigureAwait(false)
            ?? throw new ProfileValidationException([$"Provider \"{providerId}\" is not registered."]);
        var profile = MappingProfile.Parse(profileJson) with { Version = provider.ActiveProfileVersion + 1 };
        var row = new TableEntity(providerId, ProfileRow(profile.Version)) { ["Json"] = profile.ToJson() };

        // The version row is added, never replaced: two saves racing for one version cannot both win.
        await Table.AddEntityAsync(row, cancellationToken).ConfigureAwait(false);
        var registration = new TableEntity(providerId, RegistrationRow) { ["ActiveProfileVersion"] = profile.Version };
        await Table.UpdateEntityAsync(registration, ETag.All, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
        return profile;
    }

    /// <summary>The provider's active profile, or null when it has none.</summary>
    public virtual async Task<MappingProfile?> GetActiveProfileAsync(Provider provider, CancellationToken cancellationToken = default)
    {
        if (provider.ActiveProfileVersion == 0)
        {
            return null;
        }

        var response = await Table.GetEntityIfExistsAsync<TableEntity>(provider.Id, ProfileRow(provider.ActiveProfileVersion),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? MappingProfile.Parse(response.Value!.GetString("Json")) with { Version = provider.ActiveProfileVersion } : null;
    }

    private static string ProfileRow(int version) => "profile-" + version.ToString("D6", CultureInfo.InvariantCulture);
}

namespace ChildShare.Core.Storage;

/// <summary>The logical tables; the physical name is <see cref="StorageOptions.TablePrefix"/> + the logical name.</summary>
public static class TableNames
{
    /// <summary>Provider registrations and their versioned mapping profiles. PK provider id.</summary>
    public const string Providers = "providers";

    /// <summary>Upload manifests (PK upload id) and the content index of uploads (PK <c>content-{provider}</c>).</summary>
    public const string Manifests = "manifests";

    /// <summary>Direct identifiers, only for consented identifiable reports. PK owning provider, RK local child token.</summary>
    public const string Identities = "identities";

    /// <summary>
    /// One row per provider child, without direct identifiers: community child key, demographics as
    /// the provider reports them, and every service record (JSON). PK provider, RK local child token.
    /// </summary>
    public const string Records = "records";

    /// <summary>
    /// Membership of provider children in community children. PK the child key's first two hex
    /// characters (so memberships batch), RK <c>{child key}|{provider}|{local token}</c>.
    /// </summary>
    public const string Children = "children";

    /// <summary>
    /// The activity buckets reports and exports read (Activity/STORAGE.md): PK <c>b{bucket, 3 hex}</c>, RK <c>{yyyy}</c>, one entity
    /// per bucket and year holding every provider child of the bucket active that year (binary properties <c>D00</c>..); PK and RK
    /// <c>layout</c>: the bucket count and the data version report snapshots are keyed on.
    /// </summary>
    public const string Activity = "activity";

    /// <summary>
    /// What each upload brings, staged in one partition per upload (PK upload id) so it is written in
    /// 100-entity batches and read back in child order: RK <c>{provider}|{local token}</c> for the child,
    /// <c>{provider}|{local token}|{service key}</c> for each service.
    /// </summary>
    public const string UploadStaging = "uploadstaging";

    /// <summary>Data sharing agreements: PK <c>dsa</c>, RK agreement id (current version); PK <c>dsa-history</c>, RK <c>{id}|{version}</c>.</summary>
    public const string Agreements = "agreements";

    /// <summary>Entra principals mapped to an organization and role: PK tenant id, RK object id.</summary>
    public const string Principals = "principals";

    /// <summary>API keys, by id (only a SHA-256 hash of each key is stored): PK <c>key</c>, RK key id.</summary>
    public const string ApiKeys = "apikeys";

    /// <summary>The append-only audit: PK month <c>yyyy-MM</c>, RK time ticks and a random suffix.</summary>
    public const string Audit = "audit";

    /// <summary>Parent consents: PK first hex digit of the consent id, RK id (current version) or <c>{id}|v{version}</c> (history).</summary>
    public const string Consents = "consents";

    /// <summary>The consents of a child: PK community child key, RK consent id.</summary>
    public const string ConsentChildren = "consentchildren";

    /// <summary>Consents by expiry: PK <c>expiry-yyyy-MM-dd</c>, RK <c>{expiry}|{id}</c>; PK <c>cursor</c> for the expiry job.</summary>
    public const string ConsentExpiry = "consentexpiry";

    /// <summary>Consents by source organization, with its decision: PK source organization id, RK consent id (an index of <see cref="Consents"/>).</summary>
    public const string ConsentSources = "consentsources";

    /// <summary>Parents' signed links: PK link id, RK <c>link</c> (the consent, the issuer, expiry, revocation).</summary>
    public const string ParentLinks = "parentlinks";

    /// <summary>The parent pages' rate-limit counters: PK the UTC hour <c>yyyyMMddHH</c>, RK <c>link|{id}</c> or <c>client|{keyed hash}</c>.</summary>
    public const string ParentLinkRate = "parentlinkrate";

    /// <summary>Each disclosure made under a consent, newest first: PK consent id, RK inverted ticks and the audit row key.</summary>
    public const string ConsentDisclosures = "consentdisclosures";

    public static IReadOnlyList<string> All { get; } =
        [Providers, Manifests, Identities, Records, Children, Activity, UploadStaging, Agreements, Principals, ApiKeys, Audit, Consents, ConsentChildren, ConsentExpiry,
            ConsentSources, ParentLinks, ParentLinkRate, ConsentDisclosures];
}

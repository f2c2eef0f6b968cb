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

    /// <summary>Membership of provider records in community children. PK community child key, RK <c>{provider}|{local token}</c>.</summary>
    public const string Children = "children";

    /// <summary>Service and enrollment records. PK <c>{provider}|{local token}</c>, RK service key.</summary>
    public const string Services = "services";

    /// <summary>Per child, provider and month activity summaries that reports read. PK <c>yyyy-MM</c>, RK <c>{provider}|{local token}</c>.</summary>
    public const string Activity = "activity";

    /// <summary>The children touched by each upload, so summaries are rebuilt in bounded memory. PK upload id.</summary>
    public const string UploadChildren = "uploadchildren";

    public static IReadOnlyList<string> All { get; } = [Providers, Manifests, Identities, Children, Services, Activity, UploadChildren];
}

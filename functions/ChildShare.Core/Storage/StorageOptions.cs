namespace ChildShare.Core.Storage;

/// <summary>Names of ChildShare's containers and tables (section <c>Storage</c>).</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>The name of the storage connection setting: a connection string, or <c>__blobServiceUri</c>-style identity settings.</summary>
    public const string ConnectionName = "ChildShareStorage";

    /// <summary>Prepended to every table name; lets tests and environments share one account.</summary>
    public string TablePrefix { get; set; } = "";

    /// <summary>The container providers upload to, at <c>{providerId}/{any path}</c>.</summary>
    public string UploadsContainer { get; set; } = "uploads";

    /// <summary>The container that receives each upload's rejected rows as CSV.</summary>
    public string RejectsContainer { get; set; } = "rejects";

    /// <summary>The container large exports are written to before a short-lived link is handed out.</summary>
    public string ExportsContainer { get; set; } = "exports";

    /// <summary>The container of lock blobs (the linkage lock, leased by whichever instance holds it) and of the linkage's known-children and known-blocks sets.</summary>
    public string LocksContainer { get; set; } = "locks";

    /// <summary>The disclosure documents shown to parents, at <c>{organization}/{documentId}/{version}</c> (UTF-8 text, written once).</summary>
    public string DisclosuresContainer { get; set; } = "disclosures";
}

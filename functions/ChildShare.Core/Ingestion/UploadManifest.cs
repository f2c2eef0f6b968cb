using System.Text.Json.Serialization;

namespace ChildShare.Core.Ingestion;

/// <summary>Where an upload stands.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<UploadStatus>))]
public enum UploadStatus
{
    /// <summary>Being read; a crashed attempt leaves this until the next delivery.</summary>
    Processing,

    /// <summary>Every row landed.</summary>
    Completed,

    /// <summary>The file landed; some rows were rejected and are listed in the rejects blob.</summary>
    CompletedWithRejections,

    /// <summary>The same content was already ingested for this provider; nothing was counted again.</summary>
    Duplicate,

    /// <summary>The file was not processed (unknown provider, no profile, unreadable header); it is kept.</summary>
    NotProcessed,

    /// <summary>Processing failed on every attempt; the file is kept and the reason recorded.</summary>
    Failed,
}

/// <summary>The record of one uploaded file: what was read, what landed, and why anything did not.</summary>
public sealed record UploadManifest
{
    public required string UploadId { get; init; }

    public required string ProviderId { get; init; }

    /// <summary>The blob's path inside the uploads container.</summary>
    public required string BlobName { get; init; }

    public string ContentSha256 { get; init; } = "";

    /// <summary>The blob's ETag when it was last delivered: <c>ingest-pending</c> knows a blob overwritten under the same name by it.</summary>
    public string? BlobETag { get; init; }

    public long ContentLength { get; init; }

    public int ProfileVersion { get; init; }

    /// <summary>The text encoding the file was read with: its byte order mark's, else the profile's (auto: UTF-8 or Windows-1252).</summary>
    public string? Encoding { get; init; }

    public string KeyVersion { get; init; } = "";

    public UploadStatus Status { get; init; }

    /// <summary>Why the upload was not processed, failed or is a duplicate; never a child's data.</summary>
    public string? Reason { get; init; }

    /// <summary>For a duplicate, the upload that first brought the same content.</summary>
    public string? DuplicateOf { get; init; }

    public int RowsRead { get; init; }

    public int RowsAccepted { get; init; }

    public int RowsRejected { get; init; }

    /// <summary>
    /// Of the rows rejected, lines that could not be read as a row at all (an unclosed quote, a line past its
    /// limit); reading resumed at the next line that is a whole row of the header's width.
    /// </summary>
    public int RowsUnreadable { get; init; }

    /// <summary>Children (local ids) whose rows in this file disagree on an identity value; the last row's value is kept.</summary>
    public int IdentityConflicts { get; init; }

    /// <summary>The identity fields that disagreed, comma-separated ("BirthDate,FirstName"); names only, never a value.</summary>
    public string? IdentityConflictFields { get; init; }

    /// <summary>
    /// Accepted rows whose identity is incomplete (no first or last name, or no usable birth date): still children served and
    /// counted, linked with the evidence they have. A birth date left out for being unusable is listed in the rejects file.
    /// </summary>
    public int RowsIncompleteIdentity { get; init; }

    public int ChildrenTouched { get; init; }

    public int ServicesWithdrawn { get; init; }

    /// <summary>
    /// Provider children this file names whose services were not stored: with the file's added they would exceed what a records row
    /// holds. Their records and counts stay as they were before the file; every other child of the file landed.
    /// </summary>
    public int ChildrenNotStored { get; init; }

    /// <summary>The blob (in the rejects container) listing each rejected row's line, field and reason.</summary>
    public string? RejectsBlobName { get; init; }

    public int Attempts { get; init; }

    public DateTimeOffset ReceivedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    public double DurationSeconds { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsFinal => Status is not UploadStatus.Processing;
}

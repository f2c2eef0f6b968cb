namespace ChildShare.Core.Ingestion;

/// <summary>The phases of one ingestion, in order.</summary>
public enum IngestionPhase
{
    /// <summary>Reading the whole file once for its SHA-256 (and UTF-8 check).</summary>
    Fingerprint,

    /// <summary>Parsing, normalizing, pseudonymizing and staging rows.</summary>
    Parse,

    /// <summary>Waiting for the linkage lock, then linking the staged records to community children.</summary>
    Link,

    /// <summary>Rebuilding the activity summaries of the children the upload touched.</summary>
    Summarize,

    /// <summary>The manifest is written.</summary>
    Done,
}

/// <summary>
/// Where an ingestion stands, for a progress display: counts and bytes only, never a row's content.
/// <see cref="BytesRead"/> of <see cref="ContentLength"/> is how far the parse is (the reader buffers a little ahead).
/// </summary>
public sealed record IngestionProgress(IngestionPhase Phase, int RowsRead, int RowsRejected, long BytesRead, long ContentLength, TimeSpan Elapsed)
{
    /// <summary>Rows parsed per second so far.</summary>
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? RowsRead / Elapsed.TotalSeconds : 0;

    /// <summary>The parse's remaining time at the pace so far, while it is parsing and the pace is known.</summary>
    public TimeSpan? ParseRemaining =>
        Phase == IngestionPhase.Parse && BytesRead > 0 && ContentLength > BytesRead && Elapsed > TimeSpan.Zero
            ? TimeSpan.FromSeconds(Elapsed.TotalSeconds * (ContentLength - BytesRead) / BytesRead)
            : null;
}

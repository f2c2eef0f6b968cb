using System.ComponentModel.DataAnnotations;

namespace ChildShare.Core.Linkage;

/// <summary>The cross-instance linkage lock (section <c>Linkage</c>); see <see cref="BlobLeaseLinkageLock"/>.</summary>
public sealed class LinkageOptions
{
    public const string SectionName = "Linkage";

    /// <summary>
    /// Duration of the blob lease that holds the linkage lock, in seconds (Azure allows 15 to 60). It is
    /// renewed every third of it while held, so it bounds how long a crashed holder blocks others.
    /// </summary>
    [Range(15, 60)]
    public int LockLeaseSeconds { get; set; } = 60;

    /// <summary>
    /// How long an upload's second phase (linking and the summary rebuild) or an operator split waits for
    /// another instance to release the lock before it gives up with <see cref="LinkageLockTimeoutException"/>
    /// (the upload is then retried). The holder keeps it for a whole upload's second phase, so allow for
    /// the largest upload's rebuild.
    /// </summary>
    [Range(5, 3000)]
    public int LockTimeoutSeconds { get; set; } = 1800;

    /// <summary>
    /// The most linkage rows this process keeps between units of linking work (<see cref="LinkageRowCache.Limit"/>): a bound on the
    /// memory they hold (a few hundred bytes to about 1 KB a row), traded against reading them again. 0 keeps none.
    /// </summary>
    [Range(0, 10_000_000)]
    public int RowCacheLimit { get; set; } = LinkageRowCache.DefaultLimit;
}

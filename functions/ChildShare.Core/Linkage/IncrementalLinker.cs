using System.Collections.Concurrent;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChildShare.Core.Linkage;

/// <summary>
/// Privacy-preserving, incremental linkage backed by table storage. While an upload is parsed,
/// each record is encoded (keyed tokens and keyed Bloom filters; no cleartext is kept) and its
/// provisional key is its own seed. When the upload's rows are stored, <see cref="CompleteUploadAsync"/>
/// links the upload in chunks: it reads the token index partitions of the chunk's lookup tokens,
/// the candidates' stored encodings and the members of their clusters, runs the
/// <see cref="LinkageEngine"/> over that neighbourhood, and writes back what changed: new nodes,
/// merged clusters (records of earlier uploads that moved get their new child key in their records
/// row and identity and a staging row in this upload, so the summary rebuild moves them and
/// reports reflect the merge), and the final key of every record of the upload.
/// Reads and writes grow with the upload and its candidates, never with the community.
/// An upload is linked under one hold of <see cref="ILinkageLock"/>, so no two flows (uploads of this or another
/// instance of the function app, the operator's split) ever link at the same time (see LINKAGE.md).
/// Ingestion calls it already holding the lock for the upload's whole second phase, so there it runs
/// under that hold; a caller without a hold (the benchmark, tests) takes the lock for the upload.
/// The children new to the store are claimed first (<see cref="LinkageStore.ClaimNewChildrenAsync"/>): none of their
/// rows is read; so are the upload's tokens new to the token index (<see cref="LinkageStore.ClaimNewTokensAsync"/>): their blocks
/// are not read.
/// </summary>
public sealed partial class IncrementalLinker(
    UploadStagingStore staging, LinkageStore store, ILinkageLock linkageLock, TimeProvider time, ILogger<IncrementalLinker> logger) : IChildLinker
{
    public const string PendingRule = "pending";
    public const string SeedPurpose = "child-cluster-v1";

    private readonly ConcurrentDictionary<string, UploadBuffer> _pending = new(StringComparer.Ordinal);
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Pseudonymizer, LinkEncoder> _encoders = [];

    public LinkModelOptions Options { get; init; } = LinkModelOptions.Default;

    /// <summary>Records linked by one engine: its neighbourhood is read, linked and written back before the next chunk's.</summary>
    internal int ChunkSize { get; init; } = 2000;

    public static string SeedOf(Pseudonymizer pseudonymizer, string providerChild) => pseudonymizer.Token(SeedPurpose, providerChild);

    public ValueTask<ChildLink> LinkAsync(LinkSubject subject, Pseudonymizer pseudonymizer, CancellationToken cancellationToken = default)
    {
        var key = RecordKeys.ProviderChild(subject.ProviderId, subject.LocalToken);
        var seed = SeedOf(pseudonymizer, key);
        var encoding = EncoderFor(pseudonymizer).Encode(subject.Input);
        var buffer = _pending.GetOrAdd(subject.UploadId ?? "", _ => new UploadBuffer());
        buffer.Add(key, subject.ProviderId, seed, encoding);
        return ValueTask.FromResult(new ChildLink(seed, PendingRule));
    }

    /// <summary>
    /// One encoder per pseudonymizer (ingestion makes one per upload): its caches of bigram positions and repeated tokens are only
    /// worth their memory when reused across the upload's records, and they are dropped with it.
    /// </summary>
    private LinkEncoder EncoderFor(Pseudonymizer pseudonymizer) =>
        _encoders.GetValue(pseudonymizer, static p => new LinkEncoder(p, LinkEncoder.DefaultHardening));

    /// <summary>Drops the encodings buffered for an upload whose attempt failed before it was completed.</summary>
    public void AbandonUpload(string uploadId) => _pending.TryRemove(uploadId, out _);

    public async ValueTask<LinkCompletion> CompleteUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        if (!_pending.TryRemove(uploadId, out var buffer))
        {
            return LinkCompletion.None;
        }

        await store.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var total = await linkageLock.RunExclusiveAsync(ct => LinkUploadAsync(uploadId, buffer.Records, ct), cancellationToken).ConfigureAwait(false);
        LogLinked(uploadId, total.Records, total.Candidates, total.Moved, total.ClustersMerged);
        return total;
    }

    /// <summary>
    /// The whole upload under one hold of the linkage lock, which excludes every other flow, of this instance or another: each
    /// acquisition takes a lease with a fresh id, so two uploads of one process exclude each other too (no in-process lock besides,
    /// which could be taken in the opposite order to the lease). Under ingestion's hold of its second phase it runs at once within
    /// it; a caller without a hold (the benchmark, tests) takes the lock here. One hold, because the children new to the store are
    /// claimed first and only this hold may rely on the claim; the chunks read their neighbourhoods while it is held, so they see
    /// what others wrote.
    /// </summary>
    private async Task<LinkCompletion> LinkUploadAsync(string uploadId, IReadOnlyList<PendingRecord> records, CancellationToken cancellationToken)
    {
        var fresh = await store.ClaimNewChildrenAsync(records.Select(r => r.Key), cancellationToken).ConfigureAwait(false);
        var newTokens = await store.ClaimNewTokensAsync(records.SelectMany(r => r.Variants).SelectMany(v => v.Indexed()), cancellationToken)
            .ConfigureAwait(false);
        var total = LinkCompletion.None with { NewChildren = fresh };
        foreach (var chunk in records.Chunk(ChunkSize))
        {
            var linked = await LinkChunkAsync(uploadId, chunk, fresh, newTokens, cancellationToken).ConfigureAwait(false);

            // The blocks this chunk wrote now exist: the next chunks read them.
            newTokens.Touched(chunk.SelectMany(r => r.Variants).SelectMany(v => v.Indexed()));
            total = total with
            {
                Records = total.Records + linked.Records,
                Candidates = total.Candidates + linked.Candidates,
                Moved = total.Moved + linked.Moved,
                ClustersMerged = total.ClustersMerged + linked.ClustersMerged,
            };
        }

        return total;
    }

    private async Task<LinkCompletion> LinkChunkAsync(
        string uploadId, PendingRecord[] chunk, IReadOnlySet<string> fresh, NewTokens newTokens, CancellationToken cancellationToken)
    {
        var engine = new LinkageEngine(Options);
        var reads = new LinkageReadSet
        {
            NewChildren = chunk.Select(r => r.Key).Where(fresh.Contains).ToHashSet(StringComparer.Ordinal),
            NewTokens = newTokens,
        };
        var lookups = chunk.SelectMany(r => r.Variants).SelectMany(v => v.Lookups());
        var candidates = await store.CandidatesAsync(lookups, Options.MaxBlockSize, reads, cancellationToken).ConfigureAwait(false);
        candidates.UnionWith(chunk.Select(r => r.Key));
        var loaded = await store.LoadNeighbourhoodAsync(engine, candidates, reads, cancellationToken).ConfigureAwait(false);
        var clustersBefore = loaded.Values.Select(s => s.ClusterKey).Distinct(StringComparer.Ordinal).Count();

        foreach (var record in chunk)
        {
            foreach (var variant in record.Variants)
            {
                engine.Add(record.Key, record.ProviderId, record.Seed, variant);
            }
        }

        // The second pass over the review band, with the chunk's whole households present (LINKAGE.md, "The household resolver").
        engine.ResolveHouseholds();

        var writer = new BatchWriter(parallelism: LinkageStore.WriteParallelism);
        var moved = await store.WriteChangesAsync(engine, loaded, chunk.Select(r => r.Key), reads, writer, cancellationToken).ConfigureAwait(false);
        var inUpload = chunk.Select(r => r.Key).ToHashSet(StringComparer.Ordinal);

        // The chunk's pairs, and those of stored records the chunk moved (a resolver join undone re-queues its pairs).
        await store.WriteReviewsAsync(engine, moved.Concat(inUpload).ToHashSet(StringComparer.Ordinal), writer, time.GetUtcNow(), cancellationToken)
            .ConfigureAwait(false);
        var movedElsewhere = moved.Count(k => !inUpload.Contains(k));

        // The upload's staging carries each record's final child key into the summary rebuild: the
        // upload's own records, and the earlier records a merge moved (a staging row with only a
        // child key rebuilds that child without touching its services).
        foreach (var key in chunk.Select(r => r.Key).Concat(moved).Distinct(StringComparer.Ordinal))
        {
            await staging.StageChildAsync(writer, uploadId, new StagedChildRow(key) { ChildKey = engine.ClusterKeyOf(key) }, cancellationToken)
                .ConfigureAwait(false);
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        store.RememberWritten(reads);
        var merged = clustersBefore - loaded.Values.Select(s => engine.ClusterKeyOf(s.Key)).Distinct(StringComparer.Ordinal).Count();
        return new LinkCompletion(chunk.Length, candidates.Count, movedElsewhere, merged);
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Upload {UploadId} linked: {Records} records, {Candidates} candidates read, {Moved} earlier records moved, {Merged} clusters merged")]
    private partial void LogLinked(string uploadId, int records, int candidates, int moved, int merged);

    private sealed record PendingRecord(string Key, string ProviderId, string Seed, List<LinkEncoding> Variants);

    private sealed class UploadBuffer
    {
        private readonly Dictionary<string, PendingRecord> _records = new(StringComparer.Ordinal);
        private readonly Lock _lock = new();

        public IReadOnlyList<PendingRecord> Records
        {
            get
            {
                lock (_lock)
                {
                    return _records.Values.ToList();
                }
            }
        }

        public void Add(string key, string providerId, string seed, LinkEncoding encoding)
        {
            lock (_lock)
            {
                if (!_records.TryGetValue(key, out var record))
                {
                    record = new PendingRecord(key, providerId, seed, []);
                    _records[key] = record;
                }

                if (!record.Variants.Any(v => v.SameContent(encoding)))
                {
                    // Rows of one child that keep disagreeing (one id with hundreds of birth dates) must neither grow the
                    // buffer without bound nor link through every value: the last variants stand, as the engine keeps them.
                    if (record.Variants.Count >= LinkageEngine.MaxVariants)
                    {
                        record.Variants.RemoveAt(0);
                    }

                    record.Variants.Add(encoding);
                }
            }
        }
    }
}

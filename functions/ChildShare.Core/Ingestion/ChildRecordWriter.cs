using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// Writes one accepted row: the identity (identities table, partitioned by owning provider; the
/// names, state student id and street address are written nowhere else) and,
/// in the upload's staging partition, the child's link and demographics and the row's service.
/// Everything lands in 100-entity batches of two partitions, whatever order the file is in; the
/// summary rebuild then folds the staging into each child's record. All keys are deterministic.
/// A child's identity and staging row are written once an upload, not once a row: they are kept per child
/// as the rows come and written by <see cref="WritePendingAsync"/> (at most <see cref="MaxPendingChildren"/>
/// children wait; past that the waiting ones are written, and a later row of one of them writes it again).
/// Its services wait with it and are written packed (<see cref="UploadStagingStore.StageServicesAsync"/>), one per service key.
/// The latest upload is the truth for the identity: the identities upsert merges (linkage's child key
/// and rule live on the same entity), so every optional identity field is written on every upsert,
/// as an empty string when the upload has none, to clear what an earlier upload sent. Within one
/// upload a child has a row per service, and a blank cell on a later row must not wipe what an earlier
/// row of the same file said: the last value the upload gave for the child is carried forward. Readers
/// treat an empty string as absent. Rows of one child that disagree on an identity value (compared in
/// match form, so "Jose" and "JOSÉ" agree; a blank never disagrees) are counted: the last row's value is
/// the one kept, as the upserts make it.
/// </summary>
public sealed class ChildRecordWriter(
    UploadStagingStore staging, IIdentityVault identities, BatchWriter writer, Pseudonymizer pseudonymizer, IChildLinker linker, UploadManifest manifest)
{
    /// <summary>Makes the writer of one upload: the one way ingestion reaches the identity vault.</summary>
    public sealed class Factory(UploadStagingStore staging, IIdentityVault identities)
    {
        public ChildRecordWriter Create(BatchWriter writer, Pseudonymizer pseudonymizer, IChildLinker linker, UploadManifest manifest) =>
            new(staging, identities, writer, pseudonymizer, linker, manifest);
    }

    private readonly string _asOf = RecordKeys.IsoDate(DateOnly.FromDateTime(manifest.ReceivedAt.UtcDateTime));

    // What this upload said so far about each child (local token): the optional identity fields to carry
    // forward, and a hash of each identity field's match form to notice rows that disagree.
    private readonly Dictionary<string, ChildSoFar> _soFar = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _conflictFields = new(StringComparer.Ordinal);

    /// <summary>
    /// Children whose identity and staging row wait to be written: the memory it takes (an identity and a few demographics a child)
    /// stays far under an instance's, and a provider that sends more children in one file has them written in that many rounds.
    /// </summary>
    public const int MaxPendingChildren = 50_000;

    /// <summary>The most services that wait with their children (a few hundred bytes each); past it the waiting children are written.</summary>
    public const int MaxPendingServices = 200_000;

    private int _pendingServices;

    // Rounds of WritePendingAsync so far: the packed service rows of a child written again in a later round sort after the earlier's.
    private int _round;

    private readonly List<ChildSoFar> _pending = [];

    /// <summary>Children (local ids) whose rows in this upload gave different values for an identity field.</summary>
    public int ChildrenWithConflicts { get; private set; }

    /// <summary>The identity fields that differed between rows of one child somewhere in this upload.</summary>
    public IReadOnlyCollection<string> ConflictFields => _conflictFields;

    public async Task WriteAsync(CanonicalRecord record, CancellationToken cancellationToken)
    {
        var providerId = manifest.ProviderId;
        var identity = record.Identity;
        var localToken = RecordKeys.LocalToken(pseudonymizer, providerId, identity.LocalChildId);
        var link = await linker.LinkAsync(new LinkSubject(providerId, localToken, LinkInputs.From(identity, record.Demographics)) { UploadId = manifest.UploadId },
                pseudonymizer, cancellationToken)
            .ConfigureAwait(false);

        var soFar = _soFar.TryGetValue(localToken, out var known) ? known : _soFar[localToken] = new ChildSoFar();
        CountConflicts(soFar, identity);
        var optional = OptionalOf(soFar, identity);

        // Every row of a child names the same identity properties, so the last row's identity is what writing each in turn leaves.
        soFar.Identity = new ChildIdentityRow(providerId, localToken)
        {
            LocalChildId = identity.LocalChildId,
            FirstName = identity.FirstName.Display,
            LastName = identity.LastName.Display,
            BirthDate = identity.BirthDate is { } birth ? RecordKeys.IsoDate(birth) : "",
            MiddleName = optional.MiddleName,
            Suffix = optional.Suffix,
            StateStudentId = optional.StateStudentId,
            StreetAddress = optional.StreetAddress,
            ChildKey = link.ChildKey,
            KeyVersion = pseudonymizer.KeyVersion,
            LastUploadId = manifest.UploadId,
            UpdatedAt = manifest.ReceivedAt,
        };

        // The staging row is a merge: each row's demographics over the earlier rows', as writing each in turn would leave them.
        var demographics = ChildDemographics.Of(record.Demographics);
        demographics[DemographicColumns.BirthDate] = identity.BirthDate is { } born ? RecordKeys.IsoDate(born) : "";
        soFar.Link = link;
        if (soFar.Demographics is null)
        {
            soFar.Demographics = demographics;
        }
        else
        {
            foreach (var (column, value) in demographics)
            {
                soFar.Demographics[column] = value;
            }
        }

        if (record.Service is { } service)
        {
            // One per service key, the last row's, as upserting each row's service in turn left it.
            var key = RecordKeys.ServiceKey(service.Program, service.ServiceType, service.Start);
            soFar.Services ??= new Dictionary<string, StoredService>(StringComparer.Ordinal);
            if (!soFar.Services.ContainsKey(key))
            {
                _pendingServices++;
            }

            soFar.Services[key] = new StoredService(key, service.Program, service.ServiceType, RecordKeys.IsoDate(service.Start),
                service.End is { } end ? RecordKeys.IsoDate(end) : "", _asOf, manifest.UploadId, service.Hours, service.DaysAttended);
        }

        if (!soFar.Pending)
        {
            soFar.Pending = true;
            _pending.Add(soFar);
        }

        if (_pending.Count >= MaxPendingChildren || _pendingServices >= MaxPendingServices)
        {
            await WritePendingAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Adds to the writer the identity and staging row of every child whose rows came since the last call. Must be called after the
    /// last row, before the writer is flushed (the linker's final child keys are staged after it).
    /// </summary>
    public async Task WritePendingAsync(CancellationToken cancellationToken)
    {
        foreach (var child in _pending)
        {
            var identity = child.Identity!;
            var providerChild = RecordKeys.ProviderChild(identity.ProviderId, identity.LocalToken);
            await identities.WriteAsync(writer, identity, cancellationToken).ConfigureAwait(false);
            await staging.StageChildAsync(writer, manifest.UploadId, new StagedChildRow(providerChild)
            {
                ChildKey = child.Link!.ChildKey,
                LinkRule = child.Link.Rule,
                KeyVersion = pseudonymizer.KeyVersion,
                Demographics = child.Demographics!,
            }, cancellationToken).ConfigureAwait(false);
            if (child.Services is { Count: > 0 } services)
            {
                await staging.StageServicesAsync(writer, manifest.UploadId, providerChild, _round,
                    [.. services.Values.OrderBy(v => v.Key, StringComparer.Ordinal)], cancellationToken).ConfigureAwait(false);
            }

            // Released once written: a later row of the child writes it again, and its merge over this one (in the writer, or the
            // stored row) leaves what writing each row in turn would. Kept, they would grow with every child of the file, not the waiting.
            child.Pending = false;
            child.Identity = null;
            child.Link = null;
            child.Demographics = null;
            child.Services = null;
        }

        _pending.Clear();
        _pendingServices = 0;
        _round++;
    }

    /// <summary>This row's optional identity fields, each falling back to the last value an earlier row of the upload gave.</summary>
    private static OptionalIdentity OptionalOf(ChildSoFar soFar, ChildIdentity identity)
    {
        var earlier = soFar.Optional;
        soFar.Optional = new OptionalIdentity(
            Pick(identity.MiddleName?.Display, earlier.MiddleName),
            Pick(identity.Suffix, earlier.Suffix),
            Pick(identity.StateStudentId, earlier.StateStudentId),
            Pick(identity.StreetAddress, earlier.StreetAddress));
        return soFar.Optional;

        static string Pick(string? value, string earlier) => string.IsNullOrWhiteSpace(value) ? earlier : value;
    }

    private void CountConflicts(ChildSoFar soFar, ChildIdentity identity)
    {
        var conflicting = false;
        for (var field = 0; field < IdentityFields.Length; field++)
        {
            var form = MatchFormOf(IdentityFields[field], identity);
            if (string.IsNullOrEmpty(form))
            {
                continue;
            }

            var hash = form.GetHashCode(StringComparison.Ordinal) | 1;    // never 0, which means "not given yet"
            if (soFar.Forms[field] != 0 && soFar.Forms[field] != hash)
            {
                conflicting = true;
                _conflictFields.Add(IdentityFields[field].ToString());
            }

            soFar.Forms[field] = hash;
        }

        if (conflicting && !soFar.Conflicting)
        {
            soFar.Conflicting = true;
            ChildrenWithConflicts++;
        }
    }

    private static readonly CanonicalField[] IdentityFields =
    [
        CanonicalField.FirstName, CanonicalField.MiddleName, CanonicalField.LastName, CanonicalField.Suffix,
        CanonicalField.BirthDate, CanonicalField.StateStudentId, CanonicalField.StreetAddress,
    ];

    private static string? MatchFormOf(CanonicalField field, ChildIdentity identity) => field switch
    {
        CanonicalField.FirstName => NameForm(identity.FirstName),
        CanonicalField.MiddleName => identity.MiddleName is { } middle ? NameForm(middle) : null,
        CanonicalField.LastName => NameForm(identity.LastName),
        CanonicalField.Suffix => identity.Suffix,
        CanonicalField.BirthDate => identity.BirthDate is { } birthDate ? RecordKeys.IsoDate(birthDate) : null,
        CanonicalField.StateStudentId => identity.StateStudentId?.Trim().ToUpperInvariant(),
        CanonicalField.StreetAddress => identity.StreetAddress is { } address ? AddressNormalizer.MatchForm(address) ?? address.Trim().ToUpperInvariant() : null,
        _ => null,
    };

    private static string NameForm(PersonName name) => name.Match ?? NameNormalizer.Fold(name.Display);

    private sealed class ChildSoFar
    {
        public OptionalIdentity Optional { get; set; } = OptionalIdentity.None;

        public int[] Forms { get; } = new int[IdentityFields.Length];

        public bool Conflicting { get; set; }

        /// <summary>What to write of the child (its rows so far: the last identity, link and demographics), and whether it waits to be.</summary>
        public ChildIdentityRow? Identity { get; set; }

        public ChildLink? Link { get; set; }

        public Dictionary<string, string>? Demographics { get; set; }

        /// <summary>The child's services since it was last written, by service key.</summary>
        public Dictionary<string, StoredService>? Services { get; set; }

        public bool Pending { get; set; }
    }

    private sealed record OptionalIdentity(string MiddleName, string Suffix, string StateStudentId, string StreetAddress)
    {
        public static OptionalIdentity None { get; } = new("", "", "", "");
    }
}

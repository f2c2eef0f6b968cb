using Azure.Data.Tables;
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
/// The latest upload is the truth for the identity: the identities upsert merges (linkage's child key
/// and rule live on the same entity), so every optional identity field is written on every upsert,
/// as an empty string when the upload has none, to clear what an earlier upload sent. Within one
/// upload a child has a row per service, and a blank cell on a later row must not wipe what an earlier
/// row of the same file said: the last value the upload gave for the child is carried forward. Readers
/// treat an empty string as absent.
/// </summary>
internal sealed class ChildRecordWriter(
    ChildShareStorage storage, BatchWriter writer, Pseudonymizer pseudonymizer, IChildLinker linker, UploadManifest manifest)
{
    private readonly TableClient _identities = storage.Table(TableNames.Identities);
    private readonly TableClient _staging = storage.Table(TableNames.UploadStaging);
    private readonly string _asOf = RecordKeys.IsoDate(DateOnly.FromDateTime(manifest.ReceivedAt.UtcDateTime));

    // Optional identity fields this upload gave per child (local token), only for children that had any.
    private readonly Dictionary<string, OptionalIdentity> _optionalSoFar = new(StringComparer.Ordinal);

    public async Task WriteAsync(CanonicalRecord record, CancellationToken cancellationToken)
    {
        var providerId = manifest.ProviderId;
        var identity = record.Identity;
        var localToken = RecordKeys.LocalToken(pseudonymizer, providerId, identity.LocalChildId);
        var link = await linker.LinkAsync(new LinkSubject(providerId, localToken, identity, record.Demographics) { UploadId = manifest.UploadId },
                pseudonymizer, cancellationToken)
            .ConfigureAwait(false);
        var providerChild = RecordKeys.ProviderChild(providerId, localToken);

        var identityEntity = new TableEntity(providerId, localToken)
        {
            ["LocalChildId"] = identity.LocalChildId,
            ["FirstName"] = identity.FirstName.Display,
            ["LastName"] = identity.LastName.Display,
            ["BirthDate"] = identity.BirthDate is { } birth ? RecordKeys.IsoDate(birth) : "",
            ["ChildKey"] = link.ChildKey,
            ["KeyVersion"] = pseudonymizer.KeyVersion,
            ["LastUploadId"] = manifest.UploadId,
            ["UpdatedAt"] = manifest.ReceivedAt,
        };
        var optional = OptionalOf(localToken, identity);
        identityEntity["MiddleName"] = optional.MiddleName;
        identityEntity["Suffix"] = optional.Suffix;
        identityEntity["StateStudentId"] = optional.StateStudentId;
        identityEntity["StreetAddress"] = optional.StreetAddress;
        await writer.UpsertAsync(_identities, identityEntity, cancellationToken).ConfigureAwait(false);

        var child = new TableEntity(manifest.UploadId, providerChild)
        {
            ["ChildKey"] = link.ChildKey,
            ["LinkRule"] = link.Rule,
            ["KeyVersion"] = pseudonymizer.KeyVersion,
            ["BirthDate"] = identity.BirthDate is { } born ? RecordKeys.IsoDate(born) : "",
        };
        ChildDemographics.Write(child, record.Demographics);
        await writer.UpsertAsync(_staging, child, cancellationToken).ConfigureAwait(false);

        if (record.Service is { } service)
        {
            var key = RecordKeys.ServiceKey(service.Program, service.ServiceType, service.Start);
            var staged = new TableEntity(manifest.UploadId, providerChild + "|" + key)
            {
                ["Program"] = service.Program,
                ["ServiceType"] = service.ServiceType,
                ["StartDate"] = RecordKeys.IsoDate(service.Start),
                ["EndDate"] = service.End is { } end ? RecordKeys.IsoDate(end) : "",
                ["AsOf"] = _asOf,
            };
            SetIfPresent(staged, "Hours", service.Hours);
            SetIfPresent(staged, "DaysAttended", service.DaysAttended);
            await writer.UpsertAsync(_staging, staged, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>This row's optional identity fields, each falling back to the last value an earlier row of the upload gave.</summary>
    private OptionalIdentity OptionalOf(string localToken, ChildIdentity identity)
    {
        var earlier = _optionalSoFar.GetValueOrDefault(localToken) ?? OptionalIdentity.None;
        var current = new OptionalIdentity(
            Pick(identity.MiddleName?.Display, earlier.MiddleName),
            Pick(identity.Suffix, earlier.Suffix),
            Pick(identity.StateStudentId, earlier.StateStudentId),
            Pick(identity.StreetAddress, earlier.StreetAddress));
        if (current != OptionalIdentity.None)
        {
            _optionalSoFar[localToken] = current;
        }

        return current;

        static string Pick(string? value, string earlier) => string.IsNullOrWhiteSpace(value) ? earlier : value;
    }

    private sealed record OptionalIdentity(string MiddleName, string Suffix, string StateStudentId, string StreetAddress)
    {
        public static OptionalIdentity None { get; } = new("", "", "", "");
    }

    private static void SetIfPresent(TableEntity entity, string name, object? value)
    {
        if (value is not null)
        {
            entity[name] = value;
        }
    }
}

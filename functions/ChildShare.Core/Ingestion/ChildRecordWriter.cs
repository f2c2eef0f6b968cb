using Azure.Data.Tables;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// Writes one accepted row: the identity (identities table, partitioned by owning provider), the
/// child's state row and service record (services table, one partition per provider child), and
/// the upload's work list entry that the summary rebuild reads. All keys are deterministic.
/// </summary>
internal sealed class ChildRecordWriter(
    ChildShareStorage storage, BatchWriter writer, Pseudonymizer pseudonymizer, IChildLinker linker, UploadManifest manifest)
{
    private readonly TableClient _identities = storage.Table(TableNames.Identities);
    private readonly TableClient _services = storage.Table(TableNames.Services);
    private readonly TableClient _work = storage.Table(TableNames.UploadChildren);
    private readonly string _asOf = RecordKeys.IsoDate(DateOnly.FromDateTime(manifest.ReceivedAt.UtcDateTime));

    public async Task WriteAsync(CanonicalRecord record, CancellationToken cancellationToken)
    {
        var providerId = manifest.ProviderId;
        var identity = record.Identity;
        var demographics = record.Demographics;
        var localToken = RecordKeys.LocalToken(pseudonymizer, providerId, identity.LocalChildId);
        var link = await linker.LinkAsync(new LinkSubject(providerId, localToken, identity, demographics) { UploadId = manifest.UploadId }, pseudonymizer, cancellationToken)
            .ConfigureAwait(false);
        var childPartition = RecordKeys.ProviderChild(providerId, localToken);
        var updatedAt = manifest.ReceivedAt;

        var identityEntity = new TableEntity(providerId, localToken)
        {
            ["LocalChildId"] = identity.LocalChildId,
            ["FirstName"] = identity.FirstName.Display,
            ["LastName"] = identity.LastName.Display,
            ["BirthDate"] = RecordKeys.IsoDate(identity.BirthDate),
            ["ChildKey"] = link.ChildKey,
            ["LinkRule"] = link.Rule,
            ["KeyVersion"] = pseudonymizer.KeyVersion,
            ["LastUploadId"] = manifest.UploadId,
            ["UpdatedAt"] = updatedAt,
        };
        SetIfPresent(identityEntity, "MiddleName", identity.MiddleName?.Display);
        SetIfPresent(identityEntity, "Suffix", identity.Suffix);
        SetIfPresent(identityEntity, "StateStudentId", identity.StateStudentId);
        SetDemographics(identityEntity, demographics, fullZip: true);
        await writer.UpsertAsync(_identities, identityEntity, cancellationToken).ConfigureAwait(false);

        var state = new TableEntity(childPartition, RecordKeys.ChildStateRow)
        {
            ["ProviderId"] = providerId,
            ["LocalToken"] = localToken,
            ["ChildKey"] = link.ChildKey,
            ["BirthDate"] = RecordKeys.IsoDate(identity.BirthDate),
            ["KeyVersion"] = pseudonymizer.KeyVersion,
            ["UpdatedAt"] = updatedAt,
        };
        SetDemographics(state, demographics, fullZip: false);
        await writer.UpsertAsync(_services, state, cancellationToken).ConfigureAwait(false);

        if (record.Service is { } service)
        {
            var serviceEntity = new TableEntity(childPartition, RecordKeys.ServiceRow(pseudonymizer, service.Program, service.ServiceType, service.Start))
            {
                ["Program"] = service.Program,
                ["ServiceType"] = service.ServiceType,
                ["StartDate"] = RecordKeys.IsoDate(service.Start),
                ["EndDate"] = service.End is { } end ? RecordKeys.IsoDate(end) : "",
                ["AsOf"] = _asOf,
                ["UploadId"] = manifest.UploadId,
            };
            SetIfPresent(serviceEntity, "Hours", service.Hours);
            SetIfPresent(serviceEntity, "DaysAttended", service.DaysAttended);
            await writer.UpsertAsync(_services, serviceEntity, cancellationToken).ConfigureAwait(false);
        }

        await writer.UpsertAsync(_work, new TableEntity(manifest.UploadId, childPartition), cancellationToken).ConfigureAwait(false);
    }

    private static void SetDemographics(TableEntity entity, Demographics demographics, bool fullZip)
    {
        // Unknown is not written, so a row that omits a value does not erase what an earlier row said.
        if (demographics.Sex != Sex.Unknown)
        {
            entity["Sex"] = demographics.Sex.ToString();
        }

        if (demographics.Race != Race.Unknown)
        {
            entity["Race"] = demographics.Race.ToString();
            entity["Races"] = string.Join(';', demographics.Races);
        }

        if (demographics.Ethnicity != Ethnicity.Unknown)
        {
            entity["Ethnicity"] = demographics.Ethnicity.ToString();
        }

        SetIfPresent(entity, fullZip ? "Zip" : "Zip3", fullZip ? demographics.Zip : ZipCodes.Zip3(demographics.Zip));
        if (!fullZip)
        {
            SetIfPresent(entity, "Zip", demographics.Zip);
        }

        SetIfPresent(entity, "Grade", demographics.Grade);
        SetIfPresent(entity, "School", demographics.School);
    }

    private static void SetIfPresent(TableEntity entity, string name, object? value)
    {
        if (value is not null)
        {
            entity[name] = value;
        }
    }
}

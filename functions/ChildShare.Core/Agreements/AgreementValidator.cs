using ChildShare.Core.Activity;
using ChildShare.Core.Organizations;

namespace ChildShare.Core.Agreements;

/// <summary>An agreement that breaks the rules; <see cref="Errors"/> says which, in words a caller can act on.</summary>
public sealed class AgreementValidationException(IReadOnlyList<string> errors) : Exception(string.Join(" ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>The rules every stored agreement keeps.</summary>
public static class AgreementValidator
{
    public static IReadOnlyList<string> Validate(DataSharingAgreement agreement)
    {
        ArgumentNullException.ThrowIfNull(agreement);
        var errors = new List<string>();
        if (!IsValidId(agreement.Id))
        {
            errors.Add("An agreement id is 2 to 63 lowercase letters, digits and dashes.");
        }

        if (agreement.Parties.Count == 0)
        {
            errors.Add("An agreement covers at least one provider (parties).");
        }

        foreach (var party in agreement.Parties)
        {
            if (!OrganizationIds.IsValid(party.ProviderId))
            {
                errors.Add($"Party '{party.ProviderId}' is not a valid provider id.");
            }
        }

        if (agreement.Parties.Select(p => p.ProviderId).Distinct().Count() != agreement.Parties.Count)
        {
            errors.Add("A provider is listed twice among the parties.");
        }

        if (agreement.Recipients.Count == 0)
        {
            errors.Add("An agreement names at least one recipient organization.");
        }

        foreach (var recipient in agreement.Recipients.Where(r => !OrganizationIds.IsValid(r)))
        {
            errors.Add($"Recipient '{recipient}' is not a valid organization id.");
        }

        if (agreement.Modes.Count == 0)
        {
            errors.Add("An agreement permits at least one mode (Aggregate, DeIdentified, Identifiable).");
        }

        if (agreement.EndsOn is { } end && end < agreement.EffectiveFrom)
        {
            errors.Add("The end date is before the effective date.");
        }

        if (agreement.MinimumCellSize is < DataSharingAgreement.SmallestMinimumCellSize or > DataSharingAgreement.LargestMinimumCellSize)
        {
            errors.Add($"The minimum cell size is between {DataSharingAgreement.SmallestMinimumCellSize} and {DataSharingAgreement.LargestMinimumCellSize:N0}.");
        }

        if (!Enum.IsDefined(agreement.Protection))
        {
            // A number the JSON converter let through would sort as the strongest protection and publish exact counts.
            errors.Add($"The protection is one of {string.Join(", ", Enum.GetNames<DifferencingProtection>())}.");
        }

        foreach (var dimension in agreement.AllowedDimensions.Where(d => !ReportDimensions.IsKnown(d)))
        {
            errors.Add($"'{dimension}' is not a report dimension; the dimensions are {string.Join(", ", ReportDimensions.All)}.");
        }

        if (agreement.DeIdentification is { } terms)
        {
            errors.AddRange(DeidentificationTermsValidator.Validate(terms));
        }

        if (string.IsNullOrWhiteSpace(agreement.Purpose))
        {
            errors.Add("An agreement states its purpose.");
        }

        if (string.IsNullOrWhiteSpace(agreement.DocumentReference))
        {
            errors.Add("An agreement refers to its signed document (documentReference).");
        }

        return errors;
    }

    public static bool IsValidId(string id) => OrganizationIds.IsValid(id);
}

using System.Text.Json.Serialization;

namespace ChildShare.Core.Agreements;

/// <summary>The three modes of sharing an agreement can permit.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SharingMode>))]
public enum SharingMode
{
    Aggregate,
    DeIdentified,
    Identifiable,
}

[JsonConverter(typeof(JsonStringEnumConverter<AgreementStatus>))]
public enum AgreementStatus
{
    Active,
    Terminated,
}

/// <summary>
/// What an agreement asks of published aggregate counts against differencing and combining reports:
/// exact counts for one whole calendar month at a time (<see cref="None"/>), deterministic rounding
/// to base 5 (<see cref="Round5"/>, the default), or keyed deterministic noise (see REPORTS.md).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<DifferencingProtection>))]
public enum DifferencingProtection
{
    None,
    Round5,
    Noise,
}

/// <summary>A provider whose data an agreement covers, from the day it joined (null: from the agreement's start).</summary>
public sealed record AgreementParty(string ProviderId, DateOnly? JoinedOn = null);

/// <summary>
/// A data sharing agreement. <see cref="Parties"/> are the providers whose data it covers,
/// <see cref="Recipients"/> the organizations that may request it, in the <see cref="Modes"/> it
/// permits, between <see cref="EffectiveFrom"/> and <see cref="EndsOn"/> (inclusive; null: open).
/// </summary>
public sealed record DataSharingAgreement
{
    public const int DefaultMinimumCellSize = 11;
    public const int SmallestMinimumCellSize = 2;
    public const int LargestMinimumCellSize = 100_000;

    /// <summary>
    /// The protection of an agreement that does not name one, and of an agreement stored before this
    /// default existed (<see cref="AgreementStore"/>): reports of overlapping periods, shifted periods
    /// and other groupings cannot be combined to recover a hidden count (REPORTS.md).
    /// </summary>
    public const DifferencingProtection DefaultProtection = DifferencingProtection.Round5;

    public required string Id { get; init; }

    public int Version { get; init; } = 1;

    public string Title { get; init; } = "";

    public required IReadOnlyList<AgreementParty> Parties { get; init; }

    public required IReadOnlyList<string> Recipients { get; init; }

    public required IReadOnlyList<SharingMode> Modes { get; init; }

    public string Purpose { get; init; } = "";

    public required DateOnly EffectiveFrom { get; init; }

    public DateOnly? EndsOn { get; init; }

    public int MinimumCellSize { get; init; } = DefaultMinimumCellSize;

    /// <summary>The report dimensions recipients may group by; empty allows none (only totals).</summary>
    public IReadOnlyList<string> AllowedDimensions { get; init; } = [];

    /// <summary>Differencing protection of aggregate reports; <c>None</c> (exact counts) answers one whole calendar month at a time.</summary>
    public DifferencingProtection Protection { get; init; } = DefaultProtection;

    /// <summary>Terms of de-identified exports (k, quasi-identifiers, suppression limit...); null: the protective defaults of EXPORTS.md.</summary>
    public DeidentificationTerms? DeIdentification { get; init; }

    /// <summary>
    /// Whether identifiable consents relied on under this agreement must be confirmed by the parent on the
    /// parent page: a consent recorded under it stays Pending until the parent confirms, and the
    /// identifiable report releases nothing under this agreement on a consent the parent has not confirmed.
    /// </summary>
    public bool RequireParentConfirmation { get; init; }

    /// <summary>Where the signed agreement is kept (a document system URL or reference).</summary>
    public string DocumentReference { get; init; } = "";

    public AgreementStatus Status { get; init; } = AgreementStatus.Active;

    public DateOnly? TerminatedOn { get; init; }

    public string TerminationReason { get; init; } = "";

    public DateTimeOffset UpdatedAt { get; init; }

    public string UpdatedBy { get; init; } = "";

    /// <summary>The first day of a party's data this agreement covers, or null when the provider is not a party.</summary>
    public DateOnly? CoverageStartFor(string providerId)
    {
        var party = Parties.FirstOrDefault(p => p.ProviderId == providerId);
        return party is null ? null : party.JoinedOn is { } joined && joined > EffectiveFrom ? joined : EffectiveFrom;
    }

    /// <summary>The last day the agreement is in force (termination ends it early).</summary>
    public DateOnly? LastDay => TerminatedOn is { } t && (EndsOn is null || t < EndsOn) ? t : EndsOn;
}

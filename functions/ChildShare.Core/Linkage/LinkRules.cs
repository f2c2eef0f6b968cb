using System.Text.Json.Serialization;

namespace ChildShare.Core.Linkage;

/// <summary>
/// The decision rules, in precedence order: the first rule that holds for a pair of records is
/// the reason code of their link. Only <see cref="StateIdDob"/> is strong; every other rule is
/// weak and never joins two records of the same provider that carry different local ids.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<LinkRule>))]
public enum LinkRule
{
    /// <summary>No link.</summary>
    None = 0,

    /// <summary>L1: same state student id and birth date. Strong.</summary>
    StateIdDob,

    /// <summary>L2: same last name, first name, birth date and zip3.</summary>
    NameDobZip3,

    /// <summary>L3: same last name, first name and birth date.</summary>
    NameDob,

    /// <summary>L4: same last name, first initial, sex and birth date, and names not dissimilar.</summary>
    LastInitialSexDob,

    /// <summary>L5: first and last name swapped, same birth date.</summary>
    SwappedNameDob,

    /// <summary>L6: same Soundex of both names and birth date, and names not dissimilar.</summary>
    PhoneticDob,

    /// <summary>L7: same birth date (or day and month transposed), similar names (Bloom Dice).</summary>
    FuzzyNameDob,

    /// <summary>
    /// L8: one record lacks a first (or last) name, the other name part, the birth date and the zip
    /// agree. Ambiguity-guarded: not used when it would join the record to two different clusters (twins).
    /// </summary>
    PartialNameDobZip,

    /// <summary>L9: two of the three birth date parts agree, very similar names, same zip or similar address.</summary>
    FuzzyNamePartialDob,

    /// <summary>L10: same state student id (birth date differs or is missing), similar names.</summary>
    StateIdFuzzyName,

    /// <summary>L11: a birth date is missing or unreadable on one side, very similar names, same zip and similar address.</summary>
    FuzzyNameNoDob,

    /// <summary>
    /// L12: same first name, birth date and zip, a different last name (a child whose surname changed:
    /// adoption, a parent's marriage), corroborated by a similar street address where both records carry
    /// one, otherwise by the same sex where both report it. Twins differ in first name, so they never fit;
    /// ambiguity-guarded like L8 (a record that fits two separate clusters joins neither).
    /// </summary>
    SurnameChangedDobZip,

    /// <summary>
    /// L13: same first and last name, zip and street address, a birth date that disagrees (a mistyped or
    /// swapped date) and no disagreement on sex. Only where both records carry an address: siblings never
    /// share a first name.
    /// </summary>
    NameZipAddress,

    /// <summary>Operator: the same provider child (same provider and local id).</summary>
    SameLocalId,
}

/// <summary>The thresholds and the rules switched on; the defaults are the production decision.</summary>
public sealed record LinkRuleOptions
{
    /// <summary>Name Dice below which a token agreement (L4, L6) is treated as a coincidence.</summary>
    public double GuardDice { get; init; } = 0.6;

    /// <summary>L7: name Dice with the same birth date.</summary>
    public double FuzzyDobDice { get; init; } = 0.75;

    /// <summary>L9: name Dice with two of three birth date parts.</summary>
    public double PartialDobDice { get; init; } = 0.85;

    /// <summary>L9, L11, L12: address Dice that counts as the same address.</summary>
    public double AddressDice { get; init; } = 0.8;

    /// <summary>L13: address Dice that counts as the same street address when nothing else but the name agrees.</summary>
    public double SameAddressDice { get; init; } = 0.9;

    /// <summary>L10: name Dice with the same state student id.</summary>
    public double StateIdDice { get; init; } = 0.6;

    /// <summary>L11: name Dice without a birth date.</summary>
    public double NoDobDice { get; init; } = 0.85;

    /// <summary>A blocking key shared by more records than this is not used to find candidates.</summary>
    public int MaxBlockSize { get; init; } = 500;

    /// <summary>Rules switched off (for ablation).</summary>
    public IReadOnlySet<LinkRule> Disabled { get; init; } = new HashSet<LinkRule>();

    public static LinkRuleOptions Default { get; } = new();

    public static LinkRuleOptions Only(params LinkRule[] rules) =>
        new() { Disabled = Enum.GetValues<LinkRule>().Where(r => r is not LinkRule.None and not LinkRule.SameLocalId && !rules.Contains(r)).ToHashSet() };

    public static LinkRuleOptions Without(params LinkRule[] rules) => new() { Disabled = rules.ToHashSet() };
}

/// <summary>The pairwise decision: which rule, if any, links two encodings.</summary>
public static class LinkDecision
{
    /// <summary>The reason code an operator sees, e.g. <c>L3-name-dob</c>.</summary>
    public static string Code(LinkRule rule) => rule switch
    {
        LinkRule.StateIdDob => "L1-ssid-dob",
        LinkRule.NameDobZip3 => "L2-name-dob-zip3",
        LinkRule.NameDob => "L3-name-dob",
        LinkRule.LastInitialSexDob => "L4-last-initial-sex-dob",
        LinkRule.SwappedNameDob => "L5-swapped-name-dob",
        LinkRule.PhoneticDob => "L6-phonetic-dob",
        LinkRule.FuzzyNameDob => "L7-bloom-name-dob",
        LinkRule.PartialNameDobZip => "L8-partial-name-dob-zip",
        LinkRule.FuzzyNamePartialDob => "L9-bloom-name-partial-dob-zip",
        LinkRule.StateIdFuzzyName => "L10-ssid-bloom-name",
        LinkRule.FuzzyNameNoDob => "L11-bloom-name-zip-no-dob",
        LinkRule.SurnameChangedDobZip => "L12-first-dob-zip-surname-changed",
        LinkRule.NameZipAddress => "L13-name-zip-address",
        LinkRule.SameLocalId => "L0-same-local-id",
        _ => Unlinked,
    };

    /// <summary>The reason code of a record that joined no other.</summary>
    public const string Unlinked = "L-none-unlinked";

    public static bool IsStrong(LinkRule rule) => rule is LinkRule.StateIdDob or LinkRule.SameLocalId;

    public static LinkRule Decide(LinkEncoding a, LinkEncoding b, LinkRuleOptions options)
    {
        var off = options.Disabled;
        if (a.Same(b, LinkTokenKind.StateIdDob) && !off.Contains(LinkRule.StateIdDob))
        {
            return LinkRule.StateIdDob;
        }

        if (a.Same(b, LinkTokenKind.NameDobZip3) && !off.Contains(LinkRule.NameDobZip3))
        {
            return LinkRule.NameDobZip3;
        }

        if (a.Same(b, LinkTokenKind.NameDob) && !off.Contains(LinkRule.NameDob))
        {
            return LinkRule.NameDob;
        }

        // The remaining rules need the same birth date, part of it, the same state id, a missing date, or the same name and zip: skip the filters otherwise.
        var sameDob = a.Same(b, LinkTokenKind.Dob)
            || (a.Has(LinkTokenKind.DobDayMonthSwapped) && a[LinkTokenKind.DobDayMonthSwapped] == b[LinkTokenKind.Dob]);
        var dobParts = (a.Same(b, LinkTokenKind.DobYearMonth) ? 1 : 0) + (a.Same(b, LinkTokenKind.DobYearDay) ? 1 : 0)
            + (a.Same(b, LinkTokenKind.DobMonthDay) ? 1 : 0);
        var dobMissing = !a.Has(LinkTokenKind.Dob) || !b.Has(LinkTokenKind.Dob);
        if (!sameDob && dobParts == 0 && !dobMissing && !a.Same(b, LinkTokenKind.StateId) && !a.Same(b, LinkTokenKind.NameZip))
        {
            return LinkRule.None;
        }

        var dice = LinkEncoding.Dice(a.NameBloom, b.NameBloom);
        if (a.Same(b, LinkTokenKind.LastInitialSexDob) && dice >= options.GuardDice && !off.Contains(LinkRule.LastInitialSexDob))
        {
            return LinkRule.LastInitialSexDob;
        }

        if (((a.Has(LinkTokenKind.SwappedNameDob) && a[LinkTokenKind.SwappedNameDob] == b[LinkTokenKind.NameDob])
                || (b.Has(LinkTokenKind.SwappedNameDob) && b[LinkTokenKind.SwappedNameDob] == a[LinkTokenKind.NameDob]))
            && !off.Contains(LinkRule.SwappedNameDob))
        {
            return LinkRule.SwappedNameDob;
        }

        if (a.Same(b, LinkTokenKind.PhoneticDob) && dice >= options.GuardDice && !off.Contains(LinkRule.PhoneticDob))
        {
            return LinkRule.PhoneticDob;
        }

        var eitherDice = dice >= options.PartialDobDice
            ? dice
            : Math.Max(dice, Math.Max(LinkEncoding.Dice(a.SwappedNameBloom, b.NameBloom), LinkEncoding.Dice(a.NameBloom, b.SwappedNameBloom)));
        // The Bloom rules compare whole names: a record missing a name part goes to L8, which guards against twins.
        var fullNames = a.FullName && b.FullName;
        if (sameDob && fullNames && eitherDice >= options.FuzzyDobDice && !off.Contains(LinkRule.FuzzyNameDob))
        {
            return LinkRule.FuzzyNameDob;
        }

        var firstMissing = !a.Has(LinkTokenKind.FirstDobZip) || !b.Has(LinkTokenKind.FirstDobZip);
        var lastMissing = !a.Has(LinkTokenKind.LastDobZip) || !b.Has(LinkTokenKind.LastDobZip);
        if (((firstMissing && a.Same(b, LinkTokenKind.LastDobZip)) || (lastMissing && a.Same(b, LinkTokenKind.FirstDobZip)))
            && !off.Contains(LinkRule.PartialNameDobZip))
        {
            return LinkRule.PartialNameDobZip;
        }

        var addressDice = LinkEncoding.Dice(a.AddressBloom, b.AddressBloom);
        var samePlace = a.Same(b, LinkTokenKind.Zip) || addressDice >= options.AddressDice;
        if (dobParts >= 1 && fullNames && eitherDice >= options.PartialDobDice && samePlace && !off.Contains(LinkRule.FuzzyNamePartialDob))
        {
            return LinkRule.FuzzyNamePartialDob;
        }

        if (a.Same(b, LinkTokenKind.StateId) && dice >= options.StateIdDice && !off.Contains(LinkRule.StateIdFuzzyName))
        {
            return LinkRule.StateIdFuzzyName;
        }

        var addressKnown = a.AddressBloom is not null && b.AddressBloom is not null;
        if (dobMissing && fullNames && dice >= options.NoDobDice && a.Same(b, LinkTokenKind.Zip) && (!addressKnown || addressDice >= options.AddressDice)
            && !off.Contains(LinkRule.FuzzyNameNoDob))
        {
            return LinkRule.FuzzyNameNoDob;
        }

        // A new surname is weak evidence on its own (two Georgias born the same day in one zip), so L12 wants
        // something more to agree: the address where both records carry one, otherwise the sex where both report it.
        var sexKnown = a.Has(LinkTokenKind.Sex) && b.Has(LinkTokenKind.Sex);
        var sexDiffers = sexKnown && !a.Same(b, LinkTokenKind.Sex);
        var corroborated = addressKnown ? addressDice >= options.AddressDice : sexKnown && !sexDiffers;
        if (fullNames && a.Same(b, LinkTokenKind.FirstDobZip) && !a.Same(b, LinkTokenKind.LastDobZip) && corroborated
            && !off.Contains(LinkRule.SurnameChangedDobZip))
        {
            return LinkRule.SurnameChangedDobZip;
        }

        if (a.Same(b, LinkTokenKind.NameZip) && !sameDob && !sexDiffers && addressDice >= options.SameAddressDice && !off.Contains(LinkRule.NameZipAddress))
        {
            return LinkRule.NameZipAddress;
        }

        return LinkRule.None;
    }
}

using System.Globalization;
using System.Runtime.CompilerServices;

namespace ChildShare.Core.Linkage;

/// <summary>The fields a pair of encodings is compared on; each has levels (0 is always "missing on one side": no evidence).</summary>
public enum Comparison
{
    First,
    Last,
    BirthDate,
    Zip,
    Address,
    StateId,
    Sex,
}

/// <summary>
/// How two encodings compare, field by field: one level per <see cref="Comparison"/> (see <see cref="MatchModel.LevelNames"/>),
/// whether the names agree only when exchanged, and whether the pair looks like two children of one household.
/// </summary>
public readonly record struct ComparisonPattern(byte First, byte Last, byte BirthDate, byte Zip, byte Address, byte StateId, byte Sex, bool Swapped)
{
    public const byte Missing = 0;

    public byte this[Comparison comparison] => comparison switch
    {
        Comparison.First => First,
        Comparison.Last => Last,
        Comparison.BirthDate => BirthDate,
        Comparison.Zip => Zip,
        Comparison.Address => Address,
        Comparison.StateId => StateId,
        _ => Sex,
    };

    /// <summary>Same state student id and birth date: the one strong link (it may join two local ids of one provider).</summary>
    public bool Strong => StateId == MatchModel.Agree && BirthDate == MatchModel.DobExact;

    /// <summary>
    /// The same household: a last name alike (at least some bigrams in common: Dice at least 0.4, so a mistyped surname still counts),
    /// the names not exchanged, and the same address (Dice at least 0.8), or the same zip where either has no address. Siblings and
    /// twins share all of it, so for such a pair the last name, zip and address are one piece of evidence
    /// (<see cref="MatchModel.HouseholdWeight"/>), and the first name, birth date, sex and state id are weighed against what siblings
    /// share (<see cref="MatchModel.USibling"/>): the twin guard.
    /// </summary>
    public bool Household => !Swapped && Last is >= MatchModel.NameExact and <= MatchModel.LastDice40
        && (Address is MatchModel.AddressDice95 or MatchModel.AddressDice80 || (Address == Missing && Zip == MatchModel.Agree));

    /// <summary>
    /// Explicit evidence of two different children, unless the state id agrees: both report a sex and it differs (a mistyped sex then
    /// keeps one child apart, the price of never joining twins of different sex), or one household with entirely different first
    /// names (siblings, twins). Two clusters with such a pair between them are never joined by a weak link.
    /// </summary>
    public bool Contradicts => StateId != MatchModel.Agree && (Sex == MatchModel.Different || (Household && First == MatchModel.FirstDifferent));

    /// <summary>
    /// A sex that differs where the first name and the birth date agree exactly (the names not exchanged) and the state id does not
    /// differ: a mistyped sex, not two children (twins of different sex are not given one name).
    /// <see cref="LinkModelOptions.MistypedSex"/> does not count it as a contradiction; the sex still weighs against the pair.
    /// </summary>
    public bool MistypedSex => Sex == MatchModel.Different && First == MatchModel.NameExact && BirthDate == MatchModel.DobExact && !Swapped
        && StateId != MatchModel.Different;

    /// <summary>
    /// Looks like two twins as much as like one child (the twin-name guard, <see cref="LinkModelOptions.TwinNameGuard"/>): the same
    /// birth date in one home (the same address, Dice at least 0.8, whatever the last names say; or the same zip and a last name alike
    /// where either has no address), the state id not agreeing, and the given names not agreeing exactly or as nicknames (a
    /// near-identical name such as Aiden and Aidan, an entirely different one, or none on one side). With the names exchanged on one
    /// side both parts must agree exactly. Twins of one sex with near-identical names, each seen at another provider, look exactly
    /// like one child with a typo in the first name: nothing in the encodings tells them apart.
    /// </summary>
    public bool TwinLike
    {
        get
        {
            if (StateId == MatchModel.Agree || BirthDate != MatchModel.DobExact)
            {
                return false;
            }

            var home = Address is MatchModel.AddressDice95 or MatchModel.AddressDice80
                || (Address == Missing && Zip == MatchModel.Agree && Last is >= MatchModel.NameExact and <= MatchModel.LastDice40);
            if (!home)
            {
                return false;
            }

            return Swapped
                ? First != MatchModel.NameExact || Last != MatchModel.NameExact
                : First is not MatchModel.NameExact and not MatchModel.FirstNickname;
        }
    }

    /// <summary>
    /// One record reports a sex and the other does not (<see cref="Sex"/> is then missing): a provider that sends sex sent none for this
    /// record. Where neither reports one (FEBRL; a provider that never sends sex) it is false. Not part of <see cref="Packed"/>.
    /// </summary>
    public bool SexOnOneSide { get; init; }

    /// <summary>A dense number for grouping equal patterns (estimation).</summary>
    public int Packed => First | Last << 3 | BirthDate << 6 | Zip << 9 | Address << 11 | StateId << 14 | Sex << 16 | (Swapped ? 1 << 18 : 0);
}

/// <summary>One candidate pair's score: the pattern, the match weight (log2 of the likelihood ratio) and whether the twin guard judged it.</summary>
public readonly record struct PairScore(ComparisonPattern Pattern, double Weight, bool Guarded)
{
    public bool Strong => Pattern.Strong;
}

/// <summary>
/// A Fellegi-Sunter model over the comparison levels of encoded fields: for each comparison and level, m (the chance of the level
/// for records of one child) and u (for records of different children); a level's weight is log2(m/u), a pair's weight the sum
/// over its comparisons (missing fields add nothing). m and u are estimated from the data itself (<see cref="MatchModelEstimator"/>):
/// u from random pairs, m by expectation-maximisation over the blocked candidate pairs, as Splink does. Pairs at or above
/// <see cref="AcceptWeight"/> are linked, pairs from <see cref="ReviewWeight"/> are listed for review.
/// </summary>
public sealed record MatchModel
{
    // Level numbers (0 is missing for every comparison).
    public const byte NameExact = 1;
    public const byte FirstNickname = 2;
    public const byte FirstDice80 = 3;
    public const byte FirstDice60 = 4;
    public const byte FirstPhonetic = 5;
    public const byte FirstDice40 = 6;
    public const byte FirstDifferent = 7;
    public const byte LastDice80 = 2;
    public const byte LastDice60 = 3;
    public const byte LastDice40 = 4;
    public const byte LastDifferent = 5;
    public const byte DobExact = 1;
    public const byte DobTransposed = 2;
    public const byte DobTwoParts = 3;
    public const byte DobDifferent = 4;
    public const byte Agree = 1;
    public const byte Different = 2;
    public const byte AddressDice95 = 1;
    public const byte AddressDice80 = 2;
    public const byte AddressDice60 = 3;
    public const byte AddressDifferent = 4;

    public static readonly IReadOnlyDictionary<Comparison, string[]> LevelNames = new Dictionary<Comparison, string[]>
    {
        [Comparison.First] = ["missing", "exact", "nickname", "dice>=0.8", "dice>=0.6", "same-soundex", "dice>=0.4", "different"],
        [Comparison.Last] = ["missing", "exact", "dice>=0.8", "dice>=0.6", "dice>=0.4", "different"],
        [Comparison.BirthDate] = ["missing", "exact", "day-month-transposed", "two-of-three-parts", "different"],
        [Comparison.Zip] = ["missing", "agree", "different"],
        [Comparison.Address] = ["missing", "dice>=0.95", "dice>=0.8", "dice>=0.6", "different"],
        [Comparison.StateId] = ["missing", "agree", "different"],
        [Comparison.Sex] = ["missing", "agree", "different"],
    };

    /// <summary>m per comparison and level (index 0, missing, unused).</summary>
    public required IReadOnlyDictionary<Comparison, double[]> M { get; init; }

    /// <summary>u per comparison and level (index 0, missing, unused).</summary>
    public required IReadOnlyDictionary<Comparison, double[]> U { get; init; }

    /// <summary>The estimated chance that two records taken at random are of one child (the prior the weights, relative to random pairs, update).</summary>
    public double Lambda { get; init; }

    /// <summary>Pairs at or above this weight are linked (chosen from the estimated distribution; see LINKAGE.md).</summary>
    public double AcceptWeight { get; init; }

    /// <summary>Pairs at or above this weight and below <see cref="AcceptWeight"/> are listed for review.</summary>
    public double ReviewWeight { get; init; }

    /// <summary>The comparisons weighed against siblings for a pair of one household (<see cref="ComparisonPattern.Household"/>).</summary>
    public static readonly Comparison[] Personal = [Comparison.First, Comparison.BirthDate, Comparison.Sex, Comparison.StateId];

    /// <summary>
    /// The weight of being one household (address, or zip and last name), log2(P(household | match) / P(household | random pair)):
    /// counted once for such a pair, instead of the weights that would count the family two or three times.
    /// </summary>
    public double HouseholdWeight { get; init; }

    /// <summary>
    /// u of the <see cref="Personal"/> comparisons among pairs of one household that are not one child: siblings and twins (they never
    /// share a first name, often not a sex, sometimes the birth date). Estimated by EM within the address blocks.
    /// </summary>
    public required IReadOnlyDictionary<Comparison, double[]> USibling { get; init; }

    /// <summary>The weight of a level of a personal comparison within one household: log2(m / u among siblings).</summary>
    public double SiblingWeight(Comparison comparison, byte level) =>
        level == ComparisonPattern.Missing ? 0 : Math.Log2(M[comparison][level] / USibling[comparison][level]);

    // A reference, so a reader on another thread sees a whole table or none (a struct of five fields could be read torn).
    private WeightTables? _tables;

    /// <summary>
    /// The weights of every level, computed once per m and u (a pair is scored millions of times). Keyed by the dictionaries'
    /// identity, so a copy made with <c>with</c> that replaces them computes its own.
    /// </summary>
    internal (double[][] Weights, double[][] Sibling) Tables()
    {
        var t = _tables;
        if (t is not null && ReferenceEquals(t.M, M) && ReferenceEquals(t.U, U) && ReferenceEquals(t.S, USibling))
        {
            return (t.Weights, t.Sibling);
        }

        var comparisons = Enum.GetValues<Comparison>();
        var weights = comparisons.Select(c => Enumerable.Range(0, LevelNames[c].Length).Select(l => Weight(c, (byte)l)).ToArray()).ToArray();
        var sibling = comparisons.Select(c => Enumerable.Range(0, LevelNames[c].Length)
            .Select(l => Personal.Contains(c) ? SiblingWeight(c, (byte)l) : 0).ToArray()).ToArray();
        _tables = new WeightTables(M, U, USibling, weights, sibling);
        return (weights, sibling);
    }

    private sealed record WeightTables(object M, object U, object S, double[][] Weights, double[][] Sibling);

    /// <summary>The weight of a level: log2(m/u); 0 for a missing field.</summary>
    public double Weight(Comparison comparison, byte level) =>
        level == ComparisonPattern.Missing ? 0 : Math.Log2(M[comparison][level] / U[comparison][level]);

    /// <summary>The estimated probability that a pair of this weight is a match, given <see cref="Lambda"/>.</summary>
    public double Probability(double weight) => 1 / (1 + (1 - Lambda) / Lambda * Math.Pow(2, -weight));

    /// <summary>The weight at which <see cref="Probability"/> reaches <paramref name="probability"/>.</summary>
    public double WeightFor(double probability) => Math.Log2(probability / (1 - probability) * (1 - Lambda) / Lambda);

    /// <summary>
    /// The production model: m and u estimated (<see cref="MatchModelEstimator"/>) on generated rosters of the tuning seeds only,
    /// never on a set whose figures are reported; the thresholds as LINKAGE.md explains. The benchmark's <c>estimate</c> prints them again.
    /// </summary>
    public static MatchModel Default { get; } = new()
    {
        M = new Dictionary<Comparison, double[]>
        {
            [Comparison.First] = [0, 0.492, 0.00629, 0.0558, 0.193, 0.0775, 0.0822, 0.0925],
            [Comparison.Last] = [0, 0.563, 0.0557, 0.167, 0.0868, 0.128],
            [Comparison.BirthDate] = [0, 0.78, 0.0348, 0.172, 0.0129],
            [Comparison.Zip] = [0, 0.907, 0.0927],
            [Comparison.Address] = [0, 0.877, 0.0677, 0.00408, 0.0511],
            [Comparison.StateId] = [0, 0.925, 0.0745],
            [Comparison.Sex] = [0, 0.971, 0.029],
        },
        U = new Dictionary<Comparison, double[]>
        {
            [Comparison.First] = [0, 0.0067, 1.8E-06, 0.000918, 0.00598, 4.85E-05, 0.0233, 0.963],
            [Comparison.Last] = [0, 0.00904, 0.00129, 0.00284, 0.0176, 0.969],
            [Comparison.BirthDate] = [0, 0.00021, 8.69E-05, 0.00928, 0.99],
            [Comparison.Zip] = [0, 0.0233, 0.977],
            [Comparison.Address] = [0, 6.97E-05, 0.000402, 0.0037, 0.996],
            [Comparison.StateId] = [0, 4.15E-05, 1],
            [Comparison.Sex] = [0, 0.501, 0.499],
        },
        USibling = new Dictionary<Comparison, double[]>
        {
            [Comparison.First] = [0, 0.00209, 0.000207, 9.46E-05, 0.00399, 0.00512, 0.0179, 0.971],
            [Comparison.Last] = [0, 0.2, 0.2, 0.2, 0.2, 0.2],
            [Comparison.BirthDate] = [0, 0.0626, 0.00209, 0.0115, 0.924],
            [Comparison.Zip] = [0, 0.5, 0.5],
            [Comparison.Address] = [0, 0.25, 0.25, 0.25, 0.25],
            [Comparison.StateId] = [0, 0.000146, 1],
            [Comparison.Sex] = [0, 0.486, 0.514],
        },
        Lambda = 0.0001412,
        AcceptWeight = 17.24,
        ReviewWeight = 12.79,
        HouseholdWeight = 12.61,
    };
}

/// <summary>What the engine links with: the model, the twin guard, comparisons switched off (ablation), and the block cap.</summary>
public sealed record LinkModelOptions
{
    public MatchModel Model { get; init; } = MatchModel.Default;

    /// <summary>Sibling-like pairs are judged on first name, sex and state id, and contradicting clusters never join (see LINKAGE.md).</summary>
    public bool TwinGuard { get; init; } = true;

    /// <summary>Comparisons switched off (for ablation): they add no weight.</summary>
    public IReadOnlySet<Comparison> Disabled { get; init; } = new HashSet<Comparison>();

    /// <summary>A blocking key shared by more records than this is not used to find candidates.</summary>
    public int MaxBlockSize { get; init; } = 500;

    /// <summary>
    /// A record whose best links go to two clusters that contradict each other (twins) joins the best only when its weight is at
    /// least this much higher than the other's; otherwise it joins neither (and both pairs go to review).
    /// </summary>
    public double AmbiguityMargin { get; init; } = 3;

    /// <summary>
    /// The second pass over the review band (<see cref="LinkageEngine.ResolveHouseholds"/>): a household pair of the review band
    /// joins when the household's other records leave no rival for either side; it needs the twin guard. Off by default. Its joins are
    /// undone when a rival arrives later and an operator's split runs it again, so the production linker decides as the evaluation
    /// does; on held-out seeds it raised every set's recall (+0.3 to +1.6 points) for one twin pair more of 1,710. It stays off because
    /// each of three adversarial reviews of that work found faults (twelve, all fixed, the last round's fixes not yet reviewed):
    /// LINKAGE.md, "6 Dec 2026: the resolver's order dependence fixed".
    /// </summary>
    public bool HouseholdResolver { get; init; }

    /// <summary>
    /// The twin-name guard: a pair that is <see cref="ComparisonPattern.TwinLike"/> is never accepted by a weak link (its weight is
    /// held just under <see cref="MatchModel.AcceptWeight"/>, so it goes to review), and the household resolver does not join it.
    /// </summary>
    public bool TwinNameGuard { get; init; }

    /// <summary>
    /// The twin-name guard where the sex does not agree (missing on one side): a <see cref="ComparisonPattern.TwinLike"/> pair without
    /// the sex to tell it is held under the accept weight. Without it a record of one twin without a sex, with a near-identical name
    /// (Frances, Francis), could join the other twin of the other sex. Off by default: where providers send no sex (FEBRL has none)
    /// it holds every near-identical first name of one home and birth date for review, which cost 2.3 points of recall on FEBRL
    /// dataset2 (TUNED-ON) and 5.4 on dataset1; on the generated sets it kept no different-sex twins apart that the twin-evidence
    /// guard did not (LINKAGE.md).
    /// </summary>
    public bool SexlessTwinNames { get; init; }

    /// <summary>
    /// <see cref="SexlessTwinNames"/> only where one record reports a sex and the other does not
    /// (<see cref="ComparisonPattern.SexOnOneSide"/>): a record of one twin sent without its sex, with a near-identical first name,
    /// is held for review instead of joining the other twin, whose sex may differ. Where no record reports a sex (FEBRL) it changes
    /// nothing, so it costs none of <see cref="SexlessTwinNames"/>'s recall there. The first pass only: where the household resolver
    /// runs, it judges the pair with its household in view (a twin any provider holds is a rival). On by default since 4 Dec 2026: with
    /// the resolver off it costs 0.0 to 0.6 points of recall on the generated sets, and no twins of different sex are joined on any
    /// tuning or fresh set (LINKAGE.md, "A sex on one side only").
    /// </summary>
    public bool OneSidedSexTwinNames { get; init; } = true;

    /// <summary>
    /// The twin-name guard where the pair carries evidence of two children: entirely different first names, or different state ids
    /// (a <see cref="ComparisonPattern.TwinLike"/> pair that is not weighed as one household, e.g. without a last name on one side,
    /// scored its birth date, zip and address three times and was accepted).
    /// </summary>
    public bool TwinEvidence { get; init; } = true;

    /// <summary>
    /// Cannot-link through clusters: two clusters that share a provider are two children (a weak link never joins them), so a record
    /// whose weak links go to both with weights within <see cref="AmbiguityMargin"/> joins neither, as with contradicting clusters.
    /// </summary>
    public bool ProviderAmbiguity { get; init; } = true;

    /// <summary>
    /// Within one household, a first name that agrees only approximately (or as a nickname) weighs at most the exact agreement minus
    /// <see cref="AmbiguityMargin"/>: the estimated sibling u of the near levels is tiny because natural siblings are not given
    /// near-identical names, so without this Aidan scored higher against his twin Aiden than against his own record.
    /// </summary>
    public bool MonotoneSiblingNames { get; init; } = true;

    /// <summary>
    /// One household by the address alone: a pair at the same address (Dice at least 0.8) is weighed as one household (and contradicts
    /// with entirely different first names) even when the last names differ or are exchanged (a twin's record under a new surname).
    /// </summary>
    public bool HouseholdByAddress { get; init; }

    /// <summary>The household resolver may join a pair whose first names disagree entirely (a replaced first name).</summary>
    public bool ResolverReplacedNames { get; init; }

    /// <summary>
    /// A sex that differs with the first name and birth date exact (<see cref="ComparisonPattern.MistypedSex"/>) is no contradiction:
    /// the pair is weighed as any other (the sex's disagreement weight still counts), and a record with a mistyped sex no longer
    /// keeps its child's other records apart through the ambiguity refusal. Issue 16's recall round (LINKAGE.md, 3 Dec 2026,
    /// branch recall29).
    /// </summary>
    public bool MistypedSex { get; init; } = true;

    public static LinkModelOptions Default { get; } = new();

    public static LinkModelOptions Without(params Comparison[] comparisons) => new() { Disabled = comparisons.ToHashSet() };
}

/// <summary>Compares two encodings field by field and scores the pair under a model.</summary>
public static class MatchScorer
{
    /// <summary>The comparison levels of two encodings.</summary>
    public static ComparisonPattern Compare(LinkEncoding a, LinkEncoding b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var names = new NameFilters(a.First, a.FirstBits, a.Last, a.LastBits, b.First, b.FirstBits, b.Last, b.LastBits,
            a.Same(b, LinkTokenKind.NicknameLast), a.Same(b, LinkTokenKind.PhoneticNames),
            a.Has(LinkTokenKind.PhoneticNamesSwapped) && a[LinkTokenKind.PhoneticNamesSwapped] == b[LinkTokenKind.PhoneticNames]);
        return CompareNames(names, BirthDateLevel(a, b), TokenLevel(a, b, LinkTokenKind.Zip), TokenLevel(a, b, LinkTokenKind.StateId),
            TokenLevel(a, b, LinkTokenKind.Sex), AddressLevel(a, b)) with { SexOnOneSide = a.Has(LinkTokenKind.Sex) != b.Has(LinkTokenKind.Sex) };
    }

    /// <summary>
    /// The pair's score (exactly <see cref="Score(LinkEncoding, LinkEncoding, LinkModelOptions)"/>), or null when the pair is not the
    /// strong link and its weight cannot reach <paramref name="floor"/>. The token levels come from the variants' interned token ids
    /// (<see cref="VariantKeys"/>, small and flat, so a candidate costs one read instead of its encoding's); then the address filter;
    /// the name filters (the Dice of the first and last names and of the exchanged names) and the encodings themselves only when an
    /// upper bound of the weight, with the best level each remaining comparison could have, still reaches the floor (both tests read
    /// from the engine's <see cref="ScoreBounds.Screen"/>, where they are computed once for every combination of levels). The engine
    /// scores every candidate pair with the floor of its review band: below it a pair changes nothing, so skipping it changes no
    /// decision.
    /// </summary>
    internal static PairScore? ScoreAtLeast(
        in VariantKeys ka, ReadOnlySpan<ulong> filtersA, in VariantKeys kb, ReadOnlySpan<ulong> filtersB, LinkModelOptions options, ScoreBounds bounds, double floor)
    {
        var tokens = new TokenLevels(ka, kb);
        var screen = bounds.Screen(floor)[ScreenIndex(ka, kb, tokens)];
        if ((screen & ScreenTokens) == 0)
        {
            return null;
        }

        var level = ka.AddressBits >= 0 && kb.AddressBits >= 0
            ? AddressLevel(LinkEncoding.Dice(ka.AddressOf(filtersA), ka.AddressBits, kb.AddressOf(filtersB), kb.AddressBits))
            : ComparisonPattern.Missing;
        return (screen >> level & 1) == 0
            ? null
            : Score(CompareNames(NamesOf(ka, filtersA, kb, filtersB), tokens.Birth, tokens.Zip, tokens.StateId, tokens.Sex, level) with { SexOnOneSide = tokens.SexOnOneSide }, options);
    }

    /// <summary>
    /// Whether <see cref="ScoreAtLeast"/> may return a score for the pair, judged on the keys alone (no filter is read): false exactly
    /// when its first test, the upper bound from the token levels, already rules the pair out. The engine runs it over all of a
    /// record's candidate pairs first, so that it gathers the filters of the others only.
    /// </summary>
    internal static bool MayReach(in VariantKeys ka, in VariantKeys kb, ReadOnlySpan<byte> screen) =>
        (screen[ScreenIndex(ka, kb, new TokenLevels(ka, kb))] & ScreenTokens) != 0;

    // The screen's bit of the first test (the bound on the token levels); bits 0 to 4 are the second's, one per address level.
    private const byte ScreenTokens = 0x80;

    // What the bound of a pair depends on, in 14 bits: the birth-date level (0-4), the zip, state id and sex levels (0-2 each),
    // and whether both sides have a first name, a last name and an address, and the nickname and phonetic tokens agree.
    internal const int ScreenSize = 1 << 14;

    private static int ScreenIndex(in VariantKeys ka, in VariantKeys kb, in TokenLevels tokens) => ScreenIndex(
        tokens.Birth, tokens.Zip, tokens.StateId, tokens.Sex, ka.FirstBits >= 0 && kb.FirstBits >= 0, ka.LastBits >= 0 && kb.LastBits >= 0,
        ka.AddressBits >= 0 && kb.AddressBits >= 0, Agree(ka.Nickname, kb.Nickname), Agree(ka.Phonetic, kb.Phonetic) || Agree(ka.PhoneticSwapped, kb.Phonetic));

    private static int ScreenIndex(byte birth, byte zip, byte stateId, byte sex, bool bothFirst, bool bothLast, bool bothAddress, bool nickname, bool phonetic) =>
        birth << 11 | zip << 9 | stateId << 7 | sex << 5 | (bothFirst ? 16 : 0) | (bothLast ? 8 : 0) | (bothAddress ? 4 : 0) | (nickname ? 2 : 0) | (phonetic ? 1 : 0);

    /// <summary>
    /// The two tests of <see cref="ScoreAtLeast"/>'s upper bound for every combination of what they depend on (the screen index),
    /// computed once per engine: bit 7 whether the bound on the token levels reaches <paramref name="floor"/>, bit <c>level</c> whether
    /// it does with that address level (the strong link: every bit). A pair then costs its index and one read of a 16 KB table instead
    /// of a dozen weights added, each entry being the very sum the pair would have computed.
    /// </summary>
    internal static byte[] Screen(ScoreBounds bounds, double floor)
    {
        var screen = new byte[ScreenSize];
        for (byte birth = 0; birth <= MatchModel.DobDifferent; birth++)
        {
            for (byte zip = 0; zip <= MatchModel.Different; zip++)
            {
                for (byte stateId = 0; stateId <= MatchModel.Different; stateId++)
                {
                    for (byte sex = 0; sex <= MatchModel.Different; sex++)
                    {
                        for (var flags = 0; flags < 32; flags++)
                        {
                            bool bothFirst = (flags & 16) != 0, bothLast = (flags & 8) != 0, bothAddress = (flags & 4) != 0;
                            var index = ScreenIndex(birth, zip, stateId, sex, bothFirst, bothLast, bothAddress, (flags & 2) != 0, (flags & 1) != 0);
                            if (stateId == MatchModel.Agree && birth == MatchModel.DobExact)
                            {
                                // The strong link is scored in full whatever its weight.
                                screen[index] = byte.MaxValue;
                                continue;
                            }

                            var bound = new TokenBound(birth, zip, stateId, sex, bothFirst, bothLast, bothAddress, (flags & 2) != 0, (flags & 1) != 0, bounds);
                            if (bound.Max(bounds) < floor - ScoreBounds.Slack)
                            {
                                continue;
                            }

                            var value = ScreenTokens;
                            for (byte level = 0; level <= MatchModel.AddressDifferent; level++)
                            {
                                if (level != ComparisonPattern.Missing && !bothAddress)
                                {
                                    continue;
                                }

                                var household = bounds.TwinGuard && ((bound.BothLast
                                    && (level is MatchModel.AddressDice95 or MatchModel.AddressDice80 || (level == ComparisonPattern.Missing && zip == MatchModel.Agree)))
                                    || (bounds.HouseholdByAddress && level is MatchModel.AddressDice95 or MatchModel.AddressDice80));
                                // Written as "not below" so that a bound that is not a number (a model with a NaN weight, or +inf and -inf
                                // weights summed) keeps the pair, as the first test does: the screen may only skip what provably falls short.
                                if (!(Math.Max(bound.Tokens + bound.Names + bounds.Weight(Comparison.Address, level), household ? bound.Sibling : double.NegativeInfinity)
                                    < floor - ScoreBounds.Slack))
                                {
                                    value |= (byte)(1 << level);
                                }
                            }

                            screen[index] = value;
                        }
                    }
                }
            }
        }

        return screen;
    }

    /// <summary>The levels of a pair's token comparisons, from the interned ids of its keys.</summary>
    private readonly struct TokenLevels(in VariantKeys ka, in VariantKeys kb)
    {
        public byte Birth { get; } = BirthDateLevel(ka, kb);

        public byte Zip { get; } = TokenLevel(ka.Zip, kb.Zip);

        public byte StateId { get; } = TokenLevel(ka.StateId, kb.StateId);

        public byte Sex { get; } = TokenLevel(ka.Sex, kb.Sex);

        public bool SexOnOneSide { get; } = (ka.Sex == 0) != (kb.Sex == 0);

        /// <summary>The strong link (<see cref="ComparisonPattern.Strong"/>): scored in full whatever its weight.</summary>
        public bool Strong => StateId == MatchModel.Agree && Birth == MatchModel.DobExact;
    }

    /// <summary>
    /// The parts of the upper bound of a pair's weight known before any filter is read: the weight of its token levels, the most the
    /// names could add, and the most a pair of one household could weigh (the family once, the personal comparisons against siblings).
    /// </summary>
    private readonly struct TokenBound
    {
        public TokenBound(
            byte birth, byte zip, byte stateId, byte sex, bool bothFirst, bool bothLast, bool bothAddress, bool nickname, bool phonetic, ScoreBounds bounds)
        {
            BothLast = bothLast;
            BothAddress = bothAddress;
            Tokens = bounds.Weight(Comparison.BirthDate, birth) + bounds.Weight(Comparison.Zip, zip)
                + bounds.Weight(Comparison.StateId, stateId) + bounds.Weight(Comparison.Sex, sex);
            Names = (bothFirst ? bounds.MaxFirst(nickname, phonetic) : 0) + (BothLast ? bounds.MaxLast : 0);
            Sibling = bounds.HouseholdWeight + (bothFirst ? bounds.MaxSiblingFirst(nickname, phonetic) : 0) + bounds.Sibling(Comparison.BirthDate, birth)
                + bounds.Sibling(Comparison.Sex, sex) + bounds.Sibling(Comparison.StateId, stateId);
            Household = bounds.TwinGuard && ((BothLast && (BothAddress || zip == MatchModel.Agree)) || (bounds.HouseholdByAddress && BothAddress));
        }

        public bool BothLast { get; }

        public bool BothAddress { get; }

        public double Tokens { get; }

        public double Names { get; }

        public double Sibling { get; }

        /// <summary>Whether the pair may be weighed as one household, whatever its address filters say.</summary>
        public bool Household { get; }

        /// <summary>The upper bound itself, with the best address level where both have an address.</summary>
        public double Max(ScoreBounds bounds) => Math.Max(Tokens + Names + (BothAddress ? bounds.MaxAddress : 0), Household ? Sibling : double.NegativeInfinity);
    }

    private static bool Agree(int a, int b) => a != 0 && a == b;

    private static NameFilters NamesOf(in VariantKeys ka, ReadOnlySpan<ulong> filtersA, in VariantKeys kb, ReadOnlySpan<ulong> filtersB) => new(
        ka.FirstOf(filtersA), ka.FirstBits, ka.LastOf(filtersA), ka.LastBits, kb.FirstOf(filtersB), kb.FirstBits, kb.LastOf(filtersB), kb.LastBits,
        Agree(ka.Nickname, kb.Nickname), Agree(ka.Phonetic, kb.Phonetic), Agree(ka.PhoneticSwapped, kb.Phonetic));

    /// <summary>
    /// The name filters of a pair (bits -1 where a name is missing) and whether the nickname, phonetic and exchanged phonetic tokens
    /// agree: what the name comparisons read, from the encodings or from a <see cref="VariantTable"/>.
    /// </summary>
    private readonly ref struct NameFilters(
        ReadOnlySpan<ulong> firstA, int firstBitsA, ReadOnlySpan<ulong> lastA, int lastBitsA, ReadOnlySpan<ulong> firstB, int firstBitsB,
        ReadOnlySpan<ulong> lastB, int lastBitsB, bool nickname, bool phonetic, bool phoneticSwapped)
    {
        public NameFilters(ulong[]? firstA, int firstBitsA, ulong[]? lastA, int lastBitsA, ulong[]? firstB, int firstBitsB, ulong[]? lastB, int lastBitsB,
            bool nickname, bool phonetic, bool phoneticSwapped)
            : this(firstA.AsSpan(), firstA is null ? -1 : firstBitsA, lastA.AsSpan(), lastA is null ? -1 : lastBitsA, firstB.AsSpan(), firstB is null ? -1 : firstBitsB,
                lastB.AsSpan(), lastB is null ? -1 : lastBitsB, nickname, phonetic, phoneticSwapped)
        {
        }

        public ReadOnlySpan<ulong> FirstA { get; } = firstA;

        public int FirstBitsA { get; } = firstBitsA;

        public ReadOnlySpan<ulong> LastA { get; } = lastA;

        public int LastBitsA { get; } = lastBitsA;

        public ReadOnlySpan<ulong> FirstB { get; } = firstB;

        public int FirstBitsB { get; } = firstBitsB;

        public ReadOnlySpan<ulong> LastB { get; } = lastB;

        public int LastBitsB { get; } = lastBitsB;

        public bool Nickname { get; } = nickname;

        public bool Phonetic { get; } = phonetic;

        public bool PhoneticSwapped { get; } = phoneticSwapped;

        public bool FullNames => FirstBitsA >= 0 && LastBitsA >= 0 && FirstBitsB >= 0 && LastBitsB >= 0;
    }

    private static byte TokenLevel(int a, int b) => a != 0 && b != 0 ? (a == b ? MatchModel.Agree : MatchModel.Different) : ComparisonPattern.Missing;

    /// <summary><see cref="BirthDateLevel(LinkEncoding, LinkEncoding)"/> on interned token ids (0 where the token is missing).</summary>
    private static byte BirthDateLevel(in VariantKeys a, in VariantKeys b)
    {
        if (a.Dob != 0 && a.Dob == b.Dob)
        {
            return MatchModel.DobExact;
        }

        if (a.DobSwapped != 0 && a.DobSwapped == b.Dob)
        {
            return MatchModel.DobTransposed;
        }

        if ((a.YearMonth | a.YearDay | a.MonthDay) == 0 || (b.YearMonth | b.YearDay | b.MonthDay) == 0)
        {
            return ComparisonPattern.Missing;
        }

        return (a.YearMonth != 0 && a.YearMonth == b.YearMonth) || (a.YearDay != 0 && a.YearDay == b.YearDay) || (a.MonthDay != 0 && a.MonthDay == b.MonthDay)
            ? MatchModel.DobTwoParts
            : MatchModel.DobDifferent;
    }

    private static byte TokenLevel(LinkEncoding a, LinkEncoding b, LinkTokenKind kind) =>
        Both(a, b, kind) ? (a.Same(b, kind) ? MatchModel.Agree : MatchModel.Different) : ComparisonPattern.Missing;

    private static byte AddressLevel(LinkEncoding a, LinkEncoding b) =>
        a.Address is null || b.Address is null ? ComparisonPattern.Missing : AddressLevel(LinkEncoding.Dice(a.Address, a.AddressBits, b.Address, b.AddressBits));

    private static byte AddressLevel(double dice) => dice >= 0.95 ? MatchModel.AddressDice95 : dice >= 0.8 ? MatchModel.AddressDice80 : dice >= 0.6 ? MatchModel.AddressDice60 : MatchModel.AddressDifferent;

    private static ComparisonPattern CompareNames(in NameFilters n, byte birth, byte zip, byte stateId, byte sex, byte address)
    {
        double first = Dice(n.FirstA, n.FirstBitsA, n.FirstB, n.FirstBitsB), last = Dice(n.LastA, n.LastBitsA, n.LastB, n.LastBitsB);
        var swapped = false;
        if (n.FullNames && (first < 0.8 || last < 0.8))
        {
            // First and last name exchanged on one side: the same filters space holds both parts, so they compare across.
            double crossFirst = Dice(n.FirstA, n.FirstBitsA, n.LastB, n.LastBitsB), crossLast = Dice(n.LastA, n.LastBitsA, n.FirstB, n.FirstBitsB);
            if (Math.Max(crossFirst, crossLast) >= 0.8 && crossFirst + crossLast > first + last + 0.4)
            {
                (first, last, swapped) = (crossFirst, crossLast, true);
            }
        }

        var firstLevel = FirstLevel(n, first, swapped);
        var lastLevel = n.LastBitsA < 0 || n.LastBitsB < 0 ? ComparisonPattern.Missing
            : last >= 0.999 ? MatchModel.NameExact : last >= 0.8 ? MatchModel.LastDice80 : last >= 0.6 ? MatchModel.LastDice60 : last >= 0.4 ? MatchModel.LastDice40 : MatchModel.LastDifferent;
        return new ComparisonPattern(firstLevel, lastLevel, birth, zip, address, stateId, sex, swapped);
    }

    /// <summary>The pair's weight under the model, with the twin guard where it applies.</summary>
    public static PairScore Score(ComparisonPattern pattern, LinkModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var model = options.Model;
        var (weights, sibling) = model.Tables();
        var disabled = options.Disabled;
        var anyDisabled = disabled.Count > 0;
        Span<byte> levels = [pattern.First, pattern.Last, pattern.BirthDate, pattern.Zip, pattern.Address, pattern.StateId, pattern.Sex];
        if (options.TwinGuard && Household(pattern, options))
        {
            // One household: the family counts once, and what tells its children apart is weighed against siblings.
            var weight = model.HouseholdWeight;
            foreach (var c in MatchModel.Personal)
            {
                weight += anyDisabled && disabled.Contains(c) ? 0 : sibling[(int)c][levels[(int)c]];
            }

            if (options.MonotoneSiblingNames && pattern.First is > MatchModel.NameExact and < MatchModel.FirstDifferent && !disabled.Contains(Comparison.First))
            {
                // Never more than the exact name, less the ambiguity margin: the bound of ScoreAtLeast stays an upper bound (only lowered).
                var first = sibling[(int)Comparison.First];
                weight -= Math.Max(0, first[pattern.First] - (first[MatchModel.NameExact] - options.AmbiguityMargin));
            }

            return new PairScore(pattern, TwinCapped(pattern, weight, options), Guarded: true);
        }

        var sum = 0.0;
        for (var c = 0; c < levels.Length; c++)
        {
            sum += anyDisabled && disabled.Contains((Comparison)c) ? 0 : weights[c][levels[c]];
        }

        return new PairScore(pattern, TwinCapped(pattern, sum, options), Guarded: false);
    }

    public static PairScore Score(LinkEncoding a, LinkEncoding b, LinkModelOptions options) => Score(Compare(a, b), options);

    /// <summary>How far under the accept weight the twin-name guard holds a twin-like pair: it stays in the review band.</summary>
    public const double TwinCapMargin = 0.01;

    // Lowering a weight never breaks the upper bound of ScoreAtLeast, so the guard needs no bound of its own.
    private static double TwinCapped(in ComparisonPattern pattern, double weight, LinkModelOptions options) =>
        TwinLike(pattern, options) ? Math.Min(weight, options.Model.AcceptWeight - TwinCapMargin) : weight;

    /// <summary>Whether the options' twin-name guard holds the pair under the accept weight.</summary>
    public static bool TwinLike(in ComparisonPattern pattern, LinkModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.TwinGuard && pattern.TwinLike && (options.TwinNameGuard || WithoutTheSex(pattern, options)
            || (options.TwinEvidence && (pattern.First == MatchModel.FirstDifferent || pattern.StateId == MatchModel.Different)));
    }

    /// <summary>Whether the options' twin-name guards for a sex that does not tell the pair apart apply (<see cref="LinkModelOptions.SexlessTwinNames"/>, <see cref="LinkModelOptions.OneSidedSexTwinNames"/>).</summary>
    public static bool WithoutTheSex(in ComparisonPattern pattern, LinkModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (options.SexlessTwinNames && pattern.Sex != MatchModel.Agree) || (options.OneSidedSexTwinNames && pattern.SexOnOneSide);
    }

    /// <summary>One household under the options (<see cref="LinkModelOptions.HouseholdByAddress"/> widens it to the address alone).</summary>
    public static bool Household(in ComparisonPattern pattern, LinkModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return pattern.Household || (options.HouseholdByAddress && pattern.Address is MatchModel.AddressDice95 or MatchModel.AddressDice80);
    }

    /// <summary><see cref="ComparisonPattern.Contradicts"/> with the household of the options.</summary>
    public static bool Contradicts(in ComparisonPattern pattern, LinkModelOptions options) => (pattern.Contradicts && !(options.MistypedSex && pattern.MistypedSex))
        || (pattern.StateId != MatchModel.Agree && pattern.First == MatchModel.FirstDifferent && Household(pattern, options));

    private static readonly Comparison[] Comparisons = Enum.GetValues<Comparison>();

    // " first=exact" and the like, for each comparison and level (index 0, missing, never used).
    private static readonly string[][] ReasonParts =
        Comparisons.Select(c => MatchModel.LevelNames[c].Select(level => " " + Short(c) + "=" + level).ToArray()).ToArray();

    // Enough for the longest reason code (every comparison, names exchanged, one household) without renting a larger buffer.
    private const int ReasonCapacity = 192;

    /// <summary>
    /// The reason code of a link: its weight and the comparisons that carried it (those adding weight), e.g.
    /// <c>w+31.2 first=exact last=dice>=0.8 dob=exact zip=agree</c>; <c>ssid+dob</c> marks the strong link.
    /// </summary>
    public static string Reason(PairScore score, LinkModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Built for every link made (hundreds of thousands in a large upload): the weights from the model's tables (the same values as
        // MatchModel.Weight, without its lookups and logarithm), each comparison's text made once, and the text written on the stack
        // (the string is the only allocation).
        var (weights, _) = options.Model.Tables();
        var text = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[ReasonCapacity]);
        if (score.Strong)
        {
            text.AppendLiteral("ssid+dob ");
        }

        text.AppendLiteral("w");
        text.AppendFormatted(score.Weight, "+0.0;-0.0");
        foreach (var comparison in Comparisons)
        {
            var level = score.Pattern[comparison];
            if (level != ComparisonPattern.Missing && weights[(int)comparison][level] > 0 && !options.Disabled.Contains(comparison))
            {
                text.AppendLiteral(ReasonParts[(int)comparison][level]);
            }
        }

        if (score.Pattern.Swapped)
        {
            text.AppendLiteral(" names-exchanged");
        }

        if (score.Guarded)
        {
            text.AppendLiteral(" one-household");
        }

        return text.ToStringAndClear();
    }

    /// <summary>The agreement pattern of a pair as text (every comparison, missing ones included), for the review list.</summary>
    public static string Describe(ComparisonPattern pattern) => string.Join(' ',
        Enum.GetValues<Comparison>().Select(c => Short(c) + "=" + MatchModel.LevelNames[c][pattern[c]]).Append(pattern.Swapped ? "names-exchanged" : "").Where(s => s.Length > 0));

    public static string Short(Comparison comparison) => comparison switch
    {
        Comparison.First => "first",
        Comparison.Last => "last",
        Comparison.BirthDate => "dob",
        Comparison.Zip => "zip",
        Comparison.Address => "address",
        Comparison.StateId => "ssid",
        _ => "sex",
    };

    private static bool Both(LinkEncoding a, LinkEncoding b, LinkTokenKind kind) => a.Has(kind) && b.Has(kind);

    private static double Dice(ReadOnlySpan<ulong> a, int aBits, ReadOnlySpan<ulong> b, int bBits) => aBits < 0 || bBits < 0 ? -1 : LinkEncoding.Dice(a, aBits, b, bBits);

    private static byte FirstLevel(in NameFilters n, double dice, bool swapped)
    {
        if (dice < 0)
        {
            return ComparisonPattern.Missing;
        }

        if (dice >= 0.999)
        {
            return MatchModel.NameExact;
        }

        if (!swapped && n.Nickname)
        {
            return MatchModel.FirstNickname;
        }

        if (dice >= 0.6)
        {
            return dice >= 0.8 ? MatchModel.FirstDice80 : MatchModel.FirstDice60;
        }

        // Two edits in a short name leave few bigrams in common; the Soundex of both names (a token the index holds anyway) may still agree.
        var phonetic = swapped ? n.PhoneticSwapped : n.Phonetic;
        return phonetic ? MatchModel.FirstPhonetic : dice >= 0.4 ? MatchModel.FirstDice40 : MatchModel.FirstDifferent;
    }

    private static byte BirthDateLevel(LinkEncoding a, LinkEncoding b)
    {
        if (a.Same(b, LinkTokenKind.Dob))
        {
            return MatchModel.DobExact;
        }

        if (a.Has(LinkTokenKind.DobDayMonthSwapped) && a[LinkTokenKind.DobDayMonthSwapped] == b[LinkTokenKind.Dob])
        {
            return MatchModel.DobTransposed;
        }

        var aAny = a.Has(LinkTokenKind.DobYearMonth) || a.Has(LinkTokenKind.DobYearDay) || a.Has(LinkTokenKind.DobMonthDay);
        var bAny = b.Has(LinkTokenKind.DobYearMonth) || b.Has(LinkTokenKind.DobYearDay) || b.Has(LinkTokenKind.DobMonthDay);
        if (!aAny || !bAny)
        {
            return ComparisonPattern.Missing;
        }

        return a.Same(b, LinkTokenKind.DobYearMonth) || a.Same(b, LinkTokenKind.DobYearDay) || a.Same(b, LinkTokenKind.DobMonthDay)
            ? MatchModel.DobTwoParts
            : MatchModel.DobDifferent;
    }
}

/// <summary>
/// The largest weight each comparison level can add under one model and options (disabled comparisons add nothing), for the upper
/// bound of <see cref="MatchScorer.ScoreAtLeast"/>. Computed once per engine.
/// </summary>
internal sealed class ScoreBounds
{
    /// <summary>A bound is compared with this much room, so a rounding difference between the bound's sum and the weight's never skips a pair.</summary>
    public const double Slack = 1e-9;

    // The first-name levels every pair with both first names can reach; the nickname and phonetic levels need their tokens to agree.
    private static readonly byte[] PlainFirstLevels =
        [MatchModel.NameExact, MatchModel.FirstDice80, MatchModel.FirstDice60, MatchModel.FirstDice40, MatchModel.FirstDifferent];

    private readonly double[][] _weights;
    private readonly double[][] _sibling;
    private readonly double[] _maxFirst = new double[4];
    private readonly double[] _maxSiblingFirst = new double[4];
    private byte[]? _screen;
    private double _screenFloor;

    public ScoreBounds(LinkModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (weights, sibling) = options.Model.Tables();
        var comparisons = Enum.GetValues<Comparison>();
        _weights = comparisons.Select(c => options.Disabled.Contains(c) ? new double[weights[(int)c].Length] : weights[(int)c]).ToArray();
        _sibling = comparisons.Select(c => options.Disabled.Contains(c) ? new double[sibling[(int)c].Length] : sibling[(int)c]).ToArray();
        TwinGuard = options.TwinGuard;
        HouseholdByAddress = options.HouseholdByAddress;
        HouseholdWeight = options.Model.HouseholdWeight;
        for (var agree = 0; agree < 4; agree++)
        {
            _maxFirst[agree] = Max(_weights[(int)Comparison.First], (agree & 1) != 0, (agree & 2) != 0);
            _maxSiblingFirst[agree] = Max(_sibling[(int)Comparison.First], (agree & 1) != 0, (agree & 2) != 0);
        }

        MaxLast = _weights[(int)Comparison.Last].Skip(1).Max();
        MaxAddress = _weights[(int)Comparison.Address].Skip(1).Max();
    }

    public bool TwinGuard { get; }

    public bool HouseholdByAddress { get; }

    public double HouseholdWeight { get; }

    public double MaxLast { get; }

    public double MaxAddress { get; }

    public double Weight(Comparison comparison, byte level) => _weights[(int)comparison][level];

    /// <summary><see cref="MatchScorer.Screen"/> for <paramref name="floor"/>, computed once (an engine always asks with its own floor).</summary>
    public byte[] Screen(double floor)
    {
        if (_screen is null || _screenFloor != floor)
        {
            _screen = MatchScorer.Screen(this, floor);
            _screenFloor = floor;
        }

        return _screen;
    }

    public double Sibling(Comparison comparison, byte level) => _sibling[(int)comparison][level];

    // Computed once per engine for every (nickname, phonetic) agreement: a candidate pair reads one of four.
    public double MaxFirst(bool nickname, bool phonetic) => _maxFirst[(nickname ? 1 : 0) | (phonetic ? 2 : 0)];

    public double MaxSiblingFirst(bool nickname, bool phonetic) => _maxSiblingFirst[(nickname ? 1 : 0) | (phonetic ? 2 : 0)];

    private static double Max(double[] levels, bool nickname, bool phonetic)
    {
        var max = double.NegativeInfinity;
        foreach (var level in PlainFirstLevels)
        {
            max = Math.Max(max, levels[level]);
        }

        max = nickname ? Math.Max(max, levels[MatchModel.FirstNickname]) : max;
        return phonetic ? Math.Max(max, levels[MatchModel.FirstPhonetic]) : max;
    }
}

using System.Diagnostics.CodeAnalysis;

namespace ChildShare.Core.Linkage;

/// <summary>What an estimation saw and chose.</summary>
public sealed record MatchModelEstimate(MatchModel Model, long CandidatePairs, long RandomPairs, int Iterations, double ExpectedFalseShareAccepted)
{
    /// <summary>The accept weight each target of the expected false share would choose (for the documentation of the choice).</summary>
    public IReadOnlyDictionary<double, double> AcceptWeightByTarget { get; init; } = new Dictionary<double, double>();
}

/// <summary>
/// Estimates a <see cref="MatchModel"/> from encodings alone, without any truth, as Splink does: u (the chance of each level for
/// records of different children) from random pairs, which are almost all of different children; then m (for records of one
/// child) and the share of matches among the blocked candidate pairs by expectation-maximisation with u held fixed. The accept
/// threshold is the lowest weight at which the model's own expected share of false links among the candidate pairs it accepts
/// stays at most <c>targetFalseShare</c>; the review threshold is where the estimated match probability is one half.
/// The household weight of the twin guard is kept from the starting model (it is not a Fellegi-Sunter quantity: see LINKAGE.md).
/// </summary>
public static class MatchModelEstimator
{
    [SuppressMessage("Security", "CA5394:Do not use insecure randomness", Justification =
        "The random pairs are a seeded sample, so an estimate can be reproduced from its seed; nothing depends on them being unpredictable.")]
    public static MatchModelEstimate Estimate(
        IReadOnlyList<LinkEncoding> encodings, MatchModel start, int maxBlock = 500, int randomPairs = 300_000, int seed = 1,
        double targetFalseShare = 0.002, int iterations = 40)
    {
        ArgumentNullException.ThrowIfNull(encodings);
        ArgumentNullException.ThrowIfNull(start);
        var comparisons = Enum.GetValues<Comparison>();

        // u: random pairs.
        var random = new Random(seed);
        var uCounts = comparisons.ToDictionary(c => c, c => new double[MatchModel.LevelNames[c].Length]);
        long sampled = 0, randomHouseholds = 0;
        for (var n = 0; n < randomPairs && encodings.Count > 1; n++)
        {
            int i = random.Next(encodings.Count), j = random.Next(encodings.Count);
            if (i == j)
            {
                continue;
            }

            var pattern = MatchScorer.Compare(encodings[i], encodings[j]);
            foreach (var c in comparisons)
            {
                uCounts[c][pattern[c]]++;
            }

            randomHouseholds += pattern.Household ? 1 : 0;
            sampled++;
        }

        var u = comparisons.ToDictionary(c => c, c => Smooth(uCounts[c]));

        // The blocked candidate pairs, with the blocking keys each shares (a birth date, the phonetic names, a state id).
        var index = new Dictionary<UInt128, List<int>>();
        for (var i = 0; i < encodings.Count; i++)
        {
            foreach (var token in encodings[i].Indexed())
            {
                if (!index.TryGetValue(token, out var list))
                {
                    index[token] = list = [];
                }

                list.Add(i);
            }
        }

        var blocked = new Dictionary<long, int>();
        for (var i = 0; i < encodings.Count; i++)
        {
            foreach (var kind in LinkEncoding.LookupKinds)
            {
                if (!encodings[i].Has(kind) || !index.TryGetValue(encodings[i][kind], out var block) || block.Count > maxBlock)
                {
                    continue;
                }

                var flag = kind switch
                {
                    LinkTokenKind.Dob or LinkTokenKind.DobDayMonthSwapped => 1,
                    LinkTokenKind.PhoneticNames or LinkTokenKind.PhoneticNamesSwapped => 2,
                    LinkTokenKind.Address => 8,
                    _ => 4,
                };
                foreach (var j in block)
                {
                    if (j < i)
                    {
                        var key = (long)i * encodings.Count + j;
                        blocked[key] = blocked.GetValueOrDefault(key) | flag;
                    }
                }
            }
        }

        var all = new Dictionary<int, (ComparisonPattern Pattern, long Count)>();
        var byDob = new Dictionary<int, (ComparisonPattern Pattern, long Count)>();
        var byNames = new Dictionary<int, (ComparisonPattern Pattern, long Count)>();
        var households = new Dictionary<int, (ComparisonPattern Pattern, long Count)>();
        foreach (var (key, flags) in blocked)
        {
            var pattern = MatchScorer.Compare(encodings[(int)(key / encodings.Count)], encodings[(int)(key % encodings.Count)]);
            AddTo(all, pattern);
            if ((flags & 1) != 0)
            {
                AddTo(byDob, pattern);
            }

            if ((flags & 2) != 0)
            {
                AddTo(byNames, pattern);
            }

            if (pattern.Household)
            {
                AddTo(households, pattern);
            }
        }

        long candidates = blocked.Count;

        // EM with u fixed, one session per blocking key (as Splink does): pairs blocked on the birth date all agree on it, so that
        // session leaves the birth date out and estimates the rest; the phonetic-names session leaves the names out and gives the
        // birth date's m. Then the share of matches among all candidate pairs, with m and u fixed.
        var m = comparisons.ToDictionary(c => c, c => start.M[c].ToArray());
        var (fromDob, _, _) = Em(byDob.Values.ToList(), [Comparison.BirthDate], m, u, start.Lambda, iterations);
        var (fromNames, _, _) = Em(byNames.Values.ToList(), [Comparison.First, Comparison.Last], m, u, start.Lambda, iterations);
        foreach (var c in comparisons)
        {
            m[c] = c == Comparison.BirthDate ? fromNames[c] : fromDob[c];
        }

        // The weights compare with random pairs, so the prior is the chance that two random records match: the matches expected
        // among the candidate pairs over all pairs (Splink's probability_two_random_records_match).
        var groupList = all.Values.ToList();
        var (_, candidateShare, _) = Em(groupList, [], m, u, 0.3, iterations, fixedM: true);
        var allPairs = (double)encodings.Count * (encodings.Count - 1) / 2;
        var lambda = Math.Clamp(candidateShare * candidates / Math.Max(allPairs, 1), 1e-9, 0.5);
        var done = iterations;

        // The twin guard's quantities. Within one household the candidates are the child's own records and its siblings: EM over the
        // personal comparisons with m fixed gives their u among siblings. The household weight is P(household | match) over
        // P(household | random pair); the first from the candidates' match probabilities, refined twice as it feeds them.
        var (_, _, uSibling) = Em(households.Values.ToList(), [Comparison.Last, Comparison.Zip, Comparison.Address], m,
            comparisons.ToDictionary(c => c, c => Smooth(new double[MatchModel.LevelNames[c].Length])), 0.5, iterations, fixedM: true, updateU: true);
        var randomShare = (randomHouseholds + 0.5) / (sampled + 1);
        var model = start with { M = m, U = u, Lambda = lambda, USibling = uSibling };
        for (var round = 0; round < 3; round++)
        {
            var scoring = new LinkModelOptions { Model = model };
            double matched = 0, inHousehold = 0;
            foreach (var (pattern, count) in groupList)
            {
                var p = model.Probability(MatchScorer.Score(pattern, scoring).Weight) * count;
                matched += p;
                inHousehold += pattern.Household ? p : 0;
            }

            model = model with { HouseholdWeight = Math.Log2(Math.Max(inHousehold / Math.Max(matched, 1), 1e-6) / randomShare) };
        }

        model = model with { ReviewWeight = model.WeightFor(0.5) };

        // The accept threshold from the estimated distribution: the lowest weight whose accepted pairs have an expected false share within the target.
        var options = new LinkModelOptions { Model = model };
        var scored = groupList.Select(g => (Weight: MatchScorer.Score(g.Pattern, options).Weight, g.Count)).OrderByDescending(x => x.Weight).ToList();
        var byTarget = new Dictionary<double, double>();
        foreach (var target in new[] { 0.0005, 0.001, 0.002, 0.005, 0.01, targetFalseShare })
        {
            byTarget[target] = Threshold(scored, model, target, start.AcceptWeight).Weight;
        }

        var (threshold, share) = Threshold(scored, model, targetFalseShare, start.AcceptWeight);
        return new MatchModelEstimate(model with { AcceptWeight = Math.Round(threshold, 2) }, candidates, sampled, done, share) { AcceptWeightByTarget = byTarget };
    }

    private static (double Weight, double Share) Threshold(List<(double Weight, long Count)> scored, MatchModel model, double target, double fallback)
    {
        double accepted = 0, falseLinks = 0, threshold = scored.Count == 0 ? fallback : scored[0].Weight, share = 0;
        foreach (var (weight, count) in scored)
        {
            var p = model.Probability(weight);
            if ((falseLinks + count * (1 - p)) / (accepted + count) > target)
            {
                break;
            }

            accepted += count;
            falseLinks += count * (1 - p);
            threshold = weight;
            share = falseLinks / accepted;
        }

        return (threshold, share);
    }

    private static void AddTo(Dictionary<int, (ComparisonPattern Pattern, long Count)> groups, ComparisonPattern pattern) =>
        groups[pattern.Packed] = groups.TryGetValue(pattern.Packed, out var g) ? (g.Pattern, g.Count + 1) : (pattern, 1);

    /// <summary>
    /// Expectation-maximisation of m and the match share over grouped patterns, u fixed, leaving <paramref name="excluded"/> out of
    /// the likelihood (their m is kept). With <paramref name="fixedM"/> only the match share is estimated.
    /// </summary>
    private static (Dictionary<Comparison, double[]> M, double Lambda, Dictionary<Comparison, double[]> U) Em(
        List<(ComparisonPattern Pattern, long Count)> groups, Comparison[] excluded, Dictionary<Comparison, double[]> start,
        Dictionary<Comparison, double[]> startU, double lambda, int iterations, bool fixedM = false, bool updateU = false)
    {
        var comparisons = Enum.GetValues<Comparison>().Where(c => !excluded.Contains(c)).ToArray();
        var m = start.ToDictionary(x => x.Key, x => x.Value.ToArray());
        var u = startU.ToDictionary(x => x.Key, x => x.Value.ToArray());
        var posterior = new double[groups.Count];
        var done = 0;
        for (; done < iterations && groups.Count > 0; done++)
        {
            for (var g = 0; g < groups.Count; g++)
            {
                double pm = lambda, pu = 1 - lambda;
                foreach (var c in comparisons)
                {
                    var level = groups[g].Pattern[c];
                    if (level != ComparisonPattern.Missing)
                    {
                        pm *= m[c][level];
                        pu *= u[c][level];
                    }
                }

                posterior[g] = pm / (pm + pu);
            }

            double matched = 0, total = 0;
            var counts = comparisons.ToDictionary(c => c, c => new double[MatchModel.LevelNames[c].Length]);
            var uCounts = comparisons.ToDictionary(c => c, c => new double[MatchModel.LevelNames[c].Length]);
            for (var g = 0; g < groups.Count; g++)
            {
                var weight = posterior[g] * groups[g].Count;
                matched += weight;
                total += groups[g].Count;
                foreach (var c in comparisons)
                {
                    counts[c][groups[g].Pattern[c]] += weight;
                    uCounts[c][groups[g].Pattern[c]] += groups[g].Count - weight;
                }
            }

            lambda = Math.Clamp(matched / total, 1e-6, 1 - 1e-6);
            foreach (var c in comparisons)
            {
                if (!fixedM)
                {
                    m[c] = Smooth(counts[c], 0.01);
                }

                if (updateU)
                {
                    u[c] = Smooth(uCounts[c], 0.5);
                }
            }
        }

        return (m, lambda, u);
    }

    /// <summary>Proportions of the levels 1..n (index 0 is missing, unused), with a small count added so no level is impossible.</summary>
    private static double[] Smooth(double[] counts, double pseudo = 0.5)
    {
        var result = new double[counts.Length];
        var total = counts.Skip(1).Sum() + pseudo * (counts.Length - 1);
        for (var level = 1; level < counts.Length; level++)
        {
            result[level] = (counts[level] + pseudo) / total;
        }

        return result;
    }
}

using System.Globalization;
using System.Text;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using ChildShare.Tests.Linkage.Evaluation;

namespace ChildShare.LinkageBenchmarks;

/// <summary>
/// Linkage quality, printed as the tables of LINKAGE.md. <c>quality tuning</c> measures on the tuning seeds only (where choices are
/// made); <c>quality reporting</c> on the reporting seeds and FEBRL (dataset1 held out, dataset2 tuned-on), with the ablation of the
/// model's comparisons, the twin guard's effect, the Bloom hardenings' cost and the model estimated by EM on each set itself.
/// <c>quality fresh</c> on seeds first generated on 4 Dec 2026 (<see cref="RosterSeeds.Fresh"/>), without FEBRL.
/// <c>quality ... small</c> uses a fifth of the children, for quick runs.
/// </summary>
public static class QualityBenchmark
{
    private static readonly Pseudonymizer Pseudonymizer = new(Febrl.TestKey());

    /// <summary>The four generated sets of each seed (two providers, six providers, twins, twins with identical records).</summary>
    public static List<RosterSet> GeneratedSets(IEnumerable<int> seeds, bool small = false)
    {
        var sets = new List<RosterSet>();
        var scale = small ? 5 : 1;
        foreach (var seed in small ? seeds.Take(1) : seeds)
        {
            sets.Add(HeldOutRosters.Generate(RosterSpec.TwoProviders(seed, 5_000 / scale)));
            sets.Add(HeldOutRosters.Generate(RosterSpec.SixProviders(seed, 2_000 / scale)));
            sets.Add(HeldOutRosters.Generate(RosterSpec.Twins(seed, children: 2_000 / scale)));
            sets.Add(HeldOutRosters.Generate(RosterSpec.Twins(seed, identicalRecords: true, children: 2_000 / scale)));
        }

        return sets;
    }

    public static int Run(string[] args)
    {
        var reporting = args.Contains("reporting");
        var fresh2 = args.Contains("fresh2");
        var fresh = args.Contains("fresh");
        var small = args.Contains("small");
        var ablation = args.Contains("ablation") || (reporting && !args.Contains("brief"));
        var seeds = fresh2 ? RosterSeeds.Fresh2 : fresh ? RosterSeeds.Fresh : reporting ? RosterSeeds.Reporting : RosterSeeds.Tuning;
        Console.WriteLine($"{(fresh2 ? "FRESH2" : fresh ? "FRESH" : reporting ? "REPORTING" : "TUNING")} seeds {string.Join(", ", seeds)}; model accept {MatchModel.Default.AcceptWeight}, review {MatchModel.Default.ReviewWeight}, household {MatchModel.Default.HouseholdWeight}");
        Console.WriteLine("| set | precision | recall | children found / true | count error | rows rejected | twin pairs joined |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        var sets = GeneratedSets(seeds, small);

        if (reporting)
        {
            sets.Add(Febrl.Load("dataset1.csv"));
            sets.Add(Febrl.Load("dataset1.csv", withAddress: false));
            sets.Add(Tuned(Febrl.Load("dataset2.csv")));
            sets.Add(Tuned(Febrl.Load("dataset2.csv", withAddress: false)));
            sets.Add(Tuned(Febrl.Load("dataset2.csv", SameProviderDuplicates.DistinctLocalId)));
        }

        var details = new StringBuilder();
        var resolverRows = new StringBuilder();
        foreach (var set in sets)
        {
            var rows = RosterEvaluation.Normalize(set);
            var encodings = RosterEvaluation.Encode(rows, new LinkEncoder(Pseudonymizer));
            var quality = RosterEvaluation.Measure(set.Spec.Name, set, rows, LinkModelOptions.Default, encodings, Pseudonymizer);
            Console.WriteLine(quality.TableRow());
            details.AppendLine(quality.Line());
            var resolverOn = RosterEvaluation.Measure("  household resolver on", set, rows, LinkModelOptions.Default with { HouseholdResolver = true }, encodings, Pseudonymizer);
            Add(details, resolverOn);
            resolverRows.AppendLine((resolverOn with { Label = set.Spec.Name }).TableRow());
            if (!ablation)
            {
                continue;
            }

            var before = LinkModelOptions.Default with { ProviderAmbiguity = false, MonotoneSiblingNames = false, SexlessTwinNames = false, TwinEvidence = false, ResolverReplacedNames = true };
            Add(details, RosterEvaluation.Measure("  before the guards of issue 16, resolver off", set, rows, before, encodings, Pseudonymizer));
            Add(details, RosterEvaluation.Measure("  before the guards of issue 16, resolver on", set, rows, before with { HouseholdResolver = true }, encodings, Pseudonymizer));
            foreach (var (name, variant) in new (string, LinkModelOptions)[]
            {
                ("without cannot-link ambiguity", LinkModelOptions.Default with { ProviderAmbiguity = false }),
                ("without monotone sibling names", LinkModelOptions.Default with { MonotoneSiblingNames = false }),
                ("with the sexless twin-name guard", LinkModelOptions.Default with { SexlessTwinNames = true }),
                ("without the twin-evidence guard", LinkModelOptions.Default with { TwinEvidence = false }),
                ("resolver on, with replaced names", LinkModelOptions.Default with { HouseholdResolver = true, ResolverReplacedNames = true }),
                ("twin-name guard on every near name", LinkModelOptions.Default with { TwinNameGuard = true }),
                ("household by address", LinkModelOptions.Default with { HouseholdByAddress = true }),
            })
            {
                Add(details, RosterEvaluation.Measure("  " + name, set, rows, variant, encodings, Pseudonymizer));
            }

            Add(details, RosterEvaluation.Measure("  twin guard off", set, rows, LinkModelOptions.Default with { TwinGuard = false }, encodings, Pseudonymizer));
            foreach (var comparison in Enum.GetValues<Comparison>())
            {
                Add(details, RosterEvaluation.Measure("  without " + MatchScorer.Short(comparison), set, rows, LinkModelOptions.Without(comparison), encodings, Pseudonymizer));
            }

            foreach (var hardening in Enum.GetValues<BloomHardening>().Where(h => h != LinkEncoder.DefaultHardening))
            {
                Add(details, RosterEvaluation.Measure("  hardening " + hardening, set, rows, LinkModelOptions.Default, Pseudonymizer, hardening));
            }

            var estimate = MatchModelEstimator.Estimate(encodings.OfType<LinkEncoding>().ToList(), MatchModel.Default);
            Add(details, RosterEvaluation.Measure(string.Create(CultureInfo.InvariantCulture,
                $"  EM on this set (accept {estimate.Model.AcceptWeight:F1}, review {estimate.Model.ReviewWeight:F1}, lambda {estimate.Model.Lambda:F4})"),
                set, rows, LinkModelOptions.Default with { Model = estimate.Model }, encodings, Pseudonymizer));
        }

        Console.WriteLine();
        Console.WriteLine("With the household resolver on:");
        Console.WriteLine(resolverRows);
        Console.WriteLine(details);
        return 0;
    }

    /// <summary>Tuning seeds only: the household weight of the twin guard against the accept weight, over the four roster kinds.</summary>
    public static int Grid(string[] args)
    {
        var prepared = RosterSeeds.Tuning.Take(args.Contains("all") ? 3 : 1).SelectMany(seed => new[]
            {
                RosterSpec.TwoProviders(seed), RosterSpec.SixProviders(seed), RosterSpec.Twins(seed), RosterSpec.Twins(seed, identicalRecords: true),
            })
            .Select(spec =>
            {
                var set = HeldOutRosters.Generate(spec);
                var rows = RosterEvaluation.Normalize(set);
                return (set, rows, RosterEvaluation.Encode(rows, new LinkEncoder(Pseudonymizer)));
            }).ToList();
        Console.WriteLine("household  accept  min P   min R   max |count|  twins joined  diff. sex");
        foreach (var household in args.Contains("household") ? new[] { 6.0, 8, 10, 12, 14 } : [MatchModel.Default.HouseholdWeight])
        {
            foreach (var accept in new[] { 12.0, 13, 14, 15, 16, 17, 18, 19, 20 })
            {
                var options = LinkModelOptions.Default with { Model = MatchModel.Default with { HouseholdWeight = household, AcceptWeight = accept } };
                var results = prepared.Select(p => RosterEvaluation.Measure("", p.set, p.rows, options, p.Item3, Pseudonymizer)).ToList();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{household,9:F1}  {accept,6:F2}  {results.Min(r => r.Precision):F4}  {results.Min(r => r.Recall):F4}  {results.Max(r => Math.Abs(r.CountError)),10:P2}  {results.Sum(r => r.TwinsJoined),5}/{results.Sum(r => r.TwinPairs),-6}  {results.Sum(r => r.DifferentSexTwinsJoined)}"));
            }
        }

        return 0;
    }

    /// <summary>Tuning seeds only: the agreement patterns of the true pairs left apart and of the false pairs joined, most common first.</summary>
    public static int Diagnose(string[] args)
    {
        if (args.Contains("causes"))
        {
            return Causes(args);
        }

        var kind = args.FirstOrDefault() ?? "two";
        var seed = RosterSeeds.Tuning[0];
        var set = HeldOutRosters.Generate(kind switch { "six" => RosterSpec.SixProviders(seed), "twins" => RosterSpec.Twins(seed), _ => RosterSpec.TwoProviders(seed) });
        var rows = RosterEvaluation.Normalize(set);
        var encodings = RosterEvaluation.Encode(rows, new LinkEncoder(Pseudonymizer));
        var engine = new LinkageEngine();
        for (var i = 0; i < rows.Count; i++)
        {
            if (encodings[i] is { } e)
            {
                engine.Add(rows[i].Key, rows[i].Row.ProviderId, Pseudonymizer.Token("child-cluster-v1", rows[i].Key), e);
            }

            if (i == rows.Count - 1 || rows[i + 1].Row.ProviderId != rows[i].Row.ProviderId)
            {
                engine.ResolveHouseholds();
            }
        }

        var missed = new Dictionary<string, int>();
        var examples = new List<(string Label, string Text)>();
        var wrong = new Dictionary<string, int>();
        var byChild = rows.Select((r, i) => (r, i)).Where(x => encodings[x.i] is not null).GroupBy(x => x.r.Row.Child).ToList();
        foreach (var child in byChild)
        {
            var members = child.ToList();
            for (var a = 0; a < members.Count; a++)
            {
                for (var b = a + 1; b < members.Count; b++)
                {
                    if (members[a].r.Key == members[b].r.Key || engine.ClusterKeyOf(members[a].r.Key) == engine.ClusterKeyOf(members[b].r.Key))
                    {
                        continue;
                    }

                    var score = MatchScorer.Score(encodings[members[a].i]!, encodings[members[b].i]!, LinkModelOptions.Default);
                    var band = score.Weight >= MatchModel.Default.AcceptWeight ? "ACCEPTED-but-apart" : score.Weight >= MatchModel.Default.ReviewWeight ? "review" : "below";
                    var label = $"{band}{(score.Guarded ? " guarded" : "")} {MatchScorer.Describe(score.Pattern)}";
                    missed[label] = missed.GetValueOrDefault(label) + 1;
                    if (args.Contains("examples") && missed[label] <= 3)
                    {
                        examples.Add((label, $"{members[a].r.Row.First} {members[a].r.Row.Last} {members[a].r.Row.BirthDate} / {members[b].r.Row.First} {members[b].r.Row.Last} {members[b].r.Row.BirthDate}"));
                    }
                }
            }
        }

        foreach (var cluster in engine.Clusters())
        {
            var members = cluster.Select(k => rows.Select((r, i) => (r, i)).First(x => x.r.Key == k)).ToList();
            for (var a = 0; a < members.Count; a++)
            {
                for (var b = a + 1; b < members.Count; b++)
                {
                    if (members[a].r.Row.Child != members[b].r.Row.Child)
                    {
                        var score = MatchScorer.Score(encodings[members[a].i]!, encodings[members[b].i]!, LinkModelOptions.Default);
                        var resolved = engine.RuleOf(members[a].r.Key).Contains(LinkageEngine.HouseholdResolved, StringComparison.Ordinal)
                            || engine.RuleOf(members[b].r.Key).Contains(LinkageEngine.HouseholdResolved, StringComparison.Ordinal);
                        var label = string.Create(CultureInfo.InvariantCulture, $"w={score.Weight:F1}{(score.Guarded ? " guarded" : "")}{(resolved ? " RESOLVER" : "")} {MatchScorer.Describe(score.Pattern)}");
                        wrong[label] = wrong.GetValueOrDefault(label) + 1;
                        if (args.Contains("examples") && wrong[label] <= 2)
                        {
                            examples.Add((label, $"{members[a].r.Row.First} {members[a].r.Row.Last} {members[a].r.Row.BirthDate} {members[a].r.Row.Sex} {members[a].r.Row.ProviderId} / {members[b].r.Row.First} {members[b].r.Row.Last} {members[b].r.Row.BirthDate} {members[b].r.Row.Sex} {members[b].r.Row.ProviderId}"));
                        }
                    }
                }
            }
        }

        Console.WriteLine($"missed true pairs: {missed.Values.Sum()}");
        foreach (var (label, count) in missed.OrderByDescending(x => x.Value).Take(40))
        {
            Console.WriteLine($"  {count,5}  {label}");
            foreach (var example in examples.Where(e => e.Label == label))
            {
                Console.WriteLine($"           e.g. {example.Text}");
            }
        }

        Console.WriteLine($"false pairs joined: {wrong.Values.Sum()}");
        foreach (var (label, count) in wrong.OrderByDescending(x => x.Value).Take(25))
        {
            Console.WriteLine($"  {count,5}  {label}");
            foreach (var example in examples.Where(e => e.Label == label))
            {
                Console.WriteLine($"           e.g. {example.Text}");
            }
        }

        return 0;
    }

    /// <summary>
    /// Tuning seeds (and FEBRL dataset2, TUNED-ON) only: why each true pair of records left apart was missed, in the order the engine
    /// decides: two local ids of one provider (a weak link never joins them), no blocking token shared (never a candidate), a block
    /// over the cap, the twin-evidence cap (the pair would be accepted without it), accepted but kept apart (a contradiction or an
    /// ambiguity between clusters), one household weighed against siblings (review band or below), otherwise the review band or below.
    /// Keyed comparisons only; the counts are of record pairs, as recall is.
    /// </summary>
    private static int Causes(string[] args)
    {
        var options = args.Contains("resolver") ? LinkModelOptions.Default with { HouseholdResolver = true } : LinkModelOptions.Default;
        var uncapped = options with { TwinEvidence = false };
        var sets = new List<RosterSet>();
        foreach (var seed in RosterSeeds.Tuning)
        {
            sets.Add(HeldOutRosters.Generate(RosterSpec.TwoProviders(seed)));
            sets.Add(HeldOutRosters.Generate(RosterSpec.SixProviders(seed)));
            sets.Add(HeldOutRosters.Generate(RosterSpec.Twins(seed)));
            sets.Add(HeldOutRosters.Generate(RosterSpec.Twins(seed, identicalRecords: true)));
        }

        sets.Add(Tuned(Febrl.Load("dataset2.csv")));
        var totals = new Dictionary<string, int>();
        var patterns = new Dictionary<string, (int Missed, int False)>();
        foreach (var set in sets)
        {
            var rows = RosterEvaluation.Normalize(set);
            var encodings = RosterEvaluation.Encode(rows, new LinkEncoder(Pseudonymizer));
            var engine = new LinkageEngine(options);
            var blockSizes = new Dictionary<UInt128, int>();
            for (var i = 0; i < rows.Count; i++)
            {
                if (encodings[i] is { } e)
                {
                    engine.Add(rows[i].Key, rows[i].Row.ProviderId, Pseudonymizer.Token("child-cluster-v1", rows[i].Key), e);
                    foreach (var token in e.Indexed())
                    {
                        blockSizes[token] = blockSizes.GetValueOrDefault(token) + 1;
                    }
                }

                if (i == rows.Count - 1 || rows[i + 1].Row.ProviderId != rows[i].Row.ProviderId)
                {
                    engine.ResolveHouseholds();
                }
            }

            var causes = new Dictionary<string, int>();
            var clusterMembers = rows.Select((r, i) => (r, i)).Where(x => encodings[x.i] is not null).GroupBy(x => engine.ClusterKeyOf(x.r.Key))
                .ToDictionary(g => g.Key, g => g.Select(x => x.i).ToList());
            var truePairs = 0L;
            foreach (var child in rows.Select((r, i) => (r, i)).Where(x => encodings[x.i] is not null).GroupBy(x => x.r.Row.Child))
            {
                var members = child.ToList();
                truePairs += (long)members.Count * (members.Count - 1) / 2;
                for (var a = 0; a < members.Count; a++)
                {
                    for (var b = a + 1; b < members.Count; b++)
                    {
                        var (x, y) = (members[a], members[b]);
                        if (x.r.Key == y.r.Key || engine.ClusterKeyOf(x.r.Key) == engine.ClusterKeyOf(y.r.Key))
                        {
                            continue;
                        }

                        var (ex, ey) = (encodings[x.i]!, encodings[y.i]!);
                        string Apart()
                        {
                            var (cx, cy) = (clusterMembers[engine.ClusterKeyOf(x.r.Key)], clusterMembers[engine.ClusterKeyOf(y.r.Key)]);
                            if (cx.Select(i => rows[i].Row.ProviderId).Intersect(cy.Select(i => rows[i].Row.ProviderId)).Any())
                            {
                                return "the clusters share a provider";
                            }

                            var contradiction = cx.SelectMany(i => cy.Select(j => MatchScorer.Compare(encodings[i]!, encodings[j]!)))
                                .Where(p => !p.Strong && MatchScorer.Contradicts(p, options)).Select(p => p.Sex == MatchModel.Different ? "sex" : "household first name").FirstOrDefault();
                            return contradiction is null ? "ambiguity refusal or order" : "another member pair contradicts: " + contradiction;
                        }

                        var shared = ex.Lookups().Intersect(ey.Indexed()).Concat(ey.Lookups().Intersect(ex.Indexed())).ToList();
                        var score = MatchScorer.Score(ex, ey, options);
                        var free = MatchScorer.Score(ex, ey, uncapped);
                        var accept = options.Model.AcceptWeight;
                        var cause = x.r.Row.ProviderId == y.r.Row.ProviderId ? "1 one provider, two local ids"
                            : shared.Count == 0 ? "2 no blocking token shared"
                            : shared.All(t => blockSizes.GetValueOrDefault(t) > options.MaxBlockSize) ? "3 every shared block over the cap"
                            : score.Strong ? "4 strong link kept apart"
                            : score.Weight < accept && free.Weight >= accept ? "5 twin-evidence cap (last=" + MatchModel.LevelNames[Comparison.Last][score.Pattern.Last] + ")"
                            : score.Weight >= accept ? "6 accepted, kept apart" + (!MatchScorer.Contradicts(score.Pattern, options) ? " (" + Apart() + ")"
                                : score.Pattern.Sex == MatchModel.Different && score.Pattern.First == MatchModel.NameExact && score.Pattern.BirthDate == MatchModel.DobExact
                                    ? " (the pair: sex different, first name and birth date exact)" : " (the pair contradicts)")
                            : score.Guarded ? (score.Weight >= options.Model.ReviewWeight ? "7 one household, review band" : "8 one household, below review")
                            : score.Weight >= options.Model.ReviewWeight ? "9 review band" : "10 below review";
                        causes[cause] = causes.GetValueOrDefault(cause) + 1;
                        totals[cause] = totals.GetValueOrDefault(cause) + 1;
                        if (args.Contains("patterns") && cause[0] is '5' or '6' or '7' or '8' or '9')
                        {
                            var label = string.Create(CultureInfo.InvariantCulture, $"{cause[0]} {MatchScorer.Describe(score.Pattern)}");
                            patterns[label] = (patterns.GetValueOrDefault(label).Missed + 1, patterns.GetValueOrDefault(label).False);
                        }
                    }
                }
            }

            if (args.Contains("patterns"))
            {
                // False candidate pairs (records of different children sharing an indexed token) not accepted, by the same labels.
                var seen = new HashSet<(int, int)>();
                var byToken = rows.Select((r, i) => (r, i)).Where(x => encodings[x.i] is not null)
                    .SelectMany(x => encodings[x.i]!.Indexed().Select(t => (t, x.i))).GroupBy(x => x.t).Where(g => g.Count() is > 1 and <= 500);
                foreach (var block in byToken)
                {
                    var list = block.Select(x => x.i).ToList();
                    foreach (var a in list)
                    {
                        foreach (var b in list.Where(b => b > a && rows[b].Row.Child != rows[a].Row.Child && seen.Add((a, b))))
                        {
                            var score = MatchScorer.Score(encodings[a]!, encodings[b]!, options);
                            var free = MatchScorer.Score(encodings[a]!, encodings[b]!, uncapped);
                            var accept = options.Model.AcceptWeight;
                            var cause = rows[a].Row.ProviderId == rows[b].Row.ProviderId || score.Strong ? "-"
                                : score.Weight < accept && free.Weight >= accept ? "5"
                                : score.Weight >= accept ? "6"
                                : score.Weight < options.Model.ReviewWeight ? "-"
                                : score.Guarded ? "7" : "9";
                            if (cause != "-")
                            {
                                var label = $"{cause} {MatchScorer.Describe(score.Pattern)}";
                                patterns[label] = (patterns.GetValueOrDefault(label).Missed, patterns.GetValueOrDefault(label).False + 1);
                            }
                        }
                    }
                }
            }

            Console.WriteLine($"{set.Spec.Name}: {causes.Values.Sum()} of {truePairs} true pairs missed");
            foreach (var (cause, count) in causes.OrderBy(c => int.Parse(c.Key.Split(' ')[0], CultureInfo.InvariantCulture)))
            {
                Console.WriteLine($"  {count,5}  {cause}");
            }
        }

        Console.WriteLine($"all: {totals.Values.Sum()}");
        foreach (var (cause, count) in totals.OrderBy(c => int.Parse(c.Key.Split(' ')[0], CultureInfo.InvariantCulture)))
        {
            Console.WriteLine($"  {count,5}  {cause}");
        }

        Console.WriteLine("patterns (cause, pattern): true pairs missed, false candidate pairs in the same cause");
        foreach (var (label, (m, f)) in patterns.OrderByDescending(p => p.Value.Missed).Take(70))
        {
            Console.WriteLine($"  {m,5} {f,5}  {label}");
        }

        return 0;
    }

    /// <summary>
    /// Tuning seeds only: how the twin pairs that are joined got joined (resolver off and on). Per joined pair: whether one provider
    /// holds both twins, the best direct pair between the twins' records (weight and agreement pattern: keyed comparisons only, no
    /// cleartext), whether the household resolver made a link in the cluster, and how many records the cluster has.
    /// </summary>
    public static int Twins(string[] args)
    {
        foreach (var resolver in new[] { false, true })
        {
            var counts = new Dictionary<string, int>();
            var joinedTotal = 0;
            var examplesShown = 0;
            // "fresh2" describes a held-out set's joined twins (to report them, never to tune on them).
            foreach (var seed in args.Contains("fresh2") ? RosterSeeds.Fresh2 : RosterSeeds.Tuning)
            {
                foreach (var spec in new[] { RosterSpec.Twins(seed), RosterSpec.Twins(seed, identicalRecords: true), RosterSpec.SixProviders(seed), RosterSpec.TwoProviders(seed) })
                {
                    var set = HeldOutRosters.Generate(spec);
                    var rows = RosterEvaluation.Normalize(set);
                    var encodings = RosterEvaluation.Encode(rows, new LinkEncoder(Pseudonymizer));
                    var options = LinkModelOptions.Default with
                    {
                        HouseholdResolver = resolver, TwinNameGuard = args.Contains("names"), ProviderAmbiguity = !args.Contains("before"),
                        MonotoneSiblingNames = !args.Contains("before"), SexlessTwinNames = args.Contains("sexless"), TwinEvidence = !args.Contains("before"), ResolverReplacedNames = args.Contains("before"), HouseholdByAddress = args.Contains("address"),
                    };
                    var engine = new LinkageEngine(options);
                    for (var i = 0; i < rows.Count; i++)
                    {
                        if (encodings[i] is { } e)
                        {
                            engine.Add(rows[i].Key, rows[i].Row.ProviderId, Pseudonymizer.Token("child-cluster-v1", rows[i].Key), e);
                        }

                        if (i == rows.Count - 1 || rows[i + 1].Row.ProviderId != rows[i].Row.ProviderId)
                        {
                            engine.ResolveHouseholds();
                        }
                    }

                    var byChild = rows.Select((r, i) => (r, i)).Where(x => encodings[x.i] is not null).GroupBy(x => x.r.Row.Child).ToDictionary(g => g.Key, g => g.ToList());
                    foreach (var twin in set.Twins)
                    {
                        if (!byChild.TryGetValue(twin.A, out var a) || !byChild.TryGetValue(twin.B, out var b))
                        {
                            continue;
                        }

                        var clustersA = a.Select(x => engine.ClusterKeyOf(x.r.Key)).ToHashSet(StringComparer.Ordinal);
                        var shared = b.Where(x => clustersA.Contains(engine.ClusterKeyOf(x.r.Key))).Select(x => engine.ClusterKeyOf(x.r.Key)).ToHashSet(StringComparer.Ordinal);
                        if (shared.Count == 0)
                        {
                            continue;
                        }

                        joinedTotal++;
                        var holdsBoth = a.Select(x => x.r.Row.ProviderId).Intersect(b.Select(x => x.r.Row.ProviderId)).Any();
                        var inCluster = (IEnumerable<(EvaluatedRow r, int i)> side) => side.Where(x => shared.Contains(engine.ClusterKeyOf(x.r.Key))).ToList();
                        var (ja, jb) = (inCluster(a), inCluster(b));
                        var best = ja.SelectMany(x => jb.Select(y => MatchScorer.Score(encodings[x.i]!, encodings[y.i]!, options))).MaxBy(s => s.Weight);
                        var resolved = ja.Concat(jb).Any(x => engine.RuleOf(x.r.Key).Contains(LinkageEngine.HouseholdResolved, StringComparison.Ordinal));
                        var band = best.Strong ? "strong" : best.Weight >= options.Model.AcceptWeight ? "direct-accept" : best.Weight >= options.Model.ReviewWeight ? "direct-review" : "no-direct(chain)";
                        var label = string.Create(CultureInfo.InvariantCulture,
                            $"{(twin.DifferentSex ? "DIFF-SEX " : "")}{(twin.NearIdenticalNames ? "near " : "")}{(holdsBoth ? "one-provider-holds-both " : "")}{band}{(resolved ? " RESOLVER" : "")} w={best.Weight:F1} {MatchScorer.Describe(best.Pattern)}{(best.Guarded ? " guarded" : "")}");
                        counts[label] = counts.GetValueOrDefault(label) + 1;
                        if (args.Contains("clusters") && holdsBoth && examplesShown++ < 12)
                        {
                            // The twins' records (A or B, provider, the cluster each is in, its reason code): keyed facts only.
                            var names = shared.Concat(a.Concat(b).Select(x => engine.ClusterKeyOf(x.r.Key))).Distinct(StringComparer.Ordinal).Select((k, n) => (k, n)).ToDictionary(x => x.k, x => x.n, StringComparer.Ordinal);
                            Console.WriteLine($"  example {label}");
                            foreach (var x in a.Select(x => ("A", x)).Concat(b.Select(x => ("B", x))))
                            {
                                Console.WriteLine($"      {x.Item1} {x.x.r.Row.ProviderId} local#{x.x.r.Row.LocalId.GetHashCode(StringComparison.Ordinal) % 1000,4} cluster {names[engine.ClusterKeyOf(x.x.r.Key)]} {engine.RuleOf(x.x.r.Key)}");
                            }

                            foreach (var x in ja)
                            {
                                foreach (var y in b)
                                {
                                    var sc = MatchScorer.Score(encodings[x.i]!, encodings[y.i]!, options);
                                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"        A {x.r.Row.ProviderId} x B {y.r.Row.ProviderId}: w={sc.Weight:F1} {MatchScorer.Describe(sc.Pattern)}"));
                                }
                            }
                        }

                        if (args.Contains("summary"))
                        {
                            var key = $"{(twin.DifferentSex ? "DIFF-SEX " : "")}{(twin.NearIdenticalNames ? "near " : "")}{(holdsBoth ? "holds-both " : "")}{band}{(resolved ? " RESOLVER" : "")} first={MatchModel.LevelNames[Comparison.First][best.Pattern.First]} ssid={MatchModel.LevelNames[Comparison.StateId][best.Pattern.StateId]}";
                            counts["S " + key] = counts.GetValueOrDefault("S " + key) + 1;
                        }
                    }
                }
            }

            Console.WriteLine($"resolver {(resolver ? "ON" : "off")}: {joinedTotal} twin pairs joined over the tuning seeds' sets");
            foreach (var (label, count) in counts.OrderBy(x => x.Key.StartsWith("S ", StringComparison.Ordinal)).ThenByDescending(x => x.Value))
            {
                Console.WriteLine($"  {count,4}  {label}");
            }
        }

        return 0;
    }

    /// <summary>
    /// Tuning seeds only: each twin guard (the twin-name guard, cannot-link through a shared provider) with the household resolver off
    /// and on, over the four roster kinds of every tuning seed: per set, and the sums (twins joined) and extremes (precision, count).
    /// </summary>
    public static int Guards(string[] args)
    {
        var prepared = RosterSeeds.Tuning.SelectMany(seed => new[]
            {
                RosterSpec.TwoProviders(seed), RosterSpec.SixProviders(seed), RosterSpec.Twins(seed), RosterSpec.Twins(seed, identicalRecords: true),
            })
            .Select(spec =>
            {
                var set = HeldOutRosters.Generate(spec);
                var rows = RosterEvaluation.Normalize(set);
                return (set, rows, encodings: RosterEvaluation.Encode(rows, new LinkEncoder(Pseudonymizer)));
            }).ToList();
        var variants = new (string Name, LinkModelOptions Options)[]
        {
            ("default", LinkModelOptions.Default),
            ("without cannot-link ambiguity", LinkModelOptions.Default with { ProviderAmbiguity = false }),
            ("without monotone sibling names", LinkModelOptions.Default with { MonotoneSiblingNames = false }),
            ("with the sexless twin-name guard", LinkModelOptions.Default with { SexlessTwinNames = true }),
            ("without the twin-evidence guard", LinkModelOptions.Default with { TwinEvidence = false }),
            ("before (none of the new guards, resolver with replaced names)", LinkModelOptions.Default with { ProviderAmbiguity = false, MonotoneSiblingNames = false, SexlessTwinNames = false, TwinEvidence = false, ResolverReplacedNames = true }),
            ("resolver with replaced names", LinkModelOptions.Default with { ResolverReplacedNames = true }),
            ("household by address", LinkModelOptions.Default with { HouseholdByAddress = true }),
            ("twin-name guard", LinkModelOptions.Default with { TwinNameGuard = true }),
        };
        foreach (var (name, baseOptions) in variants)
        {
            foreach (var resolver in new[] { false, true })
            {
                var options = baseOptions with { HouseholdResolver = resolver };
                var results = prepared.Select(p => RosterEvaluation.Measure(p.set.Spec.Name, p.set, p.rows, options, p.encodings, Pseudonymizer)).ToList();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"== {name}, resolver {(resolver ? "on" : "off")}"));
                if (args.Contains("sets"))
                {
                    results.ForEach(r => Console.WriteLine("   " + r.Line()));
                }

                foreach (var kind in new[] { "two providers", "six providers", "twins #", "twins (records" })
                {
                    var of = results.Where(r => r.Label.StartsWith(kind, StringComparison.Ordinal)).ToList();
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"   {kind,-16} P min {of.Min(r => r.Precision):F4}  R {of.Min(r => r.Recall):F4}-{of.Max(r => r.Recall):F4}  count {of.Min(r => r.CountError):+0.00%;-0.00%} to {of.Max(r => r.CountError):+0.00%;-0.00%}  twins joined {string.Join(", ", of.Select(r => r.TwinsJoined))} of {of[0].TwinPairs} (diff. sex {of.Sum(r => r.DifferentSexTwinsJoined)})"));
                }
            }
        }

        return 0;
    }

    /// <summary>Estimates the model on the tuning seeds' rosters (no truth used) and prints it.</summary>
    public static int Estimate(string[] args)
    {
        var encoder = new LinkEncoder(Pseudonymizer);
        var encodings = new List<LinkEncoding>();
        foreach (var seed in RosterSeeds.Tuning)
        {
            // The twins sets are a stress test of the twin guard, with 25% of children twins: the model learns a community's twin rate
            // from the other sets (2% of children), as it would from a community's own data.
            foreach (var spec in new[] { RosterSpec.TwoProviders(seed), RosterSpec.SixProviders(seed) })
            {
                var set = HeldOutRosters.Generate(spec);
                encodings.AddRange(RosterEvaluation.Encode(RosterEvaluation.Normalize(set), encoder).OfType<LinkEncoding>());
            }
        }

        var target = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 0.002;
        var estimate = MatchModelEstimator.Estimate(encodings, MatchModel.Default, targetFalseShare: target);
        var model = estimate.Model;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{encodings.Count:N0} encodings, {estimate.CandidatePairs:N0} candidate pairs, {estimate.RandomPairs:N0} random pairs, {estimate.Iterations} iterations; expected false share accepted {estimate.ExpectedFalseShareAccepted:P3}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lambda {model.Lambda:G4}, accept {model.AcceptWeight}, review {model.ReviewWeight:F2}"));
        foreach (var comparison in Enum.GetValues<Comparison>())
        {
            var names = MatchModel.LevelNames[comparison];
            Console.WriteLine($"  {comparison}: " + string.Join("  ", Enumerable.Range(1, names.Length - 1).Select(l => string.Create(CultureInfo.InvariantCulture,
                $"{names[l]} m={model.M[comparison][l]:G3} u={model.U[comparison][l]:G3} w={model.Weight(comparison, (byte)l):+0.0;-0.0}"))));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"household weight {model.HouseholdWeight:F2}"));
        Console.WriteLine("accept weight by target expected false share: " + string.Join(", ", estimate.AcceptWeightByTarget.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Key:P2} -> {x.Value:F2}"))));
        foreach (var comparison in MatchModel.Personal)
        {
            var names = MatchModel.LevelNames[comparison];
            Console.WriteLine($"  within a household, {comparison}: " + string.Join("  ", Enumerable.Range(1, names.Length - 1).Select(l => string.Create(CultureInfo.InvariantCulture,
                $"{names[l]} u={model.USibling[comparison][l]:G3} w={model.SiblingWeight(comparison, (byte)l):+0.0;-0.0}"))));
        }

        Console.WriteLine("// MatchModel.Default, estimated by LinkageBenchmarks estimate on the tuning seeds");
        Console.WriteLine("    public static MatchModel Default { get; } = new()");
        Console.WriteLine("    {");
        Console.WriteLine("        M = new Dictionary<Comparison, double[]>\n        {\n" + Table(model.M) + "\n        },");
        Console.WriteLine("        U = new Dictionary<Comparison, double[]>\n        {\n" + Table(model.U) + "\n        },");
        Console.WriteLine("        USibling = new Dictionary<Comparison, double[]>\n        {\n" + Table(model.USibling) + "\n        },");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"        Lambda = {model.Lambda:G4},\n        AcceptWeight = {model.AcceptWeight:F2},\n        ReviewWeight = {model.ReviewWeight:F2},\n        HouseholdWeight = {model.HouseholdWeight:F2},"));
        Console.WriteLine("    };");
        Console.WriteLine("// end");
        return 0;
    }

    private static string Table(IReadOnlyDictionary<Comparison, double[]> values) => string.Join(Environment.NewLine, Enum.GetValues<Comparison>().Select(c =>
        $"            [Comparison.{c}] = [{string.Join(", ", values[c].Select(v => v.ToString("G3", CultureInfo.InvariantCulture)))}],"));

    private static RosterSet Tuned(RosterSet set) => set with { Spec = set.Spec with { Name = set.Spec.Name + " (TUNED-ON)" } };

    private static void Add(StringBuilder details, RosterQuality quality) => details.AppendLine(quality.Line());
}

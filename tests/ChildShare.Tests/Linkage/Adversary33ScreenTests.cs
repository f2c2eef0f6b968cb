using System.Security.Cryptography;
using System.Text;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;

namespace ChildShare.Tests.Linkage;

/// <summary>
/// Adversarial review of the speed31 screen (<see cref="ScoreBounds"/>, <see cref="MatchScorer.Screen"/>, ScoreAtLeast, MayReach)
/// and of the shared filter words of <see cref="VariantTable"/>: the fast path against brute-force MatchScorer.Score.
/// </summary>
public sealed class Adversary33ScreenTests
{
    private static readonly Pseudonymizer Key = new(new PseudonymKey("k1", SHA256.HashData(Encoding.UTF8.GetBytes("adversary 33 screen"))));
    private static readonly LinkEncoder Encoder = new(Key);

    // Small vocabularies with near variants, nicknames and exchanged names, so that every comparison level occurs often.
    private static readonly string[] Firsts =
        ["AIDEN", "AIDAN", "ADEN", "ROBERT", "BOB", "ROBBIE", "JOHN", "JON", "JONATHAN", "MARY", "MARIE", "MARIA", "SMITH", "FRANCES", "FRANCIS", "LEE", "LI", "KATHERINE", "KATE", "CATHERINE"];

    private static readonly string[] Lasts = ["SMITH", "SMYTH", "SMITHE", "JONES", "JONAS", "AIDEN", "LEE", "GARCIA", "GARSIA", "NGUYEN", "JOHN", "BROWN"];

    private static readonly string[] Streets = ["12BANNERSTREET", "12BANNERSTRET", "12BANERSTREET", "14BANNERSTREET", "99ELMROAD", "99ELMRD", "7OAKAVENUE"];

    private static readonly string[] Zips = ["12345", "12346", "54321"];

    private static readonly string[] Sexes = ["Female", "Male", "NonBinary"];

    private static LinkInput RandomInput(Random r)
    {
        string? Maybe(string value, double missing = 0.15) => r.NextDouble() < missing ? null : value;
        var year = r.Next(2 ) == 0 ? "2015" : "2016";
        var month = (1 + r.Next(3)).ToString("00", System.Globalization.CultureInfo.InvariantCulture);
        var day = (1 + r.Next(3)).ToString("00", System.Globalization.CultureInfo.InvariantCulture);
        return new LinkInput(
            Maybe(Firsts[r.Next(Firsts.Length)]), Maybe(Lasts[r.Next(Lasts.Length)]),
            Maybe(year, 0.08), Maybe(month, 0.08), Maybe(day, 0.08),
            Maybe(Sexes[r.Next(r.Next(3) == 0 ? 3 : 2)], 0.3), Maybe(Zips[r.Next(Zips.Length)], 0.2),
            Maybe("SS" + r.Next(4), 0.6), Maybe(Streets[r.Next(Streets.Length)], 0.4));
    }

    private static List<LinkEncoding> RandomEncodings(Random r, int count)
    {
        var list = new List<LinkEncoding>(count);
        for (var i = 0; i < count; i++)
        {
            list.Add(Encoder.Encode(RandomInput(r)));
        }

        return list;
    }

    private static double[] Probabilities(Random r, int length, bool extreme)
    {
        var p = new double[length];
        for (var i = 1; i < length; i++)
        {
            p[i] = extreme && r.Next(6) == 0 ? Math.Pow(10, -r.Next(1, 300)) : 1e-6 + r.NextDouble();
        }

        return p;
    }

    private static Dictionary<Comparison, double[]> Table(Random r, bool extreme) =>
        Enum.GetValues<Comparison>().ToDictionary(c => c, c => Probabilities(r, MatchModel.LevelNames[c].Length, extreme));

    /// <summary>Random but finite weights (every m and u positive), random thresholds, household weight and flags.</summary>
    private static LinkModelOptions RandomOptions(Random r, bool extreme = false)
    {
        var accept = -10 + 50 * r.NextDouble();
        var model = new MatchModel
        {
            M = Table(r, extreme),
            U = Table(r, extreme),
            USibling = Table(r, extreme),
            Lambda = 0.001,
            AcceptWeight = accept,
            ReviewWeight = r.Next(4) == 0 ? accept + 5 * r.NextDouble() : accept - 20 * r.NextDouble(),
            HouseholdWeight = -30 + 60 * r.NextDouble(),
        };
        var disabled = Enum.GetValues<Comparison>().Where(_ => r.Next(5) == 0).ToHashSet();
        return new LinkModelOptions
        {
            Model = model,
            Disabled = disabled,
            TwinGuard = r.Next(4) != 0,
            HouseholdByAddress = r.Next(2) == 0,
            SexlessTwinNames = r.Next(2) == 0,
            OneSidedSexTwinNames = r.Next(2) == 0,
            TwinNameGuard = r.Next(2) == 0,
            TwinEvidence = r.Next(2) == 0,
            MonotoneSiblingNames = r.Next(2) == 0,
            MistypedSex = r.Next(2) == 0,
            AmbiguityMargin = -5 + 10 * r.NextDouble(),
        };
    }

    /// <summary>
    /// Every ordered pair: the fast path (ScoreAtLeast over a VariantTable's keys and shared filters) must return exactly the
    /// brute-force score whenever that score is strong or at least the floor, MayReach must never rule such a pair out, and
    /// whatever the fast path returns must equal the brute-force score. Returns the failures as text.
    /// </summary>
    private static List<string> Check(IReadOnlyList<LinkEncoding> encodings, LinkModelOptions options, double floor, int limit = 5)
    {
        var table = new VariantTable();
        var slots = encodings.Select(table.Add).ToArray();
        var bounds = new ScoreBounds(options);
        var screen = bounds.Screen(floor);
        var failures = new List<string>();
        for (var i = 0; i < encodings.Count && failures.Count < limit; i++)
        {
            for (var j = 0; j < encodings.Count && failures.Count < limit; j++)
            {
                if (i == j)
                {
                    continue;
                }

                var exact = MatchScorer.Score(encodings[i], encodings[j], options);
                ref readonly var ka = ref table.Keys(slots[i]);
                ref readonly var kb = ref table.Keys(slots[j]);
                var fast = MatchScorer.ScoreAtLeast(ka, table.Filters(ka), kb, table.Filters(kb), options, bounds, floor);
                var may = MatchScorer.MayReach(ka, kb, screen);
                var needed = exact.Strong || exact.Weight >= floor;
                if (needed && fast is null)
                {
                    failures.Add($"skipped pair {i},{j}: exact {exact.Weight} >= floor {floor} (strong {exact.Strong}), pattern {MatchScorer.Describe(exact.Pattern)} oneSided={exact.Pattern.SexOnOneSide}, mayReach {may}");
                }
                else if (needed && !may)
                {
                    failures.Add($"MayReach false for pair {i},{j}: exact {exact.Weight} >= floor {floor}, pattern {MatchScorer.Describe(exact.Pattern)}");
                }
                else if (fast is { } f && (f.Pattern != exact.Pattern || !f.Weight.Equals(exact.Weight) || f.Guarded != exact.Guarded))
                {
                    failures.Add($"fast score differs for pair {i},{j}: fast {f} exact {exact}");
                }
            }
        }

        return failures;
    }

    [Fact]
    public void Screen_DefaultOptions_NeverSkipsAPairAtOrAboveTheFloor()
    {
        var r = new Random(33);
        var encodings = RandomEncodings(r, 160);
        var options = LinkModelOptions.Default;
        var failures = Check(encodings, options, Math.Min(options.Model.AcceptWeight, options.Model.ReviewWeight));
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Screen_DefaultModel_AtEveryFloor_NeverSkipsAPairAtOrAboveIt()
    {
        var r = new Random(34);
        var encodings = RandomEncodings(r, 90);
        var failures = new List<string>();
        foreach (var floor in new[] { -40.0, -10, 0, 5, 10, 12.79, 17.24, 20, 25, 30, 35, 45 })
        {
            foreach (var options in new[]
            {
                LinkModelOptions.Default,
                LinkModelOptions.Default with { TwinGuard = false },
                LinkModelOptions.Default with { HouseholdByAddress = true, SexlessTwinNames = true, TwinNameGuard = true },
                LinkModelOptions.Without(Comparison.First),
                LinkModelOptions.Without(Comparison.Last, Comparison.Address),
                LinkModelOptions.Without(Comparison.BirthDate, Comparison.Sex) with { HouseholdByAddress = true },
            })
            {
                failures.AddRange(Check(encodings, options, floor, 3).Select(f => $"floor {floor}: {f}"));
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    [Fact]
    public void Screen_RandomFiniteModelsAndOptions_NeverSkipsAPairAtOrAboveTheFloor()
    {
        var r = new Random(3301);
        var encodings = RandomEncodings(r, 70);
        var failures = new List<string>();
        for (var round = 0; round < 150 && failures.Count < 20; round++)
        {
            var options = RandomOptions(r);
            var floor = r.Next(3) == 0 ? -40 + 90 * r.NextDouble() : Math.Min(options.Model.AcceptWeight, options.Model.ReviewWeight);
            failures.AddRange(Check(encodings, options, floor, 3).Select(f => $"round {round}: {f}"));
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Screen_RandomModelsWithExtremeButPositiveProbabilities_NeverSkipsAPairAtOrAboveTheFloor()
    {
        // m and u down to 1e-299: weights up to about +-1000, still finite; the slack of 1e-9 must cover the rounding.
        var r = new Random(3302);
        var encodings = RandomEncodings(r, 60);
        var failures = new List<string>();
        for (var round = 0; round < 120 && failures.Count < 20; round++)
        {
            var options = RandomOptions(r, extreme: true);
            var floor = Math.Min(options.Model.AcceptWeight, options.Model.ReviewWeight);
            failures.AddRange(Check(encodings, options, floor, 3).Select(f => $"round {round}: {f}"));
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void ScoreBounds_Screen_AskedWithAnotherFloor_GivesThatFloorsScreen()
    {
        var bounds = new ScoreBounds(LinkModelOptions.Default);
        var first = bounds.Screen(12.79).ToArray();
        var second = bounds.Screen(30).ToArray();
        var again = bounds.Screen(12.79);
        Assert.Equal(MatchScorer.Screen(bounds, 12.79), first);
        Assert.Equal(MatchScorer.Screen(bounds, 30), second);
        Assert.Equal(first, again);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Generator_CoversEveryComparisonLevel_ExchangedNamesAndHouseholds()
    {
        // Evidence that the property tests above see every level: a pattern seen in none of them is tested by none.
        var r = new Random(33);
        var encodings = RandomEncodings(r, 160);
        var seen = new HashSet<(Comparison, byte)>();
        int swapped = 0, household = 0, oneSided = 0, strong = 0, twinLike = 0;
        for (var i = 0; i < encodings.Count; i++)
        {
            for (var j = 0; j < encodings.Count; j++)
            {
                if (i == j)
                {
                    continue;
                }

                var p = MatchScorer.Compare(encodings[i], encodings[j]);
                foreach (var c in Enum.GetValues<Comparison>())
                {
                    seen.Add((c, p[c]));
                }

                swapped += p.Swapped ? 1 : 0;
                household += p.Household ? 1 : 0;
                oneSided += p.SexOnOneSide ? 1 : 0;
                strong += p.Strong ? 1 : 0;
                twinLike += p.TwinLike ? 1 : 0;
            }
        }

        var missing = Enum.GetValues<Comparison>().SelectMany(c => Enumerable.Range(0, MatchModel.LevelNames[c].Length).Select(l => (c, (byte)l)))
            .Where(x => !seen.Contains(x)).ToList();
        Assert.True(missing.Count == 0, "levels never seen: " + string.Join(", ", missing));
        Assert.True(swapped > 0 && household > 0 && oneSided > 0 && strong > 0 && twinLike > 0, $"swapped {swapped} household {household} oneSided {oneSided} strong {strong} twinLike {twinLike}");
    }

    // The default model with one first-name level that no pair of the test has (dice>=0.4) made 0/0: its weight is NaN.
    private static LinkModelOptions NaNFirstLevel(bool twinGuard)
    {
        var m = MatchModel.Default.M.ToDictionary(x => x.Key, x => x.Value.ToArray());
        var u = MatchModel.Default.U.ToDictionary(x => x.Key, x => x.Value.ToArray());
        m[Comparison.First][MatchModel.FirstDice40] = 0;
        u[Comparison.First][MatchModel.FirstDice40] = 0;
        return LinkModelOptions.Default with { Model = MatchModel.Default with { M = m, U = u }, TwinGuard = twinGuard };
    }

    private static LinkEncoding Child(string? address = null, string? sex = "Female") =>
        Encoder.Encode(new LinkInput("AIDEN", "SMITH", "2015", "03", "04", sex, "12345", null, address));

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, null)]
    [InlineData(true, "12BANNERSTREET")]
    public void Screen_NaNWeightAtALevelThePairDoesNotHave_SkipsAPairWhoseExactScoreIsAboveAccept(bool twinGuard, string? address)
    {
        // Two identical records: first, last, birth date, zip and sex agree exactly. The dice>=0.4 level is not theirs, so its NaN
        // weight is not in their exact score; but ScoreBounds.Max folds it into MaxFirst with Math.Max (which returns NaN when either
        // argument is NaN), the bound is NaN, and Screen's second test (bound >= floor) is false for NaN: every pair with both first
        // names is skipped.
        var options = NaNFirstLevel(twinGuard);
        var a = Child(address);
        var b = Child(address);
        var exact = MatchScorer.Score(a, b, options);
        Assert.False(double.IsNaN(exact.Weight));
        Assert.True(exact.Weight >= options.Model.AcceptWeight, $"exact {exact.Weight}");

        var table = new VariantTable();
        int sa = table.Add(a), sb = table.Add(b);
        var bounds = new ScoreBounds(options);
        var floor = Math.Min(options.Model.AcceptWeight, options.Model.ReviewWeight);
        ref readonly var ka = ref table.Keys(sa);
        ref readonly var kb = ref table.Keys(sb);
        var fast = MatchScorer.ScoreAtLeast(ka, table.Filters(ka), kb, table.Filters(kb), options, bounds, floor);
        Assert.True(fast is not null, $"ScoreAtLeast skipped a pair of exact weight {exact.Weight:0.00} (accept {options.Model.AcceptWeight}); MaxFirst = {bounds.MaxFirst(false, false)}");
    }

    [Fact]
    public void Engine_NaNWeightAtALevelThePairDoesNotHave_LeavesTwoIdenticalRecordsUnlinked()
    {
        var options = NaNFirstLevel(twinGuard: true);
        var engine = new LinkageEngine(options);
        var ka = engine.Add("prov-a|1", "prov-a", "seed-1", Child());
        var kb = engine.Add("prov-b|1", "prov-b", "seed-2", Child());
        var exact = engine.ScoreOf("prov-a|1", "prov-b|1");
        Assert.True(exact.Weight >= options.Model.AcceptWeight, $"exact {exact.Weight}");
        Assert.True(ka == kb, $"exact weight {exact.Weight:0.00} >= accept {options.Model.AcceptWeight}, yet the records are in clusters {ka} and {kb} (rule {engine.RuleOf("prov-b|1")})");
    }

    [Fact]
    public void Screen_InfiniteWeightsOfTwoComparisons_NaNBound_SkipsAHouseholdPairAboveAccept()
    {
        // u = 0 for last-name dice>=0.4 (weight +inf, a level the pair does not have) and m = 0 for zip agreement (weight -inf):
        // the non-household bound is -inf + +inf = NaN, and Math.Max(NaN, sibling bound) is NaN, so the household bound, which is
        // the pair's real score path, is lost. The pair is one household (same last name, same zip, no address): its exact score is
        // the household weight plus the sibling weights, finite and above accept.
        var m = MatchModel.Default.M.ToDictionary(x => x.Key, x => x.Value.ToArray());
        var u = MatchModel.Default.U.ToDictionary(x => x.Key, x => x.Value.ToArray());
        u[Comparison.Last][MatchModel.LastDice40] = 0;
        m[Comparison.Zip][MatchModel.Agree] = 0;
        var options = LinkModelOptions.Default with { Model = MatchModel.Default with { M = m, U = u } };
        var a = Child();
        var b = Child();
        var exact = MatchScorer.Score(a, b, options);
        Assert.True(exact.Guarded);
        Assert.True(exact.Weight >= options.Model.AcceptWeight, $"exact {exact.Weight}");

        var table = new VariantTable();
        int sa = table.Add(a), sb = table.Add(b);
        var bounds = new ScoreBounds(options);
        var floor = Math.Min(options.Model.AcceptWeight, options.Model.ReviewWeight);
        ref readonly var ka = ref table.Keys(sa);
        ref readonly var kb = ref table.Keys(sb);
        var fast = MatchScorer.ScoreAtLeast(ka, table.Filters(ka), kb, table.Filters(kb), options, bounds, floor);
        Assert.True(fast is not null, $"ScoreAtLeast skipped a household pair of exact weight {exact.Weight:0.00} (accept {options.Model.AcceptWeight})");
    }

    /// <summary>
    /// The whole engine with its screen against the same engine with a floor so low that nothing finite is screened out (the review
    /// weight at -1e300: the engine's floor is min(accept, review)). Pairs under the real floor change no link, so the clusters and
    /// the rules must be the same, and so must the reviews at or above the real review weight. Random finite models and options;
    /// repeated keys (variants, more than MaxVariants: the oldest dropped) and loaded nodes with more than MaxVariants variants
    /// (Wide nodes, scored from their encodings).
    /// </summary>
    [Fact]
    public void Engine_WithScreen_DecidesAsWithoutIt_RandomFiniteModels()
    {
        var r = new Random(3303);
        var failures = new List<string>();
        int joined = 0, reviewed = 0;
        for (var round = 0; round < 40 && failures.Count < 5; round++)
        {
            var options = round < 4 ? LinkModelOptions.Default with { HouseholdByAddress = round % 2 == 1, SexlessTwinNames = round >= 2 } : RandomOptions(r);
            var brute = options with { Model = options.Model with { ReviewWeight = -1e300 } };
            var records = Enumerable.Range(0, 150).Select(i => (Key: $"p{r.Next(3)}|{r.Next(110)}", Encoding: Encoder.Encode(RandomInput(r)))).ToList();
            var wide = Enumerable.Range(0, 4).Select(w => new LinkNodeState($"p{w % 3}|wide{w}", $"p{w % 3}", $"wide-seed-{w}",
                Enumerable.Range(0, 6).Select(_ => Encoder.Encode(RandomInput(r))).ToList(), $"wide-seed-{w}", LinkageEngine.Unlinked, [])).ToList();
            var screened = new LinkageEngine(options);
            var full = new LinkageEngine(brute);
            foreach (var engine in new[] { screened, full })
            {
                wide.ForEach(engine.Load);
                foreach (var (key, encoding) in records)
                {
                    engine.Add(key, key[..2], "seed-" + key, encoding);
                }
            }

            var keys = records.Select(x => x.Key).Concat(wide.Select(w => w.Key)).Distinct().ToList();
            foreach (var key in keys)
            {
                if (screened.ClusterKeyOf(key) != full.ClusterKeyOf(key) || screened.RuleOf(key) != full.RuleOf(key))
                {
                    failures.Add($"round {round} key {key}: screened {screened.ClusterKeyOf(key)} '{screened.RuleOf(key)}', brute force {full.ClusterKeyOf(key)} '{full.RuleOf(key)}'");
                    break;
                }
            }

            joined += screened.NodeCount - screened.ClusterCount;
            var review = options.Model.ReviewWeight;
            string Text(ReviewPair p) => $"{p.KeyA}/{p.KeyB}/{p.Weight:R}/{p.Ambiguous}";
            var a = screened.Reviews().Select(Text).OrderBy(x => x, StringComparer.Ordinal).ToList();
            var b = full.Reviews().Where(p => p.Ambiguous || p.Weight >= review).Select(Text).OrderBy(x => x, StringComparer.Ordinal).ToList();
            reviewed += a.Count;
            if (!a.SequenceEqual(b))
            {
                failures.Add($"round {round}: reviews differ: screened only {string.Join(" ", a.Except(b).Take(3))}; brute force only {string.Join(" ", b.Except(a).Take(3))}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(joined > 200 && reviewed > 50, $"joined {joined} reviewed {reviewed}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Screen_SexOnOneSide_FastPatternAndTwinCapAsExact(bool oneSidedSexTwinNames)
    {
        // Twin-like: one home, one birth date, near-identical first names; one record without a sex (interned id 0), one with.
        var options = LinkModelOptions.Default with { OneSidedSexTwinNames = oneSidedSexTwinNames };
        var a = Encoder.Encode(new LinkInput("AIDEN", "SMITH", "2015", "03", "04", "Male", "12345", null, "12BANNERSTREET"));
        var b = Encoder.Encode(new LinkInput("AIDAN", "SMITH", "2015", "03", "04", null, "12345", null, "12BANNERSTREET"));
        var c = Encoder.Encode(new LinkInput("AIDAN", "SMITH", "2015", "03", "04", null, "12345", null, "12BANNERSTREET"));
        var table = new VariantTable();
        int sa = table.Add(a), sb = table.Add(b), sc = table.Add(c);
        var bounds = new ScoreBounds(options);
        foreach (var (x, y, ex, ey) in new[] { (sa, sb, a, b), (sb, sa, b, a), (sb, sc, b, c) })
        {
            var exact = MatchScorer.Score(ex, ey, options);
            ref readonly var kx = ref table.Keys(x);
            ref readonly var ky = ref table.Keys(y);
            var fast = MatchScorer.ScoreAtLeast(kx, table.Filters(kx), ky, table.Filters(ky), options, bounds, -1000);
            Assert.NotNull(fast);
            Assert.Equal(exact, fast.Value);
            Assert.Equal(ex.Has(LinkTokenKind.Sex) != ey.Has(LinkTokenKind.Sex), fast.Value.Pattern.SexOnOneSide);
        }

        var ab = MatchScorer.Score(a, b, options);
        Assert.True(ab.Pattern.SexOnOneSide && ab.Pattern.TwinLike);
        Assert.Equal(oneSidedSexTwinNames, ab.Weight < options.Model.AcceptWeight);
        // Neither reports a sex: not one-sided.
        Assert.False(MatchScorer.Score(b, c, options).Pattern.SexOnOneSide);
    }

    [Fact]
    public void Engine_SexOnOneSide_TwinWithoutSexIsNotJoinedToTheOtherTwin()
    {
        var engine = new LinkageEngine();
        var a = engine.Add("prov-a|1", "prov-a", "s1", Encoder.Encode(new LinkInput("AIDEN", "SMITH", "2015", "03", "04", "Male", "12345", null, "12BANNERSTREET")));
        var b = engine.Add("prov-b|1", "prov-b", "s2", Encoder.Encode(new LinkInput("AIDAN", "SMITH", "2015", "03", "04", null, "12345", null, "12BANNERSTREET")));
        Assert.NotEqual(a, b);
        Assert.Contains(engine.Reviews(), r => r.KeyA == "prov-b|1" && r.KeyB == "prov-a|1" && r.Pattern.SexOnOneSide);
    }

    /// <summary>
    /// Shared filter words: thousands of variants of mixed filter lengths (XOR-folded, plain and balanced encoders: 8, 16 and 32
    /// words a filter), many repeated, across several 65,536-word chunks. Every slot must still read exactly its encoding's words,
    /// equal contents must share one run, and adding more never changes what an earlier slot reads.
    /// </summary>
    [Fact]
    public void VariantTable_SharedFilterWords_AcrossChunks_EverySlotReadsItsOwnWords()
    {
        var r = new Random(3304);
        LinkEncoder[] encoders = [Encoder, new(Key, BloomHardening.None), new(Key, BloomHardening.Balanced)];
        string Name() => new(Enumerable.Range(0, 2 + r.Next(6)).Select(_ => (char)('A' + r.Next(6))).ToArray());
        var table = new VariantTable();
        var added = new List<(int Slot, LinkEncoding Encoding)>();
        var pool = new List<LinkEncoding>();
        void Verify(string when)
        {
            foreach (var (slot, encoding) in added)
            {
                var keys = table.Keys(slot);
                var expected = new ulong[keys.FilterWords];
                VariantTable.Filters(encoding, expected);
                Assert.True(table.Filters(keys).SequenceEqual(expected), $"{when}: slot {slot} reads other words");
                Assert.Equal((encoding.First?.Length ?? 0, encoding.Last?.Length ?? 0, encoding.Address?.Length ?? 0), (keys.FirstWords, keys.LastWords, keys.AddressWords));
            }
        }

        for (var i = 0; i < 9000; i++)
        {
            LinkEncoding encoding;
            if (pool.Count > 0 && r.Next(3) == 0)
            {
                encoding = pool[r.Next(pool.Count)];
            }
            else
            {
                var encoder = encoders[r.Next(encoders.Length)];
                encoding = encoder.Encode(new LinkInput(r.Next(8) == 0 ? null : Name(), r.Next(8) == 0 ? null : Name(), "2015", "01", "02", null, null, null,
                    r.Next(2) == 0 ? null : Name() + "STREET"));
                pool.Add(encoding);
            }

            added.Add((table.Add(encoding), encoding));
            if (i % 3000 == 2999)
            {
                Verify($"after {i + 1}");
            }
        }

        Verify("at the end");
        var maxOffset = added.Max(x => table.Keys(x.Slot).FilterOffset);
        Assert.True(maxOffset > 3 * 65536, $"the pool spans {maxOffset} words: fewer chunks than meant");
        // Equal content: one run.
        var byContent = added.GroupBy(x => x.Encoding).Where(g => g.Count() > 1).ToList();
        Assert.NotEmpty(byContent);
        Assert.All(byContent, g => Assert.Single(g.Select(x => table.Keys(x.Slot).FilterOffset).Distinct()));
    }

    [Fact]
    public void Screen_MixedHardeningAndSaltedFilters_NeverSkipsAPairAtOrAboveTheFloor()
    {
        // Filters of different lengths in one table (folded 8 words, plain 16, balanced 32: Dice slices to the shorter) and
        // birth-year salted filters: the fast path must still be the exact score.
        var r = new Random(3305);
        LinkEncoder[] encoders = [Encoder, new(Key, BloomHardening.None), new(Key, BloomHardening.Balanced), new(Key, BloomHardening.BirthYearSalt)];
        var encodings = Enumerable.Range(0, 90).Select(_ => encoders[r.Next(encoders.Length)].Encode(RandomInput(r))).ToList();
        var failures = new List<string>();
        failures.AddRange(Check(encodings, LinkModelOptions.Default, Math.Min(MatchModel.Default.AcceptWeight, MatchModel.Default.ReviewWeight)));
        for (var round = 0; round < 40 && failures.Count < 10; round++)
        {
            var options = RandomOptions(r);
            failures.AddRange(Check(encodings, options, Math.Min(options.Model.AcceptWeight, options.Model.ReviewWeight), 3).Select(f => $"round {round}: {f}"));
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}

using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;
using Xunit.Abstractions;

namespace ChildShare.Tests.Linkage;

/// <summary>
/// Linkage quality on the public FEBRL benchmark, transformed into provider uploads about children
/// (<see cref="Febrl"/>). Prints pairwise precision and recall and the error of the unique-child
/// count, and fails below the floors. Thresholds were set on dataset1; dataset2 is the held-out measure.
/// </summary>
public sealed class FebrlQualityTests(ITestOutputHelper output)
{
    private static readonly Pseudonymizer Pseudonymizer = new(Febrl.TestKey());

    private static (IReadOnlyList<FebrlRecord> Records, IReadOnlyList<LinkEncoding> Encodings) Prepare(
        string file, SameProviderDuplicates duplicates = SameProviderDuplicates.SameLocalId, bool withAddress = true, double stateIdShare = 0.5)
    {
        var records = Febrl.Load(file, duplicates, stateIdShare);
        var encoder = new LinkEncoder(Pseudonymizer);
        return (records, records.Select(r => encoder.Encode(r.Input(withAddress))).ToList());
    }

    // dataset2's floors are the goals: precision 0.99, recall 0.90, unique count within 2% (measured: 0.9994, 0.9224,
    // +1.80%). dataset1 corrupts every duplicate heavily (a third replace a whole given name, which for children looks like
    // a twin) and its floors sit just under what is measured (1.0, 0.840, +16.0%). See LINKAGE.md.
    [Theory]
    [InlineData("dataset1.csv", 0.99, 0.83, 0.17)]
    [InlineData("dataset2.csv", 0.99, 0.90, 0.02)]
    public void Febrl_linkage_meets_the_floors(string file, double minPrecision, double minRecall, double maxCountError)
    {
        var (records, encodings) = Prepare(file);
        var quality = LinkageQuality.Measure(records, encodings, LinkRuleOptions.Default, Pseudonymizer);
        output.WriteLine(quality.Line(file + " all rules"));

        var exact = Exact(records);
        output.WriteLine(exact.Line(file + " exact name+dob only"));

        Assert.True(quality.Precision >= minPrecision, $"precision {quality.Precision:F4} below {minPrecision}");
        Assert.True(quality.Recall >= minRecall, $"recall {quality.Recall:F4} below {minRecall}");
        Assert.True(Math.Abs(quality.CountError) <= maxCountError, $"count error {quality.CountError:P2} beyond {maxCountError:P0}");
    }

    [Theory]
    [InlineData("dataset1.csv")]
    [InlineData("dataset2.csv")]
    public void Febrl_ablation_each_rule_removed_and_alone(string file)
    {
        var (records, encodings) = Prepare(file);
        var all = LinkageQuality.Measure(records, encodings, LinkRuleOptions.Default, Pseudonymizer);
        output.WriteLine(all.Line("all rules"));
        foreach (var rule in Enum.GetValues<LinkRule>().Where(r => r is not LinkRule.None and not LinkRule.SameLocalId))
        {
            output.WriteLine(LinkageQuality.Measure(records, encodings, LinkRuleOptions.Without(rule), Pseudonymizer).Line("without " + LinkDecision.Code(rule)));
            output.WriteLine(LinkageQuality.Measure(records, encodings, LinkRuleOptions.Only(rule), Pseudonymizer).Line("only " + LinkDecision.Code(rule)));
        }

        output.WriteLine(LinkageQuality.Measure(records, encodings, LinkRuleOptions.Only(), Pseudonymizer).Line("no rule (local ids only)"));
        var (plain, plainEncodings) = Prepare(file, withAddress: false);
        output.WriteLine(LinkageQuality.Measure(plain, plainEncodings, LinkRuleOptions.Default, Pseudonymizer).Line("all rules, no address"));
        var (strict, strictEncodings) = Prepare(file, SameProviderDuplicates.DistinctLocalId);
        output.WriteLine(LinkageQuality.Measure(strict, strictEncodings, LinkRuleOptions.Default, Pseudonymizer).Line("all rules, provider duplicates"));
        foreach (var share in new[] { 0.0, 0.25, 0.75 })
        {
            var (some, someEncodings) = Prepare(file, stateIdShare: share);
            output.WriteLine(LinkageQuality.Measure(some, someEncodings, LinkRuleOptions.Default, Pseudonymizer).Line($"all rules, state id on {share:P0}"));
        }

        Assert.True(all.Precision > 0.95);
    }

    /// <summary>The baseline the issue quotes: exact folded name and birth date.</summary>
    private static LinkageQuality Exact(IReadOnlyList<FebrlRecord> records)
    {
        var encoder = new LinkEncoder(Pseudonymizer);
        var encodings = records.Select(r => encoder.Encode(r.Input(false))).ToList();
        return LinkageQuality.Measure(records, encodings, LinkRuleOptions.Only(LinkRule.NameDob), Pseudonymizer);
    }
}

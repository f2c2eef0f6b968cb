using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Sharing.Deidentified;

namespace ChildShare.Tests.Sharing.Deidentified;

/// <summary>The export's research ids: its own HMAC loop gives exactly the pseudonymizer's token, and numeric order is the text's order.</summary>
public sealed class ResearchIdTests
{
    private static readonly PseudonymKey Key = new("rid-1", Enumerable.Range(0, 40).Select(i => (byte)(255 - i * 3)).ToArray());

    public static TheoryData<string> Agreements => new() { "dsa-research", "", "dsa-ü-😀", "dsa\u001fwith-separator" };

    [Theory]
    [MemberData(nameof(Agreements))]
    public void ResearchIdValues_AnyChildKey_EqualsThePseudonymizersToken(string agreementId)
    {
        var random = new Random(13);
        var childKeys = new List<string> { "", "a", "ä", "😀", "\ud800", "x\udc00y", new('k', 300), new('é', 200), "tail\u001f" };
        childKeys.AddRange(Enumerable.Range(0, 5000).Select(_ => Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64()))));
        var pseudonymizer = new Pseudonymizer(Key);

        var values = DeidentifiedExportService.ResearchIdValues(Key, agreementId, childKeys);

        Assert.Equal(childKeys.Select(k => pseudonymizer.Token("deid-research-v1", agreementId, k)), values.Select(DeidentifiedExportService.ResearchIdText));
    }

    [Fact]
    public void ResearchIdText_SortedNumbers_AreInOrdinalOrder()
    {
        var random = new Random(14);
        var values = Enumerable.Range(0, 2000).Select(_ => new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64())).Append(UInt128.MinValue).Append(UInt128.MaxValue).ToArray();

        Array.Sort(values);

        var texts = values.Select(DeidentifiedExportService.ResearchIdText).ToList();
        Assert.Equal(texts.Order(StringComparer.Ordinal), texts);
    }
}

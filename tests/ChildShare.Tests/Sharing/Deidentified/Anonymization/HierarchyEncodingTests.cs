using ChildShare.Core.Agreements;
using ChildShare.Core.Sharing.Deidentified;
using ChildShare.Core.Sharing.Deidentified.Anonymization;

using static ChildShare.Tests.Sharing.Deidentified.Anonymization.AnonymizationTestData;

namespace ChildShare.Tests.Sharing.Deidentified.Anonymization;

public sealed class HierarchyEncodingTests
{
    [Fact]
    public void Encode_LeafCodes_InOrderOfFirstAppearance()
    {
        var encoding = HierarchyEncoding.Encode([Child(7), Child(3), Child(7), Child(12)], Settings([QuasiIdentifierNames.Age]), null);

        Assert.Equal([0, 1, 0, 2], Enumerable.Range(0, 4).Select(r => encoding.Code(0, 0, r)));
        Assert.Equal(["7", "3", "12"], Enumerable.Range(0, 3).Select(c => encoding.Display(0, 0, c)));
    }

    [Fact]
    public void Encode_HigherLevels_AreFunctionsOfTheLeaf()
    {
        // 7 and 8 share the band 5-9; 3 is 0-4; 12 is 10-14. Level 2: 0-4 and 5-17. Level 3: *.
        var encoding = HierarchyEncoding.Encode([Child(7), Child(3), Child(8), Child(12)], Settings([QuasiIdentifierNames.Age]), null);

        Assert.Equal(["5-9", "0-4", "5-9", "10-14"], Enumerable.Range(0, 4).Select(r => encoding.Display(0, 1, encoding.Code(0, 1, r))));
        Assert.Equal(["5-17", "0-4", "5-17", "5-17"], Enumerable.Range(0, 4).Select(r => encoding.Display(0, 2, encoding.Code(0, 2, r))));
        Assert.Equal(1, encoding.Cardinality(0, 3));
        Assert.Equal(QuasiIdentifiers.Suppressed, encoding.Display(0, 3, 0));
        for (var l = 1; l < encoding.Heights[0]; l++)
        {
            for (var r = 0; r < 4; r++)
            {
                Assert.Equal(encoding.Code(0, l, r), encoding.Step(0, l)[encoding.Code(0, l - 1, r)]);
            }
        }
    }

    [Fact]
    public void Encode_Loss_IsLeavesCoveredMinusOneOverLeavesMinusOne()
    {
        var encoding = HierarchyEncoding.Encode([Child(7), Child(3), Child(8), Child(12)], Settings([QuasiIdentifierNames.Age]), null);

        Assert.Equal(0, encoding.Loss(0, 0, 0));
        Assert.Equal(1 / 3.0, encoding.Loss(0, 1, encoding.Code(0, 1, 0))); // 5-9 covers 7 and 8
        Assert.Equal(2 / 3.0, encoding.Loss(0, 2, encoding.Code(0, 2, 0))); // 5-17 covers 7, 8, 12
        Assert.Equal(1, encoding.Loss(0, 3, 0));
    }

    [Fact]
    public void Encode_SchoolWithoutDistricts_LeafSplitsBySchoolLevel()
    {
        // A K-8 school: its level-1 value depends on the grade, so level 0 keeps the two apart (same shown value).
        var encoding = HierarchyEncoding.Encode([Child(7, school: "K8", grade: "2"), Child(13, school: "K8", grade: "7")], Settings([QuasiIdentifierNames.School]), null);

        Assert.Equal(2, encoding.Cardinality(0, 0));
        Assert.Equal("K8", encoding.Display(0, 0, 0));
        Assert.Equal("K8", encoding.Display(0, 0, 1));
        Assert.Equal(["ElementarySchool", "MiddleSchool"], Enumerable.Range(0, 2).Select(r => encoding.Display(0, 1, encoding.Code(0, 1, r))));
    }

    [Fact]
    public void Encode_Sensitive_CodedWhenGiven_ZeroOtherwise()
    {
        ResolvedChild[] children = [Child(7), Child(3), Child(8)];

        Assert.Equal([0, 1, 0], HierarchyEncoding.Encode(children, Settings([QuasiIdentifierNames.Age], l: 2), ["Health", "Academic", "Health"]).Sensitive);
        Assert.Equal([0, 0, 0], HierarchyEncoding.Encode(children, Settings([QuasiIdentifierNames.Age]), null).Sensitive);
    }

    [Fact]
    public void Encode_NoChildren_OnlyTheTopValue()
    {
        var encoding = HierarchyEncoding.Encode([], Settings([QuasiIdentifierNames.Sex]), null);

        Assert.Equal(0, encoding.Records);
        Assert.Equal(0, encoding.Cardinality(0, 0));
        Assert.Equal(0, encoding.Cardinality(0, 1));
    }
}

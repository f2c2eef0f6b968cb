using ChildShare.Tests.Linkage.Evaluation;

namespace ChildShare.Tests.Linkage;

public sealed class FebrlDataTests
{
    [Fact]
    public void Load_FileAbsent_SaysWhichDataItNeedsAndWhereItComesFrom()
    {
        var error = Assert.Throws<FileNotFoundException>(() => Febrl.Load("dataset-absent.csv"));

        Assert.Contains("FEBRL", error.Message, StringComparison.Ordinal);
        Assert.Contains("../shared/data/febrl", error.Message, StringComparison.Ordinal);
    }
}

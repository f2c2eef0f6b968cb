using ChildShare.Core.Ingestion;

namespace ChildShare.Tests.Ingestion;

public sealed class AddressNormalizerTests
{
    [Theory]
    [InlineData("123 Main St", "123MAINSTREET")]
    [InlineData("123 MAIN STREET", "123MAINSTREET")]
    [InlineData("123 N. Main St., Apt #4B", "123NORTHMAINSTREET4B")]
    [InlineData("123 north main street 4b", "123NORTHMAINSTREET4B")]
    [InlineData("123 N Main Street Unit 4B", "123NORTHMAINSTREET4B")]
    [InlineData("123 N Main St Ste. 4B", "123NORTHMAINSTREET4B")]
    [InlineData("456 Elm Ave NW", "456ELMAVENUENORTHWEST")]
    [InlineData("456 Elm Av. N.W.", "456ELMAVENUENORTHWEST")]
    [InlineData("9 S Oak Rd", "9SOUTHOAKROAD")]
    [InlineData("77 Sunset Blvd", "77SUNSETBOULEVARD")]
    [InlineData("5 Cedar Ln", "5CEDARLANE")]
    [InlineData("5 Cedar Dr", "5CEDARDRIVE")]
    [InlineData("8 Birch Ct", "8BIRCHCOURT")]
    [InlineData("8 Birch Pl", "8BIRCHPLACE")]
    [InlineData("3 Laurel Cir", "3LAURELCIRCLE")]
    [InlineData("3 Laurel Ter", "3LAURELTERRACE")]
    [InlineData("1200 Hwy 9", "1200HIGHWAY9")]
    [InlineData("40 Garden State Pkwy", "40GARDENSTATEPARKWAY")]
    [InlineData("12 Rue Saint-Dénis", "12RUESAINTDENIS")]
    [InlineData("789 O'Connell Blvd", "789OCONNELLBOULEVARD")]
    [InlineData("1 St. John’s Pl", "1STREETJOHNSPLACE")]
    [InlineData("55 Gibso n Circuit", "55GIBSONCIRCUIT")]
    [InlineData("10 Oak Ct Apt E", "10OAKCOURTE")]
    [InlineData("10 Oak Ct #E", "10OAKCOURTE")]
    [InlineData("10 Oak Ct E", "10OAKCOURTEAST")]
    [InlineData(" ３２ Ｍａｐｌｅ Ｄｒ ", "32MAPLEDRIVE")]
    [InlineData("PO Box 12", "POBOX12")]
    [InlineData("Straße 7", "STRASE7")]
    public void MatchForm_FoldsExpandsAndKeepsLettersAndDigits(string address, string expected) =>
        Assert.Equal(expected, AddressNormalizer.MatchForm(address));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Unknown")]
    [InlineData("N/A")]
    [InlineData("homeless")]
    [InlineData("Same as above")]
    [InlineData("12345")]
    [InlineData("# - .")]
    public void MatchForm_NoAddress_IsNull(string? address) => Assert.Null(AddressNormalizer.MatchForm(address));
}

using System.Security.Cryptography;
using System.Text;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Linkage;
using ChildShare.Core.Pseudonymization;

namespace ChildShare.Tests.Linkage;

public sealed class LinkageEngineTests
{
    private static readonly Pseudonymizer Key = new(new PseudonymKey("k1", SHA256.HashData(Encoding.UTF8.GetBytes("engine tests"))));
    private static readonly LinkEncoder Encoder = new(Key);

    private static LinkEncoding Enc(string first, string last, string dob, string? zip = "12345", string? ssid = null, Sex sex = Sex.Unknown, string? address = null) =>
        Encoder.Encode(new LinkInput(NameNormalizer.MatchForm(first), NameNormalizer.MatchForm(last), dob[..4], dob[5..7], dob[8..], sex, zip, ssid, address));

    [Theory]
    [InlineData("ROBERT", "R163")]
    [InlineData("RUPERT", "R163")]
    [InlineData("ASHCRAFT", "A261")]
    [InlineData("TYMCZAK", "T522")]
    [InlineData("PFISTER", "P236")]
    [InlineData("LEE", "L000")]
    public void Soundex_matches_the_reference_codes(string name, string code) => Assert.Equal(code, Phonetic.Soundex(name));

    [Fact]
    public void Encodings_are_keyed_deterministic_and_round_trip()
    {
        var a = Enc("Ana", "Lopez", "2015-03-02");
        Assert.True(a.SameContent(Enc("ana", "LÓPEZ", "2015-03-02")));
        var other = new LinkEncoder(new Pseudonymizer(new PseudonymKey("k2", SHA256.HashData(Encoding.UTF8.GetBytes("another key")))));
        var b = other.Encode(new LinkInput("ANA", "LOPEZ", "2015", "03", "02", Sex.Unknown, "12345", null));
        Assert.NotEqual(a[LinkTokenKind.NameDob], b[LinkTokenKind.NameDob]);
        Assert.True(LinkEncoding.Dice(a.NameBloom, b.NameBloom) < 0.5);
        Assert.True(LinkEncoding.Deserialize(a.Serialize()).SameContent(a));
        Assert.DoesNotContain("LOPEZ", a.Serialize(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Rules_give_their_reason_codes_in_precedence()
    {
        var options = LinkRuleOptions.Default;
        Assert.Equal(LinkRule.StateIdDob, LinkDecision.Decide(Enc("Ana", "Lopez", "2015-03-02", ssid: "9"), Enc("Tina", "Smith", "2015-03-02", ssid: "9"), options));
        Assert.Equal(LinkRule.NameDobZip3, LinkDecision.Decide(Enc("Ana", "Lopez", "2015-03-02"), Enc("Ana", "Lopez", "2015-03-02", "12399"), options));
        Assert.Equal(LinkRule.NameDob, LinkDecision.Decide(Enc("Ana", "Lopez", "2015-03-02"), Enc("Ana", "Lopez", "2015-03-02", "99999"), options));
        Assert.Equal(LinkRule.SwappedNameDob, LinkDecision.Decide(Enc("Ana", "Lopez", "2015-03-02"), Enc("Lopez", "Ana", "2015-03-02"), options));
        Assert.Equal(LinkRule.PhoneticDob, LinkDecision.Decide(Enc("Jonathan", "Richardson", "2015-03-02"), Enc("Jonathon", "Richardson", "2015-03-02"), options));
        Assert.Equal(LinkRule.FuzzyNameDob, LinkDecision.Decide(Enc("Jonathan", "Richardson", "2015-03-02"), Enc("Jonathan", "Richadson", "2015-03-02"), options));
        Assert.Equal(LinkRule.FuzzyNamePartialDob, LinkDecision.Decide(Enc("Jonathan", "Richardson", "2015-03-02"), Enc("Jonathan", "Richardson", "2015-03-20"), options));
        Assert.Equal(LinkRule.PartialNameDobZip, LinkDecision.Decide(Enc("Baby Girl", "Richardson", "2015-03-02"), Enc("Jonna", "Richardson", "2015-03-02"), options));
        Assert.Equal(LinkRule.SurnameChangedDobZip, LinkDecision.Decide(
            Enc("Georgia", "Pegg", "2015-03-02", sex: Sex.Female), Enc("Georgia", "Kyriacou", "2015-03-02", sex: Sex.Female), options));
        Assert.Equal(LinkRule.NameZipAddress, LinkDecision.Decide(
            Enc("Amy", "Mccarthy", "2015-03-02", address: "12BANNERSTREET"), Enc("Amy", "Mccarthy", "2012-10-05", address: "12BANNERSTRET"), options));

        // Twins: same last name, birth date and zip, different first names.
        Assert.Equal(LinkRule.None, LinkDecision.Decide(Enc("Naomi", "Dinnison", "2015-03-02"), Enc("Joshua", "Dinnison", "2015-03-02"), options));
    }

    [Fact]
    public void LinkInput_From_gives_linkage_the_address_match_form_so_two_spellings_link_by_L13()
    {
        static LinkInput From(string dob, string? address) => LinkInput.From(
            new ChildIdentity
            {
                LocalChildId = "A1", FirstName = NameNormalizer.Name("Amy"), LastName = NameNormalizer.Name("McCarthy"),
                BirthDate = DateOnly.Parse(dob, System.Globalization.CultureInfo.InvariantCulture), StreetAddress = address,
            },
            new Demographics { Zip = "12345" });

        var written = From("2015-03-02", "12 Banner St., Apt #4");
        var other = From("2012-10-05", "12 BANNER STREET UNIT 4");

        Assert.Equal("12BANNERSTREET4", written.Address);
        Assert.Null(From("2015-03-02", null).Address);
        Assert.Equal(LinkRule.NameZipAddress, LinkDecision.Decide(Encoder.Encode(written), Encoder.Encode(other), LinkRuleOptions.Default));
        Assert.Equal(LinkRule.None, LinkDecision.Decide(Encoder.Encode(written), Encoder.Encode(From("2012-10-05", null)), LinkRuleOptions.Default));
    }

    [Fact]
    public void A_surname_change_links_only_on_the_same_first_name_birth_date_and_zip_with_more_evidence_agreeing()
    {
        var options = LinkRuleOptions.Default;
        const string Street = "12BANNERSTREET";

        // Corroborated: the same sex where both report it and no address, or a similar address.
        Assert.Equal(LinkRule.SurnameChangedDobZip, LinkDecision.Decide(
            Enc("Jordan", "Pegg", "2015-03-02", sex: Sex.Female), Enc("Jordan", "Kyriacou", "2015-03-02", sex: Sex.Female), options));
        Assert.Equal(LinkRule.SurnameChangedDobZip, LinkDecision.Decide(
            Enc("Jordan", "Pegg", "2015-03-02", address: Street), Enc("Jordan", "Kyriacou", "2015-03-02", address: "12BANNERSTRET"), options));

        // Not corroborated: nothing else known, one side's sex unknown, or a different address (even with the same sex).
        Assert.Equal(LinkRule.None, LinkDecision.Decide(Enc("Jordan", "Pegg", "2015-03-02"), Enc("Jordan", "Kyriacou", "2015-03-02"), options));
        Assert.Equal(LinkRule.None, LinkDecision.Decide(
            Enc("Jordan", "Pegg", "2015-03-02", sex: Sex.Female), Enc("Jordan", "Kyriacou", "2015-03-02"), options));
        Assert.Equal(LinkRule.None, LinkDecision.Decide(
            Enc("Jordan", "Pegg", "2015-03-02", sex: Sex.Female, address: Street),
            Enc("Jordan", "Kyriacou", "2015-03-02", sex: Sex.Female, address: "7OXLEYPLACE"), options));

        // Contradicted or not the rule's case at all.
        Assert.Equal(LinkRule.None, LinkDecision.Decide(
            Enc("Jordan", "Pegg", "2015-03-02", sex: Sex.Female), Enc("Jordan", "Kyriacou", "2015-03-02", sex: Sex.Male), options));
        Assert.Equal(LinkRule.None, LinkDecision.Decide(
            Enc("Jordan", "Pegg", "2015-03-02", sex: Sex.Female), Enc("Jordan", "Kyriacou", "2015-03-02", "54321", sex: Sex.Female), options));
        Assert.Equal(LinkRule.None, LinkDecision.Decide(
            Enc("Jordan", "Pegg", "2015-03-02", sex: Sex.Female), Enc("Jordan", "Kyriacou", "2015-03-03", sex: Sex.Female), options));

        // With the name rules switched off, L12 still needs the last names to differ.
        Assert.Equal(LinkRule.None, LinkDecision.Decide(
            Enc("Jordan", "Pegg", "2015-03-02", sex: Sex.Female), Enc("Jordan", "Pegg", "2015-03-02", sex: Sex.Female),
            LinkRuleOptions.Only(LinkRule.SurnameChangedDobZip)));
    }

    [Fact]
    public void A_new_surname_that_fits_two_children_joins_neither()
    {
        // One school has two Georgias born the same day in one zip; another provider's Georgia with a new surname could be either.
        var engine = new LinkageEngine();
        engine.Add("a|1", "a", "s1", Enc("Georgia", "Pegg", "2015-03-02", sex: Sex.Female));
        engine.Add("a|2", "a", "s2", Enc("Georgia", "Kyriacou", "2015-03-02", sex: Sex.Female));
        engine.Add("c|3", "c", "s3", Enc("Georgia", "Whetstone", "2015-03-02", sex: Sex.Female));
        Assert.Equal(3, engine.ClusterCount);
    }

    [Fact]
    public void A_new_surname_at_another_address_is_another_child()
    {
        // The limit of L12 without addresses: Georgias of one sex, born the same day in one zip, with different
        // surnames at different providers, would join. Where the providers send addresses, different ones keep them apart.
        var engine = new LinkageEngine();
        engine.Add("a|1", "a", "s1", Enc("Georgia", "Pegg", "2015-03-02", sex: Sex.Female, address: "12BANNERSTREET"));
        engine.Add("b|1", "b", "s2", Enc("Georgia", "Kyriacou", "2015-03-02", sex: Sex.Female, address: "7OXLEYPLACE"));
        engine.Add("c|1", "c", "s3", Enc("Georgia", "Whetstone", "2015-03-02", sex: Sex.Female, address: "40MILNECOVE"));
        Assert.Equal(3, engine.ClusterCount);
    }

    [Fact]
    public void A_record_stored_before_newer_token_kinds_is_upgraded_in_place_not_kept_as_another_variant()
    {
        var today = Enc("Ana", "Lopez", "2015-03-02", sex: Sex.Female);
        var tokens = today.Tokens.ToArray();
        foreach (var added in new[] { LinkTokenKind.NameZip, LinkTokenKind.Sex, LinkTokenKind.PhoneticNamesSwapped })
        {
            tokens[(int)added] = UInt128.Zero;
        }

        var stored = new LinkEncoding(tokens, today.NameBloom, today.SwappedNameBloom, today.AddressBloom, today.FullName);
        var engine = new LinkageEngine();
        engine.Load(new LinkNodeState("a|1", "a", "s1", [stored], "s1", LinkDecision.Unlinked, []));

        engine.Add("a|1", "a", "s1", today);

        var variant = Assert.Single(engine.StateOf("a|1").Variants);
        Assert.True(variant.SameContent(today));
        Assert.True(Assert.Single(engine.Changes()).VariantsChanged);
    }

    [Fact]
    public void A_different_birth_date_links_on_name_zip_and_address_only_where_both_carry_an_address()
    {
        var options = LinkRuleOptions.Default;
        Assert.Equal(LinkRule.None, LinkDecision.Decide(Enc("Amy", "Mccarthy", "2015-03-02"), Enc("Amy", "Mccarthy", "2012-10-05"), options));
        Assert.Equal(LinkRule.None, LinkDecision.Decide(
            Enc("Amy", "Mccarthy", "2015-03-02", address: "12BANNERSTREET"), Enc("Amy", "Mccarthy", "2012-10-05"), options));
        Assert.Equal(LinkRule.None, LinkDecision.Decide(
            Enc("Amy", "Mccarthy", "2015-03-02", address: "12BANNERSTREET"), Enc("Amy", "Mccarthy", "2012-10-05", address: "7OXLEYPLACE"), options));
        Assert.Equal(LinkRule.None, LinkDecision.Decide(
            Enc("Amy", "Mccarthy", "2015-03-02", address: "12BANNERSTREET"), Enc("Amy", "Mccarthy", "2012-10-05", "54321", address: "12BANNERSTREET"), options));
        Assert.Equal(LinkRule.None, LinkDecision.Decide(
            Enc("Amy", "Mccarthy", "2015-03-02", sex: Sex.Female, address: "12BANNERSTREET"),
            Enc("Amy", "Mccarthy", "2012-10-05", sex: Sex.Male, address: "12BANNERSTREET"), options));

        // With the earlier rules switched off, L13 still needs the birth dates to disagree.
        Assert.Equal(LinkRule.None, LinkDecision.Decide(
            Enc("Amy", "Mccarthy", "2015-03-02", address: "12BANNERSTREET"), Enc("Amy", "Mccarthy", "2015-03-02", address: "12BANNERSTREET"),
            LinkRuleOptions.Only(LinkRule.NameZipAddress)));
    }

    [Fact]
    public void Records_with_first_and_last_name_exchanged_are_candidates_even_when_the_birth_date_differs()
    {
        // Neither the birth date nor the phonetic names block them together; the exchanged phonetic lookup does.
        var engine = new LinkageEngine();
        engine.Add("a|1", "a", "s1", Enc("Holly", "Whitehead", "2015-07-03"));
        engine.Add("b|1", "b", "s2", Enc("Whitehead", "Holly", "2015-07-30"));
        Assert.Equal(1, engine.ClusterCount);
        Assert.Equal(LinkDecision.Code(LinkRule.FuzzyNamePartialDob), engine.RuleOf("b|1"));
    }

    [Fact]
    public void Links_are_transitive_and_a_split_holds_when_records_return()
    {
        var engine = new LinkageEngine();
        engine.Add("a|1", "a", "s1", Enc("Ana", "Lopez", "2015-03-02"));
        engine.Add("b|1", "b", "s2", Enc("Tina", "Smith", "2015-03-02", ssid: "77"));
        Assert.NotEqual(engine.ClusterKeyOf("a|1"), engine.ClusterKeyOf("b|1"));
        engine.Add("c|1", "c", "s3", Enc("Ana", "Lopez", "2015-03-02", ssid: "77"));
        Assert.Equal(engine.ClusterKeyOf("a|1"), engine.ClusterKeyOf("b|1"));
        Assert.Equal("s1", engine.ClusterKeyOf("c|1"));

        engine.Split("a|1", "b|1");
        Assert.NotEqual(engine.ClusterKeyOf("a|1"), engine.ClusterKeyOf("b|1"));
        engine.Add("a|1", "a", "s1", Enc("Ana", "Lopez", "2015-03-02", "12346"));
        Assert.NotEqual(engine.ClusterKeyOf("a|1"), engine.ClusterKeyOf("b|1"));
        Assert.Equal(2, engine.ClusterCount);
    }

    [Fact]
    public void A_name_change_keeps_linking_through_the_earlier_variant()
    {
        var engine = new LinkageEngine();
        engine.Add("a|1", "a", "s1", Enc("Ana", "Lopez", "2015-03-02"));
        engine.Add("a|1", "a", "s1", Enc("Ana", "Whitfield", "2015-03-02"));
        engine.Add("b|9", "b", "s9", Enc("Ana", "Lopez", "2015-03-02", "12999"));
        Assert.Equal(engine.ClusterKeyOf("a|1"), engine.ClusterKeyOf("b|9"));
        Assert.Equal(LinkDecision.Code(LinkRule.NameDob), engine.RuleOf("b|9"));
    }

    [Fact]
    public void A_record_without_a_first_name_that_fits_twins_joins_neither()
    {
        var engine = new LinkageEngine();
        engine.Add("a|1", "a", "s1", Enc("Naomi", "Dinnison", "2015-03-02"));
        engine.Add("b|2", "b", "s2", Enc("Joshua", "Dinnison", "2015-03-02"));
        engine.Add("c|3", "c", "s3", Enc("Baby", "Dinnison", "2015-03-02"));
        Assert.Equal(3, engine.ClusterCount);
    }
}

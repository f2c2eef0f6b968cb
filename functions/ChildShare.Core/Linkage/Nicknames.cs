namespace ChildShare.Core.Linkage;

/// <summary>
/// Common English and Spanish diminutives of given names, folded as <see cref="Ingestion.NameNormalizer.MatchForm"/>
/// folds them. A name in a group has the group's first name as its canonical form; the linker compares
/// canonical forms only through a keyed token (never in cleartext on the linking side). A diminutive that
/// belongs to two groups (SAM: Samuel and Samantha; ALEX: Alexander and Alexandra) maps to the first listed.
/// </summary>
public static class Nicknames
{
    private static readonly string[][] Groups =
    [
        ["WILLIAM", "WILL", "BILL", "BILLY", "WILLY", "WILLIE"], ["ROBERT", "ROB", "BOB", "BOBBY", "ROBBIE", "BERT"],
        ["RICHARD", "RICK", "RICKY", "DICK", "RICH", "RICHIE"], ["ELIZABETH", "LIZ", "LIZZIE", "BETH", "BETSY", "BETTY", "ELIZA", "LIBBY"],
        ["KATHERINE", "KATE", "KATIE", "KATHY", "KAT", "KATHRYN", "CATHERINE"], ["MARGARET", "MAGGIE", "MEG", "PEGGY", "GRETA"],
        ["ALEXANDER", "ALEX", "XANDER", "SANDY", "ALEJANDRO"], ["BENJAMIN", "BEN", "BENNY", "BENJI"], ["MICHAEL", "MIKE", "MIKEY", "MICK"],
        ["SAMUEL", "SAM", "SAMMY"], ["SAMANTHA", "SAMMIE"], ["JENNIFER", "JEN", "JENNY", "JENN"], ["JESSICA", "JESS", "JESSIE"],
        ["REBECCA", "BECKY", "BECCA"], ["THEODORE", "THEO", "TEDDY"], ["NICHOLAS", "NICK", "NICKY", "NICO"], ["JONATHAN", "JON", "JONNY"],
        ["JOHN", "JOHNNY", "JACK"], ["ZACHARY", "ZACH", "ZACK"], ["CHRISTOPHER", "CHRIS", "KRIS"], ["MATTHEW", "MATT", "MATTY"],
        ["DANIEL", "DAN", "DANNY"], ["JOSEPH", "JOE", "JOEY"], ["ANTHONY", "TONY"], ["THOMAS", "TOM", "TOMMY"], ["EDWARD", "ED", "EDDIE", "TED", "NED"],
        ["FREDERICK", "FRED", "FREDDIE", "FREDDY"], ["PATRICK", "PAT", "PADDY"], ["TIMOTHY", "TIM", "TIMMY"], ["CHARLES", "CHARLIE", "CHUCK"],
        ["JOSEPHINE", "JOSIE"], ["ABIGAIL", "ABBY", "ABBIE"], ["ISABELLA", "BELLA", "IZZY", "ISABEL", "ISABELLE"], ["VICTORIA", "VICKY", "TORI"],
        ["DEBORAH", "DEBBIE", "DEBRA"], ["PATRICIA", "PATTY", "TRISH", "TRISHA"], ["SUSAN", "SUE", "SUSIE", "SUZY"], ["ANDREW", "ANDY", "DREW"],
        ["NATHAN", "NATE"], ["NATHANIEL", "NAT"], ["JACOB", "JAKE"], ["JOSHUA", "JOSH"], ["JAMES", "JIM", "JIMMY", "JAMIE"], ["DAVID", "DAVE", "DAVEY"],
        ["STEPHEN", "STEVE", "STEVEN", "STEVIE"], ["GABRIEL", "GABE"], ["GABRIELLA", "GABBY", "GABRIELLE"], ["MADISON", "MADDIE", "MADDY"],
        ["JOSE", "PEPE"], ["FRANCISCO", "PACO", "FRANK"], ["GUADALUPE", "LUPE"], ["JESUS", "CHUY"], ["ENRIQUE", "KIKE"], ["EDUARDO", "LALO"],
        ["PENELOPE", "PENNY"], ["EVELYN", "EVIE"], ["ELEANOR", "ELLIE", "NELL"], ["CHRISTINA", "TINA", "CHRISTINE"], ["AMANDA", "MANDY"],
    ];

    private static readonly Dictionary<string, string> Canonical = BuildIndex();

    /// <summary>The canonical form of a folded given name, or null when the name is in no group.</summary>
    public static string? CanonicalOf(string? folded) => folded is not null && Canonical.TryGetValue(folded, out var canonical) ? canonical : null;

    private static Dictionary<string, string> BuildIndex()
    {
        var index = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var group in Groups)
        {
            foreach (var name in group)
            {
                index.TryAdd(name, group[0]);
            }
        }

        return index;
    }
}

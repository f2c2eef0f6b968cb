using System.Globalization;
using System.Text;

namespace ChildShare.Tests.Linkage.Evaluation;

/// <summary>
/// What a held-out roster set looks like: how many children, over how many providers, how many records
/// each child has, and how many twin pairs and siblings share a household. The seed decides everything.
/// </summary>
public sealed record RosterSpec(
    string Name, int Children, int Providers, int Seed, double MeanExtraRecords, double TwinPairShare, double SiblingShare,
    double StateIdShare = 0.6, double AddressShare = 1.0, bool IdenticalTwinRecords = false, bool EveryChildAtEveryProvider = false)
{
    /// <summary>Two providers, every child at both (5,000 children, 10,000 records), a few twins and siblings.</summary>
    public static RosterSpec TwoProviders(int seed, int children = 5_000) =>
        new($"two providers #{seed}", children, 2, seed, 0, 0.02, 0.10, EveryChildAtEveryProvider: true);

    /// <summary>Six providers, one to several records per child (2,000 children, about 5,000 records).</summary>
    public static RosterSpec SixProviders(int seed, int children = 2_000) => new($"six providers #{seed}", children, 6, seed, 1.5, 0.02, 0.10);

    /// <summary>2,000 children with 250 twin pairs (same surname, birth date, zip and street), on three providers.</summary>
    public static RosterSpec Twins(int seed, bool identicalRecords = false, int children = 2_000) =>
        new($"twins{(identicalRecords ? " (records identical across providers)" : "")} #{seed}", children, 3, seed, 1.0, 0.25, 0.10,
            IdenticalTwinRecords: identicalRecords);
}

/// <summary>
/// The seeds of the generator, kept apart: anything chosen by looking at results (thresholds, bands, the
/// model's default m and u) is chosen on <see cref="Tuning"/>; the figures reported and the floors asserted
/// are on <see cref="Reporting"/>. Never swap them.
/// </summary>
public static class RosterSeeds
{
    public static readonly int[] Tuning = [101, 102, 103];

    public static readonly int[] Reporting = [20261201, 20261202, 20261203];

    /// <summary>
    /// Seeds first generated on 4 Dec 2026 (<c>LinkageBenchmarks quality fresh</c>), to measure the household resolver where neither
    /// setting had been seen: the reporting seeds' figures of both had (LINKAGE.md, "4 Dec 2026: the household resolver measured on
    /// fresh seeds, and kept off"). Nothing was chosen on them.
    /// </summary>
    public static readonly int[] Fresh = [20261204, 20261205, 20261206];

    /// <summary>
    /// Seeds first generated on 6 Dec 2026 (<c>quality fresh2</c>, <c>production fresh2</c>), after the rule for switching the household
    /// resolver on was written (LINKAGE.md, "6 Dec 2026: the resolver's order dependence fixed"): the first seeds the resolver's
    /// undo and the production path were measured on. Nothing was chosen on them.
    /// </summary>
    public static readonly int[] Fresh2 = [20261207, 20261208, 20261209];
}

/// <summary>One row of a provider roster as the provider would send it (cleartext), with its truth.</summary>
public sealed record RosterRow(
    int Child, string ProviderId, string LocalId, string First, string Last, string BirthDate, string Sex, string Zip, string StateId, string Address);

/// <summary>A twin pair of the truth: the two children and whether they are of different sex or have near-identical first names.</summary>
public sealed record TwinPair(int A, int B, bool DifferentSex, bool NearIdenticalNames);

/// <summary>The rows of a generated roster set, provider by provider, and its truth.</summary>
public sealed record RosterSet(RosterSpec Spec, IReadOnlyList<RosterRow> Rows, IReadOnlyList<TwinPair> Twins, IReadOnlyList<string> Providers);

/// <summary>
/// A seeded generator of FEBRL-style held-out rosters about children. Each child has a household
/// (surname, zip, street address); siblings share it, twins share it and the birth date. Each record a
/// provider holds is a copy of the child with FEBRL's kinds of corruption: typing, OCR and phonetic
/// errors in names, nicknames, a changed surname, first and last name exchanged, missing fields, a
/// transposed day and month or one date part off (sometimes an invalid date), a mistyped zip, address
/// variants and moves, a wrong or missing sex. The first record of a child is mostly clean; further
/// records carry one to three corruptions. The nickname list here is the generator's own: it is not the
/// linker's table, and some nicknames here are in no table of the linker.
/// </summary>
public static class HeldOutRosters
{
    public const string Header = "Id,StateId,First,Last,DOB,Sex,Zip,Address";

    public static readonly string[] ProviderIds = ["prov-a", "prov-b", "prov-c", "prov-d", "prov-e", "prov-f"];

    private static readonly string[] Girls =
    [
        "Olivia", "Emma", "Charlotte", "Amelia", "Sophia", "Isabella", "Ava", "Mia", "Evelyn", "Luna", "Harper", "Camila", "Sofia", "Scarlett",
        "Elizabeth", "Eleanor", "Emily", "Chloe", "Mila", "Violet", "Penelope", "Gianna", "Aria", "Abigail", "Ella", "Avery", "Hazel", "Nora",
        "Layla", "Lily", "Aurora", "Nova", "Ellie", "Madison", "Grace", "Isla", "Willow", "Zoe", "Riley", "Stella", "Victoria", "Maya", "Hannah",
        "Addison", "Leah", "Lucy", "Eliana", "Ivy", "Everly", "Lillian", "Paisley", "Elena", "Naomi", "Maria", "Emilia", "Delilah", "Natalie",
        "Aaliyah", "Kinsley", "Josephine", "Katherine", "Margaret", "Samantha", "Jennifer", "Jessica", "Rebecca", "Rachel", "Deborah",
        "Priya", "Ximena", "Imani", "Fatima", "Guadalupe", "Keisha", "Tatiana", "Valentina", "Daniela", "Alejandra", "Mariana", "Yesenia",
        "Destiny", "Jasmine", "Brianna", "Alexis", "Kayla", "Sydney", "Morgan", "Taylor", "Savannah", "Trinity", "Mackenzie", "Kennedy",
        "Hailey", "Allison", "Gabriella", "Anna", "Ruby", "Alice", "Sadie", "Quinn", "Piper", "Lydia", "Clara", "Vivian", "Jade", "Adeline",
        "Genesis", "Serenity", "Autumn", "Brooklyn", "Caroline", "Sarah", "Kaylee", "Isabel", "Miriam", "Theresa", "Patricia", "Susan",
    ];

    private static readonly string[] Boys =
    [
        "Liam", "Noah", "Oliver", "James", "Elijah", "William", "Henry", "Lucas", "Benjamin", "Theodore", "Mateo", "Levi", "Sebastian", "Daniel",
        "Jack", "Michael", "Alexander", "Owen", "Asher", "Samuel", "Ethan", "Leo", "Jackson", "Mason", "Ezra", "John", "Hudson", "Luca", "Aiden",
        "Joseph", "David", "Jacob", "Logan", "Luke", "Julian", "Gabriel", "Grayson", "Wyatt", "Matthew", "Maverick", "Dylan", "Isaac", "Elias",
        "Anthony", "Thomas", "Jayden", "Carter", "Santiago", "Ezekiel", "Charles", "Josiah", "Caleb", "Cooper", "Lincoln", "Miles", "Christopher",
        "Nathan", "Isaiah", "Kai", "Joshua", "Andrew", "Angel", "Adrian", "Cameron", "Nolan", "Waylon", "Jaxon", "Roman", "Eli", "Brayden",
        "Robert", "Richard", "Edward", "Frederick", "Patrick", "Timothy", "Nicholas", "Jonathan", "Zachary", "Tyler", "Brandon", "Justin",
        "Kevin", "Jose", "Juan", "Luis", "Carlos", "Diego", "Jesus", "Miguel", "Alejandro", "Ricardo", "Fernando", "DeShawn", "Malik",
        "Jamal", "Tyrone", "Darnell", "Arjun", "Rohan", "Omar", "Hamza", "Yusuf", "Hiroshi", "Wei", "Minh", "Tevita", "Ikaika", "Kenji",
        "Dominic", "Xavier", "Jordan", "Austin", "Evan", "Ryan", "Connor", "Colton", "Everett", "Declan", "Silas", "Rowan", "Emmett",
    ];

    private static readonly string[] Surnames =
    [
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez",
        "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
        "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
        "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz",
        "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz",
        "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks",
        "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers",
        "Long", "Ross", "Foster", "Jimenez", "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson",
        "Barnes", "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander", "Hamilton", "Graham", "Reynolds",
        "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens",
        "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez", "McDonald", "Woods", "Washington", "Kennedy", "Wells",
        "Vargas", "Henry", "Chen", "Freeman", "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon",
        "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner", "Black", "Robertson",
        "Boyd", "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols",
        "Stephens", "Soto", "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins", "Arnold", "Pierce",
        "Vazquez", "Hansen", "Peters", "Santos", "Hart", "Bradley", "Knight", "Elliott", "Cunningham", "Duncan", "Armstrong", "Hudson",
        "Carroll", "Lane", "Riley", "Andrews", "Alvarado", "Ray", "Delgado", "Berry", "Perkins", "Hoffman", "Johnston", "Matthews", "Pena",
        "Richards", "Contreras", "Willis", "Carpenter", "Lawrence", "Sandoval", "Begay", "Yazzie", "Tupou", "Kahananui", "Okafor", "Singh",
        "Nakamura", "Kowalski", "Oconnor", "Vanderberg", "Nunez", "Abubakar", "Haddad", "Novak", "Lindqvist", "Papadopoulos", "Ivanova",
    ];

    private static readonly string[] Streets =
    [
        "Maple", "Oak", "Cedar", "Elm", "Willow", "Birch", "Walnut", "Sycamore", "Magnolia", "Juniper", "Hickory", "Laurel", "Dogwood", "Pine",
        "Spruce", "Chestnut", "Poplar", "Aspen", "Main", "Church", "Mill", "Park", "Washington", "Lincoln", "Jefferson", "Madison", "Franklin",
        "Highland", "Lakeview", "Hillside", "Riverside", "Meadow", "Forest", "Sunset", "Spring", "Valley", "Ridge", "Prospect", "Union", "Center",
        "Broad", "Market", "Water", "Bridge", "School", "College", "Academy", "Orchard", "Garden", "Harbor", "Bay", "Cherry", "Peach", "Apple",
        "Rosewood", "Brookside", "Fairview", "Greenwood", "Kingston", "Oxford", "Cambridge", "Hampton", "Winchester", "Sheridan", "Grant",
    ];

    private static readonly (string Short, string Long)[] StreetTypes =
        [("St", "Street"), ("Ave", "Avenue"), ("Rd", "Road"), ("Dr", "Drive"), ("Ln", "Lane"), ("Ct", "Court"), ("Blvd", "Boulevard"), ("Pl", "Place"), ("Ter", "Terrace")];

    private static readonly Dictionary<string, string[]> Nicknames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["William"] = ["Will", "Bill", "Billy", "Liam"], ["Elizabeth"] = ["Liz", "Beth", "Eliza", "Betty"], ["Robert"] = ["Rob", "Bob", "Bobby"],
        ["Katherine"] = ["Kate", "Katie", "Kathy"], ["Alexander"] = ["Alex", "Xander"], ["Benjamin"] = ["Ben", "Benny"],
        ["Michael"] = ["Mike", "Mikey"], ["Samantha"] = ["Sam", "Sammy"], ["Samuel"] = ["Sam", "Sammy"], ["Jennifer"] = ["Jen", "Jenny"],
        ["Jessica"] = ["Jess", "Jessie"], ["Rebecca"] = ["Becky", "Becca"], ["Margaret"] = ["Maggie", "Meg", "Peggy"],
        ["Theodore"] = ["Theo", "Teddy"], ["Nicholas"] = ["Nick", "Nico"], ["Jonathan"] = ["Jon", "Johnny"], ["Zachary"] = ["Zach", "Zack"],
        ["Christopher"] = ["Chris", "Topher"], ["Matthew"] = ["Matt"], ["Daniel"] = ["Dan", "Danny"], ["Joseph"] = ["Joe", "Joey"],
        ["Anthony"] = ["Tony"], ["Thomas"] = ["Tom", "Tommy"], ["Richard"] = ["Rick", "Ricky", "Dick"], ["Edward"] = ["Ed", "Eddie", "Ted"],
        ["Frederick"] = ["Fred", "Freddie"], ["Patrick"] = ["Pat", "Paddy"], ["Timothy"] = ["Tim", "Timmy"], ["Charles"] = ["Charlie", "Chuck"],
        ["Josephine"] = ["Josie", "Jo"], ["Abigail"] = ["Abby", "Gail"], ["Isabella"] = ["Bella", "Izzy"], ["Gabriella"] = ["Gabby", "Ella"],
        ["Victoria"] = ["Vicky", "Tori"], ["Deborah"] = ["Debbie", "Deb"], ["Patricia"] = ["Patty", "Trish"], ["Theresa"] = ["Tess", "Terry"],
        ["Susan"] = ["Sue", "Suzy"], ["Natalie"] = ["Nat"], ["Alejandro"] = ["Alex"], ["Jesus"] = ["Chuy"], ["Jose"] = ["Pepe"],
        ["Guadalupe"] = ["Lupe"], ["Francisco"] = ["Paco"], ["Andrew"] = ["Andy", "Drew"], ["Nathan"] = ["Nate"], ["Jacob"] = ["Jake"],
        ["Joshua"] = ["Josh"], ["Caroline"] = ["Carrie"], ["Madison"] = ["Maddie"], ["Allison"] = ["Allie"], ["Eleanor"] = ["Nora", "Ellie"],
        ["Penelope"] = ["Penny"], ["Evelyn"] = ["Evie"], ["Lillian"] = ["Lily"], ["Emily"] = ["Em"], ["Hannah"] = ["Annie"],
    };

    private static readonly (string A, string B)[] NearSameSex =
    [
        ("Aiden", "Aidan"), ("Jayden", "Jaden"), ("Brayden", "Braden"), ("Caden", "Kaden"), ("Eric", "Erik"), ("Jon", "John"), ("Carl", "Karl"),
        ("Sean", "Shaun"), ("Isabel", "Isabelle"), ("Kaylee", "Kayley"), ("Ava", "Eva"), ("Leah", "Lea"), ("Mila", "Milla"), ("Zoe", "Zoey"),
        ("Sara", "Sarah"), ("Madison", "Madisyn"), ("Ellie", "Elly"), ("Hailey", "Haley"), ("Mason", "Jason"), ("Allison", "Alison"),
    ];

    private static readonly (string Girl, string Boy)[] NearMixedSex =
    [
        ("Frances", "Francis"), ("Jessie", "Jesse"), ("Gabrielle", "Gabriel"), ("Danielle", "Daniel"), ("Jordyn", "Jordan"), ("Rian", "Ryan"),
        ("Alexandra", "Alexander"), ("Juliana", "Julian"), ("Kris", "Chris"), ("Eden", "Aiden"), ("Nicole", "Nicolas"), ("Paula", "Paul"),
    ];

    private static readonly string[] Zips = Enumerable.Range(0, 40).Select(i => (12000 + (i * 37 % 900)).ToString("D5", CultureInfo.InvariantCulture)).ToArray();

    private sealed record Child(int Id, string First, string Last, DateOnly Birth, string Sex, string Zip, string StateId, string Number, string Street, int Type, string? Unit);

    public static RosterSet Generate(RosterSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var random = new Random(spec.Seed);
        var children = new List<Child>(spec.Children);
        var twins = new List<TwinPair>();
        var stateIds = new HashSet<string>(StringComparer.Ordinal);
        string NewStateId()
        {
            string id;
            do
            {
                id = random.Next(100_000_000, 999_999_999).ToString(CultureInfo.InvariantCulture);
            }
            while (!stateIds.Add(id));
            return id;
        }

        var twinPairs = (int)(spec.Children * spec.TwinPairShare / 2);
        while (children.Count < spec.Children)
        {
            var household = NewHousehold(random);
            if (twins.Count < twinPairs && children.Count + 2 <= spec.Children)
            {
                var birth = BirthDate(random);
                var differentSex = random.NextDouble() < 0.5;
                var near = random.NextDouble() < 0.2;
                string sexA = random.NextDouble() < 0.5 ? "F" : "M", sexB = differentSex ? (sexA == "F" ? "M" : "F") : sexA;
                string firstA, firstB;
                if (near && differentSex)
                {
                    var (girl, boy) = NearMixedSex[random.Next(NearMixedSex.Length)];
                    (firstA, firstB) = sexA == "F" ? (girl, boy) : (boy, girl);
                }
                else if (near)
                {
                    (firstA, firstB) = NearSameSex[random.Next(NearSameSex.Length)];
                    if (random.NextDouble() < 0.5)
                    {
                        (firstA, firstB) = (firstB, firstA);
                    }
                }
                else
                {
                    firstA = FirstName(random, sexA);
                    do
                    {
                        firstB = FirstName(random, sexB);
                    }
                    while (string.Equals(firstA, firstB, StringComparison.Ordinal));
                }

                var a = household(children.Count + 1, firstA, birth, sexA, NewStateId());
                var b = household(children.Count + 2, firstB, birth, sexB, NewStateId());
                children.Add(a);
                children.Add(b);
                twins.Add(new TwinPair(a.Id, b.Id, differentSex, near));
                continue;
            }

            var sex = random.NextDouble() < 0.5 ? "F" : "M";
            var child = household(children.Count + 1, FirstName(random, sex), BirthDate(random), sex, NewStateId());
            children.Add(child);
            // A sibling at the same address: another first name, another birth date (at least a year apart).
            while (children.Count < spec.Children && random.NextDouble() < spec.SiblingShare)
            {
                var siblingSex = random.NextDouble() < 0.5 ? "F" : "M";
                string first;
                do
                {
                    first = FirstName(random, siblingSex);
                }
                while (children.Any(c => c.Last == child.Last && c.Street == child.Street && c.First == first));
                var birth = child.Birth.AddDays((random.NextDouble() < 0.5 ? -1 : 1) * random.Next(400, 2500));
                children.Add(household(children.Count + 1, first, birth, siblingSex, NewStateId()));
            }
        }

        var providers = ProviderIds.Take(spec.Providers).ToArray();
        var rows = new List<RosterRow>();
        var twinOf = twins.SelectMany(t => new[] { (t.A, t), (t.B, t) }).ToDictionary(x => x.Item1, x => x.t);
        var localIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var child in children)
        {
            // Which providers hold the child, and how many records each: the first at each provider is a new local id.
            var count = spec.EveryChildAtEveryProvider ? providers.Length : 1 + Poisson(random, spec.MeanExtraRecords);
            var order = providers.OrderBy(_ => random.Next()).ToArray();
            var identical = spec.IdenticalTwinRecords && twinOf.ContainsKey(child.Id);
            var localOf = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var r = 0; r < count; r++)
            {
                var provider = order[r % order.Length];
                if (!localOf.TryGetValue(provider, out var localId))
                {
                    do
                    {
                        localId = provider[^1..].ToUpperInvariant() + random.Next(1_000_000, 9_999_999).ToString(CultureInfo.InvariantCulture);
                    }
                    while (!localIds.Add(provider + "|" + localId));
                    localOf[provider] = localId;
                }

                var corruptions = identical ? 0 : r == 0 ? (random.NextDouble() < 0.7 ? 0 : 1) : 1 + Weighted(random, [0.5, 0.35, 0.15]);
                rows.Add(Record(random, child, provider, localId, corruptions, spec));
            }
        }

        // Provider by provider, in a shuffled order within each (as a roster is not sorted by the truth).
        var ordered = rows.OrderBy(r => Array.IndexOf(providers, r.ProviderId)).ThenBy(_ => random.Next()).ToList();
        return new RosterSet(spec, ordered, twins, providers);
    }

    /// <summary>Writes one provider's rows as the CSV the roster profile reads.</summary>
    public static string Csv(IEnumerable<RosterRow> rows)
    {
        var builder = new StringBuilder(Header).Append('\n');
        foreach (var r in rows)
        {
            builder.AppendJoin(',', r.LocalId, r.StateId, r.First, r.Last, r.BirthDate, r.Sex, r.Zip, r.Address).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>The mapping profile of the rosters' columns.</summary>
    public const string ProfileJson = """
        {
          "dateFormats": ["yyyy-MM-dd"],
          "columns": { "Id": "LocalChildId", "StateId": "StateStudentId", "First": "FirstName", "Last": "LastName", "DOB": "BirthDate",
                       "Sex": "Sex", "Zip": "Zip", "Address": "StreetAddress" }
        }
        """;

    private static Func<int, string, DateOnly, string, string, Child> NewHousehold(Random random)
    {
        var last = Pick(random, Surnames);
        var zip = Zips[random.Next(Zips.Length)];
        var number = random.Next(1, 9999).ToString(CultureInfo.InvariantCulture);
        var street = Streets[random.Next(Streets.Length)];
        var type = random.Next(StreetTypes.Length);
        var unit = random.NextDouble() < 0.25 ? random.Next(1, 40).ToString(CultureInfo.InvariantCulture) : null;
        return (id, first, birth, sex, stateId) => new Child(id, first, last, birth, sex, zip, stateId, number, street, type, unit);
    }

    private static RosterRow Record(Random random, Child child, string provider, string localId, int corruptions, RosterSpec spec)
    {
        string first = child.First, last = child.Last, sex = child.Sex, zip = child.Zip;
        var stateId = random.NextDouble() < spec.StateIdShare ? child.StateId : "";
        var (number, street, type, unit) = (child.Number, child.Street, child.Type, child.Unit);
        var longType = random.NextDouble() < 0.3;
        var hasAddress = random.NextDouble() < spec.AddressShare;
        int year = child.Birth.Year, month = child.Birth.Month, day = child.Birth.Day;
        var dobMissing = false;

        for (var c = 0; c < corruptions; c++)
        {
            switch (Weighted(random, [14, 12, 5, 5, 4, 3, 3, 3, 2, 4, 6, 4, 3, 3, 3, 2, 3, 2, 2]))
            {
                case 0: first = Typo(random, first); break;
                case 1: last = Typo(random, last); break;
                case 2: if (random.NextDouble() < 0.5) { first = Ocr(random, first); } else { last = Ocr(random, last); } break;
                case 3: if (random.NextDouble() < 0.5) { first = Phonetic(random, first); } else { last = Phonetic(random, last); } break;
                case 4: first = Nicknames.TryGetValue(child.First, out var nick) ? nick[random.Next(nick.Length)] : Typo(random, first); break;
                case 5: last = Pick(random, Surnames); break; // a new surname (adoption, a parent's marriage)
                case 6: (first, last) = (last, first); break;
                case 7: first = ""; break;
                case 8: last = ""; break;
                case 9: (month, day) = day <= 12 && day != month ? (day, month) : (month, Math.Clamp(day + (random.NextDouble() < 0.5 ? 1 : -1), 1, 31)); break;
                case 10:
                    switch (random.Next(3))
                    {
                        case 0: year += random.NextDouble() < 0.5 ? 1 : -1; break;
                        case 1: day = DigitTypo(random, day, 31); break; // may give an invalid date (31 February)
                        default: month = DigitTypo(random, month, 12); break;
                    }

                    break;
                case 11: dobMissing = true; break;
                case 12: zip = DigitTypo(random, zip); break;
                case 13: zip = ""; break;
                case 14: street = Typo(random, street); break;
                case 15: (number, street, type, unit, zip) = (random.Next(1, 9999).ToString(CultureInfo.InvariantCulture), Streets[random.Next(Streets.Length)], random.Next(StreetTypes.Length), null, random.NextDouble() < 0.5 ? zip : Zips[random.Next(Zips.Length)]); break;
                case 16: hasAddress = false; break;
                case 17: sex = random.NextDouble() < 0.3 ? (sex == "F" ? "M" : "F") : ""; break;
                default: stateId = stateId.Length > 0 ? DigitTypo(random, stateId) : stateId; break;
            }
        }

        var address = hasAddress
            ? $"{number} {street} {(longType ? StreetTypes[type].Long : StreetTypes[type].Short)}{(unit is null ? "" : (random.NextDouble() < 0.5 ? " Apt " : " #") + unit)}"
            : "";
        var birth = dobMissing ? "" : $"{year:D4}-{month:D2}-{day:D2}";
        return new RosterRow(child.Id, provider, localId, first, last, birth, sex, zip, stateId, address);
    }

    private static DateOnly BirthDate(Random random) => new DateOnly(2008, 1, 1).AddDays(random.Next(0, 365 * 15));

    private static string FirstName(Random random, string sex) => Pick(random, sex == "F" ? Girls : Boys);

    /// <summary>A Zipf-like draw: common names are far more common than rare ones, as in birth records.</summary>
    private static string Pick(Random random, string[] names) => names[Math.Min(names.Length - 1, (int)(names.Length * Math.Pow(random.NextDouble(), 2.2)))];

    private static int Weighted(Random random, double[] weights)
    {
        var x = random.NextDouble() * weights.Sum();
        for (var i = 0; i < weights.Length; i++)
        {
            x -= weights[i];
            if (x < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }

    private static int Poisson(Random random, double mean)
    {
        var (limit, k, p) = (Math.Exp(-mean), 0, random.NextDouble());
        while (p > limit && k < 5)
        {
            k++;
            p *= random.NextDouble();
        }

        return k;
    }

    private const string Letters = "abcdefghijklmnopqrstuvwxyz";

    /// <summary>One keyboard-style error: a letter inserted, deleted, substituted, or two neighbours transposed.</summary>
    private static string Typo(Random random, string value)
    {
        if (value.Length < 2)
        {
            return value;
        }

        var i = random.Next(1, value.Length);
        var letter = Letters[random.Next(Letters.Length)];
        return random.Next(4) switch
        {
            0 => value.Insert(i, letter.ToString()),
            1 => value.Remove(i, 1),
            2 => value[..i] + letter + value[(i + 1)..],
            _ => i < value.Length - 1 ? value[..i] + value[i + 1] + value[i] + value[(i + 2)..] : value[..(i - 1)] + value[i] + value[i - 1],
        };
    }

    private static readonly (string From, string To)[] OcrErrors =
        [("m", "rn"), ("rn", "m"), ("d", "cl"), ("h", "li"), ("w", "vv"), ("l", "1"), ("o", "0"), ("i", "l"), ("e", "c"), ("n", "ri"), ("u", "v"), ("a", "o")];

    private static readonly (string From, string To)[] PhoneticErrors =
        [("ph", "f"), ("f", "ph"), ("ck", "k"), ("c", "k"), ("k", "c"), ("y", "i"), ("ie", "y"), ("ee", "ea"), ("s", "z"), ("z", "s"), ("ou", "ow"),
         ("th", "t"), ("an", "en"), ("er", "ar"), ("ll", "l"), ("tt", "t"), ("sh", "ch"), ("v", "w"), ("ei", "ie"), ("x", "ks")];

    private static string Ocr(Random random, string value) => Substitute(random, value, OcrErrors);

    private static string Phonetic(Random random, string value) => Substitute(random, value, PhoneticErrors);

    private static string Substitute(Random random, string value, (string From, string To)[] errors)
    {
        if (value.Length < 3)
        {
            return Typo(random, value);
        }

        var fitting = errors.Where(e => value.IndexOf(e.From, 1, StringComparison.OrdinalIgnoreCase) > 0).ToList();
        if (fitting.Count == 0)
        {
            return Typo(random, value);
        }

        var (from, to) = fitting[random.Next(fitting.Count)];
        var at = value.IndexOf(from, 1, StringComparison.OrdinalIgnoreCase);
        return value[..at] + to + value[(at + from.Length)..];
    }

    private static int DigitTypo(Random random, int value, int max)
    {
        var text = DigitTypo(random, value.ToString("D2", CultureInfo.InvariantCulture));
        return Math.Clamp(int.Parse(text, CultureInfo.InvariantCulture), 1, Math.Max(max, 1) == 31 ? 39 : 19);
    }

    private static string DigitTypo(Random random, string digits)
    {
        if (digits.Length == 0)
        {
            return digits;
        }

        var i = random.Next(digits.Length);
        return random.Next(2) == 0 && i < digits.Length - 1
            ? digits[..i] + digits[i + 1] + digits[i] + digits[(i + 2)..]
            : digits[..i] + (char)('0' + random.Next(10)) + digits[(i + 1)..];
    }
}

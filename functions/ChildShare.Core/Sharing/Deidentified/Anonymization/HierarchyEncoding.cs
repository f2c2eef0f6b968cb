using ChildShare.Core.Agreements;

namespace ChildShare.Core.Sharing.Deidentified.Anonymization;

/// <summary>
/// The first step of the anonymizer: every child's quasi-identifiers as small integer codes, so the
/// search never touches a string. Per attribute, each distinct grouping key at level 0 (a leaf) gets
/// a code in order of first appearance; a higher level is a function of level 0 (the hierarchies are
/// functional, <see cref="QuasiIdentifiers.Key"/>), so it is computed once per leaf from a
/// representative child, not once per child. Also holds each code's display value and loss
/// (<see cref="AnonymizationSummary.LossMetric"/>), and the sensitive attribute's codes for l-diversity.
/// </summary>
internal sealed class HierarchyEncoding
{
    private readonly int[][] _leaves;
    private readonly int[][][] _fromLeaf;
    private readonly int[][][] _step;
    private readonly string[][][] _display;
    private readonly double[][][] _loss;

    private HierarchyEncoding(IReadOnlyList<string> attributes, int records, int[][] leaves, int[][][] fromLeaf, int[][][] step, string[][][] display, double[][][] loss, int[] sensitive)
    {
        Attributes = attributes;
        Records = records;
        _leaves = leaves;
        _fromLeaf = fromLeaf;
        _step = step;
        _display = display;
        _loss = loss;
        Sensitive = sensitive;
        Heights = attributes.Select(QuasiIdentifiers.Levels).ToArray();
    }

    public IReadOnlyList<string> Attributes { get; }

    /// <summary>The number of children encoded.</summary>
    public int Records { get; }

    /// <summary>Levels per attribute (the last is <see cref="QuasiIdentifiers.Suppressed"/>).</summary>
    public int[] Heights { get; }

    /// <summary>Each child's sensitive value as a code (all 0 when l-diversity is off).</summary>
    public int[] Sensitive { get; }

    /// <summary>Distinct grouping keys of an attribute at a level; its codes are 0 to this minus 1.</summary>
    public int Cardinality(int attribute, int level) => _display[attribute][level].Length;

    /// <summary>A child's code of an attribute at a level.</summary>
    public int Code(int attribute, int level, int record) => _fromLeaf[attribute][level][_leaves[attribute][record]];

    /// <summary>Maps the codes of an attribute at <paramref name="level"/> - 1 to its codes at <paramref name="level"/> (1 or more).</summary>
    public int[] Step(int attribute, int level) => _step[attribute][level];

    /// <summary>The exported value of a code.</summary>
    public string Display(int attribute, int level, int code) => _display[attribute][level][code];

    /// <summary>The loss of a code: the leaves it covers, minus 1, over the leaves of the attribute minus 1.</summary>
    public double Loss(int attribute, int level, int code) => _loss[attribute][level][code];

    /// <param name="children">The children, demographics resolved.</param>
    /// <param name="settings">Quasi-identifiers, period, school districts.</param>
    /// <param name="sensitive">Each child's sensitive value when l-diversity is on, otherwise null.</param>
    public static HierarchyEncoding Encode(IReadOnlyList<ResolvedChild> children, AnonymizationSettings settings, IReadOnlyList<string>? sensitive)
    {
        ArgumentNullException.ThrowIfNull(children);
        ArgumentNullException.ThrowIfNull(settings);
        var attributes = settings.QuasiIdentifiers;
        var a = attributes.Count;
        var n = children.Count;
        var leaves = new int[a][];
        var fromLeaf = new int[a][][];
        var step = new int[a][][];
        var display = new string[a][][];
        var loss = new double[a][][];
        var allLeaves = Leaves(attributes, children, settings);
        for (var i = 0; i < a; i++)
        {
            var height = QuasiIdentifiers.Levels(attributes[i]);
            fromLeaf[i] = new int[height][];
            step[i] = new int[height][];
            display[i] = new string[height][];
            loss[i] = new double[height][];

            var (codes, values0, representative) = allLeaves[i];
            leaves[i] = codes;
            display[i][0] = [.. values0];
            fromLeaf[i][0] = Enumerable.Range(0, values0.Count).ToArray();
            for (var l = 1; l < height; l++)
            {
                var index = new Dictionary<string, int>(StringComparer.Ordinal);
                var values = new List<string>();
                var leafToLevel = new int[values0.Count];
                var map = new int[display[i][l - 1].Length];
                for (var leaf = 0; leaf < values0.Count; leaf++)
                {
                    var key = QuasiIdentifiers.Key(attributes[i], l, children[representative[leaf]], settings.PeriodStart, settings.SchoolDistricts);
                    if (!index.TryGetValue(key, out var code))
                    {
                        code = index.Count;
                        index[key] = code;
                        values.Add(QuasiIdentifiers.Display(key));
                    }

                    leafToLevel[leaf] = code;
                    map[fromLeaf[i][l - 1][leaf]] = code;
                }

                fromLeaf[i][l] = leafToLevel;
                display[i][l] = [.. values];
                step[i][l] = map;
            }

            for (var l = 0; l < height; l++)
            {
                loss[i][l] = Losses(fromLeaf[i][l], display[i][l].Length, values0.Count, l == height - 1);
            }
        }

        return new HierarchyEncoding(attributes, n, leaves, fromLeaf, step, display, loss, SensitiveCodes(n, sensitive));
    }

    /// <summary>
    /// Per attribute, the level-0 code of every child, the display value of each code and a representative child per code.
    /// <see cref="QuasiIdentifiers.Key"/> is called once per distinct raw input of the attribute (the
    /// fields it reads), not once per child: the key is a function of those fields. One pass over the children for all
    /// attributes (each child's record is read once, not once per attribute); codes are still in order of first appearance.
    /// </summary>
    private static (int[] Codes, List<string> Values, List<int> Representative)[] Leaves(
        IReadOnlyList<string> attributes, IReadOnlyList<ResolvedChild> children, AnonymizationSettings settings)
    {
        var n = children.Count;
        var a = attributes.Count;
        var result = new (int[] Codes, List<string> Values, List<int> Representative)[a];
        var byKey = new Dictionary<string, int>[a];
        var inputs = new RawInputCodes[a];
        for (var i = 0; i < a; i++)
        {
            result[i] = (new int[n], [], []);
            byKey[i] = new Dictionary<string, int>(StringComparer.Ordinal);
            inputs[i] = new RawInputCodes(attributes[i]);
        }

        for (var r = 0; r < n; r++)
        {
            var child = children[r];
            for (var i = 0; i < a; i++)
            {
                if (!inputs[i].TryGet(child, out var code))
                {
                    var key = QuasiIdentifiers.Key(attributes[i], 0, child, settings.PeriodStart, settings.SchoolDistricts);
                    if (!byKey[i].TryGetValue(key, out code))
                    {
                        code = byKey[i].Count;
                        byKey[i][key] = code;
                        result[i].Values.Add(QuasiIdentifiers.Display(key));
                        result[i].Representative.Add(r);
                    }

                    inputs[i].Set(child, code);
                }

                result[i].Codes[r] = code;
            }
        }

        return result;
    }

    /// <summary>
    /// The code already found for a raw input of one attribute. Most attributes read one string, so that one is the key
    /// (an ordinal string dictionary, a null apart) rather than a <see cref="RawInput"/>, whose hash of a string field is the
    /// slower randomized one; age reads the birth date's day number; school reads two fields.
    /// </summary>
    private sealed class RawInputCodes(string attribute)
    {
        private readonly bool _byDate = attribute == QuasiIdentifierNames.Age;
        private readonly bool _byPair = attribute == QuasiIdentifierNames.School;
        private readonly Dictionary<int, int> _dates = [];
        private readonly Dictionary<string, int> _strings = new(StringComparer.Ordinal);
        private readonly Dictionary<RawInput, int> _pairs = [];
        private int _nullCode = -1;

        public bool TryGet(ResolvedChild child, out int code)
        {
            if (_byDate)
            {
                return _dates.TryGetValue(child.BirthDate is { } birth ? birth.DayNumber : -1, out code);
            }

            if (_byPair)
            {
                return _pairs.TryGetValue(RawInput.Of(attribute, child), out code);
            }

            if (RawInput.Of(attribute, child).First is { } value)
            {
                return _strings.TryGetValue(value, out code);
            }

            code = _nullCode;
            return code >= 0;
        }

        public void Set(ResolvedChild child, int code)
        {
            if (_byDate)
            {
                _dates[child.BirthDate is { } birth ? birth.DayNumber : -1] = code;
            }
            else if (_byPair)
            {
                _pairs[RawInput.Of(attribute, child)] = code;
            }
            else if (RawInput.Of(attribute, child).First is { } value)
            {
                _strings[value] = code;
            }
            else
            {
                _nullCode = code;
            }
        }
    }

    private static double[] Losses(int[] fromLeaf, int codes, int leaves, bool top)
    {
        var cover = new int[codes];
        foreach (var code in fromLeaf)
        {
            cover[code]++;
        }

        return cover.Select(x => leaves > 1 ? (x - 1) / (double)(leaves - 1) : top ? 1.0 : 0.0).ToArray();
    }

    private static int[] SensitiveCodes(int n, IReadOnlyList<string>? sensitive)
    {
        var codes = new int[n];
        if (sensitive is null)
        {
            return codes;
        }

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var r = 0; r < n; r++)
        {
            codes[r] = index.TryGetValue(sensitive[r], out var code) ? code : index[sensitive[r]] = index.Count;
        }

        return codes;
    }

    /// <summary>The fields of a child that an attribute's hierarchy reads (see <see cref="QuasiIdentifiers.Generalize"/>).</summary>
    private readonly record struct RawInput(int Date, string? First, string? Second)
    {
        public static RawInput Of(string attribute, ResolvedChild child) => attribute switch
        {
            QuasiIdentifierNames.Age => new(child.BirthDate is { } birth ? birth.DayNumber : -1, null, null),
            QuasiIdentifierNames.Sex => new(0, child.Sex, null),
            QuasiIdentifierNames.Race => new(0, child.Race, null),
            QuasiIdentifierNames.Ethnicity => new(0, child.Ethnicity, null),
            QuasiIdentifierNames.Zip => new(0, child.Zip3, null),
            QuasiIdentifierNames.Grade => new(0, child.Grade, null),
            QuasiIdentifierNames.School => new(0, child.School, child.Grade),
            _ => throw new ArgumentOutOfRangeException(nameof(attribute), "Unknown quasi-identifier."),
        };
    }
}

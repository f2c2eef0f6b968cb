using System.Numerics;
using ChildShare.Core.Activity;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Sharing.Deidentified;

/// <summary>
/// The export's fold of the provider-child years it reads into one record per community child: the children active in the
/// period at an included provider, each one's demographics by <see cref="ChildAggregator.DemographicRule"/> and its distinct
/// programs and service types. It gives what <see cref="ChildAggregator"/> gives the export (the aggregate report keeps using
/// that class; a test compares the two on random rows), at a cost close to one pass over the rows, because an export of the
/// whole community folds every row the store holds:
/// <list type="bullet">
/// <item>No sort of the rows. The aggregator's result depends on their order only through the rule's ties (equal update
/// times and provider ids: the first row in (provider child, year, read position) order wins), so each demographic keeps the
/// row that is least in (newest update, provider id, provider child, year, read position), which is the same row.</item>
/// <item>A winning value is kept as the index of its row (no tuple of strings per child), and the provider id is compared
/// in place (no substring a row).</item>
/// <item>Programs and service types are small integer codes, a child's set a 64-bit mask (codes above 63 in a list); a
/// child's sorted list of values is built once per distinct set and shared by the children that have it.</item>
/// </list>
/// Holds no identifier beyond the child keys and provider children, which never leave the service.
/// </summary>
internal sealed class ExportChildFold
{
    // The demographics a provider-child year carries, in ActivityStore.Demographics order (birth date, sex, race, ethnicity,
    // zip3, grade, school): the export resolves all of them, in that order.
    private static readonly int DemographicCount = ActivityStore.Demographics.Count;

    private readonly IReadOnlyList<(int Year, ProviderChildYear Child)> _read;
    private readonly Dictionary<string, int> _childIndex = new(StringComparer.Ordinal);
    private readonly List<string> _childKeys = [];
    private readonly CodeBook _programCodes = new();
    private readonly CodeBook _serviceTypeCodes = new();
    private readonly List<List<string>>? _providerChildren;

    // Per child and demographic: the read index of the row whose value wins, or -1; that row's update time and value (kept
    // here so that resolving a child reads one array, not seven rows).
    private int[] _best = [];
    private long[] _bestTicks = [];
    private string?[] _bestValues = [];
    private CodeSet[] _programs = [];
    private CodeSet[] _serviceTypes = [];

    private ExportChildFold(IReadOnlyList<(int Year, ProviderChildYear Child)> read, bool providerChildren)
    {
        _read = read;
        _providerChildren = providerChildren ? [] : null;
    }

    public int Count => _childKeys.Count;

    /// <summary>The community child keys, in order of each child's first active row as read.</summary>
    public IReadOnlyList<string> ChildKeys => _childKeys;

    /// <summary>
    /// Folds <paramref name="read"/>: the rows of <paramref name="includedProviders"/> with a child key and at least one
    /// activity on a day of <paramref name="from"/>..<paramref name="to"/>. With <paramref name="providerChildren"/>, also
    /// each child's provider children (what service rows read).
    /// </summary>
    /// <exception cref="InvalidOperationException">A row's provider-child key has no provider (corruption, not a row to leave out quietly).</exception>
    public static ExportChildFold Run(
        IReadOnlyList<(int Year, ProviderChildYear Child)> read, IReadOnlyCollection<string> includedProviders, DateOnly from, DateOnly to, bool providerChildren)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(includedProviders);
        var included = includedProviders.ToHashSet(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        var fold = new ExportChildFold(read, providerChildren);
        var periods = new Dictionary<int, uint[]>();
        for (var i = 0; i < read.Count; i++)
        {
            var (year, child) = read[i];
            var bar = child.ProviderChild.IndexOf('|', StringComparison.Ordinal);
            if (bar < 0)
            {
                throw new InvalidOperationException("An activity row has a malformed provider-child key.");
            }

            if (!included.Contains(child.ProviderChild.AsSpan(0, bar)) || string.IsNullOrEmpty(child.ChildKey))
            {
                continue;
            }

            if (!periods.TryGetValue(year, out var period))
            {
                period = new uint[12];
                for (var m = 0; m < 12; m++)
                {
                    period[m] = ActivityMonths.MaskOf(year, m + 1, from, to);
                }

                periods[year] = period;
            }

            fold.Add(i, year, child, period);
        }

        return fold;
    }

    private void Add(int index, int year, ProviderChildYear child, uint[] period)
    {
        var c = -1;
        foreach (var activity in child.Activities)
        {
            if (!ActiveIn(activity.Months, period))
            {
                continue;
            }

            if (c < 0)
            {
                c = ChildOf(child.ChildKey);
            }

            _programs[c].Add(_programCodes.Code(activity.Program));
            _serviceTypes[c].Add(_serviceTypeCodes.Code(activity.ServiceType));
        }

        if (c < 0)
        {
            return;
        }

        if (_providerChildren is not null)
        {
            // Sorted and made distinct at the end; a provider child's years are often adjacent, so skip the obvious repeat.
            var list = _providerChildren[c];
            if (list.Count == 0 || !string.Equals(list[^1], child.ProviderChild, StringComparison.Ordinal))
            {
                list.Add(child.ProviderChild);
            }
        }

        var offset = c * DemographicCount;
        for (var d = 0; d < DemographicCount; d++)
        {
            var value = child.Demographics[d];
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            var current = _best[offset + d];
            if (current < 0 || child.UpdatedTicks > _bestTicks[offset + d]
                || (child.UpdatedTicks == _bestTicks[offset + d] && Precedes(index, year, child, current)))
            {
                _best[offset + d] = index;
                _bestTicks[offset + d] = child.UpdatedTicks;
                _bestValues[offset + d] = value;
            }
        }
    }

    private static bool ActiveIn(uint[] months, uint[] period)
    {
        for (var m = 0; m < 12; m++)
        {
            if ((months[m] & period[m]) != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Between two rows of equal update time, whether the row at <paramref name="index"/> wins over the one at
    /// <paramref name="current"/>: the smaller provider id (the rule's tie-break), then the order the aggregator would have
    /// seen them in (provider child, year, read position), where the first one seen stays.
    /// </summary>
    private bool Precedes(int index, int year, ProviderChildYear child, int current)
    {
        var (currentYear, currentChild) = _read[current];
        var providers = ProviderOf(child.ProviderChild).SequenceCompareTo(ProviderOf(currentChild.ProviderChild));
        if (providers != 0)
        {
            return providers < 0;
        }

        var keys = string.CompareOrdinal(child.ProviderChild, currentChild.ProviderChild);
        if (keys != 0)
        {
            return keys < 0;
        }

        return year != currentYear ? year < currentYear : index < current;
    }

    private static ReadOnlySpan<char> ProviderOf(string providerChild) => providerChild.AsSpan(0, providerChild.IndexOf('|', StringComparison.Ordinal));

    private int ChildOf(string childKey)
    {
        if (_childIndex.TryGetValue(childKey, out var c))
        {
            return c;
        }

        c = _childKeys.Count;
        _childIndex[childKey] = c;
        _childKeys.Add(childKey);
        if (c == _programs.Length)
        {
            var capacity = Math.Max(1024, c * 2);
            Array.Resize(ref _programs, capacity);
            Array.Resize(ref _serviceTypes, capacity);
            Array.Resize(ref _best, capacity * DemographicCount);
            Array.Resize(ref _bestTicks, capacity * DemographicCount);
            Array.Resize(ref _bestValues, capacity * DemographicCount);
        }

        _best.AsSpan(c * DemographicCount, DemographicCount).Fill(-1);
        _providerChildren?.Add([]);
        return c;
    }

    /// <summary>Child <paramref name="c"/>'s demographics: each the winning row's value, none when no row has one.</summary>
    public ResolvedChild Demographics(int c)
    {
        var v = _bestValues.AsSpan(c * DemographicCount, DemographicCount);
        return new ResolvedChild(RecordKeys.ParseIsoDate(v[0]), v[1], v[2], v[3], v[4], v[5], v[6]);
    }

    /// <summary>Sorted distinct values per child, lists shared between children with the same set (read-only).</summary>
    public (IReadOnlyList<string>[] Programs, IReadOnlyList<string>[] ServiceTypes) Values() =>
        (_programCodes.Lists(_programs, Count), _serviceTypeCodes.Lists(_serviceTypes, Count));

    /// <summary>Each child key's distinct provider children in ordinal order (empty unless asked for).</summary>
    public Dictionary<string, List<string>> ProviderChildren()
    {
        var map = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (_providerChildren is null)
        {
            return map;
        }

        for (var c = 0; c < Count; c++)
        {
            var list = _providerChildren[c];
            list.Sort(StringComparer.Ordinal);
            var kept = 0;
            for (var i = 0; i < list.Count; i++)
            {
                if (kept == 0 || !string.Equals(list[kept - 1], list[i], StringComparison.Ordinal))
                {
                    list[kept++] = list[i];
                }
            }

            list.RemoveRange(kept, list.Count - kept);
            map[_childKeys[c]] = list;
        }

        return map;
    }

    /// <summary>A child's set of codes: a bit per code below 64, a list (with repeats) for the rest.</summary>
    private struct CodeSet
    {
        public ulong Bits;
        public List<int>? More;

        public void Add(int code)
        {
            if (code < 0)
            {
                return;
            }

            if (code < 64)
            {
                Bits |= 1UL << code;
            }
            else
            {
                (More ??= []).Add(code);
            }
        }
    }

    /// <summary>The distinct values of one column (programs or service types), blank values left out (code -1).</summary>
    private sealed class CodeBook
    {
        private readonly Dictionary<string, int> _codes = new(StringComparer.Ordinal);
        private readonly List<string> _values = [];
        private string? _last;
        private int _lastCode = -1;

        public int Code(string? value)
        {
            if (value is null)
            {
                return -1;
            }

            // Rows of one child (and of one program) often hold the same string instance: skip the hash then.
            if (ReferenceEquals(value, _last))
            {
                return _lastCode;
            }

            if (!_codes.TryGetValue(value, out var code))
            {
                code = string.IsNullOrWhiteSpace(value) ? -1 : _values.Count;
                if (code >= 0)
                {
                    _values.Add(value);
                }

                _codes[value] = code;
            }

            _last = value;
            _lastCode = code;
            return code;
        }

        /// <summary>Each child's values in ordinal order; children with the same set (and no code above 63) share one array.</summary>
        public IReadOnlyList<string>[] Lists(CodeSet[] sets, int count)
        {
            // Rank of each code in the values' ordinal order, so sorting a set never compares strings.
            var order = new int[_values.Count];
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            var sortedValues = _values.ToArray();
            Array.Sort(sortedValues, order, StringComparer.Ordinal);
            var rank = new int[order.Length];
            for (var r = 0; r < order.Length; r++)
            {
                rank[order[r]] = r;
            }

            var shared = new Dictionary<ulong, string[]>();
            var lists = new IReadOnlyList<string>[count];
            var codes = new List<int>();
            for (var c = 0; c < count; c++)
            {
                var set = sets[c];
                if (set.More is null && shared.TryGetValue(set.Bits, out var known))
                {
                    lists[c] = known;
                    continue;
                }

                codes.Clear();
                for (var bits = set.Bits; bits != 0; bits &= bits - 1)
                {
                    codes.Add(BitOperations.TrailingZeroCount(bits));
                }

                if (set.More is not null)
                {
                    codes.AddRange(set.More);
                }

                codes.Sort((x, y) => rank[x].CompareTo(rank[y]));
                var values = new List<string>(codes.Count);
                for (var i = 0; i < codes.Count; i++)
                {
                    if (i == 0 || codes[i] != codes[i - 1])
                    {
                        values.Add(_values[codes[i]]);
                    }
                }

                var array = values.ToArray();
                if (set.More is null)
                {
                    shared[set.Bits] = array;
                }

                lists[c] = array;
            }

            return lists;
        }
    }
}

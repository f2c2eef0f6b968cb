using System.Globalization;
using System.Text;
using ChildShare.Core.Activity;

namespace ChildShare.Core.Sharing.Aggregate;

/// <summary>
/// The aggregate report's fold of the activity buckets into one record per community child, walking each payload in place
/// (<see cref="BucketPayloadReader"/>) instead of decoding a record per provider child: strings are interned once per bucket
/// (its string table), children and providers become integers, and a child's activities are kept as integer tuples. The rules
/// are <see cref="ChildAggregator"/>'s, which the de-identified export uses, to the letter (the report's pinned-output tests
/// hold the two paths to the same rows): a provider child counts when its provider is included, it has a child key and it was
/// active on a day of the period; each demographic takes the value of the most recently updated such record that has one
/// (ties: the smallest provider id, then the first read); none is Unknown.
/// </summary>
internal sealed class ReportFold
{
    private readonly DateOnly _from;
    private readonly DateOnly _to;
    private readonly bool _needsActivities;
    private readonly int[] _columns;
    private readonly HashSet<string> _included;

    // Interned strings (bucket string tables, providers) and children, each a dense integer.
    private readonly Dictionary<string, int> _strings = new(StringComparer.Ordinal);
    private readonly List<string> _stringValues = [];
    private readonly List<bool> _blank = [];
    private readonly Dictionary<string, int> _providers = new(StringComparer.Ordinal);
    private readonly List<string> _providerValues = [];
    private readonly List<bool> _providerIncluded = [];
    private readonly Dictionary<string, int> _children = new(StringComparer.Ordinal);

    // Per child and demographic: the winning value (a string id, -1 none), its update ticks and provider.
    private readonly List<int> _value = [];
    private readonly List<long> _ticks = [];
    private readonly List<int> _valueProvider = [];

    private readonly HashSet<(int Child, int Provider, int Program, int ServiceType)> _activities = [];
    private readonly Dictionary<int, uint[]> _periodMasks = [];
    private readonly List<(int Program, int ServiceType)> _active = [];
    private char[] _chars = new char[128];

    public ReportFold(DateOnly from, DateOnly to, bool needsActivities, IReadOnlyList<string> demographics, IEnumerable<string> includedProviders)
    {
        ArgumentNullException.ThrowIfNull(demographics);
        _from = from;
        _to = to;
        _needsActivities = needsActivities;
        Demographics = demographics;
        _columns = demographics.Select(d => ActivityStore.Demographics.ToList().IndexOf(ReportDimensions.DemographicColumns.GetValueOrDefault(d, d))).ToArray();
        _included = includedProviders.ToHashSet(StringComparer.Ordinal);
    }

    public IReadOnlyList<string> Demographics { get; }

    /// <summary>Community children with activity in the period.</summary>
    public int Children => _children.Count;

    /// <summary>Provider-child years that counted (included provider, a child key, active in the period).</summary>
    public long ProviderChildYears { get; private set; }

    /// <summary>The distinct (child, provider, program, service type) activities; program and service type are string ids, or -1 when not grouped by.</summary>
    public IReadOnlyCollection<(int Child, int Provider, int Program, int ServiceType)> Activities => _activities;

    public string Provider(int provider) => _providerValues[provider];

    /// <summary>A program or service type as a report shows it: blank is Unknown.</summary>
    public string ActivityValue(int id) => id < 0 || _blank[id] ? ReportDimensions.Unknown : _stringValues[id];

    /// <summary>The resolved value of demographic <paramref name="index"/> of a child as a report shows it (the age band on the first day of the period).</summary>
    public string Resolved(int child, int index, Dictionary<int, string> ageBands)
    {
        ArgumentNullException.ThrowIfNull(ageBands);
        var id = _value[(child * _columns.Length) + index];
        if (Demographics[index] != ReportDimensions.AgeBand)
        {
            return id < 0 ? ReportDimensions.Unknown : _stringValues[id];
        }

        if (!ageBands.TryGetValue(id, out var band))
        {
            var value = id < 0 ? null : _stringValues[id];
            band = ReportDimensions.AgeBandOf(DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var birth) ? birth : null, _from);
            ageBands[id] = band;
        }

        return band;
    }

    /// <summary>Folds one bucket-year's payload (in the order the buckets are read: the same data folds the same way).</summary>
    public void Add(int year, ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return;
        }

        if (!_periodMasks.TryGetValue(year, out var period))
        {
            period = Enumerable.Range(1, 12).Select(m => ActivityMonths.MaskOf(year, m, _from, _to)).ToArray();
            _periodMasks[year] = period;
        }

        var reader = new BucketPayloadReader(payload);
        var local = new int[reader.ReadHeader() + 1];
        local[0] = -1;
        for (var i = 1; i < local.Length; i++)
        {
            local[i] = Intern(_strings, _stringValues, reader.ReadUtf8(), _blank);
        }

        var demographicIds = new int[ActivityStore.Demographics.Count];
        var lastProvider = Array.Empty<byte>();
        var provider = -1;
        var count = reader.ReadVarInt();
        for (var n = 0; n < count; n++)
        {
            var providerChild = reader.ReadUtf8();
            var childKey = reader.ReadUtf8();
            var ticks = reader.ReadInt64();
            for (var d = 0; d < demographicIds.Length; d++)
            {
                demographicIds[d] = local[reader.ReadVarInt()];
            }

            var activities = reader.ReadVarInt();
            var bar = providerChild.IndexOf((byte)'|');
            var providerBytes = bar < 0 ? providerChild : providerChild[..bar];
            if (provider < 0 || !providerBytes.SequenceEqual(lastProvider))
            {
                // Provider children are stored in key order, so one provider's come in a run.
                lastProvider = providerBytes.ToArray();
                provider = Intern(_providers, _providerValues, providerBytes, null);
                if (provider == _providerIncluded.Count)
                {
                    _providerIncluded.Add(_included.Contains(_providerValues[provider]));
                }
            }

            if (!_providerIncluded[provider] || childKey.IsEmpty)
            {
                reader.SkipActivities(activities);
                continue;
            }

            _active.Clear();
            for (var a = 0; a < activities; a++)
            {
                var program = local[reader.ReadVarInt()];
                var serviceType = local[reader.ReadVarInt()];
                var present = reader.ReadUInt16();
                var active = false;
                for (var m = 0; m < 12; m++)
                {
                    if ((present & (1 << m)) != 0)
                    {
                        active |= (reader.ReadUInt32() & period[m]) != 0;
                    }
                }

                if (active)
                {
                    _active.Add((program, serviceType));
                }
            }

            if (_active.Count == 0)
            {
                continue;
            }

            var child = ChildOf(childKey);
            foreach (var (program, serviceType) in _active)
            {
                // A null program or service type reads as "" (as the records decoder gives it), blank either way.
                _activities.Add(_needsActivities ? (child, provider, program, serviceType) : (child, provider, -1, -1));
            }

            for (var i = 0; i < _columns.Length; i++)
            {
                var value = _columns[i] >= 0 ? demographicIds[_columns[i]] : -1;
                if (value < 0 || _blank[value])
                {
                    continue;
                }

                var slot = (child * _columns.Length) + i;
                var current = _value[slot];
                if (current < 0 || ticks > _ticks[slot]
                    || (ticks == _ticks[slot] && string.CompareOrdinal(_providerValues[provider], _providerValues[_valueProvider[slot]]) < 0))
                {
                    _value[slot] = value;
                    _ticks[slot] = ticks;
                    _valueProvider[slot] = provider;
                }
            }

            ProviderChildYears++;
        }
    }

    private int ChildOf(ReadOnlySpan<byte> childKey)
    {
        var chars = Chars(childKey);
        var lookup = _children.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(chars, out var child))
        {
            return child;
        }

        child = _children.Count;
        _children.Add(new string(chars), child);
        for (var i = 0; i < _columns.Length; i++)
        {
            _value.Add(-1);
            _ticks.Add(0);
            _valueProvider.Add(-1);
        }

        return child;
    }

    private int Intern(Dictionary<string, int> ids, List<string> values, ReadOnlySpan<byte> utf8, List<bool>? blank)
    {
        var chars = Chars(utf8);
        if (ids.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars, out var id))
        {
            return id;
        }

        var text = new string(chars);
        id = values.Count;
        ids.Add(text, id);
        values.Add(text);
        blank?.Add(string.IsNullOrWhiteSpace(text));
        return id;
    }

    private ReadOnlySpan<char> Chars(ReadOnlySpan<byte> utf8)
    {
        var needed = Encoding.UTF8.GetMaxCharCount(utf8.Length);
        if (needed > _chars.Length)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        return _chars.AsSpan(0, Encoding.UTF8.GetChars(utf8, _chars));
    }
}

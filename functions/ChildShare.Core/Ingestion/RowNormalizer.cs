using System.Globalization;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// Turns one provider row into a canonical record, or a rejection naming the line, field and rule.
/// Knows nothing of files or storage: it sees a row as a function from canonical field to raw text.
/// One instance serves one upload, from one thread: it keeps the folded forms of the names it has seen.
/// </summary>
public sealed class RowNormalizer
{
    /// <summary>Entries per cache (names, dates) before it starts again empty: they repeat across an upload's rows.</summary>
    private const int NameCacheLimit = 50_000;

    private readonly Dictionary<string, PersonName> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _suffixes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string First, string? Middle, string Last, string? Suffix)> _fullNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateOnly?> _dates = new(StringComparer.Ordinal);

    private static readonly int FieldCount = Enum.GetValues<CanonicalField>().Length;

    private readonly MappingProfile _profile;
    private readonly DateOnly _today;
    private readonly DateOnly _oldestBirthDate;
    private readonly DateOnly _youngestBirthDate;
    private readonly DateOnly _latestServiceDate;
    private readonly Dictionary<CanonicalField, Dictionary<string, string>> _codeMaps;

    /// <summary>
    /// The races of a row reporting one, by race: most rows report one, and a record's races are read only, so rows share these
    /// instead of a list each.
    /// </summary>
    private static readonly Race[][] OneRace = [.. Enum.GetValues<Race>().Select(race => new[] { race })];

    /// <summary>A name part the row did not give: nothing to display, nothing to match.</summary>
    private static readonly PersonName Absent = new("", null);

    public RowNormalizer(MappingProfile profile, IngestionOptions options, DateOnly today)
    {
        _profile = profile;
        _today = today;
        _oldestBirthDate = today.AddYears(-options.MaxChildAgeYears - 1).AddDays(1);
        _youngestBirthDate = today.AddYears(-options.MinChildAgeYears);

        // No child served today is still a child past the oldest configured age from now: a later service date is a marker
        // (9999-12-31 is how many systems write "no end"), and as a date it would make the service active in every year to 9999 (a
        // bucket-year each, a records row whose ActivityYears is past the 32,768 characters Azure holds; past 9999-12 the month walk
        // throws).
        _latestServiceDate = today.AddYears(options.MaxChildAgeYears);
        _codeMaps = profile.CodeMaps.ToDictionary(
            m => m.Key,
            m => m.Value.ToDictionary(c => c.Key.Trim(), c => c.Value, StringComparer.OrdinalIgnoreCase));
    }

    // The row being normalized (one thread, one row at a time): its cleaned cells, and its rejections and notes, made when needed.
    private readonly string?[] _cells = new string?[FieldCount];
    private int _lineNumber;
    private List<RowRejection>? _errors;
    private List<RowRejection>? _notes;

    /// <summary>Normalizes a row as the reader gives it.</summary>
    public NormalizationResult Normalize(UploadRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        for (var field = 0; field < FieldCount; field++)
        {
            _cells[field] = row[(CanonicalField)field];
        }

        return NormalizeCells(row.LineNumber);
    }

    /// <summary>
    /// Normalizes a row; <paramref name="rawCell"/> returns the trimmed cell of a field, or null where the
    /// field is unmapped or blank. Control characters follow <see cref="ControlCharacters"/> in every cell.
    /// </summary>
    public NormalizationResult Normalize(int lineNumber, Func<CanonicalField, string?> rawCell)
    {
        ArgumentNullException.ThrowIfNull(rawCell);
        for (var field = 0; field < FieldCount; field++)
        {
            _cells[field] = rawCell((CanonicalField)field);
        }

        return NormalizeCells(lineNumber);
    }

    private void Reject(CanonicalField field, string reason) => (_errors ??= []).Add(new RowRejection(_lineNumber, field.ToString(), reason));

    private void Drop(CanonicalField field, string reason) =>
        (_notes ??= []).Add(new RowRejection(_lineNumber, field.ToString(), reason + "; the row was kept without it"));

    private string? Cell(CanonicalField field) => _cells[(int)field];

    /// <summary>Normalizes the raw cells in <see cref="_cells"/>, which it cleans in place.</summary>
    private NormalizationResult NormalizeCells(int lineNumber)
    {
        _lineNumber = lineNumber;
        _errors = null;
        _notes = null;

        // Every cell passes the control-character rule first: line breaks and tabs become a space, anything else rejects the row.
        for (var field = 0; field < FieldCount; field++)
        {
            if (_cells[field] is { } raw)
            {
                var clean = ControlCharacters.Clean(raw);
                if (clean is null)
                {
                    // The row is rejected; the rest of the rules still run on the cell without its control characters.
                    Reject((CanonicalField)field, ControlCharacters.RefusedReason);
                    clean = string.Concat(raw.Where(c => !char.IsControl(c))).Trim();
                }

                _cells[field] = clean is { Length: > 0 } ? clean : null;
            }
        }

        var localId = Cell(CanonicalField.LocalChildId);
        if (localId is null)
        {
            Reject(CanonicalField.LocalChildId, "is required and is empty");
        }

        // A name part and the local id are required; a missing first or last name, or a birth date that is missing or cannot be
        // used, leaves an incomplete identity: the child is still served and counted (see ChildIdentity).
        var (first, middle, last, suffix) = ReadName();
        if (string.IsNullOrWhiteSpace(first) && string.IsNullOrWhiteSpace(last))
        {
            Reject(CanonicalField.FirstName, "and LastName are both empty: one of them is required");
        }

        DateOnly? birthDate = null;
        var birthText = Cell(CanonicalField.BirthDate);
        if (birthText is null)
        {
            // No birth date: an incomplete identity, not an error of the file.
        }
        else if (!TryParseDate(birthText, out var parsed))
        {
            Drop(CanonicalField.BirthDate, $"is not a date in the profile's formats ({string.Join(", ", _profile.DateFormats)})");
        }
        else if (parsed > _today)
        {
            Drop(CanonicalField.BirthDate, "is in the future");
        }
        else if (parsed < _oldestBirthDate || parsed > _youngestBirthDate)
        {
            Drop(CanonicalField.BirthDate, "is not plausible for a child-serving program (outside the configured ages)");
        }
        else
        {
            birthDate = parsed;
        }

        // Optional: a blank cell is no address. Only its length is checked (never quoted: rejections carry no value).
        var streetAddress = Cell(CanonicalField.StreetAddress);
        if (streetAddress is { Length: > AddressNormalizer.MaxLength })
        {
            Reject(CanonicalField.StreetAddress, $"is longer than {AddressNormalizer.MaxLength} characters");
        }

        var demographics = ReadDemographics();
        var service = ReadService();

        if (_errors is { } errors)
        {
            return NormalizationResult.Rejected(errors);
        }

        var identity = new ChildIdentity
        {
            LocalChildId = localId!,
            StateStudentId = Cell(CanonicalField.StateStudentId),
            FirstName = string.IsNullOrWhiteSpace(first) ? Absent : Name(first),
            MiddleName = string.IsNullOrWhiteSpace(middle) ? null : Name(middle),
            LastName = string.IsNullOrWhiteSpace(last) ? Absent : Name(last),
            Suffix = suffix,
            BirthDate = birthDate,
            StreetAddress = streetAddress,
        };
        return NormalizationResult.Accepted(new CanonicalRecord(lineNumber, identity, demographics, service) { Notes = _notes ?? (IReadOnlyList<RowRejection>)[] });
    }

    private PersonName Name(string display) => Cached(_names, display, NameNormalizer.Name);

    private static TValue Cached<TValue>(Dictionary<string, TValue> cache, string key, Func<string, TValue> compute)
    {
        if (cache.TryGetValue(key, out var value))
        {
            return value;
        }

        if (cache.Count >= NameCacheLimit)
        {
            cache.Clear();
        }

        value = compute(key);
        cache[key] = value;
        return value;
    }

    private (string? First, string? Middle, string? Last, string? Suffix) ReadName()
    {
        var first = Cell(CanonicalField.FirstName);
        var middle = Cell(CanonicalField.MiddleName);
        var last = Cell(CanonicalField.LastName);
        var suffix = Cell(CanonicalField.Suffix);
        var full = Cell(CanonicalField.FullName);
        if (full is not null && (first is null || last is null))
        {
            var split = Cached(_fullNames, full, NameNormalizer.SplitFullName);
            first ??= split.First;
            middle ??= split.Middle;
            last ??= split.Last;
            suffix ??= split.Suffix;
        }

        if (last is not null)
        {
            suffix ??= Cached(_suffixes, last, NameNormalizer.SuffixOf);
        }

        return (first, middle, last, suffix is null ? null : NameNormalizer.Fold(suffix));
    }

    private Demographics ReadDemographics()
    {
        var sex = Sex.Unknown;
        if (Cell(CanonicalField.Sex) is { } sexText && !TryCode<Sex>(CanonicalField.Sex, sexText, CodeValues.TryParseSex, out sex))
        {
            Reject(CanonicalField.Sex, "is not a known code (add it to the profile's code map)");
        }

        Race[] races = [];
        if (Cell(CanonicalField.Race) is { } raceText)
        {
            // Most cells hold one code: split only a cell that has the separator.
            string[] codes = raceText.Contains(_profile.MultiValueSeparator, StringComparison.Ordinal)
                ? raceText.Split(_profile.MultiValueSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : raceText.Trim() is { Length: > 0 } one ? [one] : [];
            foreach (var code in codes)
            {
                if (TryCode<Race>(CanonicalField.Race, code, CodeValues.TryParseRace, out var race))
                {
                    if (race != Race.Unknown && Array.IndexOf(races, race) < 0)
                    {
                        races = races.Length == 0 ? OneRace[(int)race] : [.. races, race];
                    }
                }
                else
                {
                    Reject(CanonicalField.Race, "is not a known code (add it to the profile's code map)");
                    break;
                }
            }
        }

        var ethnicity = Ethnicity.Unknown;
        if (Cell(CanonicalField.Ethnicity) is { } ethnicityText
            && !TryCode<Ethnicity>(CanonicalField.Ethnicity, ethnicityText, CodeValues.TryParseEthnicity, out ethnicity))
        {
            Reject(CanonicalField.Ethnicity, "is not a known code (add it to the profile's code map)");
        }

        string? zip = null;
        if (Cell(CanonicalField.Zip) is { } zipText && !ZipCodes.TryNormalize(zipText, out zip))
        {
            Reject(CanonicalField.Zip, "is not a 5-digit or ZIP+4 code");
        }

        string? grade = null;
        string? parsedGrade = null;
        if (Cell(CanonicalField.Grade) is { } gradeText && !TryCode<string>(CanonicalField.Grade, gradeText, CodeValues.TryParseGrade, out parsedGrade))
        {
            Reject(CanonicalField.Grade, "is not a grade (PK, K, 1 to 12) nor in the profile's code map");
        }
        else
        {
            grade = parsedGrade;
        }

        var race1 = races.Length switch
        {
            0 => Race.Unknown,
            1 => races[0],
            _ => Race.TwoOrMore,
        };
        return new Demographics
        {
            Sex = sex,
            Race = race1,
            Races = races,
            Ethnicity = ethnicity,
            Zip = zip,
            Grade = grade,
            School = Cell(CanonicalField.School),
        };
    }

    private ServiceRecord? ReadService()
    {
        var startText = Cell(CanonicalField.ServiceStart);
        var program = Cell(CanonicalField.Program);
        var serviceType = Cell(CanonicalField.ServiceType);
        var endText = Cell(CanonicalField.ServiceEnd);
        if (startText is null)
        {
            if (program is not null || serviceType is not null || endText is not null)
            {
                Reject(CanonicalField.ServiceStart, "is required when a service is given and is empty");
            }

            return null;
        }

        if (!TryParseDate(startText, out var start))
        {
            Reject(CanonicalField.ServiceStart, "is not a date in the profile's formats");
            return null;
        }

        if (start > _latestServiceDate)
        {
            Reject(CanonicalField.ServiceStart, "is too far in the future for a service (past the oldest configured age from now)");
            return null;
        }

        DateOnly? end = null;
        if (endText is not null)
        {
            if (!TryParseDate(endText, out var endDate))
            {
                Reject(CanonicalField.ServiceEnd, "is not a date in the profile's formats");
                return null;
            }

            if (endDate < start)
            {
                Reject(CanonicalField.ServiceEnd, "is before the service start");
                return null;
            }

            if (endDate > _latestServiceDate)
            {
                // A far end is no end: the service is kept as still open, active through the upload's date.
                Drop(CanonicalField.ServiceEnd, "is too far in the future to be an end date (read as a no-end marker: the service is open)");
            }
            else
            {
                end = endDate;
            }
        }

        if (program is null && serviceType is null)
        {
            Reject(CanonicalField.Program, "a service needs a program or a service type");
            return null;
        }

        double? hours = null;
        if (Cell(CanonicalField.Hours) is { } hoursText)
        {
            if (double.TryParse(hoursText, NumberStyles.Float, CultureInfo.InvariantCulture, out var h) && h >= 0 && h < 100_000)
            {
                hours = h;
            }
            else
            {
                Reject(CanonicalField.Hours, "is not a non-negative number");
            }
        }

        int? days = null;
        if (Cell(CanonicalField.DaysAttended) is { } daysText)
        {
            if (int.TryParse(daysText, NumberStyles.None, CultureInfo.InvariantCulture, out var d) && d <= 366 * 30)
            {
                days = d;
            }
            else
            {
                Reject(CanonicalField.DaysAttended, "is not a whole number of days");
            }
        }

        return new ServiceRecord
        {
            Program = MapFreeText(CanonicalField.Program, program) ?? MapFreeText(CanonicalField.ServiceType, serviceType)!,
            ServiceType = MapFreeText(CanonicalField.ServiceType, serviceType) ?? "Unspecified",
            Start = start,
            End = end,
            Hours = hours,
            DaysAttended = days,
        };
    }

    private string? MapFreeText(CanonicalField field, string? value)
    {
        if (value is null)
        {
            return null;
        }

        return _codeMaps.TryGetValue(field, out var map) && map.TryGetValue(value, out var mapped) ? mapped : value;
    }

    private delegate bool CodeParser<T>(string value, out T result);

    private bool TryCode<T>(CanonicalField field, string value, CodeParser<T> parse, out T result)
    {
        if (_codeMaps.TryGetValue(field, out var map) && map.TryGetValue(value, out var canonical))
        {
            return parse(canonical, out result);
        }

        return parse(value, out result);
    }

    /// <summary>Parses a date in the profile's formats; a text seen before (birth dates and service dates repeat) is looked up.</summary>
    private bool TryParseDate(string text, out DateOnly date)
    {
        if (!_dates.TryGetValue(text, out var parsed))
        {
            if (_dates.Count >= NameCacheLimit)
            {
                _dates.Clear();
            }

            parsed = ParseDate(text, out var fresh) ? fresh : null;
            _dates[text] = parsed;
        }

        date = parsed.GetValueOrDefault();
        return parsed.HasValue;
    }

    private bool ParseDate(string text, out DateOnly date)
    {
        foreach (var format in _profile.DateFormats)
        {
            if (DateOnly.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out date))
            {
                return true;
            }
        }

        // Excel exports often carry a midnight time after the date.
        foreach (var format in _profile.DateFormats)
        {
            if (DateTime.TryParseExact(text, [format + " HH:mm:ss", format + " H:mm", format + " h:mm:ss tt", format + "'T'HH:mm:ss"],
                    CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var dateTime))
            {
                date = DateOnly.FromDateTime(dateTime);
                return true;
            }
        }

        date = default;
        return false;
    }
}

/// <summary>A canonical record, or the reasons the row was rejected.</summary>
public readonly record struct NormalizationResult(CanonicalRecord? Record, IReadOnlyList<RowRejection> Rejections)
{
    public static NormalizationResult Accepted(CanonicalRecord record) => new(record, []);

    public static NormalizationResult Rejected(IReadOnlyList<RowRejection> rejections) => new(null, rejections);
}

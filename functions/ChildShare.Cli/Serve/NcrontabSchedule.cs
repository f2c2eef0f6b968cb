using NCrontab;

namespace ChildShare.Cli.Serve;

/// <summary>
/// A timer trigger's NCRONTAB schedule, parsed by NCrontab (the library the Functions host's timer
/// extension uses; the worker's Timer package carries only the attribute and <c>TimerInfo</c>): six
/// fields with seconds first (<c>0 0 * * * *</c>, hourly) or the classic five. Times are UTC, as on
/// Azure unless <c>WEBSITE_TIME_ZONE</c> is set.
/// </summary>
public sealed class NcrontabSchedule
{
    private readonly CrontabSchedule _schedule;

    private NcrontabSchedule(string expression, CrontabSchedule schedule)
    {
        Expression = expression;
        _schedule = schedule;
    }

    public string Expression { get; }

    public static NcrontabSchedule Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var schedule = fields is 5 or 6 ? CrontabSchedule.TryParse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = fields == 6 }) : null;
        return schedule is null
            ? throw new FormatException($"'{expression}' is not an NCRONTAB schedule: six fields (second minute hour day month day-of-week) or five (no seconds).")
            : new NcrontabSchedule(expression, schedule);
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>, in UTC.</summary>
    public DateTimeOffset Next(DateTimeOffset after) =>
        new(DateTime.SpecifyKind(_schedule.GetNextOccurrence(after.UtcDateTime), DateTimeKind.Utc));
}

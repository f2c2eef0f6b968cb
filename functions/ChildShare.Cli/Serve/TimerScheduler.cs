using ChildShare.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChildShare.Cli.Serve;

/// <summary>
/// Runs the timer-triggered functions of <see cref="FunctionCatalog"/> on their NCRONTAB schedules
/// (a <c>%setting%</c> schedule is read from the settings, as the Functions host does), on the app's
/// <see cref="TimeProvider"/>, with a <see cref="TimerInfo"/> like the host's. One run at a time per
/// function; a run that throws is logged and the schedule goes on.
/// </summary>
public sealed partial class TimerScheduler(IServiceProvider services, IConfiguration configuration, TimeProvider time, ILogger<TimerScheduler> logger) : BackgroundService
{
    /// <summary>A timer function's schedule, its <c>%setting%</c> resolved.</summary>
    public static NcrontabSchedule ScheduleOf(TimerFunction function, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(configuration);
        var expression = function.Schedule;
        if (expression.Length > 2 && expression.StartsWith('%') && expression.EndsWith('%'))
        {
            var setting = expression[1..^1];
            expression = configuration[setting] is { Length: > 0 } value
                ? value
                : throw new InvalidOperationException($"Function {function.Name}: the setting {setting} (its schedule) is not set.");
        }

        return NcrontabSchedule.Parse(expression);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(FunctionCatalog.Timer.Select(f => RunScheduleAsync(f, ScheduleOf(f, configuration), stoppingToken)));

    private async Task RunScheduleAsync(TimerFunction function, NcrontabSchedule schedule, CancellationToken stoppingToken)
    {
        var attribute = function.Method.GetParameters().Select(p => p.GetCustomAttributes(typeof(TimerTriggerAttribute), false).OfType<TimerTriggerAttribute>().FirstOrDefault())
            .First(a => a is not null)!;
        DateTimeOffset? last = null;
        if (attribute.RunOnStartup)
        {
            await RunAsync(function, schedule, last, stoppingToken);
            last = time.GetUtcNow();
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var next = schedule.Next(time.GetUtcNow());
            try
            {
                await Task.Delay(next - time.GetUtcNow() is { Ticks: > 0 } wait ? wait : TimeSpan.Zero, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await RunAsync(function, schedule, last, stoppingToken);
            last = next;
        }
    }

    private async Task RunAsync(TimerFunction function, NcrontabSchedule schedule, DateTimeOffset? last, CancellationToken stoppingToken)
    {
        var now = time.GetUtcNow();
        var info = new TimerInfo
        {
            IsPastDue = false,
            ScheduleStatus = new ScheduleStatus { Last = (last ?? DateTimeOffset.MinValue).UtcDateTime, Next = schedule.Next(now).UtcDateTime, LastUpdated = now.UtcDateTime },
        };
        await using var scope = services.CreateAsyncScope();
        try
        {
            await FunctionInvoker.RunAsync(function.Class, function.Method, scope.ServiceProvider,
                function.Method.GetParameters().Select(p => p.ParameterType == typeof(CancellationToken) ? (object)stoppingToken : info).ToArray());
            LogRan(logger, function.Name);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            LogFailed(logger, function.Name, ex.GetType().Name);
        }
    }

    [LoggerMessage(EventId = 9004, Level = LogLevel.Information, Message = "Timer function {Function} ran")]
    private static partial void LogRan(ILogger logger, string function);

    [LoggerMessage(EventId = 9005, Level = LogLevel.Error, Message = "Timer function {Function} failed ({ErrorType}); the schedule goes on")]
    private static partial void LogFailed(ILogger logger, string function, string errorType);
}

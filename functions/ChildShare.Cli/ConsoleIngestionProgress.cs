using System.Diagnostics;
using System.Globalization;
using ChildShare.Core.Ingestion;

namespace ChildShare.Cli;

/// <summary>
/// Shows a long ingestion's progress on one line of the terminal's error stream, rewritten at most
/// twice a second: phase, rows parsed, rows per second, how far the parse is and its remaining time.
/// Counts only: nothing of a row's content. Silent when standard error is not a terminal.
/// </summary>
public sealed class ConsoleIngestionProgress(TextWriter terminal) : IProgress<IngestionProgress>
{
    private readonly Stopwatch _sinceShown = Stopwatch.StartNew();
    private IngestionPhase? _shownPhase;
    private int _width;

    /// <summary>A display on the console's error stream, or null when it is redirected (a script or a log file).</summary>
    public static ConsoleIngestionProgress? ForConsole() => Console.IsErrorRedirected ? null : new ConsoleIngestionProgress(Console.Error);

    public void Report(IngestionProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Phase == IngestionPhase.Done)
        {
            Write("");
            return;
        }

        if (value.Phase == _shownPhase && _sinceShown.ElapsedMilliseconds < 500)
        {
            return;
        }

        _shownPhase = value.Phase;
        _sinceShown.Restart();
        Write(Describe(value));
    }

    /// <summary>The line shown, e.g. <c>parse: 120,000 rows, 8,512 rows/s, 45%, about 1m 20s left</c>.</summary>
    public static string Describe(IngestionProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var phase = value.Phase.ToString().ToLowerInvariant();
        if (value.Phase != IngestionPhase.Parse)
        {
            return value.Phase == IngestionPhase.Fingerprint ? $"{phase}: reading the file once" : $"{phase}: {value.RowsRead.ToString("N0", CultureInfo.InvariantCulture)} rows";
        }

        var line = string.Create(CultureInfo.InvariantCulture, $"{phase}: {value.RowsRead:N0} rows, {value.RowsPerSecond:N0} rows/s");
        if (value.ContentLength > 0)
        {
            line += string.Create(CultureInfo.InvariantCulture, $", {Math.Min(100, 100.0 * value.BytesRead / value.ContentLength):0}%");
        }

        if (value.ParseRemaining is { } left)
        {
            line += left.TotalMinutes >= 1
                ? string.Create(CultureInfo.InvariantCulture, $", about {(int)left.TotalMinutes}m {left.Seconds}s left")
                : string.Create(CultureInfo.InvariantCulture, $", about {Math.Max(1, (int)left.TotalSeconds)}s left");
        }

        return line;
    }

    private void Write(string line)
    {
        terminal.Write("\r" + line.PadRight(_width) + (line.Length == 0 ? "\r" : ""));
        _width = line.Length;
        terminal.Flush();
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ChildShare.Tests.Support;

/// <summary>
/// A logger that keeps every message and lets a test wait for one: tests of waiting and retrying
/// code assert on what the code reported doing (it was refused, it gave up, it got in after waiting)
/// instead of sleeping for a while and hoping the machine kept up.
/// </summary>
public sealed class LogEvents<T> : ILogger<T>
{
    private readonly ConcurrentQueue<string> _messages = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource Seen)> _waiters = [];
    private readonly Lock _sync = new();

    public IReadOnlyList<string> Messages => [.. _messages];

    public bool Saw(string fragment) => _messages.Any(m => m.Contains(fragment, StringComparison.Ordinal));

    /// <summary>Completes when a message containing <paramref name="fragment"/> has been logged (fails after <paramref name="timeout"/>, 30 s by default).</summary>
    public Task WaitForAsync(string fragment, TimeSpan? timeout = null)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_sync)
        {
            if (Saw(fragment))
            {
                return Task.CompletedTask;
            }

            _waiters.Add((m => m.Contains(fragment, StringComparison.Ordinal), seen));
        }

        return seen.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        var message = formatter(state, exception);
        lock (_sync)
        {
            _messages.Enqueue(message);
            foreach (var waiter in _waiters.Where(w => w.Match(message)).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Seen.TrySetResult();
            }
        }
    }
}

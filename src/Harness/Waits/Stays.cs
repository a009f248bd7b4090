namespace Harness.Waits;

/// <summary>
/// "Consistently", as e2e's <c>gomega.Consistently</c>: for a hold period, every look (<see cref="Look"/>, every
/// <see cref="Poll"/>) must show that the expectation <see cref="Holds"/> — the book's "must not happen for 30 s". The
/// first look that does not ends the wait at once with <see cref="HoldBrokenException"/>, naming what was seen.
/// Watched objects hold through <c>ObjectWait.Stays</c> / <c>ObjectsWait.Stays</c> (a watch sees every change).
/// Immutable, like <see cref="Until{T}"/>.
/// </summary>
/// <param name="Expected">The expectation in words, e.g. <c>nginx-pod to stay Pending</c>.</param>
/// <param name="Look">One look; its token is cancelled when the hold period ends.</param>
/// <param name="Holds">Whether a look still shows the expectation.</param>
public sealed record Stays<T>(string Expected, Func<CancellationToken, Task<T>> Look, Func<T, bool> Holds)
{
    public Poll Poll { get; init; } = Poll.Default;

    /// <summary>A look in one line, for progress and for the message when the hold breaks.</summary>
    public Func<T, string> Describe { get; init; } = value => value?.ToString() ?? "nothing";

    /// <summary>Why it must hold, for the message when it does not (e.g. "without a scheduler nobody binds the pod").</summary>
    public string? Because { get; init; }

    /// <summary>Receives "waiting for …: 12 s of 30 s (last seen)" every 10 s at most.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>Looks through <paramref name="period"/> and returns the last look, which held like all before it.</summary>
    /// <exception cref="HoldBrokenException">A look did not hold: thrown at that look, not at the end of the period.</exception>
    /// <exception cref="WaitTimeoutException">No look finished within the period, so nothing says it held.</exception>
    public async Task<T> ForAsync(TimeSpan period, CancellationToken ct)
    {
        // Poll for the first look that breaks the expectation: reaching it is the failure, the deadline the success.
        var seen = await Polling.RunAsync(Look, value => !Holds(value), period, Poll, _ => false, deadlineCancelsLook: true, Progress,
            s => Polling.ProgressLine(Expected, s.Elapsed, period, s.Describe(Describe)), ct);
        var lastState = seen.Describe(Describe);
        if (seen.Holds) throw HoldBrokenException.Of(Expected, period, seen.Elapsed, lastState, Because);
        if (seen.Looks == 0)
            throw new WaitTimeoutException($"No look at {Expected} finished within {period.TotalSeconds:0} s, so nothing says it held", lastState);
        return seen.Last!;
    }
}

using System.Diagnostics;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Harness.Waits;

/// <summary>
/// What a polling wait saw: whether its condition held at the end, the last look's value or the error it counted as
/// "not yet", how many looks finished and how long it took. <see cref="Until{T}.LastWithinAsync"/> returns it for a
/// caller that judges the last look itself.
/// </summary>
/// <param name="Holds">The condition held on the last look (the wait ended before its deadline).</param>
/// <param name="Last">The last look that returned a value; default when none did.</param>
/// <param name="LastError">The error of the last look when it failed in a way the wait counts as "not yet"; null when it returned.</param>
public sealed record Polled<T>(bool Holds, T? Last, Exception? LastError, int Looks, TimeSpan Elapsed)
{
    internal static Polled<T> Nothing { get; } = new(false, default, null, 0, TimeSpan.Zero);

    /// <summary>The last look in one line: the value as <paramref name="describe"/> says it, or the error.</summary>
    public string Describe(Func<T, string> describe)
    {
        if (LastError is { } error) return $"{error.GetType().Name}: {error.Message}";
        if (Looks == 0) return "nothing (no look finished)";
        // describe is the caller's code and may trip over a half-filled object; a progress line or a timeout message
        // must not turn into a different error because of it.
        try { return describe(Last!); }
        catch (Exception e) { return $"(could not describe the state: {e.GetType().Name}: {e.Message})"; }
    }
}

/// <summary>
/// The one polling loop under <see cref="Until{T}"/> and <see cref="Stays{T}"/>, on Polly: a constant-delay retry while
/// the condition does not hold, inside a timeout for the deadline.
/// </summary>
internal static class Polling
{
    /// <summary>How often a long wait says how it is doing.</summary>
    public static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(10);

    /// <summary>A progress line as every wait of the harness says it (<see cref="ClusterWatch{T}"/> too).</summary>
    public static string ProgressLine(string awaited, TimeSpan elapsed, TimeSpan deadline, string lastSeen) =>
        $"waiting for {awaited}: {elapsed.TotalSeconds:0} s of {deadline.TotalSeconds:0} s ({lastSeen})";

    /// <summary>
    /// Looks until <paramref name="done"/> holds or <paramref name="deadline"/> passes, and returns what it saw; only
    /// the caller's token ends it with an exception. A look that throws what <paramref name="notYet"/> accepts counts
    /// as one that does not hold; any other error ends the wait with that error.
    /// </summary>
    /// <param name="deadlineCancelsLook">True: at the deadline the look in flight is cancelled (its token). False: a
    /// look always runs to its end, and the deadline only says whether to look again.</param>
    /// <param name="progress">Gets a line every <see cref="ProgressEvery"/> at most, after a look that means looking again.</param>
    public static async Task<Polled<T>> RunAsync<T>(Func<CancellationToken, Task<T>> look, Func<T, bool> done, TimeSpan deadline,
        Poll poll, Func<Exception, bool> notYet, bool deadlineCancelsLook, Action<string>? progress, Func<Polled<T>, string> progressLine,
        CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var seen = Polled<T>.Nothing;
        var lastProgress = TimeSpan.Zero;
        var builder = new ResiliencePipelineBuilder<bool>();
        if (deadlineCancelsLook) builder.AddTimeout(deadline);
        var pipeline = builder.AddRetry(new RetryStrategyOptions<bool>
        {
            // Looks that fail as "not yet" come here as false; any other error is not handled and ends the wait.
            ShouldHandle = args => ValueTask.FromResult(
                args.Outcome is { Exception: null, Result: false } && (deadlineCancelsLook || clock.Elapsed < deadline)),
            MaxRetryAttempts = int.MaxValue,
            Delay = poll.Interval,
            BackoffType = DelayBackoffType.Constant,
        }).Build();

        try
        {
            await pipeline.ExecuteAsync(async token =>
            {
                try
                {
                    var value = await look(token);
                    seen = new Polled<T>(done(value), value, null, seen.Looks + 1, clock.Elapsed);
                }
                // A look cut off by the deadline or the caller is not a look that failed.
                catch (Exception e) when (!token.IsCancellationRequested && notYet(e))
                {
                    seen = seen with { Holds = false, LastError = e, Looks = seen.Looks + 1, Elapsed = clock.Elapsed };
                }
                if (progress is not null && !seen.Holds && clock.Elapsed - lastProgress >= ProgressEvery)
                {
                    lastProgress = clock.Elapsed;
                    progress(progressLine(seen));
                }
                return seen.Holds;
            }, ct);
        }
        catch (TimeoutRejectedException)
        {
            // The deadline passed: what was seen last is the answer.
        }
        return seen with { Elapsed = clock.Elapsed };
    }
}

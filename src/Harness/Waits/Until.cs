namespace Harness.Waits;

/// <summary>
/// "Eventually", as e2e's <c>gomega.Eventually</c>: looks (<see cref="Look"/>) every <see cref="Poll"/> until what it
/// sees <see cref="Holds"/>, within a deadline. For what a watch cannot give (a command on a node, curl, kubectl's own
/// output, an object read by name); waits on watched objects go through <see cref="ClusterWatch{T}"/>.
/// <code>
/// await new Until&lt;CommandResult&gt;("kube-scheduler to serve again", t =&gt; RunHealthAsync(t), r =&gt; r.Succeeded)
///     { Poll = Poll.Every(TimeSpan.FromSeconds(1)), Describe = r =&gt; $"exit {r.ExitCode}" }
///     .WithinAsync(timeouts.ControlPlaneRestart, ct);
/// </code>
/// Immutable: one <c>Until</c> may be kept and run again, or changed with <c>with { … }</c>.
/// </summary>
/// <param name="Awaited">What is awaited, in words: "waiting for" it reads in progress lines and in the timeout's message.</param>
/// <param name="Look">One look (a read, a command); its token is cancelled at the deadline unless <see cref="DeadlineCancelsLook"/> is false.</param>
/// <param name="Holds">Whether a look saw what is awaited.</param>
public sealed record Until<T>(string Awaited, Func<CancellationToken, Task<T>> Look, Func<T, bool> Holds)
{
    public Poll Poll { get; init; } = Poll.Default;

    /// <summary>A look in one line, for progress and for the timeout's "Last seen".</summary>
    public Func<T, string> Describe { get; init; } = value => value?.ToString() ?? "nothing";

    /// <summary>Errors of a look that mean "not yet" (a node still down, an API still restarting): the wait looks again.
    /// Any other error ends the wait with it. None by default.</summary>
    public Func<Exception, bool> NotYetOn { get; init; } = _ => false;

    /// <summary>Receives "waiting for …: 12 s of 120 s (last seen)" every 10 s at most.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>True (the default): at the deadline the look in flight is cancelled. False: a look runs to its end (it
    /// has a timeout of its own, e.g. <c>kubectl rollout status --timeout</c>) and the deadline only bounds looking again.</summary>
    public bool DeadlineCancelsLook { get; init; } = true;

    /// <summary>Looks until the condition holds and returns that look.</summary>
    /// <exception cref="WaitTimeoutException">It did not hold within <paramref name="timeout"/>: the message says what was seen last.</exception>
    public async Task<T> WithinAsync(TimeSpan timeout, CancellationToken ct)
    {
        var seen = await LastWithinAsync(timeout, ct);
        if (seen.Holds) return seen.Last!;
        var lastState = seen.Describe(Describe);
        throw new WaitTimeoutException($"Timed out after {timeout.TotalSeconds:0} s waiting for {Awaited}. Last seen: {lastState}", lastState);
    }

    /// <summary>Looks until the condition holds or <paramref name="timeout"/> passes, and returns what was seen either way:
    /// for a caller that judges the last look itself (an assertion that names it, an exception of its own).</summary>
    public Task<Polled<T>> LastWithinAsync(TimeSpan timeout, CancellationToken ct) =>
        Polling.RunAsync(Look, Holds, timeout, Poll, NotYetOn, DeadlineCancelsLook, Progress,
            seen => Polling.ProgressLine(Awaited, seen.Elapsed, timeout, seen.Describe(Describe)), ct);
}

namespace Harness.Waits;

/// <summary>
/// How often a wait that polls looks again, as e2e's <c>framework.Poll</c>: a look, then this long, then the next look.
/// The interval is constant: a wait on the cluster wants to see a change soon after it happens, not later and later.
/// (A watch needs no interval: <see cref="ClusterWatch{T}"/> is told of each change.)
/// </summary>
public sealed record Poll
{
    private Poll(TimeSpan interval) => Interval = interval;

    public TimeSpan Interval { get; }

    /// <summary>A look every 2 s, as e2e's framework polls pods and nodes.</summary>
    public static Poll Default { get; } = new(TimeSpan.FromSeconds(2));

    public static Poll Every(TimeSpan interval) => interval > TimeSpan.Zero
        ? new(interval)
        : throw new ArgumentOutOfRangeException(nameof(interval), interval, "a poll interval must be longer than zero");

    public override string ToString() => $"every {Interval.TotalSeconds:0.###} s";
}

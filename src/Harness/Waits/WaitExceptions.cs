namespace Harness.Waits;

/// <summary>
/// A wait whose expectation the cluster did not meet: it never got there in time (<see cref="WaitTimeoutException"/>)
/// or did not stay there (<see cref="HoldBrokenException"/>). A product verdict, not a harness error: the report reads it
/// as failed (<see cref="Reporting.Report.StatusOf"/>), and the test framework's adapter turns it into the framework's
/// own assertion failure (Harness.NUnit: <c>WaitTimeoutIsAFailure</c>).
/// </summary>
/// <param name="lastState">What the wait saw last, in one line (kubectl's words where it watched objects).</param>
public abstract class WaitFailedException(string message, string lastState) : Exception(message)
{
    public string LastState { get; } = lastState;
}

/// <summary>
/// A wait that ran out (<see cref="Until{T}"/>, <see cref="ClusterWatch{T}"/>). The message says what was awaited, for
/// how long, and the last state seen: the cluster did not reach the state the book shows within the deadline.
/// </summary>
public sealed class WaitTimeoutException(string message, string lastState) : WaitFailedException(message, lastState);

/// <summary>
/// A hold period that was broken (<see cref="Stays{T}"/>): what had to stay so for the whole period changed before its
/// end. The message names the expectation, when it broke and what was seen then.
/// </summary>
public sealed class HoldBrokenException(string message, string lastState, TimeSpan after) : WaitFailedException(message, lastState)
{
    /// <summary>How long the expectation held before it broke.</summary>
    public TimeSpan After { get; } = after;

    /// <param name="expected">The expectation in words, e.g. <c>nginx-pod to stay Terminating</c>.</param>
    /// <param name="because">Why it must hold, e.g. "without a scheduler nobody binds the pod to a node"; null: not said.</param>
    internal static HoldBrokenException Of(string expected, TimeSpan period, TimeSpan after, string lastState, string? because) =>
        new($"Expected {expected} for {period.TotalSeconds:0} s{(because is null ? "" : $" ({because})")}, " +
            $"but after {after.TotalSeconds:0} s: {lastState}", lastState, after);
}

/// <summary>
/// A wait that stopped before its deadline because what it saw will not change by waiting (its give-up rule said so,
/// e.g. a pod the registry refused for its pull limit: Docker Hub's hour will not pass within the run). Not a failed
/// expectation: the report reads it as broken, like any error that is not the product's. <see cref="Reason"/> is the
/// give-up rule's own sentence, for a caller that says it on its own.
/// </summary>
public sealed class WaitGaveUpException(string message, string reason, string lastState) : Exception(message)
{
    // Methods, not properties: NUnit prints an exception's public properties after its message.
    public string Reason() => reason;
    public string LastState() => lastState;
}

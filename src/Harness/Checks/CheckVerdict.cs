using Harness.Reporting;

namespace Harness.Checks;

/// <summary>How a check's own steps ended, as the test framework saw them.</summary>
/// <param name="Status">Passed; failed (an expectation or a wait: the cluster did not do what the book says); broken (an
/// error, a cancellation); skipped (ignored, not applicable).</param>
/// <param name="Message">The framework's message for it (the first line names where an interrupted check was cut short).</param>
/// <param name="StackTrace">Its stack trace, kept in the report of an interrupted check.</param>
public sealed record CheckBody(Status Status, string? Message = null, string? StackTrace = null);

/// <summary>Everything the verdict on a check depends on, once its faults are reverted and the cluster was looked at again.</summary>
/// <param name="Body">How the check's own steps ended.</param>
/// <param name="NotApplicable">The check found mid-way that this cluster has nothing for it to check.</param>
/// <param name="Unreverted">One of its reverts or clean-ups failed.</param>
/// <param name="Interrupted">Ctrl-C or SIGTERM cut it short.</param>
/// <param name="RunBlocked">The run is blocked now: this check, or one beside it, left the cluster not as it found it.</param>
public readonly record struct CheckEnding(Status Body, bool NotApplicable, bool Unreverted, bool Interrupted, bool RunBlocked);

/// <summary>
/// The verdict rules, as pure functions: what the gate records for a check (reports/metrics.jsonl), when evidence is
/// read from the cluster, and when a check that passed must still end red.
/// </summary>
public static class CheckVerdict
{
    /// <summary>The outcome of a check that never started because an earlier one left the cluster broken.</summary>
    public const string Blocked = "broken";

    /// <summary>
    /// Broken when the check's own verdict cannot be trusted: a revert failed, the run was interrupted (whatever its last
    /// wait said: "failed" reads as "the cluster did not recover"), or it passed (or skipped) on a cluster that is now not
    /// as found. Not applicable when it said so and skipped. Otherwise what its steps said.
    /// </summary>
    public static string Outcome(CheckEnding end)
    {
        if (end.Unreverted || end.Interrupted || (end.RunBlocked && end.Body is Status.Passed or Status.Skipped)) return "broken";
        if (end.NotApplicable && end.Body == Status.Skipped) return CheckOutcomes.NotApplicable;
        return end.Body.ToString().ToLowerInvariant();
    }

    /// <summary>
    /// Evidence (pods, events, kubelet journals) is read for a red check, unless its red is not its own: the run was
    /// already blocked by another check, or it was interrupted.
    /// </summary>
    public static bool WantsEvidence(Status body, bool runBlocked, bool interrupted) =>
        body is Status.Failed or Status.Broken && !runBlocked && !interrupted;

    /// <summary>A check that passed ends red when the run is blocked: its green would hide a cluster left not as found.</summary>
    public static bool FailsAfterPassing(CheckEnding end) => end.RunBlocked && end.Body == Status.Passed;
}

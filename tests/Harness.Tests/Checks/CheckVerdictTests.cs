using Harness.Checks;
using Harness.Reporting;
using NUnit.Framework;

namespace Harness.Tests.Checks;

/// <summary>The verdict rules, one row per way a check can end: what the gate records, when evidence is read, when a green check ends red.</summary>
public class CheckVerdictTests
{
    private static readonly Status[] Bodies = [Status.Passed, Status.Failed, Status.Broken, Status.Skipped];

    private static IEnumerable<TestCaseData> Outcomes()
    {
        // How its own steps ended, and nothing else went wrong: what they said.
        yield return Row(Status.Passed, "passed");
        yield return Row(Status.Failed, "failed");
        yield return Row(Status.Broken, "broken");
        yield return Row(Status.Skipped, "skipped");
        // It found mid-way that the cluster has nothing for it to check, and skipped: green for the gate.
        yield return Row(Status.Skipped, CheckOutcomes.NotApplicable, notApplicable: true);
        // Said not applicable, but then failed (or passed) anyway: its steps decide.
        yield return Row(Status.Failed, "failed", notApplicable: true);
        yield return Row(Status.Passed, "passed", notApplicable: true);
        // A revert failed: whatever it said, its verdict cannot be trusted.
        foreach (var body in Bodies) yield return Row(body, "broken", unreverted: true);
        yield return Row(Status.Skipped, "broken", notApplicable: true, unreverted: true);
        // Ctrl-C or SIGTERM: "failed" would read as "the cluster did not recover".
        foreach (var body in Bodies) yield return Row(body, "broken", interrupted: true);
        // The run is blocked (by it or a check beside it): a green or skipped check cannot vouch for the cluster;
        // a red one keeps its own verdict.
        yield return Row(Status.Passed, "broken", runBlocked: true);
        yield return Row(Status.Skipped, "broken", runBlocked: true);
        yield return Row(Status.Skipped, "broken", notApplicable: true, runBlocked: true);
        yield return Row(Status.Failed, "failed", runBlocked: true);
        yield return Row(Status.Broken, "broken", runBlocked: true);
    }

    private static TestCaseData Row(Status body, string outcome, bool notApplicable = false, bool unreverted = false, bool interrupted = false, bool runBlocked = false) =>
        new TestCaseData(new CheckEnding(body, notApplicable, unreverted, interrupted, runBlocked)).Returns(outcome)
            .SetArgDisplayNames($"{body}{(notApplicable ? ", not applicable" : "")}{(unreverted ? ", unreverted" : "")}{(interrupted ? ", interrupted" : "")}{(runBlocked ? ", run blocked" : "")}");

    [TestCaseSource(nameof(Outcomes))]
    public string The_gate_records(CheckEnding end) => CheckVerdict.Outcome(end);

    [TestCase(Status.Failed, false, false, ExpectedResult = true)]
    [TestCase(Status.Broken, false, false, ExpectedResult = true)]
    [TestCase(Status.Passed, false, false, ExpectedResult = false)]
    [TestCase(Status.Skipped, false, false, ExpectedResult = false)]
    [TestCase(Status.Failed, true, false, ExpectedResult = false)] // blocked by another check: its red is not its own
    [TestCase(Status.Failed, false, true, ExpectedResult = false)] // interrupted: nothing to explain on the cluster
    public bool Evidence_is_read_for_a_red_check_whose_red_is_its_own(Status body, bool runBlocked, bool interrupted) =>
        CheckVerdict.WantsEvidence(body, runBlocked, interrupted);

    [TestCase(Status.Passed, true, ExpectedResult = true)]
    [TestCase(Status.Passed, false, ExpectedResult = false)]
    [TestCase(Status.Skipped, true, ExpectedResult = false)] // recorded broken, but a skip is no green to take back
    [TestCase(Status.Failed, true, ExpectedResult = false)]
    public bool A_passed_check_ends_red_when_the_run_is_blocked(Status body, bool runBlocked) =>
        CheckVerdict.FailsAfterPassing(new CheckEnding(body, NotApplicable: false, Unreverted: false, Interrupted: false, runBlocked));
}

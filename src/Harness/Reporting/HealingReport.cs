using Harness.Faults;

namespace Harness.Reporting;

/// <summary>A healing pass (<see cref="Healing"/>) as a result of its own in the report: one step per open entry.</summary>
public static class HealingReport
{
    /// <summary>Writes <paramref name="pass"/> as its own result, unless it had nothing to do (no open entry of its business).</summary>
    public static void Write(HealingPass pass, AllureWriter writer)
    {
        if (pass.Steps.Count == 0) return;
        var steps = pass.Steps.Select(s => new StepResult
        {
            Name = s.What,
            Status = StatusOf(s.Outcome),
            StatusDetails = s.Message is null ? null : new StatusDetails(s.Message),
            Start = s.Started.ToUnixTimeMilliseconds(),
            Stop = s.Stopped.ToUnixTimeMilliseconds(),
        });
        Report.WriteStandaloneResult(pass.CheckName, pass.FullName, StatusOf(pass.Outcome), writer, pass.Summary, steps);
    }

    private static Status StatusOf(HealOutcome outcome) => outcome switch
    {
        HealOutcome.Healed => Status.Passed,
        HealOutcome.Failed => Status.Failed,
        _ => Status.Skipped,
    };
}

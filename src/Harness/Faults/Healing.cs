using Harness.Reporting;
using Harness.Safety;

namespace Harness.Faults;

/// <summary>
/// Faults an earlier run injected and never reverted (it crashed, was killed, lost its node) are reverted before
/// anything else happens, and reported as a check of their own.
/// </summary>
public static class Healing
{
    public const string CheckName = "Heal faults left by an earlier run";

    /// <returns>The entries healed (empty when the ledger had none open).</returns>
    public static async Task<IReadOnlyList<LedgerEntry>> HealAsync(IReverter reverter, FaultLedger ledger, CancellationToken ct)
    {
        var open = ledger.OpenEntries();
        if (open.Count == 0) return open;

        var steps = new List<StepResult>();
        var failures = new List<string>();
        // Newest first, as a scope would have reverted them.
        foreach (var entry in open.Reverse())
        {
            var started = DateTimeOffset.UtcNow;
            Report.Progress($"healing: {entry.Fault} on {entry.Node} left by run {entry.RunId} ({entry.Check}) — {entry.Revert}");
            Status status;
            string? message = null;
            try
            {
                await reverter.RevertAsync(entry.Revert, ct);
                ledger.Close(entry.Id, "healed by a later run");
                status = Status.Passed;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                status = Status.Failed;
                message = Secrets.Redact(e.Message);
                failures.Add($"{entry.Fault} on {entry.Node} ({entry.Revert}): {message}");
            }
            steps.Add(new StepResult
            {
                Name = $"{entry.Revert} (left by {entry.Check}, run {entry.RunId}, injected {entry.InjectedAt:yyyy-MM-dd HH:mm:ss} UTC: {entry.Injected})",
                Status = status,
                StatusDetails = message is null ? null : new StatusDetails(message),
                Start = started.ToUnixTimeMilliseconds(),
                Stop = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            });
        }
        var healed = failures.Count == 0;
        Report.WriteStandaloneResult(CheckName, "Verification:Harness.Healing", healed ? Status.Passed : Status.Failed,
            healed ? $"healed {open.Count} fault(s) left by an earlier run" : $"Unreverted fault(s) the earlier run left: {string.Join("; ", failures)}",
            steps);
        if (!healed)
            throw new UnrevertedFaultException(
                $"Unreverted fault(s) left by an earlier run could not be healed, so no new fault is injected: {string.Join("; ", failures)}. " +
                $"Fix them by hand, then remove their lines from {ledger.Path}.");
        return open;
    }
}

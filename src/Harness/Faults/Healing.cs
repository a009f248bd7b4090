using Harness.Text;

namespace Harness.Faults;

/// <summary>
/// Faults an earlier run injected and never reverted (it crashed, was killed, lost its node) are reverted before
/// anything else happens, and reported as a check of their own. Only this cluster's faults are healed: the ledger is
/// shared by every profile on this machine, and running another cluster's revert here (the book's
/// <c>modprobe br_netfilter</c> on the lab) fails at best and breaks this cluster at worst.
/// </summary>
public static class Healing
{
    public const string CheckName = "Heal faults left by an earlier run";

    /// <summary>The result of the pass that runs before the API is reached (<see cref="HealBeforeApiAsync"/>).</summary>
    public const string BeforeApiCheckName = "Heal control-plane faults left by an earlier run, before reaching the API";

    /// <summary>What healing does with one open entry, and why.</summary>
    public enum Decision { Heal, LeaveToItsOwner, LeaveToLiveRun }

    /// <summary>
    /// Whose entry this is. An entry with an identity is healed only by a run of the same profile against the same
    /// cluster (kube-system UID). An entry written before entries carried an identity is healed only when it is
    /// exactly what this profile would have registered itself: its node is one of this profile's nodes and its node
    /// command is one of this profile's own revert commands (<c>commands.startKubelet</c>,
    /// <c>commands.restorePodNetwork</c>, or none for a plain reboot), an uncordon of one of its nodes, or the deletion
    /// of its own namespace. Such a revert is what this profile runs on this cluster anyway; a command written for
    /// another OS or kernel is left alone, to be healed by its own profile or forgotten. A live run's entry is never
    /// healed, whoever it belongs to.
    /// </summary>
    public static Decision Decide(LedgerEntry entry, ClusterIdentity? identity)
    {
        if (RunLiveness.IsAlive(entry)) return Decision.LeaveToLiveRun;
        if (identity is null) return Decision.Heal; // a caller that does not know its cluster (kept for older callers)
        if (entry.HasIdentity) return entry.BelongsTo(identity) ? Decision.Heal : Decision.LeaveToItsOwner;
        var ours = RevertKinds.Of(entry.Revert.Kind).IsProfilesOwn(entry.Revert, identity);
        return ours ? Decision.Heal : Decision.LeaveToItsOwner;
    }

    /// <summary>
    /// Whether the pass before the API heals this entry: only a revert that needs no API
    /// (<see cref="Revert.NeedsApi"/>: a static-pod manifest put back, a node command), of a dead run, written by this
    /// profile into the cluster whose CA the control plane has now (<paramref name="caFingerprint"/>, read over SSH).
    /// Everything else — entries without a CA (older harness), another profile's or cluster's, those needing the API —
    /// is null: left to <see cref="HealAsync"/>, which knows the cluster by its kube-system UID and reports on each.
    /// </summary>
    public static Decision? DecideBeforeApi(LedgerEntry entry, string profile, string? caFingerprint)
    {
        if (entry.Revert.NeedsApi || caFingerprint is null || entry.ClusterCa is null) return null;
        if (entry.Profile != profile || entry.ClusterCa != caFingerprint) return null;
        return RunLiveness.IsAlive(entry) ? Decision.LeaveToLiveRun : Decision.Heal;
    }

    /// <summary>
    /// The first pass, before the API is reached: the API-free reverts of this profile's own cluster
    /// (<see cref="DecideBeforeApi"/>), carried out over SSH — the one way to heal a run killed while the API server's
    /// manifest was away, since nothing else can reach the cluster until it is back. The rest stays open for
    /// <see cref="HealAsync"/>. The pass is its own result (<see cref="BeforeApiCheckName"/>) when it had anything to do.
    /// </summary>
    /// <param name="nodeReverter">Carries out API-free reverts over SSH (the connected nodes, no API).</param>
    public static Task<HealingPass> HealBeforeApiAsync(IReverter nodeReverter, FaultLedger ledger, string profile, string? caFingerprint,
        Action<string>? progress, CancellationToken ct) =>
        HealOpenAsync(nodeReverter, ledger, e => DecideBeforeApi(e, profile, caFingerprint),
            (e, d) => WhyLeftAlone(e, d, null), BeforeApiCheckName, "Verification:Harness.HealingBeforeApi", progress, ct);

    /// <summary>Why an entry is left alone, and how the user deals with it.</summary>
    public static string WhyLeftAlone(LedgerEntry entry, Decision decision, ClusterIdentity? identity) => decision switch
    {
        Decision.LeaveToLiveRun =>
            $"left alone: run {entry.RunId} (pid {entry.Pid} on {entry.Host}) is still running and reverts it itself",
        _ when entry.HasIdentity && entry.Profile != identity?.Profile =>
            $"left alone: injected by profile {entry.Profile}, not {identity?.Profile}; heal it with `./verify --profile {entry.Profile} heal`, " +
            $"or if you repaired {entry.Node} by hand: `./verify heal --forget {entry.Id}`",
        _ when entry.HasIdentity =>
            $"left alone: injected into another cluster (kube-system UID {entry.ClusterUid}, this one is {identity?.ClusterUid}; " +
            $"rebuilt since?); if that cluster is gone or repaired: `./verify heal --forget {entry.Id}`",
        _ =>
            $"left alone: written by an older harness that did not record profile or cluster, and its revert is not one profile " +
            $"{identity?.Profile} makes; heal it with the profile that injected it (`./verify --profile <profile> heal`), " +
            $"or if you repaired {entry.Node} by hand: `./verify heal --forget {entry.Id}`",
    };

    /// <summary>
    /// Reverts this cluster's open entries, newest first, and closes them. Entries of other profiles, other clusters
    /// or live runs are left open and said so (a progress line, and a step of the pass naming how to deal with them);
    /// they do not stop the run. A revert of this cluster's own that fails does, once the pass is reported:
    /// <see cref="HealingPass.ThrowIfUnhealed"/>.
    /// </summary>
    /// <param name="identity">Whose cluster this is; null heals every open entry not of a live run (for callers that do not know).</param>
    /// <param name="progress">Receives a line per entry, healed or left alone.</param>
    /// <returns>What the pass did with each entry (none when the ledger had none of this cluster's open); the reporting
    /// layer writes it as the result "Heal faults left by an earlier run".</returns>
    public static Task<HealingPass> HealAsync(IReverter reverter, FaultLedger ledger, ClusterIdentity? identity,
        Action<string>? progress, CancellationToken ct) =>
        HealOpenAsync(reverter, ledger, e => Decide(e, identity), (e, d) => WhyLeftAlone(e, d, identity),
            CheckName, "Verification:Harness.Healing", progress, ct);

    /// <param name="decide">What to do with an open entry; null: not this pass's business (not even reported).</param>
    private static async Task<HealingPass> HealOpenAsync(IReverter reverter, FaultLedger ledger,
        Func<LedgerEntry, Decision?> decide, Func<LedgerEntry, Decision, string> whyLeftAlone, string checkName, string fullName,
        Action<string>? progress, CancellationToken ct)
    {
        // Decided once per entry: whether it is this pass's business, and what to do with it.
        var open = ledger.OpenEntries().Select(e => (Entry: e, Decision: decide(e))).Where(d => d.Decision is not null).ToList();
        var steps = new List<HealStep>();
        // Newest first, as a scope would have reverted them.
        foreach (var (entry, decided) in Enumerable.Reverse(open))
        {
            var started = DateTimeOffset.UtcNow;
            var decision = decided!.Value;
            if (decision != Decision.Heal)
            {
                var message = whyLeftAlone(entry, decision);
                progress?.Invoke($"healing: {entry.Fault} on {entry.Node} {message}");
                steps.Add(new HealStep(entry, HealOutcome.LeftAlone, message, started, DateTimeOffset.UtcNow));
                continue;
            }
            progress?.Invoke($"healing: {entry.Fault} on {entry.Node} left by run {entry.RunId} ({entry.Check}) — {entry.Revert}");
            try
            {
                await reverter.RevertAsync(entry.Revert, ct);
                ledger.Close(entry.Id, "healed by a later run");
                steps.Add(new HealStep(entry, HealOutcome.Healed, null, started, DateTimeOffset.UtcNow));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                steps.Add(new HealStep(entry, HealOutcome.Failed, Secrets.Redact(e.Message), started, DateTimeOffset.UtcNow));
            }
        }
        return new HealingPass(checkName, fullName, ledger.Path, steps);
    }
}

/// <summary>What a healing pass did with one open entry.</summary>
public enum HealOutcome { Healed, LeftAlone, Failed }

/// <summary>One open entry in a healing pass: what was done with it, why not (left alone) or what failed, and when.</summary>
public sealed record HealStep(LedgerEntry Entry, HealOutcome Outcome, string? Message, DateTimeOffset Started, DateTimeOffset Stopped)
{
    /// <summary>The revert and where the entry came from, as the report's step names it.</summary>
    public string What =>
        $"{Entry.Revert} (left by {Entry.Check}, run {Entry.RunId}, injected {Entry.InjectedAt:yyyy-MM-dd HH:mm:ss} UTC: {Entry.Injected}; ledger entry {Entry.Id})";
}

/// <summary>
/// One healing pass as plain data, newest entry first: the reporting layer writes it as a result of its own (named
/// <see cref="CheckName"/>), and <see cref="ThrowIfUnhealed"/> then stops the run if a revert of this cluster failed.
/// </summary>
public sealed record HealingPass(string CheckName, string FullName, string LedgerPath, IReadOnlyList<HealStep> Steps)
{
    public IReadOnlyList<LedgerEntry> Healed => [.. Steps.Where(s => s.Outcome == HealOutcome.Healed).Select(s => s.Entry)];

    private IEnumerable<HealStep> With(HealOutcome outcome) => Steps.Where(s => s.Outcome == outcome);

    private IReadOnlyList<string> Failures =>
        [.. With(HealOutcome.Failed).Select(s => $"{s.Entry.Fault} on {s.Entry.Node} ({s.Entry.Revert}; ledger entry {s.Entry.Id}): {s.Message}")];

    /// <summary>The pass as a whole: failed if one revert failed, healed if one was healed, else left alone (nothing of this cluster's).</summary>
    public HealOutcome Outcome =>
        With(HealOutcome.Failed).Any() ? HealOutcome.Failed : With(HealOutcome.Healed).Any() ? HealOutcome.Healed : HealOutcome.LeftAlone;

    /// <summary>The pass in one line: what failed, what was healed, which entries of other runs were left alone and why.</summary>
    public string Summary
    {
        get
        {
            var leftAlone = With(HealOutcome.LeftAlone).Select(s => $"{s.Entry.Fault} on {s.Entry.Node} ({s.Entry.Id}) {s.Message}").ToList();
            var others = leftAlone.Count == 0 ? "" : $"; left {leftAlone.Count} entr{(leftAlone.Count == 1 ? "y" : "ies")} of other runs alone: {string.Join("; ", leftAlone)}";
            return Outcome switch
            {
                HealOutcome.Failed => $"Unreverted fault(s) the earlier run left: {string.Join("; ", Failures)}{others}",
                HealOutcome.Healed => $"healed {Healed.Count} fault(s) left by an earlier run{others}",
                _ => $"nothing of this cluster to heal{others}",
            };
        }
    }

    /// <summary>A revert of this cluster's own failed: no new fault may be injected until it is repaired.</summary>
    public void ThrowIfUnhealed()
    {
        if (Failures is { Count: > 0 } failures)
            throw new UnrevertedFaultException(
                $"Unreverted fault(s) left by an earlier run could not be healed, so no new fault is injected: {string.Join("; ", failures)}. " +
                $"Repair them by hand, then close their entries in {LedgerPath} with `./verify heal --forget <entry id>`.");
    }
}

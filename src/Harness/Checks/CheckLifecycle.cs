using Harness.ClusterAccess;
using Harness.Faults;
using Harness.Reporting;

namespace Harness.Checks;

/// <summary>What a check declares, read by its lifecycle (the test fixture answers from its own declarations).</summary>
/// <param name="NotApplicable">Why this cluster has nothing for the check to check (the profile says so, or its nodes,
/// read only), or null; asked before it waits for nodes or creates anything.</param>
/// <param name="Faults">The faults it injects, declared once; read once its context exists (they name its nodes and namespace).</param>
/// <param name="Claim">What it touches on the cluster (<see cref="ClusterClaim"/>); read once its context exists.</param>
/// <param name="NotInBook">Why the edition's chapter 3 does not have this check, or null.</param>
public sealed record CheckDeclaration(
    Func<CancellationToken, Task<string?>> NotApplicable, Func<IEnumerable<Fault>> Faults, Func<ClusterClaim> Claim, string? NotInBook = null);

/// <summary>
/// One check from start to end, as chaostoolkit runs an experiment: it queues for the nodes it touches, checks the
/// steady state, makes its namespace (a fault like any other, so deleting it is a rollback), then the check's own steps
/// run (the test framework runs them between <see cref="StartAsync"/> and <see cref="EndAsync"/>), its rollbacks run,
/// the same steady state is checked again, and the verdict (<see cref="CheckVerdict"/>) is recorded for the gate.
/// </summary>
/// <param name="startContext">Makes the check's context, once it is not blocked and applies.</param>
/// <param name="cluster">What the lifecycle does on the cluster (a fake in the unit tests).</param>
/// <param name="blocked">Why the run's checks cannot go on; this check sets it when it leaves the cluster not as found.</param>
/// <param name="recordOutcome">Records the check's outcome for the gate (once; reports/metrics.jsonl).</param>
public sealed class CheckLifecycle(CheckDeclaration check, Func<CheckContext> startContext, ILifecycleCluster cluster, RunBlock blocked, bool dryRun,
    Action<string> recordOutcome, TestScope report)
{
    /// <summary>How long nodes and components may take to settle before and after a check (a node the check before
    /// rebooted restarts its kube-proxy).</summary>
    public static readonly TimeSpan SteadyStateSettle = TimeSpan.FromSeconds(60);

    /// <summary>A guard against a hang, from the moment the check has its nodes (its queue can be the rest of the suite).</summary>
    public static readonly TimeSpan OwnBackstop = TimeSpan.FromMinutes(15);

    /// <summary>The step a check spends waiting for nodes other checks hold (marked queued: the report and bench/suite count it apart).</summary>
    public const string QueuedStepPrefix = "wait for the nodes it uses: held by";

    /// <summary>What the steady state looks at, as its steps say.</summary>
    public const string SteadyStateLook = "nodes Ready and schedulable, kubelet active, control plane and kube-system components healthy";

    private const string NamespaceFaultName = "the check's namespace";

    private CheckContext? _context;
    private bool _notApplicable;

    /// <summary>The lifecycle of check <paramref name="name"/> of <paramref name="run"/>.</summary>
    /// <param name="deadline">The check's own deadline (e.g. NUnit's [CancelAfter]).</param>
    /// <param name="fail">How the test framework fails a check (<see cref="CheckContext.Fail"/>).</param>
    public static CheckLifecycle Of(RunContext run, CheckDeclaration check, string name, string fullName, TestScope report,
        CancellationToken deadline, Action<string> fail) =>
        new(check, () => CheckContext.Start(run, name, fullName, report, deadline, fail), new LifecycleCluster(run.Cluster), run.Blocked,
            run.Cluster.Profile.Safety.DryRun, new CheckMetrics(run.Metrics, name, report).RecordOutcome, report);

    /// <summary>The check's context once it started; null before, and once a start that failed was undone.</summary>
    public CheckContext? Context => _context;

    /// <summary>
    /// Everything before the check's own steps. Returns null when the check goes on, or why it is skipped (not applicable
    /// here, or a dry run listing what it would inject). Throws when the run is blocked, and when a step failed (the
    /// steady state, the queue's backstop): what it did is undone first and the outcome recorded.
    /// </summary>
    public async Task<string?> StartAsync(CancellationToken deadline)
    {
        if (blocked.Reason is { } reason)
        {
            recordOutcome(CheckVerdict.Blocked);
            throw new InvalidOperationException($"Blocked: {reason}");
        }
        // Before it waits for nodes or creates anything: the profile, or its nodes, say this cluster has nothing for it to check.
        if (await check.NotApplicable(deadline) is { } notApplicable)
        {
            report.Parameter("not applicable", notApplicable, excluded: true);
            recordOutcome(CheckOutcomes.NotApplicable);
            return notApplicable;
        }
        var context = _context = startContext();
        var ns = context.Namespace;
        context.Plan(check.Faults().Prepend(NamespaceFault(ns)));
        if (dryRun) return ListPlannedFaults(context);
        if (check.NotInBook is { } notInBook) report.Parameter("book", notInBook, excluded: true);
        try
        {
            await QueueForNodesAsync(context);
            await report.Step($"steady state: {SteadyStateLook}", StepPart.Harness, async () =>
            {
                var problems = await SteadyStateAsync(context, namespaceGone: null, context.Cancellation);
                if (problems.Count > 0)
                    context.Fail($"the cluster must be healthy before a fault is injected (a component this check needs is down): {string.Join("; ", problems)}");
            });
            await report.Step($"kubectl create namespace {ns}", StepPart.Harness,
                () => context.InjectAsync(NamespaceFault(ns), t => cluster.CreateNamespaceAsync(ns, t)));
            await cluster.FurnishNamespaceAsync(ns, report, context.Cancellation);
            return null;
        }
        catch (Exception e)
        {
            // The test framework may skip its tear-down when its set-up throws: undo here what was done (and free the nodes).
            try { await context.DisposeAsync(); }
            finally
            {
                recordOutcome(report.StatusOf(e).ToString().ToLowerInvariant());
                _context = null; // undone: an EndAsync that runs anyway has nothing left to do
            }
            throw;
        }
    }

    /// <summary>The check found mid-way that it has nothing to check here: recorded as not applicable unless a revert fails.</summary>
    public void NotApplicable(string reason)
    {
        _notApplicable = true;
        report.Parameter("not applicable", reason, excluded: true);
    }

    /// <summary>
    /// Everything after the check's own steps: evidence when it is red, its rollbacks, the same steady state as before it,
    /// the verdict. Returns the outcome recorded (null when the check never started). Throws
    /// <see cref="UnrevertedFaultException"/> when a rollback failed, or when the check passed but the cluster is not as found.
    /// </summary>
    /// <param name="interruptedBy">The signal that interrupted the run (SIGINT, SIGTERM), if one did.</param>
    public async Task<string?> EndAsync(CheckBody body, string? interruptedBy)
    {
        if (_context is not { } context) return null; // it never started, or its start was undone; its outcome is recorded
        _context = null;
        if (dryRun) // nothing was created, nothing to revert or check
        {
            await context.DisposeAsync();
            return null;
        }
        // A check cut short by Ctrl-C/SIGTERM has no verdict on the cluster: whatever its last wait said, it is broken.
        var interrupted = interruptedBy is { } signal
            ? $"Run interrupted by {signal}: this check was cancelled at '{body.Message?.Split('\n')[0]}'; its faults are reverted below"
            : null;
        if (CheckVerdict.WantsEvidence(body.Status, blocked.Reason is not null, interrupted is not null))
            await report.Step("evidence", StepPart.Harness,
                () => cluster.AttachEvidenceAsync(context.Namespace, context.StartedAt, context.InvolvedNodes, report));

        // Faults reverted by deleting the namespace (a killed PID 1, a bad image tag) count; the namespace itself does not.
        var faults = context.Faults.History.Where(e => e.Fault != NamespaceFaultName).Select(e => $"{e.Fault} on {e.Node}").ToList();
        if (faults.Count > 0) report.Parameter("faults", string.Join("; ", faults), excluded: true);
        var unreverted = false;
        string outcome;
        try
        {
            await report.Step("leave the cluster as found: revert what is still in place", StepPart.Harness, () => context.CleanUpAsync());
        }
        catch (UnrevertedFaultException)
        {
            unreverted = true;
            throw;
        }
        finally
        {
            var after = await SteadyStateAfterAsync(context);
            if (after.Count > 0)
            {
                blocked.Reason = $"{context.Name} left the cluster not as it found it: {string.Join("; ", after)}";
                context.Progress(blocked.Reason);
            }
            // Recorded even when a revert failed, so the gate sees this run's verdict on the check.
            outcome = CheckVerdict.Outcome(new CheckEnding(body.Status, _notApplicable, unreverted, interrupted is not null, blocked.Reason is not null));
            recordOutcome(outcome);
            RecordTimeByPart();
            if (interrupted is not null) report.Stop(Status.Broken, interrupted, body.StackTrace);
            try { await context.DisposeAsync(); } // its reverts ran above; this ends its cancellation and frees its nodes
            catch (UnrevertedFaultException) { } // already thrown and reported by the step above
        }
        if (CheckVerdict.FailsAfterPassing(new CheckEnding(body.Status, _notApplicable, unreverted, interrupted is not null, blocked.Reason is not null)))
            throw new UnrevertedFaultException($"Unreverted fault: {blocked.Reason}");
        return outcome;
    }

    /// <summary>The check's namespace, as a fault of every check: deleting it (and all the check made in it) is its revert.</summary>
    private static Fault NamespaceFault(string ns) => Fault.InCluster(NamespaceFaultName, ns, $"kubectl create namespace {ns}", Revert.DeleteNamespace(ns));

    /// <summary>Dry run: what this check would inject where (its declared faults); nothing is created.</summary>
    private string ListPlannedFaults(CheckContext context)
    {
        var plan = context.Planned!.Select(f => f.ToString()).ToList();
        report.Attach("dry run: what this check would inject", string.Join("\n", plan));
        return "dry run, nothing injected. Would inject: " + string.Join("; ", plan);
    }

    /// <summary>Waits until no running check breaks a node this one uses (a step only when it had to wait: that time is no part of the book's narrative).</summary>
    private async Task QueueForNodesAsync(CheckContext context)
    {
        var claim = check.Claim();
        report.Parameter("touches", claim.ToString(), excluded: true);
        IReadOnlyList<string>? waitedFor = null;
        var claimed = context.ClaimAsync(claim, blockers =>
        {
            waitedFor = blockers;
            context.Progress($"{context.Name} ({claim}) waits for {string.Join(", ", blockers)}");
        }, OwnBackstop);
        if (!claimed.IsCompleted)
            await report.Step($"{QueuedStepPrefix} {string.Join(", ", waitedFor ?? [])} ({claim})", StepPart.Queued, () => claimed);
        await claimed;
    }

    /// <summary>The one steady-state look, before and after: the same settle time, the nodes other checks are breaking left out.</summary>
    private async Task<IReadOnlyList<string>> SteadyStateAsync(CheckContext context, string? namespaceGone, CancellationToken ct)
    {
        var elsewhere = context.BrokenElsewhere;
        if (elsewhere.Count > 0) report.Attach("left out: nodes other checks are breaking now", string.Join("\n", elsewhere.Order()));
        return await cluster.SteadyStateAsync(SteadyStateSettle, elsewhere, namespaceGone, ct);
    }

    /// <summary>
    /// The steady state again, whatever the check's token says, and its namespace gone. A look that cannot be made
    /// counts as a problem: the checks after it must not trust a cluster nobody could read.
    /// </summary>
    private async Task<IReadOnlyList<string>> SteadyStateAfterAsync(CheckContext context)
    {
        IReadOnlyList<string> problems = [];
        try
        {
            await report.Step($"steady state again: {SteadyStateLook}; nothing of the check left (namespace {context.Namespace})", StepPart.Harness, async () =>
            {
                problems = await SteadyStateAsync(context, context.Namespace, CancellationToken.None);
                if (problems.Count > 0) throw new ClusterNotAsFoundException(string.Join("; ", problems));
            });
        }
        catch (ClusterNotAsFoundException) { } // the step shows it; the run is blocked below
        catch (Exception e) when (problems.Count == 0)
        {
            problems = [$"the cluster could not be looked at after the check: {e.Message.Split('\n')[0]}"];
        }
        return problems;
    }

    /// <summary>
    /// The report says which of the check's time the book's narrative needs (its steps and their waits) and which is the
    /// harness's own (steady state, namespace, evidence, leaving the cluster as found) or queued for other checks' nodes.
    /// </summary>
    private void RecordTimeByPart()
    {
        var time = report.TimeByPart();
        report.Parameter("time in the book's steps", $"{time[StepPart.Book].TotalSeconds:0.0} s", excluded: true);
        report.Parameter("time in the harness's own steps", $"{time[StepPart.Harness].TotalSeconds:0.0} s", excluded: true);
        report.Parameter("time queued for nodes other checks use", $"{time[StepPart.Queued].TotalSeconds:0.0} s", excluded: true);
    }
}

/// <summary>The steady state after a check is not the one before it: the check left the cluster not as it found it.</summary>
public sealed class ClusterNotAsFoundException(string problems) : Exception($"the cluster is not as the check found it: {problems}");

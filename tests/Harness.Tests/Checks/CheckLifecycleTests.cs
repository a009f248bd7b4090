using Harness.Checks;
using Harness.Faults;
using Harness.Kube;
using Harness.NUnitAdapter;
using Harness.Reporting;
using Harness.Tests.Faults;
using Harness.Waits;
using NUnit.Framework;

namespace Harness.Tests.Checks;

/// <summary>
/// A check's lifecycle on a fake cluster: it queues for its nodes, checks the steady state, makes its namespace, and
/// after the check's own steps reverts what is left, asks the same steady state again and records the verdict.
/// </summary>
public class CheckLifecycleTests
{
    private const string Check = "PodHangsInTerminatingUntilKubeletIsBack";
    private const string Ns = "verification-podhangsinterminatinguntilkubeletisback";

    /// <summary>What the lifecycle did on the cluster, in order; the steady state answers what it is told to.</summary>
    private sealed class FakeCluster : ILifecycleCluster, IReverter
    {
        public List<string> Calls { get; } = [];
        public List<(TimeSpan Settle, IReadOnlySet<string> Elsewhere, string? NamespaceGone)> SteadyStates { get; } = [];
        public Queue<IReadOnlyList<string>> SteadyStateAnswers { get; } = [];

        public Task<IReadOnlyList<string>> SteadyStateAsync(TimeSpan settle, IReadOnlySet<string> brokenElsewhere, string? namespaceGone, CancellationToken ct)
        {
            Calls.Add($"steady state{(namespaceGone is null ? "" : $", {namespaceGone} gone")}");
            SteadyStates.Add((settle, brokenElsewhere, namespaceGone));
            return Task.FromResult(SteadyStateAnswers.TryDequeue(out var problems) ? problems : []);
        }

        public Task CreateNamespaceAsync(string ns, CancellationToken ct) => Done($"kubectl create namespace {ns}");
        public Task FurnishNamespaceAsync(string ns, TestScope report, CancellationToken ct) => Done($"furnish {ns}");
        public Task AttachEvidenceAsync(string ns, DateTimeOffset since, IEnumerable<string> nodes, TestScope report) =>
            Done($"evidence of {ns} and {string.Join(", ", nodes)}");
        public Task RevertAsync(Revert revert, CancellationToken ct) => Done($"revert {revert}");

        private Task Done(string call)
        {
            Calls.Add(call);
            return Task.CompletedTask;
        }
    }

    private sealed class Setup : IDisposable
    {
        private readonly TempLedger _ledger = new();
        public FakeCluster Cluster { get; } = new();
        public RunBlock Run { get; } = new();
        public ClaimBoard Board { get; } = new();
        public List<string> Outcomes { get; } = [];
        public TestScope Report { get; } = global::Harness.Reporting.Report.StartTest(new TestResult { Name = Check, FullName = Check }, writer: null, frameworkStatus: NUnitOutcomes.StatusOf);
        public CheckContext? Context { get; private set; }
        public string? NotApplicable { get; init; }
        public bool DryRun { get; init; }
        public ClusterClaim Claim { get; init; } = ClusterClaim.Nothing.Breaking(["w1-k8s"]);

        public CheckLifecycle Lifecycle() => new(
            new CheckDeclaration(_ => Task.FromResult(NotApplicable), () => [KubeletStopped], () => Claim),
            () => Context = new CheckContext(Check, Ns, cluster: null,
                new FaultScope(_ledger.Ledger, Cluster, new FaultPolicy(new HashSet<string> { "w1-k8s" }, DryRun: false), "run-1", Check),
                Report, metrics: null, _ => { }, new CancellationTokenSource(),
                ct => new ClusterWaits((_, _) => throw new AssertionException("no pods here"), () => throw new AssertionException("no nodes here"), null, ct),
                claims: Board, fail: message => Assert.Fail(message)),
            Cluster, Run, DryRun, Outcomes.Add, Report);

        public IEnumerable<string> TopSteps => Report.Result.Steps.Select(s => s.Name);

        public void Dispose() => _ledger.Dispose();
    }

    private static readonly Fault KubeletStopped =
        Fault.OnNode("kubelet stopped", "w1-k8s", "systemctl stop kubelet", Revert.OnNode("w1-k8s", "systemctl start kubelet"));

    private static Task<InjectedFault> StopKubelet(CheckContext context) => context.InjectAsync(KubeletStopped, _ => Task.CompletedTask);

    [Test]
    public async Task The_same_steady_state_is_asked_before_and_after_the_check()
    {
        using var setup = new Setup();
        var lifecycle = setup.Lifecycle();

        Assert.That(await lifecycle.StartAsync(CancellationToken.None), Is.Null, "the check goes on");
        await StopKubelet(setup.Context!);
        var outcome = await lifecycle.EndAsync(new CheckBody(Status.Passed), interruptedBy: null);

        Assert.That(setup.Cluster.Calls, Is.EqualTo(new[]
        {
            "steady state",
            $"kubectl create namespace {Ns}",
            $"furnish {Ns}",
            "revert on w1-k8s: systemctl start kubelet",
            $"revert kubectl delete namespace {Ns}",
            $"steady state, {Ns} gone",
        }));
        var (before, after) = (setup.Cluster.SteadyStates[0], setup.Cluster.SteadyStates[1]);
        Assert.That(after.Settle, Is.EqualTo(before.Settle).And.EqualTo(CheckLifecycle.SteadyStateSettle), "the same deadline both times");
        Assert.That((before.NamespaceGone, after.NamespaceGone), Is.EqualTo(((string?)null, Ns)), "after it, nothing of the check may be left");
        Assert.That(setup.TopSteps, Has.Some.EqualTo($"steady state: {CheckLifecycle.SteadyStateLook}")
            .And.Some.StartsWith($"steady state again: {CheckLifecycle.SteadyStateLook}"));
        Assert.That(outcome, Is.EqualTo("passed"));
        Assert.That(setup.Outcomes, Is.EqualTo(new[] { "passed" }), "recorded once");
        Assert.That(setup.Board.Held(), Is.Empty, "its nodes are free again");
    }

    [Test]
    public async Task A_cluster_not_steady_before_the_check_fails_it_and_nothing_is_created()
    {
        using var setup = new Setup();
        setup.Cluster.SteadyStateAnswers.Enqueue(["kube-scheduler on m-k8s: CrashLoopBackOff"]);
        var lifecycle = setup.Lifecycle();

        var failed = await Assert.ThrowsAsync<AssertionException>(() => lifecycle.StartAsync(CancellationToken.None));

        Assert.That(failed!.Message, Does.Contain("the cluster must be healthy before a fault is injected").And.Contain("kube-scheduler on m-k8s: CrashLoopBackOff"));
        Assert.That(setup.Cluster.Calls, Is.EqualTo(new[] { "steady state" }), "no namespace, nothing to revert");
        Assert.That(setup.Outcomes, Is.EqualTo(new[] { "failed" }));
        Assert.That(setup.Board.Held(), Is.Empty, "its nodes are freed at once");
        Assert.That(await lifecycle.EndAsync(new CheckBody(Status.Failed), interruptedBy: null), Is.Null, "the tear-down has nothing left to do");
    }

    [Test]
    public async Task A_cluster_not_as_found_after_the_check_blocks_the_run_and_a_passed_check_ends_red()
    {
        using var setup = new Setup();
        setup.Cluster.SteadyStateAnswers.Enqueue([]);
        setup.Cluster.SteadyStateAnswers.Enqueue(["kube-proxy on w1-k8s: 0/1 Ready"]); // a component, which the look after the check used to miss
        var lifecycle = setup.Lifecycle();
        await lifecycle.StartAsync(CancellationToken.None);

        var red = await Assert.ThrowsAsync<UnrevertedFaultException>(() => lifecycle.EndAsync(new CheckBody(Status.Passed), interruptedBy: null));

        var reason = $"{Check} left the cluster not as it found it: kube-proxy on w1-k8s: 0/1 Ready";
        Assert.That(setup.Run.Reason, Is.EqualTo(reason));
        Assert.That(red!.Message, Is.EqualTo($"Unreverted fault: {reason}"));
        Assert.That(setup.Outcomes, Is.EqualTo(new[] { "broken" }));
        Assert.That(setup.Report.Result.Steps.Last().Status, Is.EqualTo(Status.Broken), "the look after the check shows it");
    }

    [Test]
    public async Task A_blocked_run_starts_no_check()
    {
        using var setup = new Setup();
        setup.Run.Reason = "KubeletTests left the cluster not as it found it: kubelet on w3-k8s: not active";
        var lifecycle = setup.Lifecycle();

        var blocked = await Assert.ThrowsAsync<InvalidOperationException>(() => lifecycle.StartAsync(CancellationToken.None));

        Assert.That(blocked!.Message, Is.EqualTo($"Blocked: {setup.Run.Reason}"));
        Assert.That((setup.Context, setup.Cluster.Calls), Is.EqualTo(((CheckContext?)null, new List<string>())));
        Assert.That(setup.Outcomes, Is.EqualTo(new[] { "broken" }));
        Assert.That(await lifecycle.EndAsync(new CheckBody(Status.Broken), interruptedBy: null), Is.Null);
    }

    [Test]
    public async Task A_check_with_nothing_to_check_here_is_skipped_before_it_queues()
    {
        using var setup = new Setup { NotApplicable = "not applicable: profile 'lab' has no CoreDNS" };

        var skipped = await setup.Lifecycle().StartAsync(CancellationToken.None);

        Assert.That(skipped, Is.EqualTo(setup.NotApplicable));
        Assert.That((setup.Context, setup.Cluster.Calls), Is.EqualTo(((CheckContext?)null, new List<string>())));
        Assert.That(setup.Outcomes, Is.EqualTo(new[] { CheckOutcomes.NotApplicable }));
    }

    [Test]
    public async Task A_dry_run_lists_what_the_check_would_inject_and_creates_nothing()
    {
        using var setup = new Setup { DryRun = true };
        var lifecycle = setup.Lifecycle();

        var skipped = await lifecycle.StartAsync(CancellationToken.None);
        var outcome = await lifecycle.EndAsync(new CheckBody(Status.Skipped), interruptedBy: null);

        Assert.That(skipped, Does.StartWith("dry run, nothing injected. Would inject: the check's namespace on " + Ns)
            .And.EndWith("; kubelet stopped on w1-k8s: `systemctl stop kubelet` — revert: on w1-k8s: systemctl start kubelet"));
        Assert.That(setup.Cluster.Calls, Is.Empty);
        Assert.That((outcome, setup.Outcomes.Count), Is.EqualTo(((string?)null, 0)), "a dry run is no verdict");
    }

    [Test]
    public async Task A_red_check_gets_evidence_before_its_faults_are_reverted()
    {
        using var setup = new Setup();
        var lifecycle = setup.Lifecycle();
        await lifecycle.StartAsync(CancellationToken.None);
        setup.Context!.Involve("w1-k8s");
        await StopKubelet(setup.Context);

        var outcome = await lifecycle.EndAsync(new CheckBody(Status.Failed, "nginx-pod did not show Terminating"), interruptedBy: null);

        Assert.That(setup.Cluster.Calls.Skip(3).Take(2), Is.EqualTo(new[] { $"evidence of {Ns} and w1-k8s", "revert on w1-k8s: systemctl start kubelet" }));
        Assert.That(outcome, Is.EqualTo("failed"));
        Assert.That(setup.Run.Reason, Is.Null, "its own red does not block the run when it left the cluster as found");
    }

    [Test]
    public async Task An_interrupted_check_is_broken_with_no_evidence_and_its_faults_reverted()
    {
        using var setup = new Setup();
        var lifecycle = setup.Lifecycle();
        await lifecycle.StartAsync(CancellationToken.None);
        await StopKubelet(setup.Context!);

        var outcome = await lifecycle.EndAsync(new CheckBody(Status.Failed, "The operation was canceled.\nat …"), interruptedBy: "SIGINT");

        Assert.That(setup.Cluster.Calls, Has.None.StartsWith("evidence"));
        Assert.That(setup.Cluster.Calls, Has.Some.EqualTo("revert on w1-k8s: systemctl start kubelet"));
        Assert.That(outcome, Is.EqualTo("broken"));
        Assert.That((setup.Report.Result.Status, setup.Report.Result.StatusDetails?.Message), Is.EqualTo((Status.Broken,
            "Run interrupted by SIGINT: this check was cancelled at 'The operation was canceled.'; its faults are reverted below")));
    }

    [Test]
    public async Task A_check_that_finds_mid_way_it_has_nothing_to_check_is_recorded_not_applicable()
    {
        using var setup = new Setup();
        var lifecycle = setup.Lifecycle();
        await lifecycle.StartAsync(CancellationToken.None);

        lifecycle.NotApplicable("not applicable: the edition's steps leave forwarding on");
        var outcome = await lifecycle.EndAsync(new CheckBody(Status.Skipped), interruptedBy: null);

        Assert.That(outcome, Is.EqualTo(CheckOutcomes.NotApplicable));
        Assert.That(setup.Cluster.Calls.Last(), Is.EqualTo($"steady state, {Ns} gone"), "its namespace is deleted and the cluster looked at all the same");
    }

    [Test]
    public async Task A_check_that_waits_for_nodes_says_so_in_a_step_of_its_own()
    {
        using var setup = new Setup { Claim = ClusterClaim.Nothing.Needing(["w1-k8s"]) };
        var holder = await setup.Board.AcquireAsync("KubeletTests", ClusterClaim.Nothing.Breaking(["w1-k8s"]), CancellationToken.None);
        var lifecycle = setup.Lifecycle();

        var start = lifecycle.StartAsync(CancellationToken.None);
        await Task.Delay(200);
        Assert.That((start.IsCompleted, setup.Cluster.Calls.Count), Is.EqualTo((false, 0)), "nothing before it has its nodes");
        holder.Dispose();
        await start;

        var queued = setup.Report.Result.Steps[0];
        Assert.That(queued.Name, Is.EqualTo($"{CheckLifecycle.QueuedStepPrefix} KubeletTests (needs w1-k8s healthy)"));
        Assert.That(StepParts.Of(queued), Is.EqualTo(StepPart.Queued));
        await lifecycle.EndAsync(new CheckBody(Status.Passed), interruptedBy: null);
    }

    [Test]
    public async Task Both_steady_states_leave_out_the_nodes_a_check_beside_it_is_breaking()
    {
        using var setup = new Setup { Claim = ClusterClaim.Nothing.Needing(["w1-k8s"]) };
        using var beside = await setup.Board.AcquireAsync("KubeletTests", ClusterClaim.Nothing.Breaking(["w3-k8s"]), CancellationToken.None);
        var lifecycle = setup.Lifecycle();

        await lifecycle.StartAsync(CancellationToken.None);
        await lifecycle.EndAsync(new CheckBody(Status.Passed), interruptedBy: null);

        Assert.That(setup.Cluster.SteadyStates.Select(s => s.Elsewhere), Has.All.EquivalentTo(new[] { "w3-k8s" }));
    }
}

using Harness.Checks;
using Harness.ClusterAccess;
using Harness.Faults;
using Harness.Kube;
using Harness.Kube.Kubectl;
using Harness.Nodes;
using Harness.NUnitAdapter;
using Harness.Probes;
using Harness.Profiles;
using Harness.Reporting;
using Harness.Safety;
using Harness.Text;
using Harness.Waits;
using k8s;
using k8s.Models;
using NUnit.Framework;
using NUnit.Framework.Interfaces;

namespace Verification;

/// <summary>
/// What every check shares, in the order the book's narrative needs it: a steady-state check first, the check's
/// namespace (its deletion registered as a revert), faults whose reverts are registered before they are injected,
/// evidence when the check is red, and after it the cluster as it was found. The NUnit glue around a
/// <see cref="CheckContext"/>: SetUp makes one for each check, TearDown undoes it; the helpers below read it, never a
/// static (NUnit keeps one fixture instance for all its tests, so <see cref="Context"/> is reset in SetUp).
/// </summary>
public abstract class ClusterCheck
{
    private CheckContext? _context;

    /// <summary>
    /// Every check's [CancelAfter], in ms: the outermost guard against a hang, not a deadline of the book's (each wait
    /// has its own, from the profile's timeouts). NUnit counts SetUp in it, so it covers the time a check queues for
    /// nodes other checks hold (up to the rest of the suite: about 15 min on the lab with the control-plane checks) plus
    /// <see cref="OwnBackstop"/>.
    /// </summary>
    protected const int Backstop = 3_600_000;

    /// <summary>The backstop from the moment the check has its nodes (<see cref="CheckContext.ClaimAsync"/>).</summary>
    private static readonly TimeSpan OwnBackstop = TimeSpan.FromMinutes(15);

    /// <summary>This check's context: its namespace, faults, report, metrics, cancellation and waits.</summary>
    protected CheckContext Context => _context ?? throw new InvalidOperationException("no check is running (the context is made in SetUp)");

    protected Cluster Cluster => Context.Cluster;
    protected ClusterProfile Profile => Context.Profile;

    /// <summary>The profile's timeouts as durations, as e2e's <c>f.Timeouts</c>.</summary>
    protected Timeouts Timeouts => Profile.Timeouts.ToTimeouts();
    protected IKubernetes Api => Context.Api;

    /// <summary>The check's namespace (for now every check's is the run's <c>verification</c>).</summary>
    protected string Ns => Context.Namespace;

    /// <summary>The edition's nginx pod: nginx-pod (first edition), po-nginx (revised).</summary>
    protected string NginxPod => Profile.Edition.NginxPod;

    /// <summary>
    /// The faults <paramref name="check"/> (a test method of this fixture) injects, each declared once as a value: the dry
    /// run lists them, the check injects them (<see cref="InjectAsync"/>), and a fault not declared here is refused.
    /// </summary>
    protected abstract IEnumerable<Fault> FaultsOf(string check);

    /// <summary>
    /// What <paramref name="check"/> touches, as data: checks whose claims do not conflict run side by side. By default
    /// it breaks the nodes of its node faults (a stopped kubelet, a cordon) and needs the control plane; a check adds
    /// the nodes its pods run on (<see cref="EveryWorker"/> when the scheduler places them).
    /// </summary>
    protected virtual ClusterClaim ClaimOf(string check) => ClaimOfFaults(check);

    protected ClusterClaim ClaimOfFaults(string check) =>
        ClusterClaim.Nothing.Breaking(FaultsOf(check).Where(f => f.IsNodeFault).Select(f => f.Target)).Needing([Profile.ControlPlane]);

    /// <summary>Every worker: where the scheduler may put a Deployment's pods.</summary>
    protected IEnumerable<string> EveryWorker => Profile.Workers;

    /// <summary>Registers the fault's revert (ledger first), then makes it with <paramref name="inject"/>.</summary>
    protected Task<InjectedFault> InjectAsync(Fault fault, Func<CancellationToken, Task> inject) => Context.InjectAsync(fault, inject);

    /// <summary>A node fault the book's way: its command run as root on its node.</summary>
    protected Task<InjectedFault> InjectOnNodeAsync(Fault fault) => Context.InjectOnNodeAsync(fault);

    /// <summary>The book's recovery step (default: the fault's revert); the ledger entry is closed once it succeeded.</summary>
    protected Task RecoverAsync(InjectedFault fault, Func<CancellationToken, Task>? recovery = null) => Context.RecoverAsync(fault, recovery);

    /// <summary>This check's Allure result: its steps, attachments and parameters.</summary>
    protected TestScope Report => Context.Report;

    protected DateTimeOffset StartedAt => Context.StartedAt;

    /// <summary>The test's own deadline ([CancelAfter]) and Ctrl-C/SIGTERM together.</summary>
    protected CancellationToken Token => Context.Cancellation;

    /// <summary>A live console line (not in the report).</summary>
    protected void Progress(string message) => Context.Progress(message);

    /// <summary>One pod of the check's namespace: <c>await Pod(NginxPod).Until(p =&gt; p.IsTerminating(), "to show Terminating", timeout)</c>.</summary>
    protected ObjectWait<V1Pod> Pod(string name) => Context.Pod(name);

    /// <summary>The check's namespace's pods with this label selector (e.g. <c>app=nginx</c>).</summary>
    protected ObjectsWait<V1Pod> Pods(string labelSelector) => Context.Pods(labelSelector);

    /// <summary>One node, every node watched (the outcome shows them all, as <c>kubectl get nodes</c>).</summary>
    protected ObjectWait<V1Node> Node(string name) => Context.Node(name);

    /// <summary>The book's w2-k8s (its br_netfilter check): the second worker that is a fault target, or the last when there is one.</summary>
    protected string SecondWorker => SecondWorkerOf(Profile);

    /// <summary><see cref="SecondWorker"/> before the check has a context (<see cref="NotApplicableOnNodesAsync"/>).</summary>
    protected static string SecondWorkerOf(ClusterProfile profile)
    {
        var targets = profile.Workers.Where(profile.FaultTargets.Contains).ToList();
        return targets.Count == 0
            ? profile.Workers.FirstOrDefault(profile.FaultTargets.Contains)
              ?? throw new InvalidOperationException($"Profile '{profile.Name}' marks no worker as a fault target ('faultTargets').")
            : targets[Math.Min(1, targets.Count - 1)];
    }

    /// <summary>The worker the book uses for node-level faults: the first fault target that is a worker.</summary>
    protected string TargetWorker =>
        Profile.Workers.FirstOrDefault(Profile.FaultTargets.Contains)
        ?? throw new InvalidOperationException($"Profile '{Profile.Name}' marks no worker as a fault target ('faultTargets').");

    /// <summary>The book's w3-k8s: the last worker, when it is a fault target.</summary>
    protected string LastWorker =>
        Profile.Workers.LastOrDefault(Profile.FaultTargets.Contains)
        ?? throw new InvalidOperationException($"Profile '{Profile.Name}' marks no worker as a fault target ('faultTargets').");

    protected void Involve(string node) => Context.Involve(node);

    /// <summary>
    /// Why this check has nothing to check on the profile's cluster (the lab has no CoreDNS; a profile keeps a component
    /// out of reach), or null. Such a check is skipped before it waits for nodes or creates anything, and the gate reads
    /// it as not applicable, not as a check that did not pass.
    /// </summary>
    protected virtual string? NotApplicableOn(ClusterProfile profile) => null;

    /// <summary>
    /// The same, read from the cluster's nodes rather than the profile (e.g. pods routed, not bridged, on the check's
    /// worker: <see cref="NodeFacts"/>), asked right after <see cref="NotApplicableOn"/>, before the check waits for nodes.
    /// Read only: nothing may be changed here.
    /// </summary>
    protected virtual Task<string?> NotApplicableOnNodesAsync(Cluster cluster, CancellationToken ct) => Task.FromResult<string?>(null);

    /// <summary>Set by <see cref="NotApplicable"/>: the check found mid-way that it has nothing to check here.</summary>
    private bool _notApplicable;

    /// <summary>
    /// Ends the check as not applicable from what it found on the cluster after it started (S3: the edition's steps
    /// leave the routed path alone): recorded as not applicable (green for the gate) unless a revert fails in TearDown.
    /// </summary>
    protected void NotApplicable(string reason)
    {
        _notApplicable = true;
        Report.Parameter("not applicable", reason, excluded: true);
        Assert.Ignore(reason);
    }

    private static void SkipAsNotApplicable(RunContext run, string check, TestScope report, string reason)
    {
        report.Parameter("not applicable", reason, excluded: true);
        new CheckMetrics(run.Metrics, check, report).RecordOutcome(CheckOutcomes.NotApplicable);
        Assert.Ignore(reason);
    }

    [SetUp]
    public async Task BeforeCheckAsync()
    {
        // NUnit keeps one fixture instance for all its tests: nothing of the previous test may leak into this one,
        // even when this SetUp throws before it gets to make its own.
        _context = null;
        _notApplicable = false;
        var run = Suite.Run;
        var test = TestContext.CurrentContext.Test;
        var report = AllureNUnitAttribute.ScopeOfRunningTest() ?? TestScope.NotRecorded(test.FullName);
        if (run.Blocked is { } reason)
        {
            new CheckMetrics(run.Metrics, test.Name, report).RecordOutcome("broken");
            throw new InvalidOperationException($"Blocked: {reason}");
        }
        // Before it waits for nodes or creates anything: the profile, or its nodes, say this cluster has nothing for it to check.
        if (NotApplicableOn(run.Cluster.Profile) is { } notApplicable)
            SkipAsNotApplicable(run, test.Name, report, notApplicable);
        if (await NotApplicableOnNodesAsync(run.Cluster, TestContext.CurrentContext.CancellationToken) is { } fromNodes)
            SkipAsNotApplicable(run, test.Name, report, fromNodes);
        _context = CheckContext.Start(run, test.Name, test.FullName, report, TestContext.CurrentContext.CancellationToken);
        Context.Plan(FaultsOf(test.MethodName!).Prepend(CheckNamespace));
        if (Profile.Safety.DryRun) ListPlannedFaultsAndStop();
        if (Profile.Edition.ChecksNotInBook.Contains(test.MethodName!))
            Report.Parameter("book", $"not in chapter 3 of the edition profile '{Profile.Name}' follows: checked as a property of the cluster", excluded: true);

        try
        {
            var claim = ClaimOf(test.MethodName!);
            Report.Parameter("touches", claim.ToString(), excluded: true);
            IReadOnlyList<string>? waitedFor = null;
            var claimed = Context.ClaimAsync(claim, blockers =>
            {
                waitedFor = blockers;
                Progress($"{test.Name} ({claim}) waits for {string.Join(", ", blockers)}");
            }, OwnBackstop);
            if (!claimed.IsCompleted) // a step only when it had to wait: its time is no part of the book's narrative
                await Report.Step($"{QueuedStepPrefix} {string.Join(", ", waitedFor ?? [])} ({claim})", StepPart.Queued, () => claimed);
            await claimed;

            await Report.Step("steady state: nodes Ready and schedulable, kubelet active, control plane and kube-system components healthy", StepPart.Harness, async () =>
            {
                var elsewhere = Context.BrokenElsewhere;
                if (elsewhere.Count > 0) Report.Attach("left out: nodes other checks are breaking now", string.Join("\n", elsewhere.Order()));
                var problems = await Preflight.HealthAsync(Cluster, namespaceGone: null, SteadyStateSettle, Token, elsewhere);
                Assert.That(problems, Is.Empty, "the cluster must be healthy before a fault is injected (a component this check needs is down)");
            });
            await Report.Step($"kubectl create namespace {Ns}", StepPart.Harness, () => InjectAsync(CheckNamespace, t => Cluster.Namespaces.EnsureAsync(Ns, t)));
            if (PullSecrets.Source(Profile.Images.PullSecret) is var (secretNs, secret))
                await Report.Step($"images.pullSecret: Secret {secretNs}/{secret} copied into {Ns} (pods name it in imagePullSecrets)", StepPart.Harness,
                    () => PullSecrets.CopyAsync(Api, Profile.Images.PullSecret, Ns, Token));
        }
        catch (Exception e)
        {
            // NUnit may skip TearDown when SetUp throws: revert here what SetUp already did (and free its nodes), and record the outcome.
            try { await Context.DisposeAsync(); }
            finally
            {
                RecordOutcome(Report.StatusOf(e).ToString().ToLowerInvariant());
                _context = null; // undone: a TearDown that runs anyway has nothing left to do
            }
            if (NUnitOutcomes.AsAssertion(e) is { } failure) throw failure; // a timed-out wait fails the check, as an assertion does
            throw;
        }
    }

    private const string SuiteNamespaceFault = "the check's namespace";

    /// <summary>The step a check spends waiting for nodes other checks hold (marked queued: the report and bench/suite count it apart).</summary>
    private const string QueuedStepPrefix = "wait for the nodes it uses: held by";

    /// <summary>The check's namespace, as a fault of every check: deleting it (and all the check made in it) is its revert.</summary>
    private Fault CheckNamespace => Fault.InCluster(SuiteNamespaceFault, Ns, $"kubectl create namespace {Ns}", Revert.DeleteNamespace(Ns));

    /// <summary>How long the components may take to settle before a check (a node rebooted by the check before restarts its kube-proxy).</summary>
    private static readonly TimeSpan SteadyStateSettle = TimeSpan.FromSeconds(60);

    /// <summary>This run's verdict on this check, once, for the gate (reports/metrics.jsonl).</summary>
    private void RecordOutcome(string status) => Context.Metrics!.RecordOutcome(status);

    /// <summary>Dry run: say what this check would inject where (its declared faults), and stop before anything is created.</summary>
    private void ListPlannedFaultsAndStop()
    {
        var plan = Context.Planned!.Select(f => f.ToString()).ToList();
        Report.Attach("dry run: what this check would inject", string.Join("\n", plan));
        Assert.Ignore("dry run, nothing injected. Would inject: " + string.Join("; ", plan));
    }

    [TearDown]
    public async Task AfterCheckAsync()
    {
        if (_context is null) return; // SetUp stopped before this check had a context (blocked): its outcome is recorded
        if (Profile.Safety.DryRun) // nothing was created, nothing to revert or check
        {
            await _context.DisposeAsync();
            return;
        }
        var run = Suite.Run;
        var outcome = TestContext.CurrentContext.Result.Outcome.Status;
        // A check cut short by Ctrl-C/SIGTERM has no verdict on the cluster: whatever its last wait said, it is broken,
        // not failed (a failed check reads as "the cluster did not recover").
        var interrupted = Suite.InterruptedBy is { } signal
            ? $"Run interrupted by {signal}: this check was cancelled at '{TestContext.CurrentContext.Result.Message?.Split('\n')[0]}'; its faults are reverted below"
            : null;
        if (outcome is TestStatus.Failed or TestStatus.Warning && run.Blocked is null && interrupted is null)
            await Report.Step("evidence", StepPart.Harness, () => Evidence.AttachAsync(Cluster, Ns, StartedAt, Context.InvolvedNodes.Append(Profile.ControlPlane), Report, CancellationToken.None));

        // Faults reverted by deleting the namespace (a killed PID 1, a bad image tag) count; the namespace itself does not.
        var faults = Context.Faults.History.Where(e => e.Fault != SuiteNamespaceFault).Select(e => $"{e.Fault} on {e.Node}").ToList();
        if (faults.Count > 0) Report.Parameter("faults", string.Join("; ", faults), excluded: true);
        var unreverted = false;
        try
        {
            await Report.Step("leave the cluster as found: revert what is still in place", StepPart.Harness, () => Context.CleanUpAsync());
        }
        catch (UnrevertedFaultException)
        {
            unreverted = true;
            throw;
        }
        finally
        {
            var after = await AfterStateAsync();
            if (!after.Healthy)
            {
                run.Blocked = $"{TestContext.CurrentContext.Test.Name} left the cluster not as it found it: {after}";
                Progress(run.Blocked);
            }
            // Recorded even when a revert failed, so the gate sees this run's verdict on the check.
            RecordOutcome(unreverted || interrupted is not null || run.Blocked is not null && outcome is TestStatus.Passed or TestStatus.Skipped
                ? "broken" : _notApplicable && outcome == TestStatus.Skipped ? CheckOutcomes.NotApplicable
                : AllureNUnitAttribute.StatusOf(TestContext.CurrentContext.Result.Outcome).ToString().ToLowerInvariant());
            RecordTimeByPart();
            if (interrupted is not null) Report.Stop(Status.Broken, interrupted, TestContext.CurrentContext.Result.StackTrace);
            try { await _context.DisposeAsync(); } // its reverts ran above; this ends its cancellation
            catch (UnrevertedFaultException) { } // already thrown and reported by the step above
        }
        if (run.Blocked is { } blocked && outcome == TestStatus.Passed)
            throw new UnrevertedFaultException($"Unreverted fault: {blocked}");
    }

    /// <summary>The cluster as the check leaves it; an API that fails or hangs here is explained from the control plane.</summary>
    private async Task<ClusterBaseline> AfterStateAsync()
    {
        try { return await ClusterBaseline.CheckAsync(Cluster, namespaceGone: Ns, CancellationToken.None, brokenElsewhere: Context.BrokenElsewhere); }
        catch (Exception e)
        {
            var explained = await Preflight.ExplainApiFailureAsync(Cluster, e, CancellationToken.None);
            if (explained is null) throw;
            return new ClusterBaseline(explained.Problems());
        }
    }

    /// <summary>
    /// The report says which of the check's time the book's narrative needs (its steps and their waits) and which is the
    /// harness's own (steady state, namespace, evidence, leaving the cluster as found) or queued for other checks' nodes.
    /// </summary>
    private void RecordTimeByPart()
    {
        var time = Report.TimeByPart();
        Report.Parameter("time in the book's steps", $"{time[StepPart.Book].TotalSeconds:0.0} s", excluded: true);
        Report.Parameter("time in the harness's own steps", $"{time[StepPart.Harness].TotalSeconds:0.0} s", excluded: true);
        Report.Parameter("time queued for nodes other checks use", $"{time[StepPart.Queued].TotalSeconds:0.0} s", excluded: true);
    }

    /// <summary>
    /// Repeats <paramref name="attempt"/> every 2 s until <paramref name="done"/> says its result is the one wanted,
    /// within <paramref name="deadline"/>; returns the last result either way (the caller asserts on it).
    /// </summary>
    protected async Task<T> PollAsync<T>(Func<CancellationToken, Task<T>> attempt, Func<T, bool> done, TimeSpan deadline) =>
        // The caller's assertion says what the last try saw.
        (await new Until<T>("the answer wanted", attempt, done).LastWithinAsync(deadline, Token)).Last!;

    // ---- steps shared by several checks ----------------------------------------------------------------------

    /// <summary><c>kubectl run nginx-pod --image=nginx</c>, pinned to <paramref name="node"/> so the fault lands where the pod is.</summary>
    protected async Task<V1Pod> RunNginxPodAsync(string node)
    {
        var name = NginxPod;
        Involve(node);
        return await Report.Step($"kubectl run {name} --image={Profile.Images.Nginx} (on {node})", async () =>
        {
            var pod = Context.Manifests.Pod(name, Profile.Images.Nginx, node, Profile.Images.PullSecret);
            await Api.CoreV1.CreateNamespacedPodAsync(pod, Ns, cancellationToken: Token);
            var ready = await Pod(name).Until(p => p.IsReady(), "to be Running and Ready", Timeouts.PodReady);
            var running = ready.Objects[name];
            Report.Attach("kubectl get pods -o wide", ObjectState.Describe(running));
            return running;
        });
    }

    protected Task<CurlResult> CurlFromControlPlaneAsync(string ip) =>
        Report.Step($"[{Profile.ControlPlane}]$ curl {ip}", async () =>
        {
            var result = await HttpProbe.CurlAsync(Cluster.ControlPlane, Profile.Commands.Curl, ip, Timeouts.Curl, Token);
            Report.Attach("curl", result.ToString());
            return result;
        });

    /// <summary>
    /// One of the book's kubectl commands, run on the control plane as the book types it (the check's namespace is the
    /// current context there, see <see cref="IKubectl.RunAsync"/>), with what kubectl printed attached to the
    /// current step. Not checked: the caller reads the output (a refusal can be the expected answer).
    /// </summary>
    protected async Task<CommandResult> KubectlAsync(string arguments, TimeSpan? timeout = null)
    {
        var result = await Context.KubectlAsync(arguments, timeout);
        Report.Attach($"kubectl {arguments}", result.ToString());
        return result;
    }

    /// <summary>A kubectl command as a reported step of its own, with its output; it must succeed unless told otherwise.</summary>
    protected async Task<CommandResult> KubectlStepAsync(string arguments, bool mustSucceed = true)
    {
        var display = arguments.Replace($" -n {Ns}", "");
        return await Report.Step($"kubectl {display}", async () =>
        {
            var result = await Context.KubectlAsync(arguments);
            Report.Attach("output", result.ToString());
            if (mustSucceed) result.EnsureSuccess();
            return result;
        });
    }

    /// <summary><c>kubectl scale deployment NAME --replicas=N</c>, which answers <c>deployment.apps/NAME scaled</c>.</summary>
    protected async Task KubectlScaleAsync(string deployment, int replicas)
    {
        var scaled = (await KubectlAsync($"scale deployment {deployment} --replicas={replicas}")).EnsureSuccess();
        Assert.That(KubectlOutput.VerbsFor(KubectlOutput.Text(scaled), "deployment.apps", deployment), Does.Contain("scaled"), scaled.ToString());
    }

    /// <summary><c>kubectl get nodes</c>: the node's STATUS column as kubectl prints it (e.g. <c>Ready,SchedulingDisabled</c>).</summary>
    protected async Task ExpectKubectlNodeStatusAsync(string node, string status)
    {
        var nodes = (await KubectlAsync("get nodes")).EnsureSuccess();
        Assert.That(KubectlTable.Parse(nodes.Stdout).Cell(node, "STATUS"), Is.EqualTo(status), nodes.ToString());
    }

    /// <summary>The book's workers get one echo-hname pod each from 3 replicas: as many replicas as workers.</summary>
    protected int OnePerWorker => Profile.Workers.Count;

    /// <summary>The book scales echo-hname to 9, three per worker: on two workers that is 6, on four 12.</summary>
    protected int ThreePerWorker => 3 * Profile.Workers.Count;

    /// <summary><c>kubectl apply -f echo-hname.yaml</c>: create, or set replicas when it exists; then wait for the pods.</summary>
    protected async Task<IReadOnlyList<V1Pod>> ApplyEchoHnameAsync(int replicas) =>
        await Report.Step($"kubectl apply -f echo-hname.yaml (replicas: {replicas})", async () =>
        {
            var deployment = Context.Manifests.EchoHname(Profile.Images.EchoHname, replicas, Profile.Images.PullSecret);
            var existing = await Api.AppsV1.ListNamespacedDeploymentAsync(Ns, fieldSelector: "metadata.name=echo-hname", cancellationToken: Token);
            if (existing.Items.Count == 0) await Api.AppsV1.CreateNamespacedDeploymentAsync(deployment, Ns, cancellationToken: Token);
            else await ScaleDeploymentAsync("echo-hname", replicas);
            return await WaitForReadyPodsAsync("app=nginx", replicas);
        });

    protected Task ScaleDeploymentAsync(string name, int replicas) =>
        Api.AppsV1.PatchNamespacedDeploymentScaleAsync(
            new V1Patch($"{{\"spec\":{{\"replicas\":{replicas}}}}}", V1Patch.PatchType.MergePatch), name, Ns, cancellationToken: Token);

    /// <summary>Exactly <paramref name="count"/> pods, all Ready, none Terminating; with <paramref name="ignoreLeaving"/>,
    /// pods already being deleted are not counted (a replaced ReplicaSet's pod that never started can take a minute to go,
    /// while the Deployment already serves with the others).</summary>
    protected async Task<IReadOnlyList<V1Pod>> WaitForReadyPodsAsync(string labelSelector, int count, Func<V1Pod, bool>? also = null, bool ignoreLeaving = false)
    {
        IEnumerable<V1Pod> Counted(IEnumerable<V1Pod> pods) => ignoreLeaving ? pods.Where(p => !p.IsTerminating()) : pods;
        var outcome = await Pods(labelSelector).Until(
            pods => Counted(pods.Values).Count() == count && Counted(pods.Values).All(p => p.IsReady() && (also?.Invoke(p) ?? true)),
            $"{count} Ready pods ({labelSelector})", Timeouts.PodReady);
        var pods = Counted(outcome.Objects.Values).OrderBy(p => p.Name()).ToList();
        Report.Attach("kubectl get pods -o=custom-columns=NAME,IP,STATUS,NODE",
            string.Join("\n", pods.Select(ObjectState.Describe)));
        return pods;
    }

    protected static Dictionary<string, int> PodsPerNode(IEnumerable<V1Pod> pods) =>
        pods.GroupBy(p => p.Spec.NodeName ?? "<none>").ToDictionary(g => g.Key, g => g.Count());

    /// <summary>A recovery figure of this check: in reports/metrics.jsonl and as an (excluded) Allure parameter.</summary>
    protected void Record(string phase, TimeSpan duration) => Context.Record(phase, duration);
}

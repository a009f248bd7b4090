using Harness.ClusterAccess;
using System.Diagnostics.CodeAnalysis;
using Harness.Faults;
using Harness.Kube;
using Harness.Profiles;
using Harness.Reporting;
using Harness.Waits;
using k8s;
using k8s.Models;

namespace Harness.Checks;

/// <summary>
/// Everything one check works with, made for it alone when it starts and undone when it ends — the Kubernetes e2e
/// framework's per-spec <c>Framework</c> (client, namespace, clean-ups registered with DeferCleanup): the shared
/// cluster, the check's namespace, its faults (<see cref="FaultScope"/>), its report, its metrics, its cancellation,
/// its waits, and the book's steps as services (<see cref="Kubectl"/>, <see cref="Workers"/>, <see cref="Workloads"/>).
/// Nothing in it is shared with another check beside it.
/// </summary>
public sealed class CheckContext : IAsyncDisposable
{
    private readonly Cluster? _cluster;
    private readonly Manifests? _manifests;
    private readonly CancellationTokenSource _cancellation;
    private readonly ClusterWaits _waits;
    private readonly HashSet<string> _involvedNodes = [];
    private readonly Lock _cleanUpGate = new();
    private Task? _cleanUp;
    private readonly ClaimBoard? _claims;
    private readonly Action<string> _fail;
    private IDisposable? _claim;

    /// <param name="fail">How the test framework fails a check (NUnit: <c>Assert.Fail</c>); by default a <see cref="CheckFailedException"/>.</param>
    internal CheckContext(string name, string ns, Cluster? cluster, FaultScope faults, TestScope report, CheckMetrics? metrics,
        Action<string> progress, CancellationTokenSource cancellation, Func<CancellationToken, ClusterWaits> waits, Manifests? manifests = null,
        ClaimBoard? claims = null, Action<string>? fail = null)
    {
        _claims = claims;
        _fail = fail ?? (message => throw new CheckFailedException(message));
        Name = name;
        _manifests = manifests;
        Namespace = ns;
        _cluster = cluster;
        Faults = faults;
        Report = report;
        Metrics = metrics;
        Progress = progress;
        _cancellation = cancellation;
        _waits = waits(cancellation.Token);
        Kubectl = new BookKubectl(this);
        Workloads = new Workloads(this);
    }

    /// <summary>
    /// The context of one check of <paramref name="run"/>. Its cancellation is the check's own deadline and the run's
    /// interruption together.
    /// </summary>
    /// <param name="name">The check as the gate knows it (the test method's name).</param>
    /// <param name="fullName">The check's full name, written into the ledger entries of its faults.</param>
    /// <param name="deadline">The check's own deadline (e.g. NUnit's [CancelAfter]).</param>
    /// <param name="fail">How the test framework fails a check (<see cref="Fail"/>).</param>
    public static CheckContext Start(RunContext run, string name, string fullName, TestScope report, CancellationToken deadline, Action<string> fail)
    {
        var ns = NamespaceOf(run.Namespace, name);
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(deadline, run.Interrupted);
        var faults = new FaultScope(run.Ledger, run.Cluster, run.Policy, run.RunId, fullName, run.Progress, run.Identity);
        return new CheckContext(name, ns, run.Cluster, faults, report, new CheckMetrics(run.Metrics, name, report), run.Progress,
            cancellation, token => run.Cluster.Waits(ns, token), run.Manifests, run.Claims, fail);
    }

    /// <summary>
    /// A check's own namespace: the run's, a dash, the check's name in lower case (a DNS label of at most 63
    /// characters), e.g. <c>verification-podhangsinterminatinguntilkubeletisback</c>. Checks side by side each have
    /// their own, so the book's <c>nginx-pod</c> can exist in two of them.
    /// </summary>
    public static string NamespaceOf(string runNamespace, string check)
    {
        var name = $"{runNamespace}-{new string(check.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).ToArray())}";
        return name.Length <= 63 ? name : name[..63];
    }

    /// <summary>The check's name, as the gate and the metrics know it.</summary>
    public string Name { get; }

    /// <summary>Where the check's objects live; deleting it is one of the check's reverts.</summary>
    public string Namespace { get; }

    public Cluster Cluster => _cluster ?? throw new InvalidOperationException($"the context of {Name} has no cluster (made by a unit test)");
    public ClusterProfile Profile => Cluster.Profile;

    /// <summary>The profile's timeouts as durations, as e2e's <c>f.Timeouts</c>.</summary>
    public Timeouts Timeouts => Profile.Timeouts.ToTimeouts();
    public IKubernetes Api => Cluster.Api;

    /// <summary>The book's manifests.</summary>
    public Manifests Manifests => _manifests ?? throw new InvalidOperationException($"the context of {Name} has no manifests (made by a unit test)");

    /// <summary>The check's faults and clean-ups, undone newest first when the check ends.</summary>
    public FaultScope Faults { get; }

    /// <summary>The check's Allure result: its steps, attachments and parameters.</summary>
    public TestScope Report { get; }

    /// <summary>The check's figures (null only in a unit test's context).</summary>
    public CheckMetrics? Metrics { get; }

    /// <summary>A live console line (not in the report).</summary>
    public Action<string> Progress { get; }

    /// <summary>The check's deadline and the run's interruption (Ctrl-C, SIGTERM) together.</summary>
    public CancellationToken Cancellation => _cancellation.Token;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Nodes the check touched: their kubelet journal is evidence when it is red.</summary>
    public IReadOnlyCollection<string> InvolvedNodes => _involvedNodes;

    public void Involve(string node) => _involvedNodes.Add(node);

    /// <summary>A recovery figure of this check: in reports/metrics.jsonl and as an (excluded) parameter of its report.</summary>
    public void Record(string phase, TimeSpan duration) => Metrics?.Record(phase, duration);

    /// <summary>
    /// Fails the check: the cluster did not do what the book says. The test framework's own failure (as Gomega's
    /// registered fail handler), so its report reads it as failed, not broken.
    /// </summary>
    [DoesNotReturn]
    public void Fail(string message)
    {
        _fail(message);
        throw new CheckFailedException(message); // a handler that returned
    }

    // ---- the book's steps -------------------------------------------------------------------------------------------

    /// <summary>The book's kubectl on the control plane, in the check's namespace: the one way a check runs kubectl.</summary>
    public BookKubectl Kubectl { get; }

    /// <summary>The book's workers: w1-k8s, w2-k8s and w3-k8s as the profile's fault targets name them.</summary>
    public BookWorkers Workers => BookWorkers.Of(Profile);

    /// <summary>The book's pods, Deployments and Services in the check's namespace, and the calls that reach them.</summary>
    public Workloads Workloads { get; }

    /// <summary>
    /// Registers something to undo when the check ends, as Ginkgo's DeferCleanup: undone newest first together with the
    /// reverts of the check's faults, also when the check failed or was cancelled (it gets a token of its own then).
    /// Not written to the ledger: use a fault for what a crashed run must still undo.
    /// </summary>
    public void DeferCleanup(string what, Func<CancellationToken, Task> cleanUp) => Faults.Defer(what, cleanUp);

    // ---- side by side -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Waits until no running check breaks a node this one uses or uses a node this one breaks, then holds the claim
    /// until the context is disposed (after the check has left the cluster as it found it). How long it waited is the
    /// caller's report step.
    /// </summary>
    /// <param name="onWait">Called with the checks it waits for, when it cannot start at once.</param>
    /// <param name="backstop">A guard against a hang, counted from the moment the check has its nodes (the queue before
    /// it can be as long as the rest of the suite): then the check's cancellation fires.</param>
    public async Task ClaimAsync(ClusterClaim claim, Action<IReadOnlyList<string>>? onWait = null, TimeSpan? backstop = null)
    {
        if (_claims is null) throw new InvalidOperationException($"the context of {Name} has no claim board (made by a unit test)");
        _claim = await _claims.AcquireAsync(Name, claim, Cancellation, onWait);
        if (backstop is { } limit)
        {
            _backstop = new CancellationTokenSource(limit);
            _backstop.Token.Register(() =>
            {
                Progress($"{Name}: cancelled by its backstop, {limit.TotalMinutes:0} min after it had its nodes (a wait that hung)");
                try { _cancellation.Cancel(); } catch (ObjectDisposedException) { } // the check ended meanwhile
            });
        }
    }

    private CancellationTokenSource? _backstop;

    /// <summary>The check was cancelled by its own backstop (<see cref="ClaimAsync"/>), not by the test framework or a signal.</summary>
    public bool BackstopReached => _backstop?.IsCancellationRequested == true;

    /// <summary>Nodes other checks running side by side are breaking now: a steady-state look leaves them out.</summary>
    public IReadOnlySet<string> BrokenElsewhere => _claims?.BrokenByOthers(Name) ?? new HashSet<string>();

    // ---- faults -----------------------------------------------------------------------------------------------------

    /// <summary>The faults the check declared (<see cref="Plan"/>): what the dry run lists; null when it declared none.</summary>
    public IReadOnlyList<Fault>? Planned { get; private set; }

    /// <summary>
    /// What the check will inject, declared once as data before it starts. From then on only these faults (by name and
    /// target) are injected, so the dry run's list and the injects cannot drift apart.
    /// </summary>
    public void Plan(IEnumerable<Fault> faults) => Planned = [.. faults];

    /// <summary>Registers the fault's revert (ledger first), then makes the fault with <paramref name="inject"/>.</summary>
    public Task<InjectedFault> InjectAsync(Fault fault, Func<CancellationToken, Task> inject)
    {
        if (Planned is { } planned && !planned.Any(p => p.Name == fault.Name && p.Target == fault.Target))
            throw new InvalidOperationException(
                $"{Name} injects '{fault.Name}' on {fault.Target}, which it does not declare: declare it with its other faults, " +
                $"so a dry run lists it (declared: {string.Join("; ", planned.Select(p => $"'{p.Name}' on {p.Target}"))}).");
        return Faults.InjectAsync(fault, inject, Cancellation);
    }

    /// <summary>
    /// A node fault made the book's way, as a step named by what runs: its command, run as root on its node
    /// (<c>[w1-k8s]$ systemctl stop kubelet</c>).
    /// </summary>
    public Task<InjectedFault> InjectOnNodeAsync(Fault fault) =>
        Report.Step(BookWorkers.Prompt(fault.Target, fault.Command), () =>
            InjectAsync(fault, async t => (await Cluster.Node(fault.Target).RunAsync(fault.Command, ct: t)).EnsureSuccess()));

    /// <summary>The book's recovery step: <paramref name="recovery"/>, or the fault's registered revert; the ledger entry is closed once it succeeded.</summary>
    public Task RecoverAsync(InjectedFault fault, Func<CancellationToken, Task>? recovery = null) =>
        Faults.RecoverAsync(fault, Cancellation, recovery);

    // ---- waits ------------------------------------------------------------------------------------------------------

    /// <summary>One pod of the check's namespace: <c>await ctx.Pod("nginx-pod").Until(p =&gt; p.IsTerminating(), "to show Terminating", timeout)</c>.</summary>
    public ObjectWait<V1Pod> Pod(string name) => _waits.Pod(name);

    /// <summary>The check's namespace's pods with this label selector (e.g. <c>app=nginx</c>); every pod when null.</summary>
    public ObjectsWait<V1Pod> Pods(string? labelSelector = null) => _waits.Pods(labelSelector);

    /// <summary>One node, every node watched (the outcome shows them all, as <c>kubectl get nodes</c>).</summary>
    public ObjectWait<V1Node> Node(string name) => _waits.Node(name);

    /// <summary>
    /// Repeats <paramref name="attempt"/> every 2 s until <paramref name="done"/> says its result is the one wanted,
    /// within <paramref name="deadline"/>; returns the last result either way (the caller judges it).
    /// </summary>
    public async Task<T> PollAsync<T>(Func<CancellationToken, Task<T>> attempt, Func<T, bool> done, TimeSpan deadline) =>
        // The caller's judgement says what the last try saw.
        (await new Until<T>("the answer wanted", attempt, done).LastWithinAsync(deadline, Cancellation)).Last!;

    // ---- the end ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// Undoes what is still in place — faults and deferred clean-ups, newest first — whatever the check's token says
    /// (the scope has a deadline of its own). Runs once; every call (also a later one) throws
    /// <see cref="UnrevertedFaultException"/> naming what could not be undone.
    /// </summary>
    public Task CleanUpAsync()
    {
        lock (_cleanUpGate) return _cleanUp ??= Faults.DisposeAsync().AsTask();
    }

    /// <summary>Cleans up (see <see cref="CleanUpAsync"/>) and ends the context's cancellation.</summary>
    public async ValueTask DisposeAsync()
    {
        try { await CleanUpAsync(); }
        finally
        {
            _claim?.Dispose(); // its nodes are free for the next check only now, after its clean-up
            _backstop?.Dispose();
            _cancellation.Dispose();
        }
    }
}

/// <summary>A check failed where no test framework's own failure was given (<see cref="CheckContext.Fail"/>).</summary>
public sealed class CheckFailedException(string message) : Exception(message);

using Harness.Checks;
using Harness.ClusterAccess;
using Harness.Faults;
using Harness.Kube;
using Harness.Kube.Kubectl;
using Harness.NUnitAdapter;
using Harness.Nodes;
using Harness.Probes;
using Harness.Profiles;
using Harness.Reporting;
using Harness.Safety;
using Harness.Text;
using Harness.Waits;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// NUnit's glue around a check's lifecycle (<see cref="CheckLifecycle"/>: queue for nodes, steady state, namespace,
/// the check's steps, rollbacks, the same steady state again, verdict): SetUp starts it, TearDown ends it with NUnit's
/// outcome, an NUnit assertion fails a check. A check reads its context's services (<see cref="Kubectl"/>,
/// <see cref="Workers"/>, <see cref="Workloads"/>, …); NUnit makes one fixture instance per check (Suite.cs).
/// </summary>
public abstract class ClusterCheck
{
    private CheckLifecycle? _lifecycle;

    /// <summary>
    /// Every check's [CancelAfter], in ms: the outermost guard against a hang, not a deadline of the book's (each wait
    /// has its own, from the profile's timeouts). NUnit counts SetUp in it, so it covers the time a check queues for
    /// nodes other checks hold (up to the rest of the suite: about 15 min on the lab with the control-plane checks) plus
    /// its own backstop (<see cref="CheckLifecycle.OwnBackstop"/>).
    /// </summary>
    protected const int Backstop = 3_600_000;

    // ---- what a check declares -------------------------------------------------------------------------------------

    /// <summary>
    /// The faults <paramref name="check"/> (a test method of this fixture) injects, each declared once as a value: the dry
    /// run lists them, the check injects them (<see cref="InjectAsync"/>), and a fault not declared here is refused.
    /// </summary>
    protected abstract IEnumerable<Fault> FaultsOf(string check);

    /// <summary>
    /// What <paramref name="check"/> touches, as data: checks whose claims do not conflict run side by side. By default
    /// it breaks the nodes of its node faults (a stopped kubelet, a cordon) and needs the control plane; a check adds
    /// the nodes its pods run on (every worker when the scheduler places them).
    /// </summary>
    protected virtual ClusterClaim ClaimOf(string check) => ClaimOfFaults(check);

    protected ClusterClaim ClaimOfFaults(string check) =>
        ClusterClaim.Nothing.Breaking(FaultsOf(check).Where(f => f.IsNodeFault).Select(f => f.Target)).Needing([Profile.ControlPlane]);

    /// <summary>Why this check has nothing to check on the profile's cluster (the lab has no CoreDNS; a component kept out of reach), or null.</summary>
    protected virtual string? NotApplicableOn(ClusterProfile profile) => null;

    /// <summary>The same, read from the cluster's nodes (read only: nothing may be changed here), asked right after <see cref="NotApplicableOn"/>.</summary>
    protected virtual Task<string?> NotApplicableOnNodesAsync(Cluster cluster, CancellationToken ct) => Task.FromResult<string?>(null);

    // ---- what a check works with: its context and the book's steps as its services ----------------------------------

    /// <summary>This check's context: its namespace, faults, report, metrics, cancellation, waits and services.</summary>
    protected CheckContext Context => _lifecycle?.Context ?? throw new InvalidOperationException("no check is running (its context is made in SetUp)");

    protected Cluster Cluster => Context.Cluster;
    protected ClusterProfile Profile => Context.Profile;

    /// <summary>The profile's timeouts as durations, as e2e's <c>f.Timeouts</c>.</summary>
    protected Timeouts Timeouts => Context.Timeouts;
    protected IKubernetes Api => Context.Api;
    protected string Ns => Context.Namespace;
    protected TestScope Report => Context.Report;

    /// <summary>The test's own deadline ([CancelAfter]) and Ctrl-C/SIGTERM together.</summary>
    protected CancellationToken Token => Context.Cancellation;

    protected BookKubectl Kubectl => Context.Kubectl;
    protected BookWorkers Workers => Context.Workers;
    protected Workloads Workloads => Context.Workloads;

    /// <summary>The edition's nginx pod: nginx-pod (first edition), po-nginx (revised).</summary>
    protected string NginxPod => Workloads.NginxPod;

    protected Task<InjectedFault> InjectAsync(Fault fault, Func<CancellationToken, Task> inject) => Context.InjectAsync(fault, inject);
    protected Task<InjectedFault> InjectOnNodeAsync(Fault fault) => Context.InjectOnNodeAsync(fault);
    protected Task RecoverAsync(InjectedFault fault, Func<CancellationToken, Task>? recovery = null) => Context.RecoverAsync(fault, recovery);
    protected ObjectWait<V1Pod> Pod(string name) => Context.Pod(name);
    protected ObjectsWait<V1Pod> Pods(string labelSelector) => Context.Pods(labelSelector);
    protected ObjectWait<V1Node> Node(string name) => Context.Node(name);
    protected Task<T> PollAsync<T>(Func<CancellationToken, Task<T>> attempt, Func<T, bool> done, TimeSpan deadline) => Context.PollAsync(attempt, done, deadline);
    protected void Record(string phase, TimeSpan duration) => Context.Record(phase, duration);
    protected void Progress(string message) => Context.Progress(message);

    /// <summary>A node the check touches: its kubelet journal is evidence when the check is red.</summary>
    protected void Involve(string node) => Context.Involve(node);

    /// <summary>
    /// Ends the check as not applicable from what it found on the cluster after it started (S3: the edition's steps
    /// leave the routed path alone): recorded as not applicable (green for the gate) unless a revert fails in TearDown.
    /// </summary>
    protected void NotApplicable(string reason)
    {
        _lifecycle!.NotApplicable(reason);
        Assert.Ignore(reason);
    }

    // ---- NUnit's SetUp and TearDown ----------------------------------------------------------------------------------

    [SetUp]
    public async Task BeforeCheckAsync()
    {
        _lifecycle = null;
        var run = Suite.Run;
        var test = TestContext.CurrentContext.Test;
        var deadline = TestContext.CurrentContext.CancellationToken;
        var report = AllureNUnitAttribute.ScopeOfRunningTest() ?? TestScope.NotRecorded(test.FullName);
        var profile = run.Cluster.Profile;
        var check = new CheckDeclaration(
            async ct => NotApplicableOn(profile) ?? await NotApplicableOnNodesAsync(run.Cluster, ct),
            () => FaultsOf(test.MethodName!), () => ClaimOf(test.MethodName!),
            profile.Edition.ChecksNotInBook.Contains(test.MethodName!)
                ? $"not in chapter 3 of the edition profile '{profile.Name}' follows: checked as a property of the cluster" : null);
        _lifecycle = CheckLifecycle.Of(run, check, test.Name, test.FullName, report, deadline, message => Assert.Fail(message));
        string? skipped;
        try { skipped = await _lifecycle.StartAsync(deadline); }
        catch (Exception e) when (NUnitOutcomes.AsAssertion(e) is { } failure) { throw failure; } // a timed-out wait fails the check, as an assertion does
        if (skipped is not null) Assert.Ignore(skipped);
    }

    [TearDown]
    public async Task AfterCheckAsync()
    {
        if (_lifecycle is null) return; // SetUp stopped before the check had a lifecycle
        var result = TestContext.CurrentContext.Result;
        await _lifecycle.EndAsync(new CheckBody(AllureNUnitAttribute.StatusOf(result.Outcome), result.Message, result.StackTrace), Suite.InterruptedBy);
    }
}

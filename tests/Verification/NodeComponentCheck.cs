using Harness.Kube;
using Harness.Probes;
using Harness.Profiles;
using Harness.Safety;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// What the checks of the node components share (issue 11, part 2: container runtime, CNI, br_netfilter, kube-proxy's
/// Service path, CoreDNS): the fault's own commands probed on its worker before anything is injected, the node's facts,
/// and a pod that must not start. Pods pinned to a node, a ClusterIP Service and calls from inside a pod are the
/// context's <see cref="Harness.Checks.Workloads"/>; polls for answers that change by themselves (kube-proxy
/// programming a Service, DNS back) its PollAsync (an `Until`).
/// </summary>
public abstract class NodeComponentCheck : ClusterCheck
{
    /// <summary>How long an absence (a pod that does not start) must last to count: kubelet starts a pod on a healthy node in seconds.</summary>
    protected static readonly TimeSpan HoldPeriod = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The fault's and its revert's commands can work on <paramref name="node"/> (programs, units, sysctl keys exist):
    /// a revert that cannot work would leave the node broken and a ledger entry nobody can heal. Probed here, by the
    /// check itself, so a cluster that cannot have this fault still runs the others.
    /// </summary>
    protected Task RequireFeasibleAsync(string node, IReadOnlyList<FaultFeasibility.FaultSetting> settings) =>
        Report.Step($"[{node}] the fault's and the revert's commands can work there ({string.Join(", ", settings.Select(s => s.Name))})", async () =>
        {
            var problems = await FaultFeasibility.CheckAsync(Profile, settings, [node], Cluster.Node, Token);
            Report.Attach("commands", string.Join("\n", settings.Select(s => $"{s.Name}: {s.Command}")));
            Assert.That(problems, Is.Empty, "the profile's commands for this fault must work on the node before it is injected");
        });

    /// <summary>
    /// The node's facts (<see cref="NodeFacts"/>: runtime units, CNI, bridged or routed pods, ip_forward,
    /// bridge-nf-call-iptables, br_netfilter), read in one command, as a step with the listing attached.
    /// </summary>
    /// <summary>The container runtime <paramref name="node"/> reports (<c>docker://20.10.24</c>, <c>containerd://1.6.20</c>), for
    /// faults that take effect differently on each.</summary>
    protected async Task<string?> RuntimeOfAsync(string node) =>
        (await Api.CoreV1.ReadNodeAsync(node, cancellationToken: Token)).Status?.NodeInfo?.ContainerRuntimeVersion;

    protected Task<NodeFacts> ReadNodeFactsAsync(string node, string when) =>
        Report.Step($"[{node}] node facts {when}: runtime units, CNI, pod wiring, ip_forward, bridge-nf-call-iptables, br_netfilter", async () =>
        {
            var facts = await NodeFacts.ReadAsync(Cluster.Node(node), NodeFactsTimeout(Profile), Token);
            Report.Attach($"node facts {when}", facts.Summary + "\n\n" + facts.ForwardingState);
            return facts;
        });

    /// <summary>The same, before the check has a context (<see cref="ClusterCheck.NotApplicableOnNodesAsync"/>); null when the
    /// node cannot be read (the check then runs and its own steps say what is wrong).</summary>
    protected static async Task<NodeFacts?> TryReadNodeFactsAsync(Harness.ClusterAccess.Cluster cluster, string node, CancellationToken ct)
    {
        try { return await NodeFacts.ReadAsync(cluster.Node(node), NodeFactsTimeout(cluster.Profile), ct); }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested) { return null; }
    }

    /// <summary>The facts are one quick command: the profile's command timeout, within 5 to 30 s.</summary>
    private static TimeSpan NodeFactsTimeout(ClusterProfile profile) =>
        TimeSpan.FromSeconds(Math.Clamp(profile.Timeouts.ToTimeouts().Command.TotalSeconds, 5, 30));

    /// <summary>The node's Ready condition as kubelet last posted it.</summary>
    protected static V1NodeCondition? ReadyCondition(V1Node node) => node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");

    protected static string DescribeEvents(IEnumerable<Corev1Event> events) =>
        string.Join("\n", events.Select(e => $"{e.Type}\t{e.Reason}\t{e.Message}"));

    /// <summary>A hold on the pod's watch: <paramref name="pod"/> stays not Running for <see cref="HoldPeriod"/>; returns the last state seen.</summary>
    protected Task<string> ExpectNotRunningForHoldPeriodAsync(string pod, string because) =>
        Pod(pod).Stays(p => !p.IsRunning(), "to stay not Running", HoldPeriod, because);
}

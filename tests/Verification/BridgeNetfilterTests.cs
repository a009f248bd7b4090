using Harness.Checks;
using Harness.Faults;
using Harness.Probes;
using Harness.Safety;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// br_netfilter's real job: with <c>net.bridge.bridge-nf-call-iptables=0</c> on a worker, a pod there calling a
/// ClusterIP Service gets no answer from the backend on its own node (the backend's reply is bridged straight back,
/// past the iptables rule that would undo the Service's DNAT), while backends on other nodes (replies routed through
/// the node) answer; set back to 1: every backend answers.
/// </summary>
[TestFixture, Category("br-netfilter"), Category(ContainerRuntimeTests.NodeComponents)]
public sealed class BridgeNetfilterTests : NodeComponentCheck
{
    /// <summary>The book's w2-k8s (its br_netfilter node).</summary>
    private string Worker => Workers.Second;

    private Fault BridgeNetfilterOff => Fault.OnNode("bridge-nf-call-iptables off", Worker, Profile.Commands.BreakBridgeNetfilter,
        Revert.OnNode(Worker, Profile.Commands.RestoreBridgeNetfilter));

    protected override IEnumerable<Fault> FaultsOf(string check) => [BridgeNetfilterOff];

    /// <summary>
    /// Routed pods (Calico: a cali* veth and a /32 route each, no bridge) never cross a bridge, so the sysctl changes
    /// nothing there and the check would go red on every Calico cluster: not applicable, with the node's own reason.
    /// </summary>
    protected override async Task<string?> NotApplicableOnNodesAsync(Harness.ClusterAccess.Cluster cluster, CancellationToken ct) =>
        (await TryReadNodeFactsAsync(cluster, BookWorkers.Of(cluster.Profile).Second, ct))?.BridgeNetfilterNotApplicable;

    /// <summary>Backends on every worker: they must stay healthy meanwhile.</summary>
    protected override ClusterClaim ClaimOf(string check) => ClaimOfFaults(check).Needing(Workers.All);

    /// <summary>
    /// Calls per round. kube-proxy picks a backend at random for each connection: with one backend per worker, 18
    /// calls miss the same-node backend altogether with probability (2/3)^18 ≈ 0.07 % on three workers (the book's 9:
    /// 2.6 %), so "the same-node backend fails" is seen in one round.
    /// </summary>
    private const int Calls = 18;

    private const string Client = "client";
    private const string BackendLabel = "echo-backend";

    private static string BackendOn(string node) => $"echo-{node}";

    [Test, CancelAfter(Backstop)]
    [Description("sysctl net.bridge.bridge-nf-call-iptables=0 on a worker: a pod there reaches a ClusterIP Service's backends on other nodes but not the one on its own node; back to 1: all answer.")]
    public async Task SameNodeServiceBackendFailsWithoutBridgeNetfilter()
    {
        var worker = Worker;
        await RequireFeasibleAsync(worker, FaultFeasibility.BridgeNetfilterSettings(Profile));
        var facts = await ReadNodeFactsAsync(worker, "before the fault");
        Report.Parameter("pod wiring", facts.Summary, excluded: true);
        // Read again here, with the node the check's own: the read before it queued may have met the node mid-reboot
        // (S3 reboots it), and a routed node must never go red here.
        if (facts.BridgeNetfilterNotApplicable is { } reason) NotApplicable(reason);
        foreach (var node in Profile.Workers)
            await Workloads.RunPodAsync(BackendOn(node), Profile.Images.EchoHname, node, new Dictionary<string, string> { ["app"] = BackendLabel });
        await Workloads.RunPodAsync(Client, Profile.Images.Nginx, worker);
        var ip = await Workloads.CreateServiceAsync(BackendLabel, new Dictionary<string, string> { ["app"] = BackendLabel });
        var sameNode = BackendOn(worker);

        await Report.Step($"from {Client} on {worker}: {Calls} calls to {ip} are all answered", async () =>
        {
            var outcomes = await PollAsync(_ => Workloads.CallFromPodAsync(Client, ip, Calls), o => o.All(a => a is not null), Timeouts.Symptom);
            Assert.That(outcomes, Has.None.Null, $"every backend answers before the fault: {PodCalls.Describe(PodCalls.Count(outcomes))}");
        });

        var off = await InjectOnNodeAsync(BridgeNetfilterOff);

        await Report.Step($"from {Client}: calls that land on {sameNode} (same node) fail, the other nodes' backends answer", async () =>
        {
            var outcomes = await PollAsync(_ => Workloads.CallFromPodAsync(Client, ip, Calls), o => o.Any(a => a is null), Timeouts.Symptom);
            var counts = PodCalls.Count(outcomes);
            Report.Parameter("answers with bridge-nf-call-iptables=0", PodCalls.Describe(counts), excluded: true);
            Record("symptom", off.SinceInject);
            Assert.That(outcomes, Has.Some.Null, $"some calls fail: those kube-proxy sends to the same node's backend ({PodCalls.Describe(counts)})");
            Assert.That(counts.GetValueOrDefault(sameNode), Is.Zero, $"the backend on {worker} never answers a client on its own node ({PodCalls.Describe(counts)})");
            if (Profile.Workers.Count > 1)
                Assert.That(outcomes.Where(a => a is not null && a != sameNode), Is.Not.Empty,
                    $"backends on other nodes still answer: their replies are routed, not bridged ({PodCalls.Describe(counts)})");
        });

        await Report.Step($"[{worker}]$ {off.Revert.Command} → all {Calls} calls answered", async () =>
        {
            var restored = DateTimeOffset.UtcNow;
            await RecoverAsync(off);
            var outcomes = await PollAsync(_ => Workloads.CallFromPodAsync(Client, ip, Calls), o => o.All(a => a is not null), Timeouts.Symptom);
            Record("recovery", DateTimeOffset.UtcNow - restored);
            Report.Parameter("answers with bridge-nf-call-iptables=1", PodCalls.Describe(PodCalls.Count(outcomes)), excluded: true);
            Assert.That(outcomes, Has.None.Null, $"every call is answered again: {PodCalls.Describe(PodCalls.Count(outcomes))}");
        });
    }
}

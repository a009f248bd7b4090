using Harness.Checks;
using Harness.Faults;
using Harness.Kube;
using Harness.Kube.Kubectl;
using Harness.NUnitAdapter;
using Harness.Reporting;
using Harness.Safety;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Verification;

/// <summary>S7 and S8: protecting a node with cordon, and emptying it for maintenance with drain — with the book's kubectl.</summary>
[TestFixture, Order(6), Category("scheduling")]
public sealed class SchedulingTests : ClusterCheck
{
    /// <summary>The book's <c>kubectl cordon w3-k8s</c>; uncordon undoes it.</summary>
    private Fault NodeCordoned => Fault.OnNode("node cordoned", Workers.Last, $"kubectl cordon {Workers.Last}", Revert.UncordonNode(Workers.Last));

    /// <summary>The book's <c>kubectl drain w3-k8s</c> (refused, then with --ignore-daemonsets); drain cordons first, so uncordon undoes it.</summary>
    private Fault NodeDrained => Fault.OnNode("node drained", Workers.Last, $"kubectl drain {Workers.Last}", Revert.UncordonNode(Workers.Last));

    protected override IEnumerable<Fault> FaultsOf(string check) => check switch
    {
        nameof(CordonedNodeGetsNoNewPods) => [NodeCordoned],
        nameof(DrainIsRefusedForDaemonSetPodsUnlessIgnored) => [NodeDrained],
        _ => [],
    };

    /// <summary>
    /// Cordon only takes its node out of scheduling (pods there keep running: checks that merely need it healthy may go
    /// on); drain evicts its pods (a node fault: nobody else's pods may be there). Both scale echo-hname over the
    /// other workers, which must stay healthy meanwhile.
    /// </summary>
    protected override ClusterClaim ClaimOf(string check) => check == nameof(CordonedNodeGetsNoNewPods)
        ? ClusterClaim.Nothing.Cordoning([Workers.Last]).Needing([.. Workers.All, Profile.ControlPlane])
        : ClaimOfFaults(check).Needing(Workers.All);

    [Test, Category("book"), Scenario("S7"), Order(1), CancelAfter(Backstop)]
    [Description("Cordon w3-k8s: it shows SchedulingDisabled and gets no new pods when echo-hname scales to 9; uncordon makes it schedulable again.")]
    public async Task CordonedNodeGetsNoNewPods()
    {
        var node = Workers.Last;
        Involve(node);
        // The book: 3 replicas, one per worker; cordon w3-k8s; scale to 9.
        var before = await Workloads.ApplyEchoHnameAsync(Workers.OnePodEach);
        var onNodeBefore = before.Count(p => p.Spec.NodeName == node);

        var cordonedAt = DateTimeOffset.MinValue;
        var cordon = await Report.Step(NodeCordoned.Command, () =>
            InjectAsync(NodeCordoned, async t =>
            {
                var cordoned = (await Kubectl.RunAsync($"cordon {node}")).EnsureSuccess();
                cordonedAt = DateTimeOffset.UtcNow; // the API took the change: detection counts from here, not from kubectl's start
                Assert.That(KubectlOutput.VerbsFor(KubectlOutput.Text(cordoned), "node", node), Is.EqualTo(new[] { "cordoned" }), cordoned.ToString());
            }));

        await Report.Step($"kubectl get nodes → {node} Ready,SchedulingDisabled", async () =>
        {
            await WaitForNodeStatusAsync(node, "Ready,SchedulingDisabled");
            Record("detection", DateTimeOffset.UtcNow - cordonedAt);
            await Kubectl.ExpectNodeStatusAsync(node, "Ready,SchedulingDisabled");
        });

        var up = Workers.ThreePodsEach;
        await Report.Step($"kubectl scale deployment echo-hname --replicas={up} → no new pod on {node}", async () =>
        {
            await Kubectl.ScaleAsync("echo-hname", up);
            var pods = await Workloads.ReadyPodsAsync("app=nginx", up);
            Assert.That(pods.Count(p => p.Spec.NodeName == node), Is.EqualTo(onNodeBefore),
                $"{node} keeps the pods it had and gets no new ones while cordoned");
        });

        await Report.Step($"kubectl uncordon {node} → {node} Ready", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            await RecoverAsync(cordon, UncordonAsync(node));
            await WaitForNodeStatusAsync(node, "Ready");
            Record("recovery", DateTimeOffset.UtcNow - started);
            await Kubectl.ExpectNodeStatusAsync(node, "Ready");
        });
    }

    [Test, Category("book"), Scenario("S8"), Order(2), CancelAfter(Backstop)]
    [Description("kubectl drain w3-k8s is refused for DaemonSet pods; with --ignore-daemonsets the node is emptied and the replicas run elsewhere; uncordon.")]
    public async Task DrainIsRefusedForDaemonSetPodsUnlessIgnored()
    {
        var node = Workers.Last;
        Involve(node);
        var emptyDirFlag = Profile.Kubernetes.DrainEmptyDirFlag;

        // Before anything is injected: a pod the book's drain cannot evict would fail the drain for another reason.
        await Report.Step($"pods on {node} that kubectl drain --ignore-daemonsets cannot evict → none", async () =>
        {
            var blockers = await DrainPreflight.CheckAsync(Api, node, emptyDirFlag, Token);
            Report.Attach("pods kubectl drain would refuse", blockers.Count == 0 ? "none" : string.Join("\n", blockers));
            Assert.That(blockers, Is.Empty,
                $"the drain check cannot run as the book's: {string.Join("; ", blockers)}. Move or delete those pods first " +
                $"(the flag each needs is named; the book's drain uses only --ignore-daemonsets)");
        });

        var replicas = Workers.ThreePodsEach; // the book's 9
        var before = await Workloads.ApplyEchoHnameAsync(replicas);
        var workloadOnNode = before.Where(p => p.Spec.NodeName == node).Select(p => $"{Ns}/{p.Name()}").ToList();

        // drain cordons the node before anything else: its revert (uncordon) is registered before the first `kubectl drain`.
        var drained = await Report.Step($"{NodeDrained.Command} → refused: cannot delete {DrainOutput.DaemonSetRefusal}", async () =>
        {
            var daemonSetPods = await DaemonSetPodsOnAsync(node);
            Harness.Nodes.CommandResult refused = null!;
            var fault = await InjectAsync(NodeDrained, async t => refused = await Kubectl.RunAsync($"drain {node}"));
            var drain = DrainOutput.Parse(node, KubectlOutput.Text(refused));
            Assert.That(refused.ExitCode, Is.Not.Zero, $"drain must refuse while DaemonSet pods run on the node: {refused}");
            Assert.That(drain.Cordoned, Is.True, $"node/{node} cordoned comes first");
            Assert.That(drain.UnableToDrain, Is.True, $"error: unable to drain node \"{node}\"");
            Assert.That(drain.RefusedFor("--ignore-daemonsets"), Is.EquivalentTo(daemonSetPods),
                $"cannot delete {DrainOutput.DaemonSetRefusal}: every DaemonSet pod on {node}, nothing else");
            Assert.That(drain.Refusals.Select(r => r.Flag), Has.All.EqualTo("--ignore-daemonsets"), "no other reason to refuse");
            Assert.That(drain.Evicting, Is.Empty, "nothing is evicted when drain refuses");
            await WaitForNodeStatusAsync(node, "Ready,SchedulingDisabled");
            return fault;
        });

        var timeout = Timeouts.PodGone;
        await Report.Step($"kubectl drain {node} --ignore-daemonsets → {node} has no workload pods", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            // --timeout: kubectl waits for the evicted pods to be gone, at most this long (the book passes none).
            var result = await Kubectl.RunAsync($"drain {node} --ignore-daemonsets --timeout={timeout.TotalSeconds:0}s", timeout + TimeSpan.FromSeconds(30));
            var drain = DrainOutput.Parse(node, KubectlOutput.Text(result));
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(drain.Cordoned, Is.True, $"node/{node} already cordoned");
            Assert.That(drain.IgnoredDaemonSetPods, Is.Not.Empty, "WARNING: ignoring DaemonSet-managed Pods: …");
            Assert.That(drain.Evicting, Is.SupersetOf(workloadOnNode), $"evicting pod …: every echo-hname pod that was on {node}");
            Assert.That(drain.Drained, Is.True, $"node/{node} drained");
            var pods = await Workloads.ReadyPodsAsync("app=nginx", replicas, p => p.Spec.NodeName != node);
            Record("recovery", DateTimeOffset.UtcNow - started);
            Assert.That(pods.Select(p => p.Spec.NodeName), Has.None.EqualTo(node), "the replicas run elsewhere");
            await WaitForNodeStatusAsync(node, "Ready,SchedulingDisabled");
            await Kubectl.ExpectNodeStatusAsync(node, "Ready,SchedulingDisabled");
        });

        await Report.Step($"kubectl uncordon {node} → {node} Ready", async () =>
        {
            await RecoverAsync(drained, UncordonAsync(node));
            await WaitForNodeStatusAsync(node, "Ready");
            await Kubectl.ExpectNodeStatusAsync(node, "Ready");
        });
    }

    /// <summary>The book's recovery: <c>kubectl uncordon NODE</c>, which answers <c>node/NODE uncordoned</c>.</summary>
    private Func<CancellationToken, Task> UncordonAsync(string node) => async _ =>
    {
        var uncordoned = (await Kubectl.RunAsync($"uncordon {node}")).EnsureSuccess();
        Assert.That(KubectlOutput.VerbsFor(KubectlOutput.Text(uncordoned), "node", node), Is.EqualTo(new[] { "uncordoned" }), uncordoned.ToString());
    };

    /// <summary>namespace/name of the running DaemonSet pods on the node: what the book's drain refuses for.</summary>
    private async Task<IReadOnlyList<string>> DaemonSetPodsOnAsync(string node)
    {
        var pods = await Api.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: $"spec.nodeName={node}", cancellationToken: Token);
        return pods.Items
            .Where(p => p.Metadata.OwnerReferences?.Any(o => o.Controller == true && o.Kind == "DaemonSet") == true
                        && p.Status?.Phase is not ("Succeeded" or "Failed"))
            .Select(p => $"{p.Namespace()}/{p.Name()}").ToList();
    }

    private async Task<V1Node> WaitForNodeStatusAsync(string node, string status)
    {
        var seen = await Node(node).Until(n => n.KubectlStatus() == status, $"to show {status}", Timeouts.Symptom);
        Report.Attach("nodes (API)", ObjectState.Describe(seen.Objects.Values));
        return seen.Objects[node];
    }
}

using Harness.Faults;
using Harness.Kube;
using Harness.Kube.Operations;
using Harness.Reporting;
using Harness.Waits;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Verification;

/// <summary>S7 and S8: protecting a node with cordon, and emptying it for maintenance with drain.</summary>
[TestFixture, Category("scheduling")]
public sealed class SchedulingTests : ClusterCheck
{
    [Injects("node cordoned", "last worker", "kubectl cordon {node}", "kubectl uncordon {node}")]
    [Test, CancelAfter(600_000)]
    [Description("Cordon w3-k8s: it shows SchedulingDisabled and gets no new pods when echo-hname scales to 9; uncordon makes it schedulable again.")]
    public async Task CordonedNodeGetsNoNewPods()
    {
        var node = LastWorker;
        Involve(node);
        var three = await ApplyEchoHnameAsync(3);
        var onNodeBefore = three.Count(p => p.Spec.NodeName == node);

        var cordon = await Report.Step($"kubectl cordon {node}", () =>
            Faults.InjectAsync("node cordoned", node, $"kubectl cordon {node}", Revert.UncordonNode(node),
                async t => Report.Attach("output", await Drain.CordonAsync(Api, node, t)), Token));

        await Report.Step($"kubectl get nodes → {node} Ready,SchedulingDisabled", async () =>
        {
            await WaitForNodeStatusAsync(node, "Ready,SchedulingDisabled");
            Record("detection", cordon.SinceInject);
        });

        await Report.Step($"kubectl scale deployment echo-hname --replicas=9 → no new pod on {node}", async () =>
        {
            await ScaleDeploymentAsync("echo-hname", 9);
            var nine = await WaitForReadyPodsAsync("app=nginx", 9);
            Assert.That(nine.Count(p => p.Spec.NodeName == node), Is.EqualTo(onNodeBefore),
                $"{node} keeps the pods it had and gets no new ones while cordoned");
        });

        await Report.Step($"kubectl uncordon {node} → {node} Ready", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            await Faults.RecoverAsync(cordon, Token, async t => Report.Attach("output", await Drain.UncordonAsync(Api, node, t)));
            await WaitForNodeStatusAsync(node, "Ready");
            Record("recovery", DateTimeOffset.UtcNow - started);
        });
    }

    [Injects("node drained", "last worker", "kubectl drain {node} [--ignore-daemonsets]", "kubectl uncordon {node}")]
    [Test, CancelAfter(600_000)]
    [Description("kubectl drain w3-k8s is refused for DaemonSet pods; with --ignore-daemonsets the node is emptied and the replicas run elsewhere; uncordon.")]
    public async Task DrainIsRefusedForDaemonSetPodsUnlessIgnored()
    {
        var node = LastWorker;
        Involve(node);
        await ApplyEchoHnameAsync(9);

        // drain cordons the node before anything else: the revert is registered before the first attempt.
        var cordoned = await Report.Step($"kubectl drain {node} → refused: DaemonSet-managed Pods", async () =>
        {
            DrainResult refused = null!;
            var fault = await Faults.InjectAsync("node drained", node, $"kubectl drain {node}", Revert.UncordonNode(node),
                async t => refused = await Drain.RunAsync(Api, node, new DrainOptions(), Seconds(Profile.Timeouts.PodGoneSeconds), t), Token);
            Report.Attach("output", string.Join("\n", refused.Output));
            Assert.That(refused.Succeeded, Is.False, "drain must refuse while DaemonSet pods run on the node");
            Assert.That(refused.Error, Does.Contain("cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"));
            return fault;
        });

        await Report.Step($"kubectl drain {node} --ignore-daemonsets → {node} has no workload pods", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            var drained = await Drain.RunAsync(Api, node, new DrainOptions(IgnoreDaemonSets: true), Seconds(Profile.Timeouts.PodGoneSeconds), Token);
            Report.Attach("output", string.Join("\n", drained.Output));
            Assert.That(drained.Succeeded, Is.True, drained.Error);
            var nine = await WaitForReadyPodsAsync("app=nginx", 9, p => p.Spec.NodeName != node);
            Record("recovery", DateTimeOffset.UtcNow - started);
            Assert.That(nine.Select(p => p.Spec.NodeName), Has.None.EqualTo(node), "the replicas run elsewhere");
            await WaitForNodeStatusAsync(node, "Ready,SchedulingDisabled");
        });

        await Report.Step($"kubectl uncordon {node} → {node} Ready", async () =>
        {
            await Faults.RecoverAsync(cordoned, Token, async t => Report.Attach("output", await Drain.UncordonAsync(Api, node, t)));
            await WaitForNodeStatusAsync(node, "Ready");
        });
    }

    private async Task<V1Node> WaitForNodeStatusAsync(string node, string status)
    {
        var seen = await Watches.Nodes(Api).UntilAsync(
            nodes => nodes.TryGetValue(node, out var n) && n.KubectlStatus() == status, $"{node} to show {status}",
            Seconds(Profile.Timeouts.SymptomSeconds), nodes => ObjectState.Describe(nodes.Values), Report.Progress, Token);
        Report.Attach("kubectl get nodes", ObjectState.Describe(seen.Objects.Values));
        return seen.Objects[node];
    }
}

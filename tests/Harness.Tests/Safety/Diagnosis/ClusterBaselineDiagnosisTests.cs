using Harness.Safety;
using k8s.Models;
using NUnit.Framework;

namespace Harness.Tests.Safety.Diagnosis;

/// <summary>The baseline's line for each node: a NotReady node is named by the component its Ready condition names.</summary>
public sealed class ClusterBaselineDiagnosisTests
{
    private static V1Node Node(string ready, string reason, string message, bool unschedulable = false) => new()
    {
        Metadata = new V1ObjectMeta { Name = "w2-k8s" },
        Spec = new V1NodeSpec { Unschedulable = unschedulable },
        Status = new V1NodeStatus { Conditions = [new V1NodeCondition { Type = "Ready", Status = ready, Reason = reason, Message = message }] },
    };

    [Test]
    public void The_cni_config_removed_on_w2_is_named_as_cni_not_as_a_kubelet_to_check()
    {
        // Issue 18: this node used to read "node w2-k8s is NotReady (check `journalctl -u kubelet` on it)".
        var line = ClusterBaseline.NodeProblem("w2-k8s", Node("False", "KubeletNotReady",
            "runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"));

        Assert.That(line, Does.StartWith("CNI on w2-k8s: node NotReady: runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady " +
                                         "message:Network plugin returns error: cni plugin not initialized (Ready condition, reason KubeletNotReady) — look at `ls -l /etc/cni/net.d` on w2-k8s"));
    }

    [Test]
    public void The_other_node_lines_are_as_before()
    {
        Assert.That(ClusterBaseline.NodeProblem("w2-k8s", null), Is.EqualTo("node w2-k8s is not registered in the cluster (kubeadm join it, or fix the profile)"));
        Assert.That(ClusterBaseline.NodeProblem("w2-k8s", Node("True", "KubeletReady", "kubelet is posting ready status", unschedulable: true)),
            Does.StartWith("node w2-k8s is cordoned (SchedulingDisabled)"));
        Assert.That(ClusterBaseline.NodeProblem("w2-k8s", Node("True", "KubeletReady", "kubelet is posting ready status")), Is.Null);
    }
}

using Harness.Diagnosis;
using k8s.Models;
using NUnit.Framework;

namespace Harness.Tests.Safety.Diagnosis;

/// <summary>
/// A node's Ready condition as kubelet (or the node lifecycle controller) really writes it, each with its source, and
/// the component the diagnosis names. The message is always quoted verbatim.
/// </summary>
public sealed class NodeConditionsDiagnosisTests
{
    private static V1Node Node(string status, string reason, string message, string runtime = "containerd://1.6.20", params V1NodeCondition[] more) => new()
    {
        Metadata = new V1ObjectMeta { Name = "w2-k8s" },
        Status = new V1NodeStatus
        {
            NodeInfo = new V1NodeSystemInfo { ContainerRuntimeVersion = runtime },
            Conditions = [.. more, new V1NodeCondition { Type = "Ready", Status = status, Reason = reason, Message = message }],
        },
    };

    private static readonly object[] NotReady =
    [
        // 1.18 + docker: kubelet.go updateRuntimeUp "runtime network not ready: %v" around dockershim's NetworkReady
        // condition (docker_service.go Status: "docker: network plugin is not ready: %v"; cni.go "cni config uninitialized").
        new object[] { "KubeletNotReady", "runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:docker: network plugin is not ready: cni config uninitialized", "CNI" },
        // 1.20 + containerd 1.4: containerd's CRI status "Network plugin returns error: %v" with go-cni's error.
        new object[] { "KubeletNotReady", "runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized", "CNI" },
        // containerd 1.3/1.4 before it kept the last good config: "cni config load failed: …".
        new object[] { "KubeletNotReady", "runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni config load failed: no network config found in /etc/cni/net.d: cni plugin not initialized: failed to load cni config", "CNI" },
        // 1.3x: kubelet.go updateRuntimeUp "container runtime network not ready: %v" (structured-logging era wording).
        new object[] { "KubeletNotReady", "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized", "CNI" },
        // pkg/kubelet/runtime.go runtimeErrors: the runtime's status not synced within its threshold.
        new object[] { "KubeletNotReady", "container runtime is down", "container runtime" },
        // the same right after kubelet started, before the first runtime sync.
        new object[] { "KubeletNotReady", "container runtime status check may not have completed yet", "container runtime" },
        // 1.20 aggregate (utilerrors.NewAggregate "[a, b, c]"): the runtime is the cause, the network follows it.
        new object[] { "KubeletNotReady", "[container runtime is down, PLEG is not healthy: pleg was last seen active 3m10.513486914s ago; threshold is 3m0s, runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:docker: network plugin is not ready: cni config uninitialized]", "container runtime" },
        // pkg/kubelet/pleg/generic.go Healthy, added as health check "PLEG" ("%s is not healthy: %v").
        new object[] { "KubeletNotReady", "PLEG is not healthy: pleg was last seen active 3m5.143427549s ago; threshold is 3m0s", "container runtime" },
        // 1.26+: PLEG before its first relist.
        new object[] { "KubeletNotReady", "PLEG is not healthy: pleg has yet to be successful", "container runtime" },
        // 1.18 + docker stopped: kubelet.go updateRuntimeUp "Container runtime not ready: %v" around dockershim's RuntimeReady
        // condition (docker_service.go Status: reason DockerDaemonNotReady, "docker: failed to get docker version: %v").
        new object[] { "KubeletNotReady", "Container runtime not ready: RuntimeReady=false reason:DockerDaemonNotReady message:docker: failed to get docker version: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", "container runtime" },
        // 1.2x-1.3x: the same in lower case ("container runtime not ready: %v").
        new object[] { "KubeletNotReady", "container runtime not ready: RuntimeReady=false reason:DockerDaemonNotReady message:docker: failed to get docker version: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", "container runtime" },
        // 1.3x with containerd stopped: the runtime's Status call fails, the last sync ages past its threshold, PLEG stalls.
        new object[] { "KubeletNotReady", "[container runtime is down, PLEG is not healthy: pleg was last seen active 3m0.954233873s ago; threshold is 3m0s]", "container runtime" },
        // 1.18 nodestatus/setters.go ReadyCondition: a capacity kubelet could not read yet; no component of ours.
        new object[] { "KubeletNotReady", "missing node capacity for resources: ephemeral-storage", "node" },
    ];

    [TestCaseSource(nameof(NotReady))]
    public void A_NotReady_node_names_the_component_and_quotes_kubelets_words(string reason, string message, string component)
    {
        var problem = NodeConditions.Diagnose(Node("False", reason, message));

        Assert.That(problem, Is.Not.Null);
        Assert.That(problem!.Component, Is.EqualTo(component));
        Assert.That(problem.Node, Is.EqualTo("w2-k8s"));
        Assert.That(problem.Problem, Is.EqualTo($"node NotReady: {message} (Ready condition, reason {reason})"));
        Assert.That(problem.ToString(), Does.StartWith($"{component} on w2-k8s: node NotReady: {message}"));
    }

    [Test]
    public void The_cni_config_removed_on_w2_reads_as_the_issue_wants_it()
    {
        var problem = NodeConditions.Diagnose(Node("False", "KubeletNotReady",
            "runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"));

        Assert.That(problem!.ToString(), Is.EqualTo(
            "CNI on w2-k8s: node NotReady: runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: " +
            "cni plugin not initialized (Ready condition, reason KubeletNotReady) — look at `ls -l /etc/cni/net.d` on w2-k8s (empty: the CNI's config is gone; " +
            "the CNI's DaemonSet pod writes it, e.g. calico-node's install-cni), that pod in `kubectl get pods -A -o wide --field-selector spec.nodeName=w2-k8s`, " +
            "and `journalctl -u kubelet` on w2-k8s (without it: every new pod on that node: it gets no network, so it stays ContainerCreating)"));
    }

    [TestCase("docker://20.10.24", "systemctl status docker")]
    [TestCase("containerd://1.6.20", "systemctl status containerd")]
    public void A_runtime_that_is_down_points_at_the_runtime_the_node_reports(string runtime, string look) =>
        Assert.That(NodeConditions.Diagnose(Node("False", "KubeletNotReady", "container runtime is down", runtime))!.WhereToLook, Does.Contain(look));

    [Test]
    public void A_silent_kubelet_is_named_from_the_node_lifecycle_controllers_words()
    {
        // pkg/controller/nodelifecycle: Status Unknown, reason NodeStatusUnknown, "Kubelet stopped posting node status."
        var problem = NodeConditions.Diagnose(Node("Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."));

        Assert.That(problem!.Component, Is.EqualTo("kubelet"));
        Assert.That(problem.ToString(), Does.StartWith(
            "kubelet on w2-k8s: node NotReady: Kubelet stopped posting node status. (Ready condition Unknown, reason NodeStatusUnknown) — look at `systemctl status kubelet`"));
    }

    [TestCase("MemoryPressure", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available", "memory pressure")]
    [TestCase("DiskPressure", "KubeletHasDiskPressure", "kubelet has disk pressure", "disk pressure")]
    [TestCase("PIDPressure", "KubeletHasInsufficientPID", "kubelet has insufficient PID available", "PID pressure")]
    public void A_pressure_condition_that_is_true_is_named(string type, string reason, string message, string pressure)
    {
        // nodestatus/setters.go MemoryPressureCondition/DiskPressureCondition/PIDPressureCondition; the node stays Ready.
        var node = Node("True", "KubeletReady", "kubelet is posting ready status", more: new V1NodeCondition { Type = type, Status = "True", Reason = reason, Message = message });

        var problem = NodeConditions.Diagnose(node);

        Assert.That(problem!.Problem, Is.EqualTo($"{pressure}: {message} ({type} condition, reason {reason})"));
    }

    [Test]
    public void A_Ready_node_without_pressure_has_no_problem()
    {
        // 1.18 ReadyCondition on a host with AppArmor: "kubelet is posting ready status. AppArmor enabled".
        var node = Node("True", "KubeletReady", "kubelet is posting ready status. AppArmor enabled",
            more: new V1NodeCondition { Type = "MemoryPressure", Status = "False", Reason = "KubeletHasSufficientMemory", Message = "kubelet has sufficient memory available" });
        Assert.That(NodeConditions.Diagnose(node), Is.Null);
    }

    [Test]
    public void A_node_without_a_Ready_condition_is_NotReady_and_says_so() =>
        Assert.That(NodeConditions.Diagnose(new V1Node { Metadata = new V1ObjectMeta { Name = "w3-k8s" }, Status = new V1NodeStatus() })!.ToString(),
            Does.StartWith("node on w3-k8s: node NotReady: it has no Ready condition"));
}

using k8s.Models;

namespace Harness.Diagnosis;

/// <summary>
/// What a node's own conditions say is wrong with it, in kubelet's words. The Ready condition's reason and message are
/// quoted as kubelet (or the node lifecycle controller) wrote them; a known cause only decides which component is
/// named and where to look. An unknown cause is quoted as it is, under component "node": never replaced by a guess.
/// </summary>
public static class NodeConditions
{
    // Kubelet's Ready message aggregates runtimeErrors, networkErrors and storageErrors (pkg/kubelet/runtime.go,
    // nodestatus/setters.go ReadyCondition); several at once read "[a, b]". The most basic cause is named first: a
    // runtime that is down also leaves the network not ready.
    private static readonly (string Component, string[] Words)[] Causes =
    [
        // pkg/kubelet/runtime.go runtimeErrors; kubelet.go updateRuntimeUp ("Container runtime not ready: %v" up to 1.20,
        // "container runtime not ready: %v" later); pkg/kubelet/pleg/generic.go Healthy ("PLEG is not healthy: pleg was last seen active …").
        ("container runtime", ["container runtime is down", "container runtime status check may not have completed", "runtime not ready", "PLEG is not healthy"]),
        // kubelet.go updateRuntimeUp: "runtime network not ready: %v" (1.18-1.21), "container runtime network not ready: %v" (later);
        // the runtime's NetworkReady condition: dockershim "docker: network plugin is not ready: cni config uninitialized",
        // containerd's CRI "Network plugin returns error: cni plugin not initialized" / "cni config load failed: …".
        ("CNI", ["NetworkPluginNotReady", "cni config uninitialized", "cni plugin not initialized", "cni config load failed", "network plugin is not ready", "network not ready"]),
    ];

    /// <summary>The conditions kubelet sets True under pressure (nodestatus/setters.go), and the first command that shows it.</summary>
    private static readonly (string Type, string Pressure, string Look)[] Pressures =
    [
        ("MemoryPressure", "memory pressure", "`free -m`"),
        ("DiskPressure", "disk pressure", "`df -h /var/lib/kubelet /var/lib/containerd /var/lib/docker`"),
        ("PIDPressure", "PID pressure", "`ps -e --no-headers | wc -l` against `cat /proc/sys/kernel/pid_max`"),
    ];

    /// <summary>
    /// The node's problem, or null when it is Ready and under no pressure. A NotReady node always gets one: its Ready
    /// condition quoted, e.g. <c>CNI on w2-k8s: node NotReady: runtime network not ready: NetworkReady=false
    /// reason:NetworkPluginNotReady message:docker: network plugin is not ready: cni config uninitialized (Ready
    /// condition, reason KubeletNotReady) — look at …</c>.
    /// </summary>
    public static ComponentProblem? Diagnose(V1Node node)
    {
        var name = node.Metadata?.Name ?? "?";
        var conditions = node.Status?.Conditions ?? [];
        var ready = conditions.FirstOrDefault(c => c.Type == "Ready");
        var pressure = Pressures.Select(p => (p, c: conditions.FirstOrDefault(c => c.Type == p.Type && c.Status == "True")))
            .FirstOrDefault(x => x.c is not null);

        if (ready is null)
            return new("node", name, "node NotReady: it has no Ready condition (kubelet has not reported its status yet)",
                $"look at `journalctl -u kubelet` on {name} and `kubectl describe node {name}`");
        if (ready.Status == "True")
            return pressure.c is null ? null : PressureProblem(name, pressure.p, pressure.c);

        var quoted = Quote(ready);
        // The node lifecycle controller's words when kubelet went silent: "Kubelet stopped posting node status." /
        // "Kubelet never posted node status." (pkg/controller/nodelifecycle, reason NodeStatusUnknown).
        if (ready.Reason == "NodeStatusUnknown" || Has(ready.Message, "stopped posting node status") || Has(ready.Message, "never posted node status"))
            return new("kubelet", name, $"node NotReady: {quoted}",
                $"look at `systemctl status kubelet` and `journalctl -u kubelet` on {name}; if SSH does not answer either, the node itself is down");

        foreach (var (component, words) in Causes)
        {
            if (!words.Any(w => Has(ready.Message, w) || Has(ready.Reason, w))) continue;
            return new(component, name, $"node NotReady: {quoted}", component == "CNI"
                ? $"look at `ls -l /etc/cni/net.d` on {name} (empty: the CNI's config is gone; the CNI's DaemonSet pod writes it, e.g. calico-node's install-cni), " +
                  $"that pod in `kubectl get pods -A -o wide --field-selector spec.nodeName={name}`, and `journalctl -u kubelet` on {name}"
                : $"look at `systemctl status {RuntimeUnit(node)}` and `crictl info` (or `docker info`) on {name}, and `journalctl -u kubelet` there");
        }
        if (pressure.c is not null) return PressureProblem(name, pressure.p, pressure.c, $" (Ready: {quoted})");
        return new("node", name, $"node NotReady: {quoted}", $"look at `kubectl describe node {name}` and `journalctl -u kubelet` on {name}");
    }

    private static ComponentProblem PressureProblem(string node, (string Type, string Pressure, string Look) p, V1NodeCondition c, string more = "") =>
        new("node", node, $"{p.Pressure}: {c.Message} ({c.Type} condition, reason {c.Reason}){more}",
            $"look at {p.Look} on {node}; kubelet evicts pods and taints the node until it is relieved");

    /// <summary>The condition as kubelet wrote it: message, then status (when Unknown) and reason.</summary>
    private static string Quote(V1NodeCondition c)
    {
        var message = string.IsNullOrWhiteSpace(c.Message) ? "(no message)" : c.Message.Trim();
        var status = c.Status == "False" ? "" : $" {c.Status}";
        return $"{message} (Ready condition{status}, reason {(string.IsNullOrEmpty(c.Reason) ? "none" : c.Reason)})";
    }

    /// <summary>The systemd unit of the runtime a node reports (<c>containerd://1.6.20</c>, <c>docker://20.10.24</c>), or null for one not known.</summary>
    internal static string? RuntimeUnit(string? containerRuntimeVersion) => containerRuntimeVersion?.Split("://")[0] switch
    {
        "containerd" => "containerd",
        "docker" => "docker",
        "cri-o" => "crio",
        _ => null,
    };

    private static string RuntimeUnit(V1Node node) => RuntimeUnit(node.Status?.NodeInfo?.ContainerRuntimeVersion) ?? "containerd";

    private static bool Has(string? text, string words) => text?.Contains(words, StringComparison.OrdinalIgnoreCase) == true;
}

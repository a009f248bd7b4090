using System.Text.RegularExpressions;
using Harness.Profiles;
using k8s;
using k8s.Models;

namespace Harness.Faults;

/// <summary>
/// kube-proxy (or any DaemonSet) kept off one node the way tests/Lab.Tests does it: a required node affinity on the
/// DaemonSet's pod template, <c>kubernetes.io/hostname NotIn [node]</c>. The DaemonSet controller then deletes its pod
/// there and makes none. Its revert (<see cref="RevertKind.LetDaemonSetOnNode"/>) removes exactly this affinity and
/// nothing else: an affinity that is not this one belongs to somebody else and is refused.
/// </summary>
public static class DaemonSetExclusion
{
    public const string HostnameLabel = "kubernetes.io/hostname";

    /// <summary>The affinity that keeps the DaemonSet's pods off <paramref name="node"/>.</summary>
    public static V1Affinity Affinity(string node) => new()
    {
        NodeAffinity = new V1NodeAffinity
        {
            RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
            {
                NodeSelectorTerms =
                [
                    new V1NodeSelectorTerm
                    {
                        MatchExpressions = [new V1NodeSelectorRequirement { Key = HostnameLabel, OperatorProperty = "NotIn", Values = [node] }],
                    },
                ],
            },
        },
    };

    /// <summary>The strategic-merge patch that sets it (what <c>kubectl patch daemonset … -p</c> would be given).</summary>
    public static string Patch(string node) =>
        KubernetesJson.Serialize(new { spec = new { template = new { spec = new { affinity = Affinity(node) } } } });

    /// <summary>The patch as the user would type it, for the report and the ledger.</summary>
    public static string KubectlCommand(string ns, string daemonSet, string node) =>
        $"kubectl -n {ns} patch daemonset {daemonSet} -p '{Patch(node)}'";

    /// <summary>Whether <paramref name="affinity"/> is exactly the one <see cref="Affinity"/> makes for <paramref name="node"/>.</summary>
    public static bool IsOurs(V1Affinity? affinity, string node)
    {
        if (affinity is null || affinity.PodAffinity is not null || affinity.PodAntiAffinity is not null) return false;
        var nodeAffinity = affinity.NodeAffinity;
        if (nodeAffinity is null || nodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution is { Count: > 0 }) return false;
        var terms = nodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        if (terms is not { Count: 1 } || terms[0].MatchFields is { Count: > 0 }) return false;
        var expressions = terms[0].MatchExpressions;
        return expressions is { Count: 1 }
               && expressions[0].Key == HostnameLabel
               && expressions[0].OperatorProperty == "NotIn"
               && expressions[0].Values is { Count: 1 } values && values[0] == node;
    }

    /// <summary>
    /// What the revert does with the DaemonSet's current affinity: nothing to do (none), remove it (ours), or refuse
    /// (somebody else's: removing it would change their cluster).
    /// </summary>
    public static ExclusionState StateOf(V1Affinity? affinity, string node) =>
        affinity is null ? ExclusionState.Absent : IsOurs(affinity, node) ? ExclusionState.Ours : ExclusionState.Foreign;

    public enum ExclusionState { Absent, Ours, Foreign }

    /// <summary>Whether a DaemonSet has finished rolling out its current template (as <c>kubectl rollout status</c> judges it).</summary>
    public static bool RolledOut(V1DaemonSet ds)
    {
        var s = ds.Status;
        if (s is null || (s.ObservedGeneration ?? 0) < (ds.Metadata.Generation ?? 0)) return false;
        return (s.UpdatedNumberScheduled ?? 0) >= s.DesiredNumberScheduled && s.NumberAvailable >= s.DesiredNumberScheduled
               && s.NumberReady >= s.DesiredNumberScheduled;
    }
}

/// <summary>Which node-component checks a profile's cluster can have, and why not (a check that cannot apply is skipped, never faked).</summary>
public static class NodeComponentApplicability
{
    /// <summary>Null when the cluster has CoreDNS (<c>components.coreDns</c>); else why the CoreDNS check does not apply.</summary>
    public static string? CoreDns(ClusterProfile profile) =>
        profile.Components.CoreDns ? null
            : $"not applicable: profile '{profile.Name}' has no CoreDNS (components.coreDns: false), so there is no cluster DNS to scale away " +
              "and nslookup kubernetes.default cannot resolve before or after; the check runs where the profile has it (book, revised)";
}

/// <summary>The CNI check's break as it takes effect on the node's runtime.</summary>
public static class CniBreak
{
    /// <summary>
    /// containerd and cri-o reload <c>/etc/cni/net.d</c> when it changes. kubelet's dockershim (docker, kubelet before 1.24)
    /// reads it every 5 s but keeps the network it has when the folder is empty (pkg/kubelet/dockershim/network/cni/cni.go,
    /// syncNetworkConfig: "Unable to update cni config" and return), so a new pod still gets one; the folder counts again
    /// only when kubelet starts: on such a node the break restarts kubelet (the profile's own commands) after it.
    /// </summary>
    /// <param name="runtime">What the node reports, <c>status.nodeInfo.containerRuntimeVersion</c>.</param>
    public static string On(FaultCommands commands, string? runtime) => runtime?.StartsWith("docker://", StringComparison.Ordinal) == true
        ? $"{commands.BreakCni} && {commands.StopKubelet} && {commands.StartKubelet}"
        : commands.BreakCni;
}

/// <summary>Reading what kubelet says on a node's Ready condition and in a pod's events.</summary>
public static partial class KubeletWords
{
    /// <summary>
    /// kubelet's Ready condition when it cannot reach its container runtime (pkg/kubelet/runtime.go,
    /// kubelet_node_status.go and pleg/generic.go of 1.18-1.20): <c>container runtime is down</c> (no successful
    /// runtime status for 30 s), <c>PLEG is not healthy: pleg was last seen active …; threshold is 3m0s</c> (no relist
    /// for 3 minutes), <c>container runtime not ready</c>/<c>runtime not ready</c> (the runtime answers but says it is not
    /// ready, as dockershim does without dockerd).
    /// </summary>
    public static bool SaysRuntimeDown(string? message) => message is not null && RuntimeDown().IsMatch(message);

    /// <summary>
    /// kubelet or the runtime saying the pod network is not set up: kubelet's NetworkNotReady event (<c>network is not
    /// ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:…</c>),
    /// containerd's CRI (<c>cni plugin not initialized</c>, <c>no network config found in /etc/cni/net.d</c>), dockershim's
    /// (<c>network plugin is not ready: cni config uninitialized</c>) and a FailedCreatePodSandBox that names CNI.
    /// </summary>
    public static bool SaysNetworkPluginNotReady(string? message) => message is not null && NetworkNotReady().IsMatch(message);

    /// <summary>The event reasons under which kubelet reports a pod it cannot give a network.</summary>
    public static readonly IReadOnlySet<string> NetworkEventReasons = new HashSet<string> { "NetworkNotReady", "FailedCreatePodSandBox" };

    [GeneratedRegex(@"container runtime is down|PLEG is not healthy|(container )?runtime not ready|runtime is not ready", RegexOptions.IgnoreCase)]
    private static partial Regex RuntimeDown();

    [GeneratedRegex(@"network is not ready|NetworkPluginNotReady|network plugin is not ready|cni config uninitiali[sz]ed|cni plugin not initiali[sz]ed|no network config found|failed to (set ?up|setup) network", RegexOptions.IgnoreCase)]
    private static partial Regex NetworkNotReady();
}

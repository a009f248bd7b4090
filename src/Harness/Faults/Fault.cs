using System.Text.Json.Serialization;

namespace Harness.Faults;

[JsonConverter(typeof(JsonStringEnumConverter<RevertKind>))]
public enum RevertKind
{
    /// <summary>Run <see cref="Revert.Command"/> as root on the node.</summary>
    NodeCommand,

    /// <summary>Run <see cref="Revert.Command"/> (if any), then reboot the node and wait until it is Ready again.</summary>
    NodeReboot,

    /// <summary>Make the node schedulable again (after cordon or drain).</summary>
    Uncordon,

    /// <summary>Delete the suite's namespace and everything the check created in it.</summary>
    DeleteNamespace,

    /// <summary>
    /// Put a control-plane component's static-pod manifest back (<see cref="Revert.Command"/>, run as root on the
    /// control plane) and wait until the component serves again (asked on the node, not through the API). Needs no
    /// API, so a later run can heal it before it can reach the cluster (the API server's own manifest away).
    /// </summary>
    RestoreStaticPodManifest,

    /// <summary>
    /// Scale a Deployment (<see cref="Revert.Namespace"/>/<see cref="Revert.Target"/>) back to <see cref="Revert.Replicas"/>
    /// and wait until that many replicas are ready (CoreDNS scaled to 0).
    /// </summary>
    ScaleDeployment,

    /// <summary>
    /// Let a DaemonSet (<see cref="Revert.Component"/> in <see cref="Revert.Namespace"/>) run on node
    /// <see cref="Revert.Target"/> again: remove the node affinity the harness set to keep it off that node (only that
    /// one: an affinity of anyone else's is refused, not removed), then wait until the DaemonSet has rolled out and its
    /// pod on the node is Ready (kube-proxy kept off a worker).
    /// </summary>
    LetDaemonSetOnNode,
}

/// <summary>
/// What undoes a fault. Plain data, so it can be written to the ledger before the fault is injected and carried out
/// by a later run if this one dies.
/// </summary>
/// <param name="Component">For <see cref="RevertKind.RestoreStaticPodManifest"/>: which component (kubeadm's name, e.g. kube-apiserver);
/// for <see cref="RevertKind.LetDaemonSetOnNode"/>: the DaemonSet.</param>
/// <param name="Namespace">For <see cref="RevertKind.ScaleDeployment"/> and <see cref="RevertKind.LetDaemonSetOnNode"/>: the object's namespace.</param>
/// <param name="Replicas">For <see cref="RevertKind.ScaleDeployment"/>: the replicas to scale back to.</param>
public sealed record Revert(RevertKind Kind, string Target, string? Command = null, string? Component = null, string? Namespace = null, int? Replicas = null)
{
    public static Revert OnNode(string node, string command) => new(RevertKind.NodeCommand, node, command);
    public static Revert RebootNode(string node, string? restoreFirst = null) => new(RevertKind.NodeReboot, node, restoreFirst);
    public static Revert UncordonNode(string node) => new(RevertKind.Uncordon, node);
    public static Revert DeleteNamespace(string ns) => new(RevertKind.DeleteNamespace, ns);
    public static Revert RestoreStaticPod(string node, string component, string command) =>
        new(RevertKind.RestoreStaticPodManifest, node, command, component);
    public static Revert ScaleDeploymentBack(string ns, string deployment, int replicas) =>
        new(RevertKind.ScaleDeployment, deployment, Namespace: ns, Replicas: replicas);
    public static Revert LetDaemonSetOn(string node, string ns, string daemonSet) =>
        new(RevertKind.LetDaemonSetOnNode, node, Component: daemonSet, Namespace: ns);

    /// <summary>Whether carrying it out needs the Kubernetes API. Those that do not can be healed before the API answers.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool NeedsApi => RevertKinds.Of(Kind).NeedsApi;

    public override string ToString() => RevertKinds.Of(Kind).Describe(this);
}

/// <summary>
/// A fault as data, declared once by the check that injects it: its name, where it goes, what is done (as the book
/// types it) and what undoes it. The dry run lists it and <see cref="FaultScope.InjectAsync"/> injects it, so the two
/// cannot say different things.
/// </summary>
/// <param name="Name">Short name, e.g. "kubelet stopped"; the ledger and the report's "faults" parameter use it.</param>
/// <param name="Target">The node, or the object for a fault inside the cluster (a pod, a Deployment, a namespace).</param>
/// <param name="Command">What is done, as the book would type it (for a node fault, the command run there as root).</param>
/// <param name="IsNodeFault">A node fault: <paramref name="Target"/> must be one of the profile's fault targets.</param>
/// <param name="Component">A control-plane component the fault stops (its node is the control plane, allowed by the
/// profile's <c>components.stoppable</c> rather than by <c>faultTargets</c>); null for every other fault.</param>
public sealed record Fault(string Name, string Target, string Command, Revert Revert, bool IsNodeFault, string? Component = null)
{
    /// <summary>A fault on a node, e.g. <c>systemctl stop kubelet</c> on w1-k8s; refused unless the node is a fault target.</summary>
    public static Fault OnNode(string name, string node, string command, Revert revert) => new(name, node, command, revert, IsNodeFault: true);

    /// <summary>A fault inside the cluster (a pod killed or deleted, a bad image tag, the check's namespace).</summary>
    public static Fault InCluster(string name, string target, string command, Revert revert) => new(name, target, command, revert, IsNodeFault: false);

    /// <summary>A control-plane component stopped on its node (its static-pod manifest moved away).</summary>
    public static Fault OnControlPlane(string name, string node, string component, string command, Revert revert) =>
        new(name, node, command, revert, IsNodeFault: true, component);

    /// <summary>One line of the dry run's plan: what is done where, and what undoes it.</summary>
    public override string ToString() => $"{Name} on {Target}: `{Command}` — revert: {Revert}";
}

/// <summary>Carries out reverts; the cluster layer implements it.</summary>
public interface IReverter
{
    Task RevertAsync(Revert revert, CancellationToken ct);
}

/// <summary>A fault that could not be undone. Its message starts with "Unreverted fault" (a report category).</summary>
public sealed class UnrevertedFaultException(string message, Exception? inner = null) : Exception(message, inner);

using Harness.Faults;
using Harness.Kube;
using Harness.Nodes;
using Harness.Profiles;
using Harness.Waits;
using k8s;
using k8s.Models;

namespace Harness.ClusterAccess;

/// <summary>Carries out the reverts of one <see cref="RevertKind"/>.</summary>
public interface IKindReverter : IReverter
{
    RevertKind Kind { get; }
}

/// <summary>
/// Carries out a revert by the reverter of its kind. The ledger keeps a revert as plain data (<see cref="Revert"/>),
/// so a later run reads it back and hands it here; a kind with no reverter here is refused, saying why.
/// </summary>
public sealed class RevertDispatch(IEnumerable<IKindReverter> reverters, Func<Revert, string> refusal) : IReverter
{
    private readonly IReadOnlyDictionary<RevertKind, IKindReverter> _byKind = reverters.ToDictionary(r => r.Kind);

    public Task RevertAsync(Revert revert, CancellationToken ct) =>
        _byKind.TryGetValue(revert.Kind, out var reverter)
            ? reverter.RevertAsync(revert, ct)
            : throw new InvalidOperationException(refusal(revert));
}

/// <summary>
/// <see cref="RevertKind.NodeCommand"/>: the revert's command as root on its node. With the API, the part the command
/// put back counts as back when its node says so: kubelet, the runtime and the CNI all speak through the node's Ready
/// condition (a CNI config renamed back may not be read for minutes). Before the API, the command alone.
/// </summary>
/// <param name="untilReady">The waits on the nodes and how long the node may take to report Ready; null before the API.</param>
public sealed class NodeCommandRevert(Func<string, INodeShell> node, TimeSpan commandTimeout,
    (Func<CancellationToken, ClusterWaits> Waits, TimeSpan Deadline)? untilReady = null) : IKindReverter
{
    public RevertKind Kind => RevertKind.NodeCommand;

    public async Task RevertAsync(Revert revert, CancellationToken ct)
    {
        (await node(revert.Target).RunAsync(revert.Command!, commandTimeout, ct)).EnsureSuccess();
        if (untilReady is var (waits, deadline))
            await waits(ct).Node(revert.Target).Until(n => n.IsReady(), $"to report Ready after `{revert.Command}`", deadline);
    }
}

/// <summary><see cref="RevertKind.NodeReboot"/>: the revert's command first (if any), then the book's reboot of the node.</summary>
public sealed class NodeRebootRevert(Func<string, INodeShell> node, TimeSpan commandTimeout, NodeReboots reboots) : IKindReverter
{
    public RevertKind Kind => RevertKind.NodeReboot;

    public async Task RevertAsync(Revert revert, CancellationToken ct)
    {
        if (!string.IsNullOrEmpty(revert.Command))
            (await node(revert.Target).RunAsync(revert.Command, commandTimeout, ct)).EnsureSuccess();
        await reboots.RebootAsync(revert.Target, ct);
    }
}

/// <summary><see cref="RevertKind.Uncordon"/>: <c>kubectl uncordon NODE</c>, through the API.</summary>
public sealed class UncordonRevert(IKubernetes api) : IKindReverter
{
    public RevertKind Kind => RevertKind.Uncordon;

    public Task RevertAsync(Revert revert, CancellationToken ct) =>
        api.CoreV1.PatchNodeAsync(new V1Patch("{\"spec\":{\"unschedulable\":null}}", V1Patch.PatchType.MergePatch), revert.Target, cancellationToken: ct);
}

/// <summary><see cref="RevertKind.DeleteNamespace"/>: the check's namespace and everything in it gone.</summary>
public sealed class DeleteNamespaceRevert(Namespaces namespaces) : IKindReverter
{
    public RevertKind Kind => RevertKind.DeleteNamespace;

    public Task RevertAsync(Revert revert, CancellationToken ct) => namespaces.DeleteAsync(revert.Target, ct);
}

/// <summary>
/// <see cref="RevertKind.RestoreStaticPodManifest"/>: the manifest back (the revert's command, as root on the control
/// plane), then the component's health command on its node until it serves — over SSH, so a later run heals it while
/// the API is down.
/// </summary>
public sealed class StaticPodRestore(Func<string, INodeShell> node, ClusterProfile profile, Action<string>? progress) : IKindReverter
{
    public RevertKind Kind => RevertKind.RestoreStaticPodManifest;

    public Task RevertAsync(Revert revert, CancellationToken ct) =>
        ComponentWaits.RestoreAsync(RunOn(node(revert.Target)), revert, StaticPod.HealthOf(profile, revert), RestartDeadline(profile), progress, ct);

    /// <summary>How long a restored component may take to serve again.</summary>
    internal static TimeSpan RestartDeadline(ClusterProfile profile) => profile.Timeouts.ToTimeouts().ControlPlaneRestart;

    internal static ComponentWaits.RunOnNode RunOn(INodeShell shell) => (command, timeout, ct) => shell.RunAsync(command, timeout, ct);
}

/// <summary><see cref="RevertKind.ScaleDeployment"/>: the Deployment scaled back and that many replicas ready.</summary>
public sealed class ScaleDeploymentRevert(DeploymentScaling deployments) : IKindReverter
{
    public RevertKind Kind => RevertKind.ScaleDeployment;

    public Task RevertAsync(Revert revert, CancellationToken ct) =>
        deployments.ScaleAsync(revert.Namespace!, revert.Target, revert.Replicas ?? 1, ct);
}

/// <summary><see cref="RevertKind.LetDaemonSetOnNode"/>: the harness's affinity off the DaemonSet, its pod Ready on the node again.</summary>
public sealed class DaemonSetBackOnNodeRevert(DaemonSetPlacement daemonSets) : IKindReverter
{
    public RevertKind Kind => RevertKind.LetDaemonSetOnNode;

    public Task RevertAsync(Revert revert, CancellationToken ct) =>
        daemonSets.LetOnNodeAsync(revert.Namespace!, revert.Component!, revert.Target, ct);
}

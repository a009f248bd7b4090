using Harness.Faults;
using Harness.Kube;
using Harness.Profiles;
using Harness.Waits;
using k8s;
using k8s.Models;

namespace Harness.ClusterAccess;

/// <summary>A DaemonSet kept off one node and let back on it (kube-proxy kept off a worker), through <see cref="DaemonSetExclusion"/>.</summary>
public sealed class DaemonSetPlacement(IKubernetes api, ClusterProfile profile, Action<string>? progress)
{
    /// <summary>
    /// Keeps DaemonSet <paramref name="name"/> off <paramref name="node"/> (<see cref="DaemonSetExclusion"/>), deletes its
    /// pod there if the controller has not yet, and waits until none is left there. Refuses a DaemonSet that has an
    /// affinity of its own (the revert would have to tell it apart from the harness's; it does not guess).
    /// </summary>
    public async Task KeepOffNodeAsync(string ns, string name, string node, CancellationToken ct)
    {
        var ds = await api.AppsV1.ReadNamespacedDaemonSetAsync(name, ns, cancellationToken: ct);
        if (DaemonSetExclusion.StateOf(ds.Spec.Template.Spec.Affinity, node) == DaemonSetExclusion.ExclusionState.Foreign)
            throw new InvalidOperationException($"DaemonSet {ns}/{name} has an affinity of its own; the harness does not change it");
        await api.AppsV1.PatchNamespacedDaemonSetAsync(new V1Patch(DaemonSetExclusion.Patch(node), V1Patch.PatchType.StrategicMergePatch), name, ns, cancellationToken: ct);
        var selector = string.Join(",", ds.Spec.Selector.MatchLabels.Select(l => $"{l.Key}={l.Value}"));
        foreach (var pod in (await api.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, fieldSelector: $"spec.nodeName={node}", cancellationToken: ct)).Items)
        {
            try { await api.CoreV1.DeleteNamespacedPodAsync(pod.Name(), ns, cancellationToken: ct); }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound) { }
        }
        await Watches.Pods(api, ns, selector).UntilAsync(pods => pods.Values.All(p => p.Spec.NodeName != node),
            $"{name}'s pod on {node} to be gone", profile.Timeouts.ToTimeouts().PodGone, pods => ObjectState.Describe(pods.Values), progress, ct);
    }

    /// <summary>
    /// The revert of <see cref="KeepOffNodeAsync"/>: removes the harness's affinity (none: nothing to remove;
    /// somebody else's: refused), then waits until the DaemonSet has rolled out and its pod on <paramref name="node"/> is
    /// Ready, within <c>timeouts.podReadySeconds</c>.
    /// </summary>
    public async Task LetOnNodeAsync(string ns, string name, string node, CancellationToken ct)
    {
        var ds = await api.AppsV1.ReadNamespacedDaemonSetAsync(name, ns, cancellationToken: ct);
        switch (DaemonSetExclusion.StateOf(ds.Spec.Template.Spec.Affinity, node))
        {
            case DaemonSetExclusion.ExclusionState.Foreign:
                throw new InvalidOperationException(
                    $"DaemonSet {ns}/{name} has an affinity the harness did not set (not '{DaemonSetExclusion.HostnameLabel} NotIn [{node}]'); " +
                    "remove the harness's exclusion by hand if it is part of it");
            case DaemonSetExclusion.ExclusionState.Ours:
                await api.AppsV1.PatchNamespacedDaemonSetAsync(
                    new V1Patch("""[{"op":"remove","path":"/spec/template/spec/affinity"}]""", V1Patch.PatchType.JsonPatch), name, ns, cancellationToken: ct);
                break;
        }
        var selector = string.Join(",", ds.Spec.Selector.MatchLabels.Select(l => $"{l.Key}={l.Value}"));
        var deadline = profile.Timeouts.ToTimeouts().PodReady;
        await Watches.Pods(api, ns, selector).UntilAsync(pods => pods.Values.Any(p => p.Spec.NodeName == node && p.IsReady() && !p.IsTerminating()),
            $"{name}'s pod on {node} to be Ready again", deadline, pods => ObjectState.Describe(pods.Values), progress, ct);
        await new Until<V1DaemonSet>($"DaemonSet {ns}/{name} to finish rolling out",
                t => api.AppsV1.ReadNamespacedDaemonSetAsync(name, ns, cancellationToken: t), DaemonSetExclusion.RolledOut)
            { Describe = d => $"{d.Status?.UpdatedNumberScheduled} of {d.Status?.DesiredNumberScheduled} updated, {d.Status?.NumberReady} ready" }
            .WithinAsync(deadline, ct);
    }
}

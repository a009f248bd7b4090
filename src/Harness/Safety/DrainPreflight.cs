using k8s;
using k8s.Models;

namespace Harness.Safety;

/// <summary>A pod that <c>kubectl drain NODE --ignore-daemonsets</c> would refuse to evict, and the flag it would need.</summary>
public sealed record DrainBlocker(string Pod, string Node, string Why, string Flag)
{
    public override string ToString() => $"{Pod} on {Node} {Why}: kubectl drain would refuse it (it needs {Flag})";
}

/// <summary>
/// Before the drain check injects anything: the pods on its node that the book's <c>kubectl drain --ignore-daemonsets</c>
/// cannot evict (kubectl's pod filters, pkg/drain/filters.go, the same rules from 1.18 to 1.36). Such a pod would make
/// the drain fail for a reason the book does not show, with the node already cordoned; better to name it first.
/// </summary>
public static class DrainPreflight
{
    public const string MirrorPodAnnotation = "kubernetes.io/config.mirror";

    /// <param name="podsOnNode">Every pod bound to <paramref name="node"/>, in all namespaces.</param>
    /// <param name="daemonSets">namespace/name of every DaemonSet in the cluster (a pod of a deleted DaemonSet needs --force).</param>
    /// <param name="emptyDirFlag">The profile's <c>kubernetes.drainEmptyDirFlag</c> (<c>--delete-local-data</c> before 1.20).</param>
    public static IReadOnlyList<DrainBlocker> Blockers(string node, IEnumerable<V1Pod> podsOnNode, IReadOnlySet<string> daemonSets, string emptyDirFlag)
    {
        var blockers = new List<DrainBlocker>();
        foreach (var pod in podsOnNode.OrderBy(p => p.Namespace()).ThenBy(p => p.Name()))
        {
            // kubectl deletes finished pods whatever owns them, and skips static pods (it only sees their mirrors).
            if (pod.Status?.Phase is "Succeeded" or "Failed") continue;
            if (pod.Metadata.Annotations?.ContainsKey(MirrorPodAnnotation) == true) continue;
            var name = $"{pod.Namespace()}/{pod.Name()}";
            var controller = pod.Metadata.OwnerReferences?.FirstOrDefault(owner => owner.Controller == true);
            if (controller?.Kind == "DaemonSet")
            {
                // --ignore-daemonsets leaves running DaemonSet pods where they are, but only while their DaemonSet exists.
                if (!daemonSets.Contains($"{pod.Namespace()}/{controller.Name}"))
                    blockers.Add(new(name, node, $"belongs to DaemonSet {controller.Name}, which no longer exists", "--force"));
                continue;
            }
            if (pod.Spec?.Volumes?.Any(v => v.EmptyDir is not null) == true)
                blockers.Add(new(name, node, "has an emptyDir volume (its data would be deleted)", emptyDirFlag));
            if (controller is null)
                blockers.Add(new(name, node, "is not managed by a controller", "--force"));
        }
        return blockers;
    }

    /// <summary>Reads the node's pods and the cluster's DaemonSets, then <see cref="Blockers"/>.</summary>
    public static async Task<IReadOnlyList<DrainBlocker>> CheckAsync(IKubernetes api, string node, string emptyDirFlag, CancellationToken ct)
    {
        var pods = await api.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: $"spec.nodeName={node}", cancellationToken: ct);
        var daemonSets = await api.AppsV1.ListDaemonSetForAllNamespacesAsync(cancellationToken: ct);
        return Blockers(node, pods.Items, daemonSets.Items.Select(d => $"{d.Namespace()}/{d.Name()}").ToHashSet(), emptyDirFlag);
    }
}

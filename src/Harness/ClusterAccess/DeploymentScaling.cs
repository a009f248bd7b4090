using Harness.Kube;
using Harness.Profiles;
using Harness.Waits;
using k8s;
using k8s.Models;

namespace Harness.ClusterAccess;

/// <summary>A Deployment scaled as <c>kubectl scale</c> does it, and waited for (CoreDNS scaled to 0 and back).</summary>
public sealed class DeploymentScaling(IKubernetes api, ClusterProfile profile, Action<string>? progress)
{
    /// <summary>
    /// <c>kubectl -n NS scale deployment NAME --replicas=N</c>, then waits until the Deployment has N ready replicas and
    /// no more pods than that (scaled to 0: every pod gone), within <c>timeouts.podReadySeconds</c>.
    /// </summary>
    public async Task ScaleAsync(string ns, string name, int replicas, CancellationToken ct)
    {
        await api.AppsV1.PatchNamespacedDeploymentScaleAsync(
            new V1Patch($"{{\"spec\":{{\"replicas\":{replicas}}}}}", V1Patch.PatchType.MergePatch), name, ns, cancellationToken: ct);
        var selector = (await api.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: ct)).Spec.Selector.MatchLabels;
        var labels = selector is null ? null : string.Join(",", selector.Select(l => $"{l.Key}={l.Value}"));
        await Watches.Pods(api, ns, labels).UntilAsync(
            pods => pods.Values.Count(p => !p.IsTerminating()) == replicas && pods.Values.Where(p => !p.IsTerminating()).All(p => p.IsReady())
                    && (replicas > 0 || pods.Count == 0),
            $"deployment {ns}/{name} to have {replicas} ready pod(s)", profile.Timeouts.ToTimeouts().PodReady,
            pods => ObjectState.Describe(pods.Values), progress, ct);
    }
}

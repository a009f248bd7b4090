using Harness.Kube;
using k8s;
using k8s.Models;

namespace Harness.Safety;

/// <summary>
/// The state a check must find and leave: every node Ready and schedulable, kubelet active on every node, and
/// none of the suite's objects left. <see cref="Problems"/> names each deviation and what to do about it.
/// </summary>
public sealed record ClusterBaseline(IReadOnlyList<string> Problems)
{
    public bool Healthy => Problems.Count == 0;

    public static async Task<ClusterBaseline> CheckAsync(Cluster cluster, bool expectNamespaceGone, CancellationToken ct)
    {
        var problems = new List<string>();
        var nodes = (await cluster.Api.CoreV1.ListNodeAsync(cancellationToken: ct)).Items;
        foreach (var name in cluster.Profile.AllNodes)
        {
            var node = nodes.FirstOrDefault(n => n.Name() == name);
            if (node is null) problems.Add($"node {name} is not registered in the cluster (kubeadm join it, or fix the profile)");
            else if (!node.IsReady()) problems.Add($"node {name} is NotReady (check `journalctl -u kubelet` on it)");
            else if (!node.IsSchedulable()) problems.Add($"node {name} is cordoned (SchedulingDisabled): `kubectl uncordon {name}` if nobody is maintaining it");
        }
        var checks = cluster.Profile.AllNodes.Select(async name =>
        {
            try { return await cluster.IsKubeletActiveAsync(name, ct) ? null : $"kubelet is not active on {name}: `systemctl start kubelet` there"; }
            catch (Exception e) when (e is not OperationCanceledException) { return $"cannot check kubelet on {name}: {Secrets.Redact(e.Message)}"; }
        });
        problems.AddRange((await Task.WhenAll(checks)).OfType<string>());
        if (expectNamespaceGone)
        {
            var ns = await cluster.Api.CoreV1.ListNamespaceAsync(fieldSelector: $"metadata.name={cluster.Namespace}", cancellationToken: ct);
            if (ns.Items.Count > 0)
                problems.Add($"namespace {cluster.Namespace} is left from an earlier run: `kubectl delete namespace {cluster.Namespace}`");
        }
        return new ClusterBaseline(problems);
    }

    public override string ToString() => Healthy ? "cluster healthy" : string.Join("; ", Problems);
}

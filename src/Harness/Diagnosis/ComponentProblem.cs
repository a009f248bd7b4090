namespace Harness.Diagnosis;

/// <summary>
/// One unhealthy component of the book's cluster diagram: which component, on which node, what is wrong and where
/// to look. <see cref="ToString"/> is the one line a user reads, e.g.
/// <c>kube-controller-manager on m-k8s: /etc/kubernetes/manifests/kube-controller-manager.yaml missing on m-k8s …</c>.
/// </summary>
public sealed record ComponentProblem(string Component, string Node, string Problem, string WhereToLook)
{
    public override string ToString() =>
        $"{Component} on {Node}: {Problem} — {WhereToLook}" +
        (Dependents.TryGetValue(Component, out var needs) ? $" (without it: {needs})" : "");

    /// <summary>What stops working when a component is down: said with the problem, so a red check names its cause.</summary>
    public static readonly IReadOnlyDictionary<string, string> Dependents = new Dictionary<string, string>
    {
        ["kube-apiserver"] = "every check: kubectl and the harness talk to the cluster through it",
        ["etcd"] = "every check: the API server keeps all objects in it",
        ["kube-scheduler"] = "every check that creates a pod: new pods stay Pending",
        ["kube-controller-manager"] = "the Deployment, scale, cordon, drain and rollout checks, and namespace deletion: nothing replaces pods or removes namespaces",
        ["kube-proxy"] = "Service traffic from that node",
        ["coredns"] = "name resolution inside pods",
        ["kubelet"] = "every pod on that node",
        ["container runtime"] = "every pod on that node: kubelet can neither start nor stop a container there",
        ["CNI"] = "every new pod on that node: it gets no network, so it stays ContainerCreating",
    };
}

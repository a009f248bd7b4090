using Harness.Profiles;
using k8s;

namespace Harness.Faults;

/// <summary>
/// Which cluster a fault was injected into, as the ledger records it: the profile that injected it and the UID of the
/// cluster's <c>kube-system</c> namespace (made once by kubeadm, so it changes only when the cluster is built anew).
/// Two profiles can point at the same nodes (the book profile at the lab), and node names repeat across clusters
/// (every edition has w1-k8s), so neither the node name nor the profile alone says "this fault is ours to heal".
/// </summary>
public sealed record ClusterIdentity(string Profile, string ClusterUid)
{
    /// <summary>
    /// What this profile itself would register as reverts, used only for ledger entries written before entries carried
    /// an identity (see <see cref="Healing"/>): the profile's nodes, its namespace and its node-level revert commands.
    /// </summary>
    public IReadOnlySet<string> Nodes { get; init; } = new HashSet<string>();
    public string? Namespace { get; init; }
    public IReadOnlySet<string> OwnRevertCommands { get; init; } = new HashSet<string>();

    /// <summary>The identity of a run of <paramref name="profile"/> against the cluster whose kube-system UID is given.</summary>
    public static ClusterIdentity Of(ClusterProfile profile, string clusterUid) => new(profile.Name, clusterUid)
    {
        Nodes = profile.AllNodes.ToHashSet(),
        Namespace = profile.Kubernetes.Namespace,
        // The reverts FaultScope callers register: kubelet started again, the pod network restored (then a reboot).
        OwnRevertCommands = new HashSet<string> { profile.Commands.StartKubelet, profile.Commands.RestorePodNetwork },
    };

    /// <summary>Reads the UID of <c>kube-system</c> through the API and makes the identity of this run.</summary>
    public static async Task<ClusterIdentity> ReadAsync(Cluster cluster, CancellationToken ct)
    {
        var kubeSystem = await cluster.Api.CoreV1.ReadNamespaceAsync("kube-system", cancellationToken: ct);
        return Of(cluster.Profile, kubeSystem.Metadata.Uid);
    }

    // Two identities are the same cluster and profile whatever the legacy-match data says.
    public bool Equals(ClusterIdentity? other) => other is not null && Profile == other.Profile && ClusterUid == other.ClusterUid;
    public override int GetHashCode() => HashCode.Combine(Profile, ClusterUid);

    public override string ToString() => $"profile {Profile}, cluster {ClusterUid}";
}

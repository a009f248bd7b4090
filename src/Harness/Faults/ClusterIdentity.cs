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

    /// <summary>
    /// SHA-256 of the cluster's CA certificate as admin.conf carries it (kubeadm makes it once per cluster, like the
    /// kube-system UID), or null when unknown. Read from the control plane over SSH, so it names the cluster also
    /// when the API is down (see <see cref="Healing.DecideBeforeApi"/>).
    /// </summary>
    public string? CaFingerprint { get; init; }

    /// <summary>The identity of a run of <paramref name="profile"/> against the cluster whose kube-system UID is given.</summary>
    public static ClusterIdentity Of(ClusterProfile profile, string clusterUid) => new(profile.Name, clusterUid)
    {
        Nodes = profile.AllNodes.ToHashSet(),
        Namespace = profile.Kubernetes.Namespace,
        // The reverts FaultScope callers register: kubelet started again, the pod network restored (then a reboot).
        OwnRevertCommands = new HashSet<string> { profile.Commands.StartKubelet, profile.Commands.RestorePodNetwork },
    };

    /// <summary>Reads the UID of <c>kube-system</c> through the API and makes the identity of this run.</summary>
    /// <param name="caFingerprint">The CA in the admin.conf fetched from the control plane (<see cref="CaFingerprintOf"/>).</param>
    public static async Task<ClusterIdentity> ReadAsync(IKubernetes api, ClusterProfile profile, string? caFingerprint, CancellationToken ct)
    {
        var kubeSystem = await api.CoreV1.ReadNamespaceAsync("kube-system", cancellationToken: ct);
        return Of(profile, kubeSystem.Metadata.Uid) with { CaFingerprint = caFingerprint };
    }

    /// <summary>
    /// The fingerprint of the CA in a kubeconfig's text (its first <c>certificate-authority-data</c>): SHA-256 of the
    /// decoded PEM, lower-case hex, as <c>sha256sum /etc/kubernetes/pki/ca.crt</c> prints it on a kubeadm control
    /// plane. Null when the kubeconfig has no embedded CA.
    /// </summary>
    public static string? CaFingerprintOf(string kubeconfig)
    {
        const string key = "certificate-authority-data:";
        var line = kubeconfig.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        if (line is null) return null;
        try
        {
            var pem = Convert.FromBase64String(line[key.Length..].Trim().Trim('"'));
            return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(pem));
        }
        catch (FormatException) { return null; }
    }

    // Two identities are the same cluster and profile whatever the legacy-match data says.
    public bool Equals(ClusterIdentity? other) => other is not null && Profile == other.Profile && ClusterUid == other.ClusterUid;
    public override int GetHashCode() => HashCode.Combine(Profile, ClusterUid);

    public override string ToString() => $"profile {Profile}, cluster {ClusterUid}";
}

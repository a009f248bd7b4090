using Harness.Diagnosis;
using Harness.Profiles;
using k8s;
using k8s.Models;

namespace Harness.ClusterAccess;

/// <summary>Facts for the report's environment: versions, OS, kernel and runtime as the nodes report them.</summary>
public static class EnvironmentFacts
{
    public static async Task<IDictionary<string, string>> ReadAsync(IKubernetes api, ClusterProfile profile, string serverVersion, CancellationToken ct)
    {
        var nodes = await api.CoreV1.ListNodeAsync(cancellationToken: ct);
        var info = nodes.Items.Select(n => n.Status.NodeInfo).ToList();
        var skew = VersionSkew.Judge(new VersionFacts(profile.ControlPlane, serverVersion, await VersionSkew.KubeadmVersionAsync(api, ct),
            null, "", [.. nodes.Items.Select(n => (n.Name(), n.Status.NodeInfo.KubeletVersion))]));
        return new SortedDictionary<string, string>
        {
            ["profile"] = profile.Name,
            ["kubernetes.server"] = serverVersion,
            ["kubelet"] = VersionSkew.Join(info.Select(i => i.KubeletVersion)), // oldest first: the same text in every run for the gate
            [VersionSkew.EnvironmentKey] = skew.Environment,
            ["node.os"] = string.Join(", ", info.Select(i => i.OsImage).Distinct()),
            ["node.kernel"] = string.Join(", ", info.Select(i => i.KernelVersion).Distinct()),
            ["container.runtime"] = string.Join(", ", info.Select(i => i.ContainerRuntimeVersion).Distinct()),
            ["nodes"] = string.Join(", ", nodes.Items.Select(n => n.Name())),
            ["harness"] = typeof(EnvironmentFacts).Assembly.GetName().Version?.ToString() ?? "",
        };
    }
}

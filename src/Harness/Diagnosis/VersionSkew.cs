using System.Globalization;
using System.Text.RegularExpressions;
using Harness.Kube;
using k8s;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Harness.Diagnosis;

/// <summary>What the cluster says about its versions, and what the profile expects.</summary>
/// <param name="ApiServer">The API server's <c>/version</c> gitVersion (the connected cluster's ServerVersion).</param>
/// <param name="KubeadmConfig">kubeadm's record of the control plane it set up: <c>kubernetesVersion</c> of the
/// <c>ClusterConfiguration</c> in ConfigMap <c>kube-system/kubeadm-config</c>; null when the cluster has none (not kubeadm's).</param>
/// <param name="Expected">The kubelets' version the profile expects (the Vagrantfile's <c>Ver</c>: what the book's
/// packages install), or null when the profile expects none; <paramref name="ExpectedSource"/> says where it comes from.</param>
/// <param name="Kubelets">Each node's name and its kubelet's version (<c>status.nodeInfo.kubeletVersion</c>).</param>
public sealed record VersionFacts(
    string ControlPlane, string ApiServer, string? KubeadmConfig, string? Expected, string ExpectedSource,
    IReadOnlyList<(string Node, string Kubelet)> Kubelets);

/// <summary>The problems (none when the versions are as kubeadm and the skew policy allow) and the report's
/// <c>version.skew</c> environment line.</summary>
public sealed record VersionVerdict(IReadOnlyList<ComponentProblem> Problems, string Environment);

/// <summary>
/// Versions judged as the cluster itself records them, not as assumed. Neither edition of the book passes
/// <c>--kubernetes-version</c> to <c>kubeadm init</c>, so kubeadm sets up the newest patch of its own minor
/// (<c>stable-1.18</c> = v1.18.20 while the packages pin kubelet v1.18.4; see DESIGN.md §7): the control plane's version
/// is what kubeadm wrote into <c>kube-system/kubeadm-config</c>, and the kubelets may be older than the API server
/// as far as Kubernetes' version-skew policy allows. Pure functions, but for <see cref="KubeadmVersionAsync"/>: the safety layer's ComponentHealth reads the cluster.
/// </summary>
public static partial class VersionSkew
{
    public const string EnvironmentKey = "version.skew";

    /// <summary>The control plane's version as kubeadm recorded it (<c>kubernetesVersion</c> in ConfigMap
    /// <c>kube-system/kubeadm-config</c>), or null on a cluster kubeadm did not set up (then <c>/version</c> counts).</summary>
    public static async Task<string?> KubeadmVersionAsync(IKubernetes api, CancellationToken ct)
    {
        try
        {
            var config = await api.CoreV1.ReadNamespacedConfigMapAsync("kubeadm-config", "kube-system", cancellationToken: ct);
            return KubeadmVersion(config.Data is { } data && data.TryGetValue("ClusterConfiguration", out var text) ? text : null);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Forbidden)
        {
            return null;
        }
    }

    /// <summary>
    /// How many minor versions a kubelet may be older than kube-apiserver. https://kubernetes.io/releases/version-skew-policy/
    /// (kubelet): "kubelet must not be newer than kube-apiserver", "kubelet may be up to three minor versions older than
    /// kube-apiserver (kubelet &lt; 1.25 may only be up to two minor versions older than kube-apiserver)". Three minors
    /// older than a 1.28 API server is a 1.25 kubelet, so this is also "3 from kube-apiserver 1.28 on, 2 before".
    /// </summary>
    public static int MaxKubeletMinorsBehind(KubeVersion kubelet) => kubelet is { Major: 1, Minor: < 25 } ? 2 : 3;

    /// <summary>The <c>kubernetesVersion</c> of kubeadm's <c>ClusterConfiguration</c> (the text of kubeadm-config's key
    /// <c>ClusterConfiguration</c>), or null when it has none or is no YAML mapping.</summary>
    public static string? KubeadmVersion(string? clusterConfiguration)
    {
        if (string.IsNullOrWhiteSpace(clusterConfiguration)) return null;
        try
        {
            var yaml = new YamlStream();
            yaml.Load(new StringReader(clusterConfiguration));
            return yaml.Documents.FirstOrDefault()?.RootNode is YamlMappingNode root
                   && root.Children.TryGetValue(new YamlScalarNode("kubernetesVersion"), out var value) && value is YamlScalarNode { Value: { Length: > 0 } v }
                ? v.Trim()
                : null;
        }
        catch (YamlException) { return null; }
    }

    /// <summary>Distinct versions, oldest first (what is no version last, as written): the same nodes give the same
    /// text in every run, whatever order the API lists them in, so the gate does not read a reordering as a bump.</summary>
    public static string Join(IEnumerable<string> versions) =>
        string.Join(", ", versions.Where(v => !string.IsNullOrEmpty(v)).Distinct()
            .OrderBy(v => KubeVersion.Parse(v) is null).ThenBy(v => KubeVersion.Parse(v)).ThenBy(v => v, StringComparer.Ordinal));

    public static VersionVerdict Judge(VersionFacts facts)
    {
        var problems = new List<ComponentProblem>();
        var cp = facts.ControlPlane;
        var api = KubeVersion.Parse(facts.ApiServer);
        var kubeadmText = facts.KubeadmConfig;
        var kubeadm = KubeVersion.Parse(kubeadmText);
        const string configMap = "`kubectl -n kube-system get cm kubeadm-config -o yaml`";

        if (api is null)
            problems.Add(new("kube-apiserver", cp, $"the API server reports version '{facts.ApiServer}', which is no Kubernetes version",
                $"look at `kubectl version` and the image in /etc/kubernetes/manifests/kube-apiserver.yaml on {cp}"));
        if (kubeadmText is not null && kubeadm is null)
            problems.Add(new("kube-apiserver", cp, $"kubeadm-config records kubernetesVersion '{kubeadmText}', which is no Kubernetes version",
                $"look at {configMap}"));
        else if (api is { } a && kubeadm is { } k && a != k)
            problems.Add(new("kube-apiserver", cp,
                $"the API server is {facts.ApiServer}, but kubeadm-config records kubernetesVersion {kubeadmText} (the control plane kubeadm set up): a `kubeadm upgrade` left half done, or a manifest edited by hand",
                $"look at {configMap}, the image in /etc/kubernetes/manifests/kube-apiserver.yaml on {cp} and `kubeadm upgrade plan`"));

        // The profile's version is what the book's packages install (kubelet, kubeadm). kubeadm without
        // --kubernetes-version sets up the newest patch of its own minor, never an older patch nor another minor.
        var expected = KubeVersion.Parse(facts.Expected);
        if (facts.Expected is not null && expected is null)
            problems.Add(new("kubernetes.version", "the profile", $"{facts.ExpectedSource} expects '{facts.Expected}', which is no Kubernetes version (major.minor.patch)",
                "fix the expected version"));
        if (api is { } server && expected is { } wanted)
        {
            if (!server.SameMinor(wanted))
                problems.Add(new("kube-apiserver", cp,
                    $"the API server is {facts.ApiServer}, {facts.ExpectedSource} expects v{facts.Expected}: another minor version, so this is not the cluster the profile describes (kubeadm sets up a newer patch of its own minor, never another minor)",
                    "point the profile at the right cluster, or fix the expected version"));
            else if (server < wanted)
                problems.Add(new("kube-apiserver", cp,
                    $"the API server is {facts.ApiServer}, older than the v{facts.Expected} {facts.ExpectedSource} expects (kubeadm sets up its own version or a newer patch)",
                    "upgrade the control plane (kubeadm upgrade) or fix the expected version"));
        }

        var violating = new List<string>();
        foreach (var (node, kubeletText) in facts.Kubelets)
        {
            if (KubeVersion.Parse(kubeletText) is not { } kubelet)
            {
                problems.Add(new("kubelet", node, $"kubelet reports version '{kubeletText}', which is no Kubernetes version", $"look at `kubectl get node {node} -o wide`"));
                continue;
            }
            if (expected is { } e && kubelet != e)
                problems.Add(new("kubelet", node, $"kubelet is {kubeletText}, {facts.ExpectedSource} expects v{facts.Expected}",
                    $"upgrade kubelet on {node} or fix the expected version"));
            if (api is not { } s) continue;
            // The policy speaks in minor versions ("kube-apiserver is at 1.35, kubelet is supported at 1.35, …"):
            // within the API server's minor any patch is allowed.
            var behind = kubelet.MinorsBehind(s);
            if (behind < 0)
            {
                violating.Add(node);
                problems.Add(new("kubelet", node,
                    $"kubelet {kubeletText} is newer than kube-apiserver {facts.ApiServer}: the version-skew policy never allows a kubelet newer than the API server",
                    $"upgrade the control plane first (kubeadm upgrade), or install the control plane's version of kubelet on {node}"));
            }
            else if (behind > MaxKubeletMinorsBehind(kubelet))
            {
                violating.Add(node);
                problems.Add(new("kubelet", node,
                    $"kubelet {kubeletText} is {behind} minor versions older than kube-apiserver {facts.ApiServer}: the version-skew policy allows " +
                    $"{(kubelet.Minor < 25 ? "a kubelet before 1.25" : "a kubelet")} to be at most {MaxKubeletMinorsBehind(kubelet)} minor versions older",
                    $"upgrade kubelet on {node} (kubeadm upgrade node, then the kubelet package), one minor version at a time"));
            }
        }

        var source = kubeadmText is null ? "/version, no kubeadm-config"
            : kubeadm is { } kv && api is { } av && kv == av ? "kubeadm-config" : $"kubeadm-config records {kubeadmText}";
        var kubelets = Join(facts.Kubelets.Select(k => k.Kubelet));
        var verdict = violating.Count > 0 ? $"not allowed by the version-skew policy (kubelet on {string.Join(", ", violating)})"
            : api is null ? "skew unknown"
            : facts.Kubelets.All(k => KubeVersion.Parse(k.Kubelet) == api) ? "no skew"
            : "allowed by the version-skew policy";
        return new VersionVerdict(problems, $"kube-apiserver {facts.ApiServer} ({source}), kubelets {(kubelets.Length == 0 ? "none" : kubelets)}: {verdict}");
    }
}

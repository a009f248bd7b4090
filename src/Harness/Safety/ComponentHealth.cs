using System.Text.RegularExpressions;
using Harness.ClusterAccess;
using Harness.Diagnosis;
using Harness.Kube;
using Harness.Profiles;
using Harness.Waits;
using k8s;
using k8s.Models;

namespace Harness.Safety;

/// <summary>
/// The cluster's go/no-go signal before and between faults, in the spirit of Krkn's Cerberus: the control plane's
/// static pods (manifest present, pod Running and Ready), every kube-system DaemonSet fully scheduled and ready,
/// the per-node DaemonSets (kube-proxy, the CNI's) on every node, CoreDNS where the profile has it, and the kubelet
/// and container-runtime versions the profile expects. Reads only; injects nothing.
/// </summary>
public static partial class ComponentHealth
{
    /// <summary>How long the control plane's pods must stay Ready without a restart to count as settled.</summary>
    public static readonly TimeSpan ControlPlaneStable = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Until every component is healthy and the control plane's pods have not restarted for <see cref="ControlPlaneStable"/>,
    /// within <c>timeouts.controlPlaneSettleSeconds</c>: after the API server or etcd was away the scheduler and
    /// controller-manager lose their leases and restart, in kubelet's crash back-off (10, 20, 40 s … growing with each
    /// restart within 10 minutes; 2 to 6 minutes measured on the lab). Returns what is still wrong at the deadline.
    /// </summary>
    public static Task<IReadOnlyList<string>> UntilControlPlaneSettledAsync(Cluster cluster, Action<string>? progress, CancellationToken ct) =>
        Settling.UntilSettledAsync(async t =>
            {
                IReadOnlyList<string> problems = [.. (await CheckAsync(cluster, TimeSpan.Zero, t)).Select(p => p.ToString())];
                var pods = await cluster.Api.CoreV1.ListNamespacedPodAsync("kube-system", fieldSelector: $"spec.nodeName={cluster.Profile.ControlPlane}", cancellationToken: t);
                return (problems, pods.Items);
            },
            ControlPlaneStable, cluster.Profile.Timeouts.ToTimeouts().ControlPlaneSettle, TimeSpan.FromSeconds(2), progress, ct);

    /// <param name="settle">How long pods in kube-system may take to become Ready (a node just rebooted restarts its
    /// kube-proxy) before a deviation counts. A missing manifest never settles: it is reported at once.</param>
    /// <param name="brokenElsewhere">Nodes another check running side by side is breaking on purpose: their pods are
    /// not looked at, nor the DaemonSets' counts (the pods on every other node still are).</param>
    public static async Task<IReadOnlyList<ComponentProblem>> CheckAsync(Cluster cluster, TimeSpan settle, CancellationToken ct,
        IReadOnlySet<string>? brokenElsewhere = null)
    {
        var skip = brokenElsewhere ?? new HashSet<string>();
        var missing = await MissingManifestsAsync(cluster, ct);
        if (missing.Count == 0 && settle > TimeSpan.Zero)
        {
            var daemonSets = (await cluster.Api.AppsV1.ListNamespacedDaemonSetAsync("kube-system", cancellationToken: ct)).Items;
            // This watch sees kube-system only: a per-node DaemonSet that lives elsewhere (Calico's operator puts
            // calico-node in calico-system) is judged by the full check below, not waited on here for nothing.
            var elsewhere = cluster.Profile.Components.PerNodeDaemonSets.Where(n => daemonSets.All(d => d.Name() != n)).ToHashSet();
            IReadOnlyList<ComponentProblem> Settling(IReadOnlyDictionary<string, V1Pod> pods) =>
                PodProblems(cluster.Profile, pods.Values.ToList(), daemonSets).Where(p => !elsewhere.Contains(p.Component) && !skip.Contains(p.Node)).ToList();
            try
            {
                await Watches.Pods(cluster.Api, "kube-system").UntilAsync(
                    pods => Settling(pods).Count == 0,
                    "the control plane's and the per-node DaemonSets' pods to be Ready", settle,
                    pods => string.Join("; ", Settling(pods)), null, ct);
            }
            catch (WaitTimeoutException) { } // the full check below names what is still wrong
        }
        return await CheckNowAsync(cluster, missing, skip, ct);
    }

    private static async Task<IReadOnlyList<ComponentProblem>> CheckNowAsync(Cluster cluster, IReadOnlyList<ComponentProblem> missing,
        IReadOnlySet<string> skip, CancellationToken ct)
    {
        var profile = cluster.Profile;
        var problems = new List<ComponentProblem>(missing);
        var kubeSystem = (await cluster.Api.CoreV1.ListNamespacedPodAsync("kube-system", cancellationToken: ct)).Items.ToList();
        var daemonSets = (await cluster.Api.AppsV1.ListNamespacedDaemonSetAsync("kube-system", cancellationToken: ct)).Items;
        // A per-node DaemonSet may live outside kube-system: Calico installed by its operator runs calico-node in calico-system.
        var elsewhere = (await cluster.Api.AppsV1.ListDaemonSetForAllNamespacesAsync(cancellationToken: ct)).Items
            .Where(d => d.Namespace() != "kube-system" && profile.Components.PerNodeDaemonSets.Contains(d.Name())
                        && daemonSets.All(k => k.Name() != d.Name())).ToList();
        foreach (var ns in elsewhere.Select(d => d.Namespace()).Distinct())
            kubeSystem.AddRange((await cluster.Api.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: ct)).Items);
        problems.AddRange(PodProblems(profile, kubeSystem, [.. daemonSets, .. elsewhere])
            .Where(p => !missing.Any(m => m.Component == p.Component) && !skip.Contains(p.Node)));
        // A node broken on purpose by another check counts in its DaemonSets' numbers: judged by the pods above instead.
        foreach (var ds in skip.Count > 0 ? [] : daemonSets.Concat(elsewhere))
        {
            var s = ds.Status ?? new V1DaemonSetStatus(); // a DaemonSet just created has no status yet
            if (s.DesiredNumberScheduled != s.NumberReady || s.DesiredNumberScheduled != s.CurrentNumberScheduled)
                problems.Add(new(ds.Name(), ds.Namespace(),
                    $"DaemonSet {ds.Name()} has {s.NumberReady} of {s.DesiredNumberScheduled} pods ready ({s.CurrentNumberScheduled} scheduled)",
                    $"look at `kubectl -n {ds.Namespace()} get pods -o wide` and `kubectl -n {ds.Namespace()} describe ds {ds.Name()}`"));
        }

        if (profile.Components.CoreDns)
        {
            var coredns = (await cluster.Api.AppsV1.ListNamespacedDeploymentAsync("kube-system", fieldSelector: "metadata.name=coredns", cancellationToken: ct)).Items.FirstOrDefault();
            if (coredns is null)
                problems.Add(new("coredns", "kube-system", "Deployment coredns does not exist", "look at `kubectl -n kube-system get deploy`; set 'components.coreDns: false' if this cluster has no cluster DNS"));
            else if ((coredns.Status.ReadyReplicas ?? 0) < Math.Max(1, coredns.Spec.Replicas ?? 1))
                problems.Add(new("coredns", "kube-system", $"Deployment coredns has {coredns.Status.ReadyReplicas ?? 0} of {coredns.Spec.Replicas} replicas ready",
                    "look at `kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide`"));
        }

        problems.AddRange((await VersionProblemsAsync(cluster, ct)).Where(p => !skip.Contains(p.Node)));
        return problems;
    }

    /// <summary>What the pods say: each control-plane static pod Ready on the control plane, each per-node DaemonSet's pod Ready on every node
    /// (Ready by kubelet's rule: <see cref="ObjectState.IsReadyByKubeletRule"/>).</summary>
    public static IReadOnlyList<ComponentProblem> PodProblems(ClusterProfile profile, IReadOnlyList<V1Pod> kubeSystem, IList<V1DaemonSet> daemonSets)
    {
        var problems = new List<ComponentProblem>();
        foreach (var component in profile.Components.ControlPlane)
        {
            var pod = Best(kubeSystem.Where(p => p.Spec.NodeName == profile.ControlPlane && Label(p, "component") == component));
            var describe = $"look at `kubectl -n kube-system describe pod {component}-{profile.ControlPlane}` and `journalctl -u kubelet` on {profile.ControlPlane}";
            if (pod is null)
                problems.Add(new(component, profile.ControlPlane, "its static pod is not running (no mirror pod in kube-system)", describe));
            else if (!pod.IsReadyByKubeletRule())
                problems.Add(new(component, profile.ControlPlane, $"static pod {pod.Name()} is not Ready ({ObjectState.Describe(pod)})", describe));
        }

        foreach (var name in profile.Components.PerNodeDaemonSets)
        {
            var ds = daemonSets.FirstOrDefault(d => d.Name() == name);
            if (ds is null)
            {
                problems.Add(new(name, "kube-system", $"DaemonSet {name} does not exist in any namespace", $"look at `kubectl get ds -A`; fix 'components.perNodeDaemonSets' if this cluster has none"));
                continue;
            }
            foreach (var node in profile.AllNodes)
            {
                var pod = Best(kubeSystem.Where(p => p.Spec.NodeName == node && OwnedBy(p, ds)));
                if (pod is null)
                    problems.Add(new(name, node, $"no {name} pod on this node (DaemonSet {name} schedules {ds.Status?.DesiredNumberScheduled ?? 0} pods for {profile.AllNodes.Count()} nodes)",
                        $"look at `kubectl -n {ds.Namespace()} get ds {name} -o yaml` (nodeSelector, affinity, tolerations) and `kubectl describe node {node}`"));
                else if (!pod.IsReadyByKubeletRule())
                    problems.Add(new(name, node, $"pod {pod.Name()} is not Ready ({ObjectState.Describe(pod)})",
                        $"look at `kubectl -n {pod.Namespace()} logs {pod.Name()}` and `journalctl -u kubelet` on {node}"));
            }
        }
        return problems;
    }

    /// <summary>kubeadm's control plane lives in static-pod manifests: one look on the control plane says whether each is there.</summary>
    public static async Task<IReadOnlyList<ComponentProblem>> MissingManifestsAsync(Cluster cluster, CancellationToken ct)
    {
        var profile = cluster.Profile;
        var dir = profile.Components.ManifestsDirectory.TrimEnd('/');
        if (profile.Components.ControlPlane.Count == 0) return [];
        var script = $"[ -d {dir} ] || echo no-manifests-folder; " + string.Join("; ", profile.Components.ControlPlane.Select(c => $"test -f {dir}/{c}.yaml || echo {c}"));
        var result = await cluster.ControlPlane.RunAsync(script, profile.Timeouts.ToTimeouts().Command, ct);
        if (result.Stdout.Contains("no-manifests-folder", StringComparison.Ordinal))
            return [new("control plane", profile.ControlPlane, $"{dir} does not exist on {profile.ControlPlane}, so no static pod runs there",
                "check that this node is the kubeadm control plane ('controlPlane'), or set 'components.manifestsDirectory' (or 'components.controlPlane: []' for a cluster without static pods)")];
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(profile.Components.ControlPlane.Contains)
            .Select(c => new ComponentProblem(c, profile.ControlPlane, $"{dir}/{c}.yaml missing on {profile.ControlPlane}, so kubelet does not run it",
                $"put the manifest back into {dir}/ on {profile.ControlPlane} (the revised edition's load-kube-apiserver.sh does that for the API server)"))
            .ToList();
    }

    private static async Task<IReadOnlyList<ComponentProblem>> VersionProblemsAsync(Cluster cluster, CancellationToken ct)
    {
        var profile = cluster.Profile;
        var (expected, source) = ExpectedVersion(profile);
        var runtime = profile.Kubernetes.ContainerRuntime;
        var nodes = (await cluster.Api.CoreV1.ListNodeAsync(cancellationToken: ct)).Items.Where(n => profile.AllNodes.Contains(n.Name())).ToList();
        // The control plane is judged against kubeadm's own record of it, the kubelets against the profile and the skew policy.
        var problems = VersionSkew.Judge(new VersionFacts(profile.ControlPlane, cluster.ServerVersion, await VersionSkew.KubeadmVersionAsync(cluster.Api, ct),
            expected, source, [.. nodes.Select(n => (n.Name(), n.Status.NodeInfo.KubeletVersion))])).Problems.ToList();
        foreach (var node in nodes)
        {
            var info = node.Status.NodeInfo;
            var wanted = runtime.Contains("://") ? runtime : runtime + "://";
            if (!string.IsNullOrEmpty(runtime) && !info.ContainerRuntimeVersion.StartsWith(wanted, StringComparison.Ordinal))
                problems.Add(new("container runtime", node.Name(), $"the node runs {info.ContainerRuntimeVersion}, the profile expects {runtime} (kubernetes.containerRuntime)",
                    $"look at `kubectl get node {node.Name()} -o wide`; fix the node or the profile"));
        }
        return problems;
    }

    /// <summary>The version the profile expects every kubelet to run (the API server: that patch or a newer one of its
    /// minor, see <see cref="VersionSkew"/>) and where that expectation comes from (for the message).</summary>
    public static (string? Version, string Source) ExpectedVersion(ClusterProfile profile)
    {
        var setting = profile.Kubernetes.Version.Trim();
        if (setting.Length == 0) return (null, "");
        if (!setting.Equals("vagrantfile", StringComparison.OrdinalIgnoreCase))
            return (setting.TrimStart('v'), $"the profile (kubernetes.version {setting})");
        var path = Path.Combine(profile.ResolvePath(profile.Discovery.VagrantDirectory), "Vagrantfile");
        var match = File.Exists(path) ? VagrantVersion().Match(File.ReadAllText(path)) : Match.Empty;
        return match.Success
            ? (match.Groups["v"].Value, $"the Vagrantfile ({match.Groups["name"].Value} = '{match.Groups["v"].Value}' in {path})")
            : throw new Profiles.ProfileException(
                $"Profile {profile.SourcePath}: kubernetes.version is 'vagrantfile', but {path} has no line like Ver = '1.18.4'. Set kubernetes.version to the version the nodes run.");
    }

    /// <summary>Of a component's pods on one node, the one that counts: not being deleted, Ready first (a rolling update may show two).</summary>
    private static V1Pod? Best(IEnumerable<V1Pod> pods) =>
        pods.Where(p => p.Metadata.DeletionTimestamp is null).OrderByDescending(p => p.IsReadyByKubeletRule()).FirstOrDefault();

    private static string? Label(V1Pod pod, string key) => pod.Metadata.Labels?.TryGetValue(key, out var v) == true ? v : null;

    private static bool OwnedBy(V1Pod pod, V1DaemonSet ds) => pod.Metadata.OwnerReferences?.Any(o => o.Uid == ds.Uid()) == true;

    [GeneratedRegex(@"^\s*(?<name>Ver|k8s_V)\s*=\s*'(?<v>\d+\.\d+\.\d+)", RegexOptions.Multiline)]
    private static partial Regex VagrantVersion();
}

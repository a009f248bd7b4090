using Harness.ClusterAccess;
using Harness.Diagnosis;
using Harness.Kube;
using Harness.Text;
using Harness.Waits;
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

    /// <summary>Taints the node controller puts on a node it lost touch with; they linger a few seconds after recovery.</summary>
    private static bool HasLifecycleTaint(V1Node node) =>
        node.Spec?.Taints?.Any(t => t.Key.StartsWith("node.kubernetes.io/", StringComparison.Ordinal)) == true;

    /// <param name="namespaceGone">A namespace of the suite that must not exist (a leftover); null: none is checked.</param>
    /// <param name="settle">How long nodes may take to settle (Ready, schedulable, untainted) before a deviation counts:
    /// right after a recovery the node controller needs a few seconds to lift its taints.</param>
    /// <param name="brokenElsewhere">Nodes another check running side by side is breaking on purpose: not looked at.</param>
    public static async Task<ClusterBaseline> CheckAsync(Cluster cluster, string? namespaceGone, CancellationToken ct, TimeSpan? settle = null,
        IReadOnlySet<string>? brokenElsewhere = null)
    {
        var names = cluster.Profile.AllNodes.Where(n => brokenElsewhere?.Contains(n) != true).ToList();
        // The node's services first, over SSH: a stopped kubelet or runtime is named at once, without waiting for its
        // node to settle (a stopped containerd leaves its node Ready for about 30 s, until kubelet's runtime check fails).
        var runtimes = (await cluster.Api.CoreV1.ListNodeAsync(cancellationToken: ct)).Items
            .ToDictionary(n => n.Name(), n => NodeConditions.RuntimeUnit(n.Status?.NodeInfo?.ContainerRuntimeVersion));
        var checks = names.Select(async name =>
        {
            var found = new List<string>();
            try
            {
                if (!await cluster.Kubelets.IsActiveAsync(name, ct))
                    found.Add($"kubelet on {name}: not active — `systemctl start kubelet` there (without it: every pod on that node)");
                if (runtimes.GetValueOrDefault(name) is { } unit
                    && await cluster.Node(name).RunAsync($"systemctl is-active {unit}", cluster.Profile.Timeouts.ToTimeouts().Command, ct) is { Succeeded: false } state)
                    found.Add(new ComponentProblem("container runtime", name, $"{unit} is {state.Stdout.Trim()} (`systemctl is-active {unit}`), though the node reports it as its runtime",
                        $"`systemctl start {unit}` and `journalctl -u {unit}` on {name}").ToString());
            }
            catch (Exception e) when (e is not OperationCanceledException) { found.Add($"kubelet on {name}: cannot check it ({Secrets.Redact(e.Message)})"); }
            return found;
        });
        var problems = (await Task.WhenAll(checks)).SelectMany(f => f).ToList();

        IReadOnlyDictionary<string, V1Node> nodes;
        try
        {
            nodes = (await Watches.Nodes(cluster.Api).UntilAsync(
                all => names.All(n => all.TryGetValue(n, out var node) && node.IsReady() && node.IsSchedulable() && !HasLifecycleTaint(node)),
                "every node Ready, schedulable and untainted", problems.Count > 0 ? TimeSpan.FromSeconds(1) : settle ?? TimeSpan.FromSeconds(60),
                all => ObjectState.Describe(all.Values), null, ct)).Objects;
        }
        catch (WaitTimeoutException)
        {
            nodes = (await cluster.Api.CoreV1.ListNodeAsync(cancellationToken: ct)).Items.ToDictionary(n => n.Name());
        }
        problems.AddRange(names.Select(name => NodeProblem(name, nodes.GetValueOrDefault(name))).OfType<string>());
        if (namespaceGone is not null)
        {
            // The suite's namespace, or a check's own (verification-<check>).
            var left = (await cluster.Api.CoreV1.ListNamespaceAsync(cancellationToken: ct)).Items.Select(n => n.Name())
                .Where(n => n == namespaceGone || n.StartsWith(namespaceGone + "-", StringComparison.Ordinal));
            foreach (var ns in left)
                problems.Add($"namespace {ns} is left from an earlier run: `kubectl delete namespace {ns}`");
        }
        return new ClusterBaseline(problems);
    }

    /// <summary>What is wrong with one node of the profile (null: nothing). A NotReady node is named with its Ready
    /// condition in kubelet's words and the component that names (<see cref="NodeConditions.Diagnose"/>).</summary>
    public static string? NodeProblem(string name, V1Node? node)
    {
        if (node is null) return $"node {name} is not registered in the cluster (kubeadm join it, or fix the profile)";
        if (!node.IsReady()) return NodeConditions.Diagnose(node)?.ToString() ?? $"node {name} is NotReady (check `journalctl -u kubelet` on it)";
        if (!node.IsSchedulable()) return $"node {name} is cordoned (SchedulingDisabled): `kubectl uncordon {name}` if nobody is maintaining it";
        if (HasLifecycleTaint(node))
            return $"node {name} still has the taint(s) {string.Join(", ", node.Spec.Taints.Select(t => $"{t.Key}:{t.Effect}"))}: check its kubelet and the node controller";
        return null;
    }

    public override string ToString() => Healthy ? "cluster healthy" : string.Join("; ", Problems);
}

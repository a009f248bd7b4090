using Harness.Faults;
using Harness.Kube;
using Harness.Probes;
using Harness.Waits;
using k8s;
using k8s.Models;

namespace Harness.Safety;

/// <summary>The cluster is not healthy enough for faults. The message starts with "Cluster health:" (a report
/// category of its own), names each broken component, its node and where to look, and says nothing was injected.</summary>
public sealed class ClusterUnhealthyException(string profile, IReadOnlyList<string> problems)
    : Exception($"Cluster health: profile '{profile}': {string.Join("; ", problems)}. Nothing was injected.")
{
    // A method, not a property: NUnit prints an exception's public properties after its message.
    public IReadOnlyList<string> Problems() => problems;
}

/// <summary>
/// Before any fault: the cluster's health (nodes Ready and schedulable, kubelet active, the control plane's static
/// pods, kube-system's DaemonSets on every node, CoreDNS, versions; no leftovers of the suite) and then the pod
/// network: an nginx pod on every worker answering curl from the control plane.
/// Returns every problem found, each naming the component, its node and what to fix; empty means go.
/// </summary>
public static class Preflight
{
    /// <summary>Nodes, kubelets and the components of the book's diagram; what a check's steady state also asks.</summary>
    /// <param name="namespaceGone">A namespace of the suite that must not be left (null: none is checked).</param>
    /// <param name="brokenElsewhere">Nodes another check running side by side is breaking on purpose: not looked at.</param>
    public static async Task<IReadOnlyList<string>> HealthAsync(Cluster cluster, string? namespaceGone, TimeSpan settle, CancellationToken ct,
        IReadOnlySet<string>? brokenElsewhere = null)
    {
        var baseline = await ClusterBaseline.CheckAsync(cluster, namespaceGone, ct, settle, brokenElsewhere);
        // Something is already down: report it now rather than give the rest time to settle.
        var components = await ComponentHealth.CheckAsync(cluster, baseline.Healthy ? settle : TimeSpan.Zero, ct, brokenElsewhere);
        return [.. baseline.Problems, .. components.Select(c => c.ToString())];
    }

    /// <param name="ns">The suite's namespace: it must not be left from an earlier run, and the probe pods run in it.</param>
    /// <param name="manifests">Where the probe pods' manifest (the book's nginx pod) comes from.</param>
    public static async Task<IReadOnlyList<string>> CheckAsync(Cluster cluster, string ns, Manifests manifests, FaultScope scope, TimeSpan settle,
        CancellationToken ct)
    {
        var health = await HealthAsync(cluster, namespaceGone: ns, settle, ct);
        if (health.Count > 0) return health;

        var profile = cluster.Profile;
        await scope.InjectAsync(Fault.InCluster("preflight pods", ns, $"kubectl create namespace {ns}", Revert.DeleteNamespace(ns)),
            t => cluster.EnsureNamespaceAsync(ns, t), ct);
        try
        {
            foreach (var worker in profile.Workers)
                await cluster.Api.CoreV1.CreateNamespacedPodAsync(manifests.Pod($"preflight-{worker}", profile.Images.Nginx, worker), ns, cancellationToken: ct);
            IReadOnlyDictionary<string, V1Pod> pods;
            try
            {
                pods = (await cluster.Waits(ns, ct).Pods().Until(
                    all => profile.Workers.All(w => all.TryGetValue($"preflight-{w}", out var p) && p.IsReady()),
                    "a Ready nginx pod on every worker", TimeSpan.FromSeconds(profile.Timeouts.PodReadySeconds))).Objects;
            }
            catch (WaitTimeoutException e)
            {
                return [$"pods cannot start on every worker ({e.LastState}): check `kubectl describe pod -n {ns}` and the kubelet journal of those nodes"];
            }
            // All workers at once: a broken one costs one curl timeout, not one per worker.
            var curls = profile.Workers.Select(async worker =>
            {
                var ip = pods[$"preflight-{worker}"].Status.PodIP;
                var curl = await HttpProbe.CurlAsync(cluster.ControlPlane, profile.Commands.Curl, ip, profile.Timeouts.CurlSeconds, ct);
                return curl.Answered ? null
                    : $"pod network (CNI) on {worker}: curl from {profile.ControlPlane} to a pod there ({ip}) " +
                      $"{(curl.TimedOut ? "timed out" : $"failed (exit {curl.Command.ExitCode})")} — look at the CNI, ip_forward and routes on {worker}";
            });
            return (await Task.WhenAll(curls)).OfType<string>().ToList();
        }
        finally
        {
            // The probes have answered (or not): remove them without their grace period, so the namespace goes quickly.
            foreach (var worker in profile.Workers)
                try { await cluster.Api.CoreV1.DeleteNamespacedPodAsync($"preflight-{worker}", ns, gracePeriodSeconds: 0, cancellationToken: CancellationToken.None); }
                catch (k8s.Autorest.HttpOperationException) { }
        }
    }
}

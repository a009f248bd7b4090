using Harness.Faults;
using Harness.Kube;
using Harness.Probes;
using Harness.Waits;
using k8s;
using k8s.Models;

namespace Harness.Safety;

/// <summary>
/// Before any fault: the cluster baseline (every node reachable, Ready, schedulable, kubelet active, no leftovers of
/// the suite) and then the pod network: an nginx pod on every worker answering curl from the control plane.
/// Returns every problem found, each naming the node and what to fix; empty means go.
/// </summary>
public static class Preflight
{
    public static async Task<IReadOnlyList<string>> CheckAsync(Cluster cluster, FaultScope scope, CancellationToken ct)
    {
        var baseline = await ClusterBaseline.CheckAsync(cluster, expectNamespaceGone: true, ct);
        if (!baseline.Healthy) return baseline.Problems;

        var ns = cluster.Namespace;
        var profile = cluster.Profile;
        await scope.InjectAsync("preflight pods", ns, $"kubectl create namespace {ns}", Revert.DeleteNamespace(ns),
            cluster.EnsureNamespaceAsync, ct, nodeFault: false);
        foreach (var worker in profile.Workers)
            await cluster.Api.CoreV1.CreateNamespacedPodAsync(Manifests.Pod($"preflight-{worker}", profile.Images.Nginx, worker), ns, cancellationToken: ct);

        var problems = new List<string>();
        IReadOnlyDictionary<string, V1Pod> pods;
        try
        {
            pods = (await Watches.Pods(cluster.Api, ns).UntilAsync(
                all => profile.Workers.All(w => all.TryGetValue($"preflight-{w}", out var p) && p.IsReady()),
                $"a Ready nginx pod on every worker", TimeSpan.FromSeconds(profile.Timeouts.PodReadySeconds),
                all => ObjectState.Describe(all.Values), Reporting.Report.Progress, ct)).Objects;
        }
        catch (WaitTimeoutException e)
        {
            return [$"pods cannot start on every worker ({e.LastState}): check `kubectl describe pod -n {ns}` and the kubelet journal of those nodes"];
        }
        foreach (var worker in profile.Workers)
        {
            var ip = pods[$"preflight-{worker}"].Status.PodIP;
            var curl = await HttpProbe.CurlAsync(cluster.ControlPlane, profile.Commands.Curl, ip, profile.Timeouts.CurlSeconds, ct);
            if (!curl.Answered)
                problems.Add($"pod network: curl from {profile.ControlPlane} to a pod on {worker} ({ip}) " +
                             $"{(curl.TimedOut ? "timed out" : $"failed (exit {curl.Command.ExitCode})")}: check the CNI and routes on {worker}");
        }
        return problems;
    }
}

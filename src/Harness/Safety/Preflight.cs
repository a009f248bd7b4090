using Harness.ClusterAccess;
using Harness.Diagnosis;
using Harness.Faults;
using Harness.Kube;
using Harness.Probes;
using Harness.Text;
using Harness.Waits;
using k8s;
using k8s.Models;

namespace Harness.Safety;

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
        try
        {
            var baseline = await ClusterBaseline.CheckAsync(cluster, namespaceGone, ct, settle, brokenElsewhere);
            // Something is already down: report it now rather than give the rest time to settle.
            var components = await ComponentHealth.CheckAsync(cluster, baseline.Healthy ? settle : TimeSpan.Zero, ct, brokenElsewhere);
            return [.. baseline.Problems, .. (await ExplainControlPlaneAsync(cluster, components, ct)).Select(c => c.ToString())];
        }
        catch (Exception e) when (ApiErrors.IsTransient(e, ct))
        {
            return (await ExplainApiFailureAsync(cluster, e, ct))!.Problems();
        }
    }

    /// <summary>
    /// An API call that failed, timed out or hung (etcd away: the API server answers /version but every read waits on
    /// storage) explained from the control plane over SSH, as an operator would look; null when <paramref name="error"/>
    /// is no such failure (a bug, a refusal, our own cancellation).
    /// </summary>
    public static async Task<ClusterUnhealthyException?> ExplainApiFailureAsync(Cluster cluster, Exception error, CancellationToken ct)
    {
        if (!ApiErrors.IsTransient(error, ct)) return null;
        var diagnosis = await ControlPlaneDiagnosis.ReadAsync(cluster.ControlPlane, cluster.Profile, ct);
        return new ClusterUnhealthyException(cluster.Profile.Name,
            [.. diagnosis.Problems.Select(p => p.ToString()),
             $"the Kubernetes API did not answer ({ApiErrors.Describe(error)}){(diagnosis.Problems.Count == 0 ? $"; {diagnosis}" : "")}"],
            diagnosis.Evidence);
    }

    /// <summary>
    /// What an operator reads when the cluster is not healthy, for the report: the control plane's containers,
    /// /readyz and etcd's health (<see cref="ControlPlaneDiagnosis"/>), every node's conditions, and the kubelet
    /// journal's tail of each node a problem names. Best effort within <paramref name="budget"/>: what cannot be read
    /// is said so.
    /// </summary>
    public static async Task<string> EvidenceAsync(Cluster cluster, IReadOnlyList<string> problems, TimeSpan budget)
    {
        using var deadline = new CancellationTokenSource(budget);
        var ct = deadline.Token;
        var parts = new List<string>();
        async Task Read(string title, Func<Task<string>> read)
        {
            try { parts.Add($"## {title}\n{await read()}"); }
            catch (Exception e) { parts.Add($"## {title}\n(not read: {Secrets.Redact(e.Message.Split('\n')[0])})"); }
        }
        await Read($"control plane {cluster.Profile.ControlPlane}", async () => (await ControlPlaneDiagnosis.ReadAsync(cluster.ControlPlane, cluster.Profile, ct,
            TimeSpan.FromSeconds(Math.Min(30, budget.TotalSeconds)))).Evidence);
        await Read("node conditions (kubectl describe nodes)", async () => string.Join("\n",
            (await cluster.Api.CoreV1.ListNodeAsync(cancellationToken: ct)).Items.SelectMany(n => (n.Status?.Conditions ?? []).Select(c =>
                $"{n.Name()} {c.Type}={c.Status} reason={c.Reason} since={c.LastTransitionTime:u}: {c.Message}"))));
        foreach (var node in cluster.Profile.AllNodes.Where(n => problems.Any(p => p.Contains($" on {n}", StringComparison.Ordinal))))
            await Read($"journalctl -u kubelet on {node} (last 30 lines)", async () =>
                (await cluster.Node(node).RunAsync("journalctl -u kubelet --no-pager -n 30", TimeSpan.FromSeconds(10), ct)).ToString());
        return Secrets.Redact(string.Join("\n\n", parts));
    }

    /// <summary>
    /// A control-plane static pod the API shows unhealthy (no mirror pod, not Ready) said with what its node shows: the
    /// container's state, exit code, restarts and the last error in its log (a crash loop from a bad flag names the flag).
    /// A component the look on the node finds nothing wrong with keeps the API's words.
    /// </summary>
    private static async Task<IReadOnlyList<ComponentProblem>> ExplainControlPlaneAsync(Cluster cluster, IReadOnlyList<ComponentProblem> problems,
        CancellationToken ct)
    {
        var controlPlane = cluster.Profile.Components.ControlPlane;
        if (!problems.Any(p => controlPlane.Contains(p.Component) && p.Node == cluster.Profile.ControlPlane)) return problems;
        var seen = (await ControlPlaneDiagnosis.ReadAsync(cluster.ControlPlane, cluster.Profile, ct)).Problems;
        return [.. problems.Where(p => !seen.Any(s => s.Component == p.Component && s.Node == p.Node)), .. seen];
    }

    /// <summary>The profile's nodes whose conditions say they are not healthy, in their own words (<see cref="NodeConditions"/>).</summary>
    private static IReadOnlyList<string> NodeProblems(Profiles.ClusterProfile profile, IReadOnlyDictionary<string, V1Node> nodes) =>
        profile.AllNodes.Select(n => nodes.TryGetValue(n, out var node) ? NodeConditions.Diagnose(node) : null)
            .OfType<ComponentProblem>().Select(p => p.ToString()).ToList();

    /// <param name="ns">The suite's namespace: it must not be left from an earlier run, and the probe pods run in it.</param>
    /// <param name="manifests">Where the probe pods' manifest (the book's nginx pod) comes from.</param>
    public static async Task<IReadOnlyList<string>> CheckAsync(Cluster cluster, string ns, Manifests manifests, FaultScope scope, TimeSpan settle,
        CancellationToken ct)
    {
        var health = await HealthAsync(cluster, namespaceGone: ns, settle, ct);
        if (health.Count > 0) return health;

        var profile = cluster.Profile;
        await scope.InjectAsync(Fault.InCluster("preflight pods", ns, $"kubectl create namespace {ns}", Revert.DeleteNamespace(ns)),
            t => cluster.Namespaces.EnsureAsync(ns, t), ct);
        try
        {
            foreach (var worker in profile.Workers)
                await cluster.Api.CoreV1.CreateNamespacedPodAsync(manifests.Pod($"preflight-{worker}", profile.Images.Nginx, worker), ns, cancellationToken: ct);
            IReadOnlyDictionary<string, V1Pod> pods;
            var podReady = profile.Timeouts.ToTimeouts().PodReady;
            using var race = CancellationTokenSource.CreateLinkedTokenSource(ct);
            // A node that turns unhealthy while the probes start (a CNI config taken away a moment before the run: the
            // node says NotReady only seconds later) is named from its Ready condition, not waited out for podReady.
            var nodeTurns = Watches.Nodes(cluster.Api).UntilAsync(
                all => NodeProblems(profile, all).Count > 0, "a node to turn unhealthy while the probe pods start", podReady,
                _ => "", null, race.Token);
            try
            {
                var podsReady = cluster.Waits(ns, race.Token).Pods().Until(
                    all => profile.Workers.All(w => all.TryGetValue($"preflight-{w}", out var p) && p.IsReady()),
                    "a Ready nginx pod on every worker", podReady);
                if (await Task.WhenAny(podsReady, nodeTurns) == nodeTurns && nodeTurns.IsCompletedSuccessfully)
                    return NodeProblems(profile, nodeTurns.Result.Objects);
                pods = (await podsReady).Objects;
            }
            catch (OperationCanceledException) when (nodeTurns.IsCompletedSuccessfully && !ct.IsCancellationRequested)
            {
                return NodeProblems(profile, nodeTurns.Result.Objects);
            }
            catch (WaitTimeoutException e)
            {
                return [$"pods cannot start on every worker ({e.LastState}): check `kubectl describe pod -n {ns}` and the kubelet journal of those nodes"];
            }
            catch (WaitGaveUpException e)
            {
                // The registry's pull limit: it lasts the hour, so say it now rather than at the deadline.
                return [e.Reason()];
            }
            finally
            {
                race.Cancel(); // ends whichever wait is still watching
                try { await nodeTurns; } catch (Exception) { } // its outcome, if any, was read above
            }
            // All workers at once: a broken one costs one curl timeout, not one per worker.
            var curls = profile.Workers.Select(async worker =>
            {
                var ip = pods[$"preflight-{worker}"].Status.PodIP;
                var curl = await HttpProbe.CurlAsync(cluster.ControlPlane, profile.Commands.Curl, ip, profile.Timeouts.ToTimeouts().Curl, ct);
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

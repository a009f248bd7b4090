using Harness.Checks;
using Harness.Faults;
using Harness.Kube;
using Harness.NUnitAdapter;
using Harness.Reporting;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Verification;

/// <summary>S5 and S6: a Deployment keeps its replica count, and scaling spreads pods over the workers.</summary>
[TestFixture, Order(5), Category("deployment")]
public sealed class DeploymentTests : ClusterCheck
{
    /// <summary>One of echo-hname's pods deleted (the book's <c>kubectl delete pods NAME</c>): the Deployment replaces it;
    /// deleting the namespace cleans up if the check stops first.</summary>
    private Fault EchoHnamePodDeleted(string pod = "<one of echo-hname's pods>") =>
        Fault.InCluster("echo-hname pod deleted", "echo-hname", $"kubectl delete pods {pod}", Revert.DeleteNamespace(Ns));

    /// <summary>echo-hname scaled up (the book's 9: three per worker); the check scales it back down (its recovery).</summary>
    private Fault EchoHnameScaled => Fault.InCluster("echo-hname scaled", "echo-hname",
        $"kubectl scale deployment echo-hname --replicas={Workers.ThreePodsEach}", Revert.DeleteNamespace(Ns));

    protected override IEnumerable<Fault> FaultsOf(string check) => check switch
    {
        nameof(DeploymentReplacesADeletedPod) => [EchoHnamePodDeleted()],
        nameof(ScalingSpreadsPodsOverTheWorkers) => [EchoHnameScaled],
        _ => [],
    };

    /// <summary>The scheduler places echo-hname's pods on any worker: every worker must stay healthy meanwhile; the scale
    /// check counts pods on every worker, so none may be cordoned either.</summary>
    protected override ClusterClaim ClaimOf(string check) => check == nameof(ScalingSpreadsPodsOverTheWorkers)
        ? ClaimOfFaults(check).NeedingSchedulable(Workers.All)
        : ClaimOfFaults(check).Needing(Workers.All);

    [Test, Category("book"), Scenario("S5"), Order(1), CancelAfter(Backstop)]
    [Description("echo-hname with 3 then 6 replicas; delete one pod: a new one replaces it. Deleting the Deployment removes its pods.")]
    public async Task DeploymentReplacesADeletedPod()
    {
        await Workloads.ApplyEchoHnameAsync(3);
        var six = await Workloads.ApplyEchoHnameAsync(6);
        var victim = six[0].Name();

        await Report.Step($"kubectl delete pods {victim} → a new pod replaces it", async () =>
        {
            await InjectAsync(EchoHnamePodDeleted(victim), t => Api.CoreV1.DeleteNamespacedPodAsync(victim, Ns, cancellationToken: t));
            var deleted = DateTimeOffset.UtcNow;
            var seen = await Pods("app=nginx").Until(pods => pods.TryGetValue(victim, out var p) && p.IsTerminating() || !pods.ContainsKey(victim),
                $"{victim} to be deleted", Timeouts.Symptom);
            Record("detection", seen.ObservedAt - deleted);
            // The replacement is the book's point; the deleted pod may still be Terminating meanwhile (not counted).
            var again = await Workloads.ReadyPodsAsync("app=nginx", 6, p => p.Name() != victim, ignoreLeaving: true);
            Record("recovery", DateTimeOffset.UtcNow - deleted);
            Assert.That(again.Select(p => p.Name()), Does.Not.Contain(victim));
            Assert.That(again.Select(p => p.Name()).Except(six.Select(p => p.Name())), Has.Exactly(1).Items, "exactly one new pod");
        });

        await Report.Step("kubectl delete deployment echo-hname → its pods are gone", async () =>
        {
            await Api.AppsV1.DeleteNamespacedDeploymentAsync("echo-hname", Ns, propagationPolicy: "Foreground", cancellationToken: Token);
            var gone = await Pods("app=nginx").Until(pods => pods.Count == 0, "echo-hname's pods to be deleted", Timeouts.PodGone);
            Assert.That(gone.Objects, Is.Empty);
        });
        await Kubectl.StepAsync("get pods");
    }

    [Test, Category("book"), Scenario("S6"), Order(2), CancelAfter(Backstop)]
    [Description("Scale echo-hname to 9 (three per worker), then back to 3 (one per worker), asserting what the cluster's Kubernetes promises: " +
                 "1.18's SelectorSpread puts pods on every worker, the default topology spread of 1.20+ only prefers to; the scale-down keeps, " +
                 "per worker, what the ReplicaSet controller's ranking says (one per worker where it guarantees that).")]
    public async Task ScalingSpreadsPodsOverTheWorkers()
    {
        // The book's 9 and 3 on its three workers; the same per worker on any number of workers from 2 up.
        var (up, down) = (Workers.ThreePodsEach, Workers.OnePodEach);
        await Workloads.ApplyEchoHnameAsync(down);
        var promise = await SpreadPromiseAsync();

        var everyWorker = promise.EveryWorkerAfterScaleUp;
        var (scaled, before) = await Report.Step($"kubectl scale deployment echo-hname --replicas={up} → " +
            (everyWorker ? "pods on every worker" : $"{up} pods Ready, none on the control plane"), async () =>
        {
            var started = DateTimeOffset.UtcNow;
            var fault = await InjectAsync(EchoHnameScaled, _ => Kubectl.ScaleAsync("echo-hname", up));
            var pods = await Workloads.ReadyPodsAsync("app=nginx", up);
            Record("scale up", DateTimeOffset.UtcNow - started);
            var perNode = Workloads.PerNode(pods);
            Report.Attach("pods per node", Distribution(perNode));
            // The control plane is tainted NoSchedule by kubeadm on every version: no echo-hname pod there.
            Assert.That(perNode.Keys, Is.SubsetOf(Profile.Workers), "pods on the workers only, none on the control plane");
            // SelectorSpread is what the book shows (three per worker); the default topology spread (maxSkew 3,
            // ScheduleAnyway) is a preference only: a worker without pods is no fault there, just reported.
            if (everyWorker)
                Assert.That(perNode.Keys, Is.EquivalentTo(Profile.Workers), $"the scheduler spreads replicas over every worker ({promise.Spreading})");
            return (fault, pods);
        });

        await Report.Step($"kubectl scale deployment echo-hname --replicas={down} → {down} pods Ready, per worker as the scale-down ranking leaves them", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            await RecoverAsync(scaled, _ => Kubectl.ScaleAsync("echo-hname", down));
            // The replicas the Deployment keeps: pods it is removing may still be Terminating (not counted).
            var pods = await Workloads.ReadyPodsAsync("app=nginx", down, ignoreLeaving: true);
            var done = DateTimeOffset.UtcNow;
            Record("scale down", done - started);
            var perNode = Workloads.PerNode(pods);
            Report.Attach("pods per node", Distribution(perNode));
            Assert.That(perNode.Keys, Is.SubsetOf(Profile.Workers), "pods on the workers only, none on the control plane");

            // What the ReplicaSet controller's ranking leaves from the pods as they were before the scale-down: the
            // controller's "now" (for log buckets) lies between the scale command and the end of the wait, give or take
            // the clocks' skew between this machine and the cluster's nodes.
            var kept = SpreadRules.KeptPerNode([.. before.Select(RankedPod.Of)], down, promise.Ranking,
                started - ClockSkewAllowance, done + ClockSkewAllowance);
            var upPerNode = Workloads.PerNode(before);
            Report.Attach("what the scale-down ranking allows per node (before → after)", SpreadRules.Describe(upPerNode, kept));
            var onePerWorker = SpreadRules.OnePerWorkerGuaranteed(kept, Profile.Workers);
            Report.Parameter("one pod per worker after the scale-down", onePerWorker
                ? "guaranteed: the ranking keeps exactly one pod on each worker from this scale-up"
                : $"not promised from this scale-up ({Distribution(upPerNode, ", ")}): {promise.ScaleDown}", excluded: true);
            var allowed = Profile.Workers.ToDictionary(w => w, w => kept.GetValueOrDefault(w));
            var ranges = string.Join(", ", allowed.Select(kv => $"{kv.Key} {kv.Value}"));
            Report.Step(onePerWorker ? "one pod per worker" : $"pods per worker within what the ranking allows: {ranges}", () =>
            {
                var wrong = Profile.Workers.Where(w => !allowed[w].Contains(perNode.GetValueOrDefault(w)));
                Assert.That(wrong, Is.Empty, (onePerWorker ? "one pod per worker" : $"pods per worker as the ranking allows ({ranges})") +
                    $": the ReplicaSet controller's scale-down ({promise.ScaleDown}) from {Distribution(upPerNode, ", ")} left {Distribution(perNode, ", ")}");
            });
        });
    }

    /// <summary>How far this machine's clock may be off the cluster's (kubelets stamp ready times, kube-controller-manager
    /// takes its "now"): a wider window for the controller's "now" only ever makes the scale-down assertion weaker.</summary>
    private static readonly TimeSpan ClockSkewAllowance = TimeSpan.FromSeconds(10);

    private static string Distribution(IReadOnlyDictionary<string, int> perNode, string separator = "\n") =>
        string.Join(separator, perNode.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {kv.Value}"));

    /// <summary>
    /// What this cluster's Kubernetes promises for S6 (<see cref="SpreadRules"/>): the API server's version and the
    /// <c>--feature-gates</c> of kube-scheduler and kube-controller-manager, read from their static (mirror) pods in
    /// kube-system. A component without such a pod (not kubeadm's) counts with its version's defaults.
    /// </summary>
    private async Task<SpreadPromise> SpreadPromiseAsync()
    {
        SpreadPromise? promise = null;
        await Report.Step("what this cluster's Kubernetes promises: kube-scheduler's spreading, kube-controller-manager's scale-down", StepPart.Harness, async () =>
        {
            var scheduler = await CommandLineAsync("kube-scheduler");
            var controllers = await CommandLineAsync("kube-controller-manager");
            promise = SpreadRules.Of(Cluster.ServerVersion,
                SpreadRules.FeatureGate(scheduler, SpreadRules.DefaultPodTopologySpread),
                SpreadRules.FeatureGate(controllers, SpreadRules.LogarithmicScaleDown));
            Report.Attach("command lines", $"kube-scheduler: {Words(scheduler)}\nkube-controller-manager: {Words(controllers)}");
            Report.Parameter("spreading", promise.Spreading, excluded: true);
            Report.Parameter("scale-down", promise.ScaleDown, excluded: true);
        });
        return promise!;

        static string Words(IReadOnlyList<string>? command) =>
            command is null ? "(no pod with this component label in kube-system: its version's defaults assumed)" : string.Join(" ", command);
    }

    /// <summary>A control-plane component's command line (command and args of its first container) from its kubeadm
    /// static pod's mirror in kube-system (label <c>component</c>), the control plane's first; null when there is none.</summary>
    private async Task<IReadOnlyList<string>?> CommandLineAsync(string component)
    {
        var pods = await Api.CoreV1.ListNamespacedPodAsync("kube-system", labelSelector: $"component={component}", cancellationToken: Token);
        var pod = pods.Items.FirstOrDefault(p => p.Spec?.NodeName == Profile.ControlPlane) ?? pods.Items.FirstOrDefault();
        return pod?.Spec?.Containers?.FirstOrDefault() is { } container ? [.. container.Command ?? [], .. container.Args ?? []] : null;
    }
}

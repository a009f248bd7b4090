using Harness.Checks;
using Harness.Faults;
using Harness.Kube;
using Harness.Reporting;
using Harness.Waits;
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
        $"kubectl scale deployment echo-hname --replicas={ThreePerWorker}", Revert.DeleteNamespace(Ns));

    protected override IEnumerable<Fault> FaultsOf(string check) => check switch
    {
        nameof(DeploymentReplacesADeletedPod) => [EchoHnamePodDeleted()],
        nameof(ScalingSpreadsPodsOverTheWorkers) => [EchoHnameScaled],
        _ => [],
    };

    /// <summary>The scheduler places echo-hname's pods on any worker: every worker must stay healthy meanwhile; the scale
    /// check counts pods on every worker, so none may be cordoned either.</summary>
    protected override ClusterClaim ClaimOf(string check) => check == nameof(ScalingSpreadsPodsOverTheWorkers)
        ? ClaimOfFaults(check).NeedingSchedulable(EveryWorker)
        : ClaimOfFaults(check).Needing(EveryWorker);

    [Test, Order(1), CancelAfter(Backstop)]
    [Description("echo-hname with 3 then 6 replicas; delete one pod: a new one replaces it. Deleting the Deployment removes its pods.")]
    public async Task DeploymentReplacesADeletedPod()
    {
        await ApplyEchoHnameAsync(3);
        var six = await ApplyEchoHnameAsync(6);
        var victim = six[0].Name();

        await Report.Step($"kubectl delete pods {victim} → a new pod replaces it", async () =>
        {
            await InjectAsync(EchoHnamePodDeleted(victim), t => Api.CoreV1.DeleteNamespacedPodAsync(victim, Ns, cancellationToken: t));
            var deleted = DateTimeOffset.UtcNow;
            var seen = await Pods("app=nginx").Until(pods => pods.TryGetValue(victim, out var p) && p.IsTerminating() || !pods.ContainsKey(victim),
                $"{victim} to be deleted", Seconds(Profile.Timeouts.SymptomSeconds));
            Record("detection", seen.ObservedAt - deleted);
            // The replacement is the book's point; the deleted pod may still be Terminating meanwhile (not counted).
            var again = await WaitForReadyPodsAsync("app=nginx", 6, p => p.Name() != victim, ignoreLeaving: true);
            Record("recovery", DateTimeOffset.UtcNow - deleted);
            Assert.That(again.Select(p => p.Name()), Does.Not.Contain(victim));
            Assert.That(again.Select(p => p.Name()).Except(six.Select(p => p.Name())), Has.Exactly(1).Items, "exactly one new pod");
        });

        await Report.Step("kubectl delete deployment echo-hname → its pods are gone", async () =>
        {
            await Api.AppsV1.DeleteNamespacedDeploymentAsync("echo-hname", Ns, propagationPolicy: "Foreground", cancellationToken: Token);
            var gone = await Pods("app=nginx").Until(pods => pods.Count == 0, "echo-hname's pods to be deleted", Seconds(Profile.Timeouts.PodGoneSeconds));
            Assert.That(gone.Objects, Is.Empty);
        });
        await KubectlStepAsync("get pods");
    }

    [Test, Order(2), CancelAfter(Backstop)]
    [Description("Scale echo-hname to 9 (three per worker): pods on every worker; back to 3 (one per worker): one pod per worker.")]
    public async Task ScalingSpreadsPodsOverTheWorkers()
    {
        // The book's 9 and 3 on its three workers; the same per worker on any number of workers from 2 up.
        var (up, down) = (ThreePerWorker, OnePerWorker);
        await ApplyEchoHnameAsync(down);

        var scaled = await Report.Step($"kubectl scale deployment echo-hname --replicas={up} → pods on every worker", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            var fault = await InjectAsync(EchoHnameScaled, _ => KubectlScaleAsync("echo-hname", up));
            var pods = await WaitForReadyPodsAsync("app=nginx", up);
            Record("scale up", DateTimeOffset.UtcNow - started);
            var perNode = PodsPerNode(pods);
            Report.Attach("pods per node", string.Join("\n", perNode.Select(kv => $"{kv.Key}: {kv.Value}")));
            Assert.That(perNode.Keys, Is.EquivalentTo(Profile.Workers), "the scheduler spreads replicas over every worker, none on the control plane");
            return fault;
        });

        await Report.Step($"kubectl scale deployment echo-hname --replicas={down} → one pod per worker", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            await RecoverAsync(scaled, _ => KubectlScaleAsync("echo-hname", down));
            // The replicas the Deployment keeps: pods it is removing may still be Terminating (not counted).
            var pods = await WaitForReadyPodsAsync("app=nginx", down, ignoreLeaving: true);
            Record("scale down", DateTimeOffset.UtcNow - started);
            var perNode = PodsPerNode(pods);
            Report.Attach("pods per node", string.Join("\n", perNode.Select(kv => $"{kv.Key}: {kv.Value}")));
            // Scale-down removes pods from the busiest nodes first, so as many pods as workers end one on each.
            Assert.That(perNode.Keys, Is.EquivalentTo(Profile.Workers), "one pod per worker");
            Assert.That(perNode.Values, Has.All.EqualTo(1));
        });
    }
}

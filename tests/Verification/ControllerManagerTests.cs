using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// kube-controller-manager down (its manifest moved away): the controllers that keep a Deployment's promise are gone.
/// A pod deleted from echo-hname is not replaced, and a new Deployment gets no ReplicaSet (so no pod); back: the
/// missing pod is replaced, the new Deployment gets its ReplicaSet and its pod Ready.
/// </summary>
[TestFixture, Category("controller-manager")]
public sealed class ControllerManagerTests : ControlPlaneCheck
{
    protected override string Component => "kube-controller-manager";

    /// <summary>The Deployment created while the controller-manager is away (<c>kubectl create deployment</c> labels its pods app=NAME).</summary>
    private const string NewDeployment = "created-without-controllers";

    [Test, CancelAfter(Backstop)]
    [Description("Move kube-controller-manager.yaml away: a deleted echo-hname pod is not replaced and a new Deployment gets no ReplicaSet; move it back: both are made good.")]
    public async Task NothingReplacesPodsWhileTheControllerManagerIsAway()
    {
        await RequireStoppableAsync();
        var replicas = Workers.OnePodEach;
        var pods = await Workloads.ApplyEchoHnameAsync(replicas);
        var victim = pods[0].Name();

        var stopped = await StopComponentAsync();

        await Report.Step($"kubectl delete pods {victim} → no pod replaces it for {HoldPeriod.TotalSeconds:0} s", async () =>
        {
            // The pod's own deletion is kubelet's work and goes on; only its replacement needs the ReplicaSet controller.
            await Api.CoreV1.DeleteNamespacedPodAsync(victim, Ns, cancellationToken: Token);
            await Pod(victim).UntilGone(Timeouts.PodGone);
            var lastSeen = await Pods("app=nginx").Stays(all => all.Count < replicas, $"no pod to replace {victim}", HoldPeriod,
                "without the controller-manager nothing recreates a deleted pod");
            Record("symptom", stopped.SinceInject);
            Report.Attach("kubectl get pods -l app=nginx", lastSeen);
            var now = await Api.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: "app=nginx", cancellationToken: Token);
            Assert.That(now.Items, Has.Count.EqualTo(replicas - 1), "the Deployment stays one pod short");
        });

        await Kubectl.StepAsync($"create deployment {NewDeployment} --image={Profile.Images.Nginx}");

        await Report.Step($"{NewDeployment} gets no ReplicaSet and no pod for {HoldPeriod.TotalSeconds:0} s", async () =>
        {
            await Pods($"app={NewDeployment}").Stays(all => all.Count == 0, $"no pod of {NewDeployment}", HoldPeriod,
                "without the Deployment controller no ReplicaSet, so no pod");
            var replicaSets = await Api.AppsV1.ListNamespacedReplicaSetAsync(Ns, labelSelector: $"app={NewDeployment}", cancellationToken: Token);
            await Kubectl.RunAsync($"get rs -l app={NewDeployment}");
            Assert.That(replicaSets.Items, Is.Empty, $"no ReplicaSet for {NewDeployment}");
        });

        var restoredAt = await StartComponentAsync(stopped);

        await Report.Step($"echo-hname is {replicas} pods again and {NewDeployment} has its ReplicaSet and a Ready pod", async () =>
        {
            var again = await Workloads.ReadyPodsAsync("app=nginx", replicas);
            Assert.That(again.Select(p => p.Name()), Does.Not.Contain(victim));
            await Workloads.ReadyPodsAsync($"app={NewDeployment}", 1);
            Record("recovery", DateTimeOffset.UtcNow - restoredAt);
            var replicaSets = await Api.AppsV1.ListNamespacedReplicaSetAsync(Ns, labelSelector: $"app={NewDeployment}", cancellationToken: Token);
            Assert.That(replicaSets.Items, Has.Count.EqualTo(1), $"{NewDeployment} has its ReplicaSet");
        });
        await Kubectl.StepAsync("get deployments,rs");
    }
}

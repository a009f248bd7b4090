using Harness.Faults;
using Harness.Kube;
using Harness.Kube.Kubectl;
using Harness.NUnitAdapter;
using Harness.Reporting;
using k8s;
using NUnit.Framework;

namespace Verification;

/// <summary>S2: without kubelet a node cannot finish deleting its pods; with kubelet back, it does.</summary>
[TestFixture, Order(2), Category("kubelet")]
public sealed class KubeletTests : ClusterCheck
{
    /// <summary>The book's <c>systemctl stop kubelet</c> on its w3-k8s; <c>systemctl start kubelet</c> undoes it.</summary>
    private Fault KubeletStopped => Fault.OnNode("kubelet stopped", Workers.Last, Profile.Commands.StopKubelet,
        Revert.OnNode(Workers.Last, Profile.Commands.StartKubelet));

    protected override IEnumerable<Fault> FaultsOf(string check) => [KubeletStopped];

    [Test, Category("book"), Scenario("S2"), CancelAfter(Backstop)]
    [Description("Stop kubelet on a worker, delete its pod: the pod hangs in Terminating; start kubelet: the pod is gone.")]
    public async Task PodHangsInTerminatingUntilKubeletIsBack()
    {
        var worker = Workers.Last;
        var pod = await Workloads.RunNginxPodAsync(worker);

        var kubeletStopped = await InjectOnNodeAsync(KubeletStopped);

        // Cluster.Kubelets.IsActiveAsync runs the profile's commands.kubeletActive.
        await Report.Step($"[{worker}]$ {Profile.Commands.KubeletActive} → inactive", async () =>
            Assert.That(await Cluster.Kubelets.IsActiveAsync(worker, Token), Is.False, "kubelet must be stopped"));

        var grace = pod.Spec.TerminationGracePeriodSeconds ?? 30;
        await Report.Step($"kubectl delete pod {NginxPod} → Terminating", async () =>
        {
            await Api.CoreV1.DeleteNamespacedPodAsync(NginxPod, Ns, cancellationToken: Token);
            var deleted = DateTimeOffset.UtcNow;
            var terminating = await Pod(NginxPod).Until(p => p.IsTerminating(), "to show Terminating", Timeouts.Symptom);
            Record("detection", terminating.ObservedAt - deleted);
            Record("symptom", kubeletStopped.SinceInject);
            // The book's own look at it: kubectl get pods shows STATUS Terminating.
            var pods = (await Kubectl.RunAsync("get pods")).EnsureSuccess();
            Assert.That(KubectlTable.Parse(pods.Stdout).Cell(NginxPod, "STATUS"), Is.EqualTo("Terminating"), pods.ToString());
        });

        await Report.Step($"{NginxPod} stays Terminating past its {grace} s grace period while kubelet is stopped", async () =>
        {
            var hold = TimeSpan.FromSeconds(grace + 15);
            var lastSeen = await Pod(NginxPod).Stays(p => p.IsTerminating(), "to stay Terminating", hold,
                "without kubelet nobody can confirm the pod's containers stopped, so it must not disappear");
            Assert.That(lastSeen, Does.Contain("Terminating"));
        });

        await Report.Step($"[{worker}]$ {kubeletStopped.Revert.Command} → {NginxPod} is gone", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            await RecoverAsync(kubeletStopped);
            var gone = await Pod(NginxPod).UntilGone(Timeouts.PodGone);
            Record("recovery", gone.ObservedAt - started);
            Assert.That(gone.Objects, Is.Empty);
        });

        var after = await Kubectl.StepAsync("get pods");
        Assert.That(KubectlTable.Parse(after.Stdout).Row(NginxPod), Is.Null, $"kubectl get pods no longer lists {NginxPod}: {after}");
    }
}

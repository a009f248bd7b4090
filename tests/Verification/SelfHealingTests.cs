using Harness.Checks;
using Harness.Faults;
using Harness.Kube;
using Harness.NUnitAdapter;
using Harness.Reporting;
using k8s;
using NUnit.Framework;

namespace Verification;

/// <summary>S4: kill the container's PID 1 and kubelet starts it again — the pod heals itself.</summary>
[TestFixture, Order(4), Category("self-healing")]
public sealed class SelfHealingTests : ClusterCheck
{
    /// <summary>The book types <c>kill 1</c> in the pod's shell: a shell builtin. The official nginx image has no
    /// <c>kill</c> program (no procps), so <c>kubectl exec nginx-pod -- kill 1</c> would fail there.</summary>
    private const string KillPid1 = "/bin/sh -c 'kill 1'";

    /// <summary>The container's PID 1 killed. Nothing to revert on a node: kubelet is what brings the container back;
    /// deleting the namespace cleans up if the check stops.</summary>
    private Fault ContainerPid1Killed => Fault.InCluster("container PID 1 killed", NginxPod, $"kubectl exec {NginxPod} -- {KillPid1}",
        Revert.DeleteNamespace(Ns));

    protected override IEnumerable<Fault> FaultsOf(string check) => [ContainerPid1Killed];

    /// <summary>Its pod runs on the first worker: that node must stay healthy meanwhile.</summary>
    protected override ClusterClaim ClaimOf(string check) => ClaimOfFaults(check).Needing([Workers.First]);

    [Test, Category("book"), Scenario("S4"), CancelAfter(Backstop)]
    [Description("Inside nginx-pod, /run/nginx.pid is 1; kill 1: the container is restarted and nginx answers again.")]
    public async Task KilledContainerIsRestartedByKubelet()
    {
        var pod = await Workloads.RunNginxPodAsync(Workers.First);
        var restartsBefore = pod.Restarts();

        var pidFileBefore = await Report.Step($"kubectl exec {NginxPod} -- cat /run/nginx.pid → 1", async () =>
        {
            var pid = await Kubectl.StepAsync($"exec {NginxPod} -n {Ns} -- cat /run/nginx.pid");
            Assert.That(pid.Stdout.Trim(), Is.EqualTo("1"), "nginx must be the container's PID 1");
            return (await Kubectl.StepAsync($"exec {NginxPod} -n {Ns} -- stat -c %Y /run/nginx.pid")).Stdout.Trim();
        });

        var killed = await Report.Step(ContainerPid1Killed.Command, () =>
            InjectAsync(ContainerPid1Killed, async t =>
            {
                var exec = await Kubectl.RunAsync($"exec {NginxPod} -n {Ns} -- {KillPid1}", ct: t);
                if (!ContainerExec.SignalWasSent(exec))
                    Assert.Fail($"kill 1 inside {NginxPod} failed, nothing was killed:\n{exec}");
            }));

        await Report.Step("kubelet restarts the container: RESTARTS +1, Running and Ready", async () =>
        {
            await Pod(NginxPod).Until(p => p.Restarts() > restartsBefore, "'s restart count to go up", Timeouts.Symptom);
            Record("symptom", killed.SinceInject);
            var ready = await Pod(NginxPod).Until(p => p.IsReady(), "to be Ready again", Timeouts.PodReady);
            Record("recovery", killed.SinceInject);
            var pod = ready.Objects[NginxPod];
            Report.Attach("kubectl get pods -o wide", ObjectState.Describe(pod));
            Assert.That(pod.Restarts(), Is.EqualTo(restartsBefore + 1));
        });

        await Report.Step("the new nginx wrote a new pid file and answers", async () =>
        {
            var pidFileAfter = (await Kubectl.StepAsync($"exec {NginxPod} -n {Ns} -- stat -c %Y /run/nginx.pid")).Stdout.Trim();
            Assert.That(pidFileAfter, Is.Not.EqualTo(pidFileBefore), "a restarted nginx writes its pid file anew");
            var now = await Api.CoreV1.ReadNamespacedPodAsync(NginxPod, Ns, cancellationToken: Token);
            var answer = await Workloads.CurlFromControlPlaneAsync(now.Status.PodIP);
            Assert.That(answer.StatusCode, Is.EqualTo(200), answer.ToString());
        });
    }
}

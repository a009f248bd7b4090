using Harness.Faults;
using Harness.Kube;
using Harness.Reporting;
using Harness.Waits;
using k8s;
using NUnit.Framework;
using Polly;
using Polly.Retry;

namespace Verification;

/// <summary>
/// S3: kube-proxy's traffic runs through br_netfilter and iptables on the node. Break the node's pod networking and
/// the pod keeps Running while nobody can reach it; restore it and reboot, as the book does, and it answers again.
/// </summary>
[TestFixture, Order(3), Category("kube-proxy")]
public sealed class KubeProxyTests : ClusterCheck
{
    /// <summary>The worker's pod network broken (the book: <c>modprobe -r br_netfilter; systemctl restart network</c>);
    /// restoring it and rebooting the node, as the book does, undoes it.</summary>
    private Fault PodNetworkBroken => Fault.OnNode("pod network broken", SecondWorker, Profile.Commands.BreakPodNetwork,
        Revert.RebootNode(SecondWorker, Profile.Commands.RestorePodNetwork));

    protected override IEnumerable<Fault> FaultsOf(string check) => [PodNetworkBroken];

    [Test, CancelAfter(Backstop)]
    [Description("Remove br_netfilter and restart the network on a worker: curl to its pod times out while the pod stays Running; restore and reboot: it answers again.")]
    public async Task PodIsUnreachableWhileItsNodeNetworkIsBrokenAndAnswersAfterReboot()
    {
        var worker = SecondWorker; // the book's w2-k8s
        var pod = await RunNginxPodAsync(worker);
        var ip = pod.Status.PodIP;
        var restartsBefore = pod.Restarts();

        await Report.Step($"curl {ip} answers with the nginx welcome page", async () =>
        {
            var answer = await CurlFromControlPlaneAsync(ip);
            Assert.That(answer.StatusCode, Is.EqualTo(200), answer.ToString());
            Assert.That(answer.Body, Does.Contain("Welcome to nginx"));
        });

        var broken = await Report.Step($"[{worker}]$ {Profile.Commands.BreakPodNetwork}", () => InjectOnNodeAsync(PodNetworkBroken));

        await Report.Step($"curl --connect-timeout {Profile.Timeouts.CurlSeconds} {ip} times out", async () =>
        {
            // A network restart takes a moment to bite: probe until the first timeout, within the symptom deadline.
            var firstTimeout = await new ResiliencePipelineBuilder<Harness.Probes.CurlResult>()
                .AddTimeout(Seconds(Profile.Timeouts.SymptomSeconds))
                .AddRetry(new RetryStrategyOptions<Harness.Probes.CurlResult>
                {
                    ShouldHandle = new PredicateBuilder<Harness.Probes.CurlResult>().HandleResult(r => !r.TimedOut),
                    MaxRetryAttempts = int.MaxValue, Delay = TimeSpan.FromSeconds(1), BackoffType = DelayBackoffType.Constant,
                })
                .Build().ExecuteAsync(async t => await Harness.Probes.HttpProbe.CurlAsync(
                    Cluster.ControlPlane, Profile.Commands.Curl, ip, Profile.Timeouts.CurlSeconds, t), Token);
            Report.Attach("curl", firstTimeout.ToString());
            Record("symptom", broken.SinceInject);
            Assert.That(firstTimeout.TimedOut, Is.True, "curl must time out while the node's pod network is broken");
        });

        await Report.Step($"{NginxPod} is still Running with the same IP", async () =>
        {
            var now = await Api.CoreV1.ReadNamespacedPodAsync(NginxPod, Ns, cancellationToken: Token);
            Report.Attach("kubectl get pods -o wide", ObjectState.Describe(now));
            Assert.That(now.IsRunning(), Is.True, "the pod does not know its network is gone");
            Assert.That(now.Status.PodIP, Is.EqualTo(ip));
        });

        await Report.Step($"[{worker}]$ {Profile.Commands.RestorePodNetwork}; {Profile.Commands.Reboot}", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            await RecoverAsync(broken);
            Record("node reboot", DateTimeOffset.UtcNow - started);
            var back = await Pod(NginxPod).Until(p => p.IsReady() && p.Restarts() > restartsBefore,
                "to be Running again after the reboot", Seconds(Profile.Timeouts.PodReadySeconds));
            var after = back.Objects[NginxPod];
            Report.Attach("kubectl get pods -o wide", ObjectState.Describe(after));
            Assert.That(after.Restarts(), Is.GreaterThan(restartsBefore), "the book shows the restart count going up after the reboot");
            ip = after.Status.PodIP; // the IP may change
            var answer = await CurlFromControlPlaneAsync(ip);
            Record("recovery", DateTimeOffset.UtcNow - started);
            Assert.That(answer.StatusCode, Is.EqualTo(200), answer.ToString());
        });
    }
}

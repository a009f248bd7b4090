using Harness.Faults;
using Harness.Kube;
using Harness.NUnitAdapter;
using Harness.Probes;
using Harness.Reporting;
using Harness.Waits;
using k8s;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// S3: break the node's pod networking with the edition's own steps and the pod keeps Running while nobody can reach
/// it; restore it and reboot, as the book does, and it answers again. The node's ip_forward, bridge-nf-call-iptables
/// and br_netfilter are read before and after the inject, and the report says which of them stopped the traffic: on
/// CentOS <c>systemctl restart network</c> turns forwarding off; on Calico's routed pods br_netfilter plays no part, so
/// where the steps leave forwarding on (the revised edition's <c>netplan apply</c>) the check is not applicable.
/// </summary>
[TestFixture, Order(3), Category("kube-proxy")]
public sealed class KubeProxyTests : NodeComponentCheck
{
    /// <summary>The worker's pod network broken (the book: <c>modprobe -r br_netfilter; systemctl restart network</c>);
    /// restoring it and rebooting the node, as the book does, undoes it.</summary>
    private Fault PodNetworkBroken => Fault.OnNode("pod network broken", Workers.Second, Profile.Commands.BreakPodNetwork,
        Revert.RebootNode(Workers.Second, Profile.Commands.RestorePodNetwork));

    protected override IEnumerable<Fault> FaultsOf(string check) => [PodNetworkBroken];

    [Test, Category("book"), Scenario("S3"), CancelAfter(Backstop)]
    [Description("Break a worker's pod network with the edition's steps (the book: remove br_netfilter and restart the network): curl to its pod times out while the pod stays Running; restore and reboot: it answers again. The report names what stopped the traffic.")]
    public async Task PodIsUnreachableWhileItsNodeNetworkIsBrokenAndAnswersAfterReboot()
    {
        var worker = Workers.Second; // the book's w2-k8s
        var pod = await Workloads.RunNginxPodAsync(worker);
        var ip = pod.Status.PodIP;
        var restartsBefore = pod.Restarts();

        await Report.Step($"curl {ip} answers with the nginx welcome page", async () =>
        {
            var answer = await Workloads.CurlFromControlPlaneAsync(ip);
            Assert.That(answer.StatusCode, Is.EqualTo(200), answer.ToString());
            Assert.That(answer.Body, Does.Contain("Welcome to nginx"));
        });

        var before = await ReadNodeFactsAsync(worker, "before the fault");
        var broken = await InjectOnNodeAsync(PodNetworkBroken);

        CurlResult? last = null;
        var curl = HttpProbe.Command(Profile.Commands.Curl, ip, Timeouts.Curl);
        await Report.Step($"[{Profile.ControlPlane}]$ {curl} until it times out (within {Timeouts.Symptom.TotalSeconds:0} s)", async () =>
        {
            // A network restart takes a moment to bite: probe until the first timeout, within the symptom deadline. A
            // pod that keeps answering is no error here: the node's facts below say why.
            last = (await new Until<CurlResult>($"curl {ip} to time out",
                    t => HttpProbe.CurlAsync(Cluster.ControlPlane, Profile.Commands.Curl, ip, Timeouts.Curl, t), r => r.TimedOut)
                { Poll = Poll.Every(TimeSpan.FromSeconds(1)) }
                .LastWithinAsync(Timeouts.Symptom, Token)).Last; // the last answer is judged below
            Report.Attach("curl", last?.ToString() ?? "(no answer within the deadline)");
        });
        var stopped = last is { TimedOut: true };
        var symptomAfter = broken.SinceInject; // before the facts are read: the symptom's figure is curl's

        // What the inject changed on the node, and whether that explains what curl saw (never "br_netfilter removed" by default).
        var after = await ReadNodeFactsAfterAsync(worker);
        var verdict = PodNetworkFault.Judge(before, after, stopped, Profile.Commands.BreakPodNetwork);
        Report.Attach("ip_forward, bridge-nf-call-iptables, br_netfilter before and after the fault",
            $"before:\n{before.ForwardingState}\n\nafter:\n{after?.ForwardingState ?? "(the node could not be read)"}\n\n{verdict.Text}");
        Report.Parameter("what stopped the traffic", verdict.Text, excluded: true);
        if (verdict.Outcome == PodNetworkVerdict.Kind.NotBrokenByTheseSteps)
            NotApplicable(verdict.Text); // its revert (restore, reboot) runs in TearDown: the cluster is left as found

        await Report.Step($"curl times out: {verdict.Text}", () =>
        {
            Record("symptom", symptomAfter);
            Assert.That(stopped, Is.True, $"curl must time out while the node's pod network is broken: {verdict.Text}");
            return Task.CompletedTask;
        });

        await Report.Step($"{NginxPod} is still Running with the same IP", async () =>
        {
            var now = await Api.CoreV1.ReadNamespacedPodAsync(NginxPod, Ns, cancellationToken: Token);
            Report.Attach("kubectl get pods -o wide", ObjectState.Describe(now));
            Assert.That(now.IsRunning(), Is.True, "the pod does not know its network is gone");
            Assert.That(now.Status.PodIP, Is.EqualTo(ip));
        });

        // The revert restores the network and reboots the node with the profile's commands.reboot (Cluster.RebootAsync).
        await Report.Step($"[{worker}]$ {broken.Revert.Command}; {Profile.Commands.Reboot}", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            await RecoverAsync(broken);
            Record("node reboot", DateTimeOffset.UtcNow - started);
            var back = await Pod(NginxPod).Until(p => p.IsReady() && p.Restarts() > restartsBefore,
                "to be Running again after the reboot", Timeouts.PodReady);
            var after = back.Objects[NginxPod];
            Report.Attach("kubectl get pods -o wide", ObjectState.Describe(after));
            Assert.That(after.Restarts(), Is.GreaterThan(restartsBefore), "the book shows the restart count going up after the reboot");
            ip = after.Status.PodIP; // the IP may change
            var answer = await Workloads.CurlFromControlPlaneAsync(ip);
            Record("recovery", DateTimeOffset.UtcNow - started);
            Assert.That(answer.StatusCode, Is.EqualTo(200), answer.ToString());
        });
    }

    /// <summary>The node's facts after the inject: a network restart may drop SSH for a moment, so a failed read is said, not fatal.</summary>
    private async Task<NodeFacts?> ReadNodeFactsAfterAsync(string worker)
    {
        try { return await ReadNodeFactsAsync(worker, "after the fault"); }
        catch (Exception e) when (e is not OperationCanceledException || !Token.IsCancellationRequested)
        {
            Progress($"[{worker}] node facts after the fault could not be read: {e.Message.Split('\n')[0]}");
            return null;
        }
    }
}

using Harness.Faults;
using Harness.Kube;
using Harness.Safety;
using k8s;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// The CNI configuration taken away on a worker (its files moved out of /etc/cni/net.d): a new pod there stays
/// ContainerCreating and kubelet says the network plugin is not ready; configuration back: the pod is Running and
/// answers curl.
/// </summary>
[TestFixture, Category("cni"), Category(ContainerRuntimeTests.NodeComponents)]
public sealed class CniTests : NodeComponentCheck
{
    /// <summary>The last worker (the book's w3-k8s).</summary>
    private string Worker => Workers.Last;

    private Fault CniConfigAway => CniConfigAwayWith(Profile.Commands.BreakCni);

    /// <summary>The declared fault with the break fitted to the node's runtime (same name and node: the fault declared).</summary>
    private Fault CniConfigAwayWith(string breakCni) => Fault.OnNode("CNI configuration taken away", Worker, breakCni,
        Revert.OnNode(Worker, Profile.Commands.RestoreCni));

    protected override IEnumerable<Fault> FaultsOf(string check) => [CniConfigAway];

    private const string NewPod = "nginx-without-cni";

    [Test, CancelAfter(Backstop)]
    [Description("Move the CNI configuration away on a worker: a new pod there stays ContainerCreating with the network-plugin error; put it back: Running and reachable.")]
    public async Task NewPodStaysContainerCreatingWithoutTheCniConfiguration()
    {
        var worker = Worker;
        var runtime = await RuntimeOfAsync(worker);
        var breakCni = CniBreak.On(Profile.Commands, runtime);
        if (breakCni != Profile.Commands.BreakCni)
            Report.Parameter("break on this runtime", $"{runtime}: kubelet's dockershim keeps the CNI network it loaded until kubelet starts again", excluded: true);
        await RequireFeasibleAsync(worker, [new("commands.breakCni", breakCni), new("commands.restoreCni", Profile.Commands.RestoreCni)]);
        const string list = "ls -l /etc/cni/net.d";
        await Report.Step($"[{worker}]$ {list}", async () =>
        {
            var listing = await Cluster.Node(worker).RunAsync(list, ct: Token);
            Report.Attach(list, listing.ToString());
            Assert.That(listing.Succeeded && listing.Stdout.Trim().Length > 0, Is.True, $"the node has a CNI configuration to take away: {listing}");
        });

        // Its step is named by the break that runs: the fitted command.
        var away = await InjectOnNodeAsync(CniConfigAwayWith(breakCni));

        await Workloads.RunPodAsync(NewPod, Profile.Images.Nginx, worker, waitReady: false);

        await Report.Step($"kubectl describe pod {NewPod} → the network plugin is not ready", async () =>
        {
            var events = await PollAsync(async _ => await Workloads.EventsAsync(NewPod),
                found => found.Any(e => KubeletWords.NetworkEventReasons.Contains(e.Reason) && KubeletWords.SaysNetworkPluginNotReady(e.Message)),
                Timeouts.Symptom);
            Report.Attach("events", DescribeEvents(events));
            Assert.That(events.Any(e => KubeletWords.NetworkEventReasons.Contains(e.Reason) && KubeletWords.SaysNetworkPluginNotReady(e.Message)), Is.True,
                $"kubelet reports that it cannot give the pod a network (NetworkNotReady or FailedCreatePodSandBox naming CNI): {DescribeEvents(events)}");
            Record("detection", away.SinceInject);
        });

        await Report.Step($"{NewPod} stays ContainerCreating for {HoldPeriod.TotalSeconds:0} s", async () =>
        {
            var last = await ExpectNotRunningForHoldPeriodAsync(NewPod, "without a CNI configuration no sandbox gets a network, so no container starts");
            Record("symptom", away.SinceInject);
            Assert.That(last, Does.Contain("ContainerCreating").Or.Contain("Pending"));
            Assert.That(await Kubectl.PodStatusAsync(NewPod), Is.EqualTo("ContainerCreating"), "kubectl get pods shows the book's STATUS");
            var nodes = await Kubectl.RunAsync("get nodes", attach: false);
            Report.Attach("kubectl get nodes (not asserted: the runtime's NetworkReady=false turns the node NotReady)", nodes.ToString());
        });

        await Report.Step($"[{worker}]$ {away.Revert.Command} → {NewPod} Running and answering", async () =>
        {
            var restored = DateTimeOffset.UtcNow;
            await RecoverAsync(away);
            var ready = await Pod(NewPod).Until(p => p.IsReady(), "to be Running and Ready", Timeouts.PodReady);
            var pod = ready.Objects[NewPod];
            Report.Attach("kubectl get pods -o wide", ObjectState.Describe(pod));
            var answer = await Workloads.CurlFromControlPlaneAsync(pod.Status.PodIP);
            Record("recovery", DateTimeOffset.UtcNow - restored);
            Assert.That(answer.StatusCode, Is.EqualTo(200), answer.ToString());
            await Node(worker).Until(n => n.IsReady(), "to be Ready", Timeouts.PodReady);
        });
        await Kubectl.StepAsync("get pods -o wide");
    }
}

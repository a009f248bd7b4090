using Harness.Faults;
using Harness.Kube;
using Harness.Probes;
using Harness.Safety;
using k8s;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// The container runtime stopped on a worker (<c>systemctl stop containerd</c>; the book's docker with its socket):
/// containers already running keep running where the runtime's shims outlive it (containerd), a new pod pinned there
/// does not start, and kubelet reports the node NotReady because it cannot reach its runtime; runtime started again:
/// the node is Ready, the new pod Running, the old one still serving.
/// </summary>
[TestFixture, Category("container-runtime"), Category(NodeComponents)]
public sealed class ContainerRuntimeTests : NodeComponentCheck
{
    /// <summary>Every node-component check carries this category too (CI leaves them out until they have run live).</summary>
    public const string NodeComponents = "node-components";

    /// <summary>The first worker (the book's w1-k8s): other checks on w2 and w3 go on beside it.</summary>
    private string Worker => Workers.First;

    private Fault RuntimeStopped => RuntimeStoppedWith(Profile.Commands.StopContainerRuntime, Profile.Commands.StartContainerRuntime);

    /// <summary>The declared fault with the commands fitted to the node's units (same name and node: the fault declared).</summary>
    private Fault RuntimeStoppedWith(string stop, string start) =>
        Fault.OnNode("container runtime stopped", Worker, stop, Revert.OnNode(Worker, start));

    protected override IEnumerable<Fault> FaultsOf(string check) => [RuntimeStopped];

    private const string NewPod = "nginx-while-runtime-down";

    /// <summary>
    /// How long kubelet may take to call the node NotReady: its runtime status check fails every 5 s and after 30 s
    /// without a good answer it says "container runtime is down" (pkg/kubelet/runtime.go, maxWaitForContainerRuntime);
    /// PLEG says "not healthy" after 3 minutes without a relist (pleg/generic.go, relistThreshold); the node status is
    /// posted every 10 s. So at least 3 min 30 s, whatever timeouts.symptomSeconds says.
    /// </summary>
    private TimeSpan NotReadyDeadline => TimeSpan.FromSeconds(Math.Max(Timeouts.Symptom.TotalSeconds, 210));

    [Test, CancelAfter(Backstop)]
    [Description("Stop the container runtime on a worker: its running pod keeps answering (containerd), a new pod there does not start, the node turns NotReady; start it: the node is Ready and the new pod Running.")]
    public async Task RunningPodsKeepServingAndNewPodsWaitWhileTheRuntimeIsDown()
    {
        var worker = Worker;
        // The book's docker comes with docker.socket or without (CentOS docker 1.13.1, docker-ce 18.06): the commands
        // name only the units the node has, and the feasibility probe judges what will run.
        var facts = await ReadNodeFactsAsync(worker, "before the fault");
        // {runtimeUnits} and an unset components.runtimeStopKeepsContainers are read from the runtime the node reports.
        var runtime = await RuntimeOfAsync(worker);
        var settings = FaultFeasibility.ContainerRuntimeSettings(Profile, (worker, runtime), facts.RuntimeUnits, out var leftOut);
        var keepsContainers = await RuntimeKeepsContainersAsync(worker, runtime);
        if (leftOut.Count > 0)
        {
            var said = string.Join("; ", leftOut.Select(l => RuntimeUnitFilter.Explain(l.Setting, l.Dropped, worker)));
            Report.Parameter("runtime units left out", said, excluded: true);
            Report.Attach("runtime units left out", said);
        }
        var stop = settings[0].Command;
        var start = settings[1].Command;
        await RequireFeasibleAsync(worker, settings);
        var pod = await Workloads.RunNginxPodAsync(worker);
        var restartsBefore = pod.Restarts();
        await Report.Step($"curl {pod.Status.PodIP} answers", async () =>
            Assert.That((await Workloads.CurlFromControlPlaneAsync(pod.Status.PodIP)).StatusCode, Is.EqualTo(200)));

        var stopped = await InjectOnNodeAsync(RuntimeStoppedWith(stop, start));

        if (keepsContainers)
            await Report.Step($"{NginxPod} keeps answering: the runtime's shims keep its containers alive (curl {pod.Status.PodIP})", async () =>
            {
                var answer = await Workloads.CurlFromControlPlaneAsync(pod.Status.PodIP);
                Assert.That(answer.StatusCode, Is.EqualTo(200), $"a running container does not need its runtime's daemon (components.runtimeStopKeepsContainers): {answer}");
            });
        else
            await Report.Step($"curl {pod.Status.PodIP}: not asserted, {runtime} stops its containers when it stops",
                () => Workloads.CurlFromControlPlaneAsync(pod.Status.PodIP));

        await Workloads.RunPodAsync(NewPod, Profile.Images.Nginx, worker, waitReady: false);
        await Report.Step($"{NewPod} is not Running for {HoldPeriod.TotalSeconds:0} s: nobody can create its containers", async () =>
        {
            var last = await ExpectNotRunningForHoldPeriodAsync(NewPod, "without its runtime kubelet cannot create the pod's sandbox or containers");
            Record("symptom", stopped.SinceInject);
            Report.Attach("events", DescribeEvents(await Workloads.EventsAsync(NewPod)));
            // kubelet may not even post container statuses (its pod worker waits for a PLEG relist that fails): Pending, or ContainerCreating.
            Assert.That(last, Does.Contain("Pending").Or.Contain("ContainerCreating"), "the pod is bound to the node but never starts");
        });

        await Report.Step($"kubectl get nodes → {worker} NotReady: kubelet says its container runtime is down", async () =>
        {
            var notReady = await Node(worker).Until(n => ReadyCondition(n) is { Status: "False" } c && KubeletWords.SaysRuntimeDown(c.Message),
                "to report NotReady because its container runtime is down", NotReadyDeadline);
            var ready = ReadyCondition(notReady.Objects[worker])!;
            // The watch may start after the hold above, when the node is long NotReady: the condition's own transition
            // time says when kubelet noticed (the node's clock; the harness's own elapsed time if that reads oddly).
            var noticed = ready.LastTransitionTime is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) - stopped.Entry.InjectedAt : (TimeSpan?)null;
            Record("detection", noticed is { } d && d > TimeSpan.Zero && d <= stopped.SinceInject ? d : stopped.SinceInject);
            Report.Attach("Ready condition", $"{ready.Status} {ready.Reason}: {ready.Message}");
            await Kubectl.ExpectNodeStatusAsync(worker, "NotReady");
        });

        await Report.Step($"[{worker}]$ {start} → {worker} Ready, {NewPod} Running", async () =>
        {
            var started = DateTimeOffset.UtcNow;
            await RecoverAsync(stopped);
            await Node(worker).Until(n => n.IsReady(), "to be Ready again", Timeouts.PodReady);
            var running = await Pod(NewPod).Until(p => p.IsReady(), "to be Running and Ready", Timeouts.PodReady);
            Record("recovery", DateTimeOffset.UtcNow - started);
            Report.Attach("kubectl get pods -o wide", ObjectState.Describe(running.Objects[NewPod]));
            await Kubectl.ExpectNodeStatusAsync(worker, "Ready");
        });

        await Report.Step($"{NginxPod} is Ready and answers", async () =>
        {
            var back = await Pod(NginxPod).Until(p => p.IsReady(), "to be Ready", Timeouts.PodReady);
            var now = back.Objects[NginxPod];
            Report.Attach("kubectl get pods -o wide", ObjectState.Describe(now));
            if (keepsContainers)
                Assert.That(now.Restarts(), Is.EqualTo(restartsBefore), "its container ran on through the runtime's absence");
            var answer = await Workloads.CurlFromControlPlaneAsync(now.Status.PodIP);
            Assert.That(answer.StatusCode, Is.EqualTo(200), answer.ToString());
        });
        await Kubectl.StepAsync("get pods -o wide");
    }

    /// <summary>
    /// Whether the node's running containers outlive its runtime's stop: the profile's
    /// <c>components.runtimeStopKeepsContainers</c> when set, else what the node runs: containerd's and cri-o's shims
    /// (conmon) keep them; dockerd stops them unless <c>live-restore</c> is on (<c>docker info</c>).
    /// </summary>
    private async Task<bool> RuntimeKeepsContainersAsync(string worker, string? runtime)
    {
        if (Profile.Components.RuntimeStopKeepsContainers is { } setting)
        {
            Report.Parameter("containers outlive the runtime", $"{setting} (components.runtimeStopKeepsContainers)", excluded: true);
            return setting;
        }
        if (runtime?.StartsWith("docker://", StringComparison.Ordinal) != true)
        {
            Report.Parameter("containers outlive the runtime", $"True ({runtime}: its shims keep them)", excluded: true);
            return true;
        }
        var liveRestore = await Cluster.Node(worker).RunAsync("docker info --format '{{.LiveRestoreEnabled}}'",
            Timeouts.Command, Token);
        var keeps = liveRestore.Succeeded && liveRestore.Stdout.Trim() == "true";
        Report.Parameter("containers outlive the runtime", $"{keeps} ({runtime}, docker info: LiveRestoreEnabled={liveRestore.Stdout.Trim()})", excluded: true);
        return keeps;
    }
}

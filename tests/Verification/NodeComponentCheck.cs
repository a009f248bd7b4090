using Harness.Faults;
using Harness.Kube;
using Harness.Kube.Kubectl;
using Harness.Profiles;
using Harness.Probes;
using Harness.Safety;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// What the checks of the node components share (issue 11, part 2: container runtime, CNI, br_netfilter, kube-proxy's
/// Service path, CoreDNS): the fault's own commands probed on its worker before anything is injected, pods pinned to
/// a node, calls made from inside a pod (the book's images have no curl: bash's /dev/tcp), a ClusterIP Service, and
/// polls with deadlines (`Until`) for answers that change by themselves (kube-proxy programming a Service, DNS back).
/// </summary>
public abstract class NodeComponentCheck : ClusterCheck
{
    /// <summary>How long an absence (a pod that does not start) must last to count: kubelet starts a pod on a healthy node in seconds.</summary>
    protected static readonly TimeSpan HoldPeriod = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The fault's and its revert's commands can work on <paramref name="node"/> (programs, units, sysctl keys exist):
    /// a revert that cannot work would leave the node broken and a ledger entry nobody can heal. Probed here, by the
    /// check itself, so a cluster that cannot have this fault still runs the others.
    /// </summary>
    protected Task RequireFeasibleAsync(string node, IReadOnlyList<FaultFeasibility.FaultSetting> settings) =>
        Report.Step($"[{node}] the fault's and the revert's commands can work there ({string.Join(", ", settings.Select(s => s.Name))})", async () =>
        {
            var problems = await FaultFeasibility.CheckAsync(Profile, settings, [node], Cluster.Node, Token);
            Report.Attach("commands", string.Join("\n", settings.Select(s => $"{s.Name}: {s.Command}")));
            Assert.That(problems, Is.Empty, "the profile's commands for this fault must work on the node before it is injected");
        });

    /// <summary>A pod of <paramref name="image"/> pinned to <paramref name="node"/> (the book's nginx-pod.yaml), with
    /// extra labels and a command; waits until it is Ready unless told not to.</summary>
    protected async Task<V1Pod> RunPodOnAsync(string name, string image, string node, IDictionary<string, string>? labels = null,
        IList<string>? command = null, bool waitReady = true)
    {
        Involve(node);
        return await Report.Step($"kubectl run {name} --image={image} (on {node})", async () =>
        {
            var pod = Context.Manifests.Pod(name, image, node, Profile.Images.PullSecret);
            foreach (var (key, value) in labels ?? new Dictionary<string, string>()) pod.Metadata.Labels[key] = value;
            if (command is not null) pod.Spec.Containers[0].Command = command;
            await Api.CoreV1.CreateNamespacedPodAsync(pod, Ns, cancellationToken: Token);
            if (!waitReady) return pod;
            var ready = await Pod(name).Until(p => p.IsReady(), "to be Running and Ready", Timeouts.PodReady);
            Report.Attach("kubectl get pods -o wide", ObjectState.Describe(ready.Objects[name]));
            return ready.Objects[name];
        });
    }

    /// <summary>
    /// The node's facts (<see cref="NodeFacts"/>: runtime units, CNI, bridged or routed pods, ip_forward,
    /// bridge-nf-call-iptables, br_netfilter), read in one command, as a step with the listing attached.
    /// </summary>
    protected Task<NodeFacts> ReadNodeFactsAsync(string node, string when) =>
        Report.Step($"[{node}] node facts {when}: runtime units, CNI, pod wiring, ip_forward, bridge-nf-call-iptables, br_netfilter", async () =>
        {
            var facts = await NodeFacts.ReadAsync(Cluster.Node(node), NodeFactsTimeout(Profile), Token);
            Report.Attach($"node facts {when}", facts.Summary + "\n\n" + facts.ForwardingState);
            return facts;
        });

    /// <summary>The same, before the check has a context (<see cref="ClusterCheck.NotApplicableOnNodesAsync"/>); null when the
    /// node cannot be read (the check then runs and its own steps say what is wrong).</summary>
    protected static async Task<NodeFacts?> TryReadNodeFactsAsync(Harness.ClusterAccess.Cluster cluster, string node, CancellationToken ct)
    {
        try { return await NodeFacts.ReadAsync(cluster.Node(node), NodeFactsTimeout(cluster.Profile), ct); }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested) { return null; }
    }

    /// <summary>The facts are one quick command: the profile's command timeout, within 5 to 30 s.</summary>
    private static TimeSpan NodeFactsTimeout(ClusterProfile profile) =>
        TimeSpan.FromSeconds(Math.Clamp(profile.Timeouts.ToTimeouts().Command.TotalSeconds, 5, 30));

    /// <summary><c>kubectl expose</c>: a ClusterIP Service on port 80 for the pods with <paramref name="selector"/>; returns its ClusterIP.</summary>
    protected async Task<string> CreateServiceAsync(string name, IDictionary<string, string> selector) =>
        await Report.Step($"kubectl create service clusterip {name} --tcp=80:80 (selector {string.Join(",", selector.Select(s => $"{s.Key}={s.Value}"))})", async () =>
        {
            var service = await Api.CoreV1.CreateNamespacedServiceAsync(new V1Service
            {
                Metadata = new V1ObjectMeta { Name = name },
                Spec = new V1ServiceSpec
                {
                    Selector = selector,
                    Ports = [new V1ServicePort { Port = 80, TargetPort = 80, Protocol = "TCP" }],
                },
            }, Ns, cancellationToken: Token);
            var listed = await KubectlAsync($"get service {name} -o wide");
            Report.Attach("kubectl get service", listed.ToString());
            return service.Spec.ClusterIP;
        });

    /// <summary><paramref name="calls"/> HTTP calls from inside <paramref name="client"/> to <paramref name="ip"/>:80; who answered each (null: failed).</summary>
    protected async Task<IReadOnlyList<string?>> CallFromPodAsync(string client, string ip, int calls)
    {
        var exec = await Context.KubectlAsync(PodCalls.KubectlExec(client, ip, 80, calls, Timeouts.Curl),
            calls * (Timeouts.Curl + TimeSpan.FromSeconds(2)) + TimeSpan.FromSeconds(30));
        var outcomes = PodCalls.Parse(exec.Stdout);
        Report.Attach($"{calls} calls from {client} to {ip}: {PodCalls.Describe(PodCalls.Count(outcomes))}", exec.ToString());
        if (outcomes.Count != calls)
            Assert.Fail($"the calls from {client} did not run as planned (is bash in its image?): {exec}");
        return outcomes;
    }

    /// <summary>The node's Ready condition as kubelet last posted it.</summary>
    protected static V1NodeCondition? ReadyCondition(V1Node node) => node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");

    /// <summary>A line per event of one pod: reason and message, as <c>kubectl describe pod</c> lists them.</summary>
    protected async Task<IReadOnlyList<Corev1Event>> PodEventsAsync(string pod) =>
        (await Api.CoreV1.ListNamespacedEventAsync(Ns, fieldSelector: $"involvedObject.name={pod}", cancellationToken: Token)).Items.ToList();

    protected static string DescribeEvents(IEnumerable<Corev1Event> events) =>
        string.Join("\n", events.Select(e => $"{e.Type}\t{e.Reason}\t{e.Message}"));

    /// <summary><c>kubectl get pods</c>: <paramref name="pod"/>'s STATUS column as kubectl prints it.</summary>
    protected async Task<string?> KubectlPodStatusAsync(string pod)
    {
        var pods = (await KubectlAsync("get pods -o wide")).EnsureSuccess();
        return KubectlTable.Parse(pods.Stdout).Cell(pod, "STATUS");
    }

    /// <summary>A hold on the pod's watch: <paramref name="pod"/> stays not Running for <see cref="HoldPeriod"/>; returns the last state seen.</summary>
    protected Task<string> ExpectNotRunningForHoldPeriodAsync(string pod, string because) =>
        Pod(pod).Stays(p => !p.IsRunning(), "to stay not Running", HoldPeriod, because);
}

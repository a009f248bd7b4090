using Harness.Checks;
using Harness.Faults;
using Harness.Probes;
using k8s;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// kube-proxy kept off a worker (its DaemonSet given a node affinity that excludes the node, its pod there gone, as
/// tests/Lab.Tests' negative control does): a Service created meanwhile has no iptables rules on that node, so a pod
/// there cannot reach it while the control plane can; kube-proxy back: the pod reaches it.
/// </summary>
[TestFixture, Category("kube-proxy"), Category("kube-proxy-service"), Category(ContainerRuntimeTests.NodeComponents)]
public sealed class KubeProxyServiceTests : NodeComponentCheck
{
    private const string KubeSystem = "kube-system";
    private const string KubeProxy = "kube-proxy";

    /// <summary>The book's w2-k8s.</summary>
    private string Worker => Workers.Second;

    /// <summary>Where the Service's backend runs: another worker (the first that is not <see cref="Worker"/>), else the same.</summary>
    private string BackendNode => Profile.Workers.FirstOrDefault(w => w != Worker) ?? Worker;

    private Fault KubeProxyKeptOff => Fault.OnNode("kube-proxy kept off the node", Worker,
        DaemonSetExclusion.KubectlCommand(KubeSystem, KubeProxy, Worker), Revert.LetDaemonSetOn(Worker, KubeSystem, KubeProxy));

    protected override IEnumerable<Fault> FaultsOf(string check) => [KubeProxyKeptOff];

    /// <summary>
    /// Every node: changing the DaemonSet's pod template rolls kube-proxy on every node (out when the affinity is set,
    /// again when it is removed), and other checks' steady state and "cluster as found" look at kube-proxy everywhere.
    /// </summary>
    protected override ClusterClaim ClaimOf(string check) => ClaimOfFaults(check).Breaking(Profile.AllNodes);

    private const string Client = "client";
    private const string Backend = "echo-backend";
    private const string Service = "svc-created-meanwhile";

    /// <summary>Calls that must all fail while kube-proxy is away (each waits timeouts.curlSeconds).</summary>
    private const int Calls = 3;

    [Test, CancelAfter(Backstop)]
    [Description("Keep kube-proxy off a worker: a Service created meanwhile is not reachable from a pod on that worker (no rules there) but is from the control plane; let kube-proxy back: reachable.")]
    public async Task ServiceCreatedWithoutKubeProxyIsUnreachableFromItsNodeUntilKubeProxyIsBack()
    {
        var worker = Worker;
        var own = await Report.Step($"kubectl -n {KubeSystem} get daemonset {KubeProxy}: no affinity of its own (the revert removes only the harness's)", async () =>
        {
            var ds = await Api.AppsV1.ReadNamespacedDaemonSetAsync(KubeProxy, KubeSystem, cancellationToken: Token);
            var affinity = ds.Spec.Template.Spec.Affinity;
            Report.Attach("affinity", affinity is null ? "none" : KubernetesJson.Serialize(affinity));
            return DaemonSetExclusion.StateOf(affinity, worker) == DaemonSetExclusion.ExclusionState.Absent ? null : KubernetesJson.Serialize(affinity);
        });
        if (own is not null)
            Assert.Ignore($"kube-proxy's DaemonSet already has an affinity ({own}): the check does not change it (its revert could not tell it from its own)");
        await Workloads.RunPodAsync(Backend, Profile.Images.EchoHname, BackendNode, new Dictionary<string, string> { ["app"] = Backend });
        await Workloads.RunPodAsync(Client, Profile.Images.Nginx, worker);

        var off = await Report.Step($"kubectl -n {KubeSystem} patch daemonset {KubeProxy} (affinity: not on {worker}) → its pod on {worker} is gone", () =>
            InjectAsync(KubeProxyKeptOff, t => Cluster.DaemonSets.KeepOffNodeAsync(KubeSystem, KubeProxy, worker, t)));
        await Kubectl.StepAsync($"get pods -n {KubeSystem} -l k8s-app={KubeProxy} -o wide");

        var ip = await Workloads.CreateServiceAsync(Service, new Dictionary<string, string> { ["app"] = Backend });

        await Report.Step($"[{Profile.ControlPlane}]$ {HttpProbe.Command(Profile.Commands.Curl, ip, Timeouts.Curl)} answers: the Service works where kube-proxy runs", async () =>
        {
            var answer = await PollAsync(t => HttpProbe.CurlAsync(Cluster.ControlPlane, Profile.Commands.Curl, ip, Timeouts.Curl, t),
                a => a.StatusCode == 200, Timeouts.Symptom);
            Report.Attach("curl", answer.ToString());
            Assert.That(answer.StatusCode, Is.EqualTo(200), $"kube-proxy on the control plane programs the new Service: {answer}");
        });

        await Report.Step($"from {Client} on {worker}: {Calls} calls to {ip} all fail (no rules for the Service there)", async () =>
        {
            var outcomes = await Workloads.CallFromPodAsync(Client, ip, Calls);
            Record("symptom", off.SinceInject);
            Assert.That(outcomes, Has.All.Null, $"without kube-proxy nothing on {worker} translates the ClusterIP: {PodCalls.Describe(PodCalls.Count(outcomes))}");
        });

        await Report.Step($"kubectl -n {KubeSystem} patch daemonset {KubeProxy} (affinity removed) → kube-proxy Ready on {worker}, {Client} reaches {ip}", async () =>
        {
            var back = DateTimeOffset.UtcNow;
            await RecoverAsync(off);
            Record("kube-proxy back", DateTimeOffset.UtcNow - back);
            var outcomes = await PollAsync(_ => Workloads.CallFromPodAsync(Client, ip, 1), o => o.All(a => a is not null), Timeouts.Symptom);
            Record("recovery", DateTimeOffset.UtcNow - back);
            Assert.That(outcomes, Has.None.Null.And.All.EqualTo(Backend), $"kube-proxy on {worker} programs the Service: {PodCalls.Describe(PodCalls.Count(outcomes))}");
        });
        await Kubectl.StepAsync($"get pods -n {KubeSystem} -l k8s-app={KubeProxy} -o wide");
    }
}

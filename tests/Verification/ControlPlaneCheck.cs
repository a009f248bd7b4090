using Harness.Faults;
using Harness.Kube;
using Harness.Kube.Kubectl;
using Harness.Nodes;
using Harness.Profiles;
using Harness.Reporting;
using Harness.Safety;
using Harness.Waits;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Verification;

/// <summary>
/// What the checks of the control plane's components share (issue 11): one component stopped the revised edition's
/// way — its static-pod manifest moved out of kubelet's folder on the control plane (<c>unload-kube-apiserver.sh</c>)
/// and back (<c>load-kube-apiserver.sh</c>) — with the commands of the profile's <c>components</c> section. Its revert
/// (the manifest back, the component serving again) needs no API, so a run killed meanwhile is healed by the next one
/// before that one reaches the API (see Suite and Healing.HealBeforeApiAsync).
/// </summary>
public abstract class ControlPlaneCheck : ClusterCheck
{
    /// <summary>kubeadm's name of the component (its manifest is <c>&lt;name&gt;.yaml</c>, its pod label <c>component=&lt;name&gt;</c>).</summary>
    protected abstract string Component { get; }

    /// <summary>The component's manifest and the profile's commands for it.</summary>
    protected StaticPod StaticPod => StaticPod.Of(Profile, Component);

    /// <summary>The fault, declared once: the manifest moved away; its revert moves it back and waits until the component serves.</summary>
    protected Fault ComponentStopped => StaticPod.Stopped;

    protected override IEnumerable<Fault> FaultsOf(string check) => [ComponentStopped];

    /// <summary>How long a symptom that is an absence (no node, no replacement) must last to count: longer than the
    /// component takes to act when it runs (the scheduler binds in well under a second, a controller within seconds).</summary>
    protected static readonly TimeSpan HoldPeriod = TimeSpan.FromSeconds(30);

    protected string ControlPlaneNode => Profile.ControlPlane;

    /// <summary>The profile keeps the component out of reach (<c>components.stoppable</c>): nothing to check there.</summary>
    protected override string? NotApplicableOn(ClusterProfile profile) =>
        profile.Components.Stoppable.Contains(Component) ? null
            : $"not applicable: profile '{profile.Name}' does not let the checks stop {Component} (components.stoppable: {string.Join(", ", profile.Components.Stoppable)})";

    /// <summary>
    /// Before anything is injected: the component's health command must answer now, while the steady state says the component runs —
    /// a command that cannot tell (curl missing, another port) would see it neither stop nor come back, and its revert
    /// would wait in vain.
    /// </summary>
    protected async Task RequireStoppableAsync()
    {
        if (StaticPod.HealthCommand is null)
            Assert.Ignore($"no health command for {Component}: set components.health.{Component} in profile '{Profile.Name}'");
        await Report.Step($"[{ControlPlaneNode}]$ {StaticPod.HealthCommand} answers while {Component} runs", async () =>
        {
            var answer = await Cluster.ControlPlane.RunAsync(StaticPod.HealthCommand!, ct: Token);
            Report.Attach("health", answer.ToString());
            Assert.That(answer.Succeeded, Is.True,
                $"components.health.{Component} of profile '{Profile.Name}' must succeed while {Component} runs, else the check cannot see it stop or come back: {answer}");
        });
    }

    /// <summary>
    /// <c>[m-k8s]$ mv /etc/kubernetes/manifests/X.yaml …</c> (the revert registered first), then, on the control plane,
    /// the component's health command until it fails: the component is down. Records "detection".
    /// </summary>
    protected async Task<InjectedFault> StopComponentAsync()
    {
        Involve(ControlPlaneNode);
        var stopped = await InjectOnNodeAsync(ComponentStopped);
        var list = $"ls {Profile.Components.ManifestsDirectory}";
        await Report.Step($"[{ControlPlaneNode}]$ {list}", async () =>
            Report.Attach(list, (await Cluster.ControlPlane.RunAsync(list, ct: Token)).ToString()));
        await Report.Step($"[{ControlPlaneNode}]$ {StaticPod.HealthCommand} fails: kubelet stopped {Component}", async () =>
        {
            await ComponentWaits.UntilAsync(RunOnControlPlane, Component, StaticPod.HealthCommand!, serving: false,
                Timeouts.Symptom, Progress, Token);
            Record("detection", stopped.SinceInject);
            var answer = await Cluster.ControlPlane.RunAsync(StaticPod.HealthCommand!, ct: Token);
            Report.Attach("health", answer.ToString());
        });
        return stopped;
    }

    /// <summary>
    /// <c>[m-k8s]$ mv …parked… /etc/kubernetes/manifests/X.yaml</c>: the fault's revert, which waits until the component
    /// answers its health command again. Records "component back" (manifest back → component serving); returns when the
    /// manifest was put back, for the check's own "recovery" figure.
    /// </summary>
    protected async Task<DateTimeOffset> StartComponentAsync(InjectedFault stopped)
    {
        var restoredAt = DateTimeOffset.UtcNow;
        await Report.Step($"[{ControlPlaneNode}]$ {StaticPod.StartCommand} → {StaticPod.HealthCommand} answers", async () =>
        {
            await RecoverAsync(stopped);
            Record("component back", DateTimeOffset.UtcNow - restoredAt);
            var answer = await Cluster.ControlPlane.RunAsync(StaticPod.HealthCommand!, ct: Token);
            Report.Attach("health", answer.ToString());
            Assert.That(answer.Succeeded, Is.True, $"{Component} serves again: {answer}");
            await HarnessClientReachesTheApiAsync();
        });
        // The cluster as it was found: answering its health port is not yet a Ready static pod (kubeadm's startup probe
        // runs first), and without the API server or etcd the scheduler and controller-manager lost their leases and
        // restarted. A run that ended here would leave the next run's preflight a control plane still settling.
        await Report.Step($"kubectl -n kube-system get pods → every control-plane pod Running and Ready, none restarting for {ComponentHealth.ControlPlaneStable.TotalSeconds:0} s", StepPart.Harness, async () =>
        {
            // kubelet restarts the API server whose liveness failed without etcd only after etcd is back; the scheduler and
            // controller-manager restart after losing their leases.
            var problems = await ComponentHealth.UntilControlPlaneSettledAsync(Cluster, problem => Progress($"control plane after {Component}: {problem}"), Token);
            Record("control plane Ready", DateTimeOffset.UtcNow - restoredAt);
            var pods = await Api.CoreV1.ListNamespacedPodAsync("kube-system", fieldSelector: $"spec.nodeName={ControlPlaneNode}", cancellationToken: Token);
            Report.Attach("kube-system pods on the control plane", string.Join("\n", pods.Items.Select(Describe)));
            Assert.That(problems, Is.Empty, $"the control plane is back as it was before {Component} was stopped");
        });
        return restoredAt;
    }

    /// <summary>
    /// The harness's own API client answers again before the check goes on: its pooled connections died with the API
    /// server (or its requests failed without etcd), and the waits and the clean-up after this step use it.
    /// </summary>
    private async Task HarnessClientReachesTheApiAsync()
    {
        var reached = await new Until<V1Namespace>("the harness's API client to reach the API again",
                t => Api.CoreV1.ReadNamespaceAsync(Ns, cancellationToken: t), _ => true)
            {
                NotYetOn = e => e is HttpRequestException or k8s.Autorest.HttpOperationException or IOException or TaskCanceledException,
            }
            .LastWithinAsync(Timeouts.ControlPlaneRestart, Token);
        // The harness's own client, after kubectl on the control plane answered: a broken run, not a failed check.
        if (!reached.Holds)
            throw new TimeoutException($"The harness's API client did not reach the API within {Timeouts.ControlPlaneRestart.TotalSeconds:0} s. " +
                $"Last error: {reached.LastError?.Message ?? "none (no try finished)"}");
    }

    private ComponentWaits.RunOnNode RunOnControlPlane => (command, timeout, ct) => Cluster.ControlPlane.RunAsync(command, timeout, ct);

    /// <summary>The book's curl from the control plane to a pod that ran before the fault: it must still answer.</summary>
    protected Task RunningPodKeepsServingAsync(string ip) =>
        Report.Step($"a pod that ran before keeps serving without {Component}: curl {ip} answers", async () =>
        {
            var answer = await Workloads.CurlFromControlPlaneAsync(ip);
            Assert.That(answer.StatusCode, Is.EqualTo(200), $"the pod's node runs it without the control plane: {answer}");
        });

    /// <summary>
    /// Runs one of the book's kubectl commands on the control plane until what kubectl prints reads as
    /// <paramref name="wanted"/>, within <paramref name="deadline"/>; the last transcript is attached. A component on
    /// its way down can give other answers first (an API server shutting down resets connections before nothing listens).
    /// </summary>
    protected Task<(CommandResult Result, ApiAnswer Answer)> KubectlUntilAsync(string arguments, Func<ApiAnswer, bool> wanted, TimeSpan deadline) =>
        Kubectl.UntilAsync(arguments, ApiAnswer.Read, wanted, deadline, attemptTimeout: TimeSpan.FromSeconds(60));

    /// <summary>Something written before the fault, read back after it: a ConfigMap with one value.</summary>
    protected async Task<V1ConfigMap> WriteMarkerAsync(string name, string value) =>
        await Report.Step($"kubectl create configmap {name} --from-literal=writtenBefore={value}", async () =>
            await Api.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
            {
                Metadata = new V1ObjectMeta { Name = name },
                Data = new Dictionary<string, string> { ["writtenBefore"] = value },
            }, Ns, cancellationToken: Token));

    /// <summary><c>kubectl get configmap NAME -o jsonpath=…</c> prints the value written before the fault.</summary>
    protected Task ExpectMarkerAsync(string name, string value) =>
        Report.Step($"kubectl get configmap {name} → writtenBefore={value}", async () =>
        {
            var read = (await Kubectl.RunAsync($"get configmap {name} -o jsonpath='{{.data.writtenBefore}}'")).EnsureSuccess();
            Assert.That(read.Stdout.Trim(), Is.EqualTo(value), $"the object written before the fault is still there: {read}");
        });

    /// <summary>The book's <c>kubectl get pods -o wide</c>: <paramref name="pod"/> listed Running (created before the fault).</summary>
    protected Task ExpectPodStillListedRunningAsync(string pod) =>
        Report.Step($"kubectl get pods -o wide → {pod} still Running", async () =>
            Assert.That(await Kubectl.PodStatusAsync(pod), Is.EqualTo("Running"), $"kubectl get pods -o wide lists {pod} Running"));

    /// <summary>A line that says what a pod looks like now, as <c>kubectl get pods -o wide</c> would.</summary>
    protected static string Describe(V1Pod pod) => ObjectState.Describe(pod);
}

using Harness.ClusterAccess;
using Harness.Kube;
using Harness.Probes;
using k8s;
using k8s.Models;

namespace Harness.Checks;

/// <summary>
/// The book's pods, Deployments and Services in the check's namespace (made through the API, each step named by the
/// book's command for it), and the calls that reach them: curl from the control plane, calls from inside a pod.
/// </summary>
public sealed class Workloads(CheckContext context)
{
    /// <summary>The edition's nginx pod: nginx-pod (first edition), po-nginx (revised).</summary>
    public string NginxPod => context.Profile.Edition.NginxPod;

    /// <summary><c>kubectl run nginx-pod --image=nginx</c>, pinned to <paramref name="node"/> so the fault lands where the pod is.</summary>
    public Task<V1Pod> RunNginxPodAsync(string node) => RunPodAsync(NginxPod, context.Profile.Images.Nginx, node);

    /// <summary>A pod of <paramref name="image"/> pinned to <paramref name="node"/> (the book's nginx-pod.yaml), with extra
    /// labels and a command; waits until it is Ready unless told not to.</summary>
    public async Task<V1Pod> RunPodAsync(string name, string image, string node, IDictionary<string, string>? labels = null,
        IList<string>? command = null, bool waitReady = true)
    {
        context.Involve(node);
        return await context.Report.Step($"kubectl run {name} --image={image} (on {node})", async () =>
        {
            var pod = context.Manifests.Pod(name, image, node, context.Profile.Images.PullSecret);
            foreach (var (key, value) in labels ?? new Dictionary<string, string>()) pod.Metadata.Labels[key] = value;
            if (command is not null) pod.Spec.Containers[0].Command = command;
            await context.Api.CoreV1.CreateNamespacedPodAsync(pod, context.Namespace, cancellationToken: context.Cancellation);
            if (!waitReady) return pod;
            var ready = await context.Pod(name).Until(p => p.IsReady(), "to be Running and Ready", context.Timeouts.PodReady);
            context.Report.Attach("kubectl get pods -o wide", ObjectState.Describe(ready.Objects[name]));
            return ready.Objects[name];
        });
    }

    /// <summary><c>kubectl apply -f echo-hname.yaml</c>: create, or set replicas when it exists; then wait for the pods.</summary>
    public Task<IReadOnlyList<V1Pod>> ApplyEchoHnameAsync(int replicas) =>
        context.Report.Step($"kubectl apply -f echo-hname.yaml (replicas: {replicas})", async () =>
        {
            var images = context.Profile.Images;
            var deployment = context.Manifests.EchoHname(images.EchoHname, replicas, images.PullSecret);
            var apps = context.Api.AppsV1;
            var existing = await apps.ListNamespacedDeploymentAsync(context.Namespace, fieldSelector: "metadata.name=echo-hname", cancellationToken: context.Cancellation);
            if (existing.Items.Count == 0) await apps.CreateNamespacedDeploymentAsync(deployment, context.Namespace, cancellationToken: context.Cancellation);
            else await apps.PatchNamespacedDeploymentScaleAsync(new V1Patch($"{{\"spec\":{{\"replicas\":{replicas}}}}}", V1Patch.PatchType.MergePatch),
                "echo-hname", context.Namespace, cancellationToken: context.Cancellation);
            return await ReadyPodsAsync("app=nginx", replicas);
        });

    /// <summary>
    /// Exactly <paramref name="count"/> pods with this label selector, all Ready (and <paramref name="also"/>), none
    /// Terminating; listed in the report. With <paramref name="ignoreLeaving"/>, pods already being deleted are not
    /// counted (a replaced ReplicaSet's pod that never started can take a minute to go, while the Deployment already
    /// serves with the others).
    /// </summary>
    public async Task<IReadOnlyList<V1Pod>> ReadyPodsAsync(string labelSelector, int count, Func<V1Pod, bool>? also = null, bool ignoreLeaving = false)
    {
        IEnumerable<V1Pod> Counted(IEnumerable<V1Pod> pods) => ignoreLeaving ? pods.Where(p => !p.IsTerminating()) : pods;
        var outcome = await context.Pods(labelSelector).Until(
            pods => Counted(pods.Values).Count() == count && Counted(pods.Values).All(p => p.IsReady() && (also?.Invoke(p) ?? true)),
            $"{count} Ready pods ({labelSelector})", context.Timeouts.PodReady);
        var pods = Counted(outcome.Objects.Values).OrderBy(p => p.Name()).ToList();
        context.Report.Attach("kubectl get pods -o=custom-columns=NAME,IP,STATUS,NODE", string.Join("\n", pods.Select(ObjectState.Describe)));
        return pods;
    }

    /// <summary>How many of <paramref name="pods"/> run on each node.</summary>
    public static Dictionary<string, int> PerNode(IEnumerable<V1Pod> pods) =>
        pods.GroupBy(p => p.Spec.NodeName ?? "<none>").ToDictionary(g => g.Key, g => g.Count());

    /// <summary><c>kubectl create service clusterip</c>: a Service on port 80 for the pods with <paramref name="selector"/>; returns its ClusterIP.</summary>
    public Task<string> CreateServiceAsync(string name, IDictionary<string, string> selector) =>
        context.Report.Step($"kubectl create service clusterip {name} --tcp=80:80 (selector {string.Join(",", selector.Select(s => $"{s.Key}={s.Value}"))})", async () =>
        {
            var service = await context.Api.CoreV1.CreateNamespacedServiceAsync(new V1Service
            {
                Metadata = new V1ObjectMeta { Name = name },
                Spec = new V1ServiceSpec
                {
                    Selector = selector,
                    Ports = [new V1ServicePort { Port = 80, TargetPort = 80, Protocol = "TCP" }],
                },
            }, context.Namespace, cancellationToken: context.Cancellation);
            await context.Kubectl.RunAsync($"get service {name} -o wide");
            return service.Spec.ClusterIP;
        });

    /// <summary>The events of one object of the check's namespace (<c>kubectl describe</c>'s list), those with <paramref name="reason"/> only when given.</summary>
    public async Task<IReadOnlyList<Corev1Event>> EventsAsync(string objectName, string? reason = null) =>
        (await context.Api.CoreV1.ListNamespacedEventAsync(context.Namespace,
            fieldSelector: $"involvedObject.name={objectName}" + (reason is null ? "" : $",reason={reason}"), cancellationToken: context.Cancellation)).Items.ToList();

    /// <summary>
    /// <paramref name="calls"/> HTTP calls from inside <paramref name="client"/> to <paramref name="ip"/>:80 (the book's
    /// images have no curl: bash's /dev/tcp); who answered each (null: it failed).
    /// </summary>
    public async Task<IReadOnlyList<string?>> CallFromPodAsync(string client, string ip, int calls)
    {
        var curl = context.Timeouts.Curl;
        var exec = await context.Kubectl.RunAsync(PodCalls.KubectlExec(client, ip, 80, calls, curl),
            calls * (curl + TimeSpan.FromSeconds(2)) + TimeSpan.FromSeconds(30), attach: false);
        var outcomes = PodCalls.Parse(exec.Stdout);
        context.Report.Attach($"{calls} calls from {client} to {ip}: {PodCalls.Describe(PodCalls.Count(outcomes))}", exec.ToString());
        if (outcomes.Count != calls) context.Fail($"the calls from {client} did not run as planned (is bash in its image?): {exec}");
        return outcomes;
    }

    /// <summary>The book's look at a pod from the control plane: the profile's curl (<c>commands.curl</c>) to <paramref name="ip"/>, as a step.</summary>
    public Task<CurlResult> CurlFromControlPlaneAsync(string ip)
    {
        var profile = context.Profile;
        return context.Report.Step(BookWorkers.Prompt(profile.ControlPlane, HttpProbe.Command(profile.Commands.Curl, ip, context.Timeouts.Curl)), async () =>
        {
            var result = await HttpProbe.CurlAsync(context.Cluster.ControlPlane, profile.Commands.Curl, ip, context.Timeouts.Curl, context.Cancellation);
            context.Report.Attach("curl", result.ToString());
            return result;
        });
    }
}

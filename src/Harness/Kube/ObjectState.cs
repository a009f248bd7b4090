using k8s.Models;

namespace Harness.Kube;

/// <summary>One-line readings of objects, in the words <c>kubectl get</c> uses.</summary>
public static class ObjectState
{
    public static bool IsTerminating(this V1Pod pod) => pod.Metadata.DeletionTimestamp is not null;

    public static bool IsRunning(this V1Pod pod) => pod.Status?.Phase == "Running" && !pod.IsTerminating();

    public static bool IsReady(this V1Pod pod) =>
        pod.IsRunning() && pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>
    /// Ready by kubelet's own rule, also in the minute before kubelet writes it down: a container without a readiness
    /// probe is ready once it has started (passed its startup probe). kubelet up to 1.20 writes that only at the pod's
    /// next periodic sync, up to a minute after the startup probe passed (kubernetes/kubernetes#95140); kubeadm's static
    /// pods have a startup probe and no readiness probe, so each control-plane pod put back would wait that minute for nothing.
    /// Only a not-ready condition kubelet wrote (reason ContainersNotReady) is read so: the node controller marks the pods of
    /// a node that stopped reporting not ready without touching their container statuses, and those stay not ready.
    /// </summary>
    public static bool IsReadyByKubeletRule(this V1Pod pod) =>
        pod.IsReady() || (pod.IsRunning()
                          && pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Reason == "ContainersNotReady") == true
                          && pod.Spec?.Containers is { Count: > 0 } containers && containers.All(c => c.ReadinessProbe is null)
                          && pod.Status?.ContainerStatuses is { } statuses && statuses.Count == containers.Count
                          && statuses.All(s => s.State?.Running is not null && s.Started == true));

    public static int Restarts(this V1Pod pod) => pod.Status?.ContainerStatuses?.Sum(c => c.RestartCount) ?? 0;

    /// <summary>The STATUS column of <c>kubectl get pods</c>: Terminating, a waiting reason such as ImagePullBackOff, or the phase.</summary>
    public static string KubectlStatus(this V1Pod pod)
    {
        if (pod.IsTerminating()) return "Terminating";
        var waiting = pod.Status?.ContainerStatuses?.Select(c => c.State?.Waiting?.Reason).FirstOrDefault(r => r is not null);
        var terminated = pod.Status?.ContainerStatuses?.Select(c => c.State?.Terminated?.Reason).FirstOrDefault(r => r is not null);
        return waiting ?? terminated ?? pod.Status?.Phase ?? "Unknown";
    }

    /// <summary>Like <c>kubectl get pods -o custom-columns=NAME,IP,STATUS,NODE</c> plus restarts.</summary>
    public static string Describe(this V1Pod pod) =>
        $"{pod.Name()} {pod.KubectlStatus()} ip={pod.Status?.PodIP ?? "<none>"} node={pod.Spec?.NodeName ?? "<none>"} restarts={pod.Restarts()}";

    public static string Describe(IEnumerable<V1Pod> pods) =>
        pods.Any() ? string.Join("; ", pods.OrderBy(p => p.Name()).Select(Describe)) : "no pods";

    public static bool IsReady(this V1Node node) =>
        node.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    public static bool IsSchedulable(this V1Node node) => node.Spec?.Unschedulable != true;

    /// <summary>The STATUS column of <c>kubectl get nodes</c>, e.g. <c>Ready,SchedulingDisabled</c>.</summary>
    public static string KubectlStatus(this V1Node node) =>
        (node.IsReady() ? "Ready" : "NotReady") + (node.IsSchedulable() ? "" : ",SchedulingDisabled");

    public static string Describe(IEnumerable<V1Node> nodes) =>
        string.Join("; ", nodes.OrderBy(n => n.Name()).Select(n => $"{n.Name()} {n.KubectlStatus()}"));

    public static string ImageOf(this V1Deployment deployment) =>
        deployment.Spec.Template.Spec.Containers[0].Image;
}

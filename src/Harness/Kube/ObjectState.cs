using System.Text.RegularExpressions;
using k8s.Models;

namespace Harness.Kube;

/// <summary>One-line readings of objects, in the words <c>kubectl get</c> uses.</summary>
public static partial class ObjectState
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

    /// <summary>Like <c>kubectl get pods -o custom-columns=NAME,IP,STATUS,NODE</c> plus restarts; a pod held by the
    /// registry's pull limit says so, so every wait that times out on it names the limit (<see cref="PullLimit"/>).</summary>
    public static string Describe(this V1Pod pod) =>
        $"{pod.Name()} {pod.KubectlStatus()} ip={pod.Status?.PodIP ?? "<none>"} node={pod.Spec?.NodeName ?? "<none>"} restarts={pod.Restarts()}" +
        (pod.PullLimit() is { } limit ? $" -- {limit}" : "");

    /// <summary>
    /// Why the pod cannot start when a registry refuses its image for the pull limit, or null: a container waiting in
    /// <c>ErrImagePull</c>/<c>ImagePullBackOff</c> whose message carries the registry's 429 (Docker Hub allows 10
    /// anonymous pulls an hour per address). Wording of containerd 1.6/2.x (<c>… 429 Too Many Requests - Server message:
    /// toomanyrequests: You have reached your pull rate limit …</c>, or a bare <c>429 Too Many Requests</c> after a HEAD)
    /// and of docker 20.10 (<c>Error response from daemon: toomanyrequests: …</c>). One sentence naming the limit, the
    /// image, the node and what to do. An <c>ImagePullBackOff</c> of kubelet before 1.30 carries no message (only
    /// <c>Back-off pulling image "x"</c>): the pull limit shows when the pod is seen in <c>ErrImagePull</c>.
    /// </summary>
    public static string? PullLimit(this V1Pod pod)
    {
        var statuses = (pod.Status?.InitContainerStatuses ?? []).Concat(pod.Status?.ContainerStatuses ?? []);
        foreach (var status in statuses)
        {
            if (status.State?.Waiting is not { Reason: "ErrImagePull" or "ImagePullBackOff", Message: { } message } || !SaysPullLimit(message)) continue;
            var image = status.Image ?? pod.Spec?.Containers?.FirstOrDefault(c => c.Name == status.Name)?.Image ?? "?";
            return PullLimitMessage(image, pod.Spec?.NodeName ?? "<no node>", message);
        }
        return null;
    }

    /// <summary>Whether a pull error is the registry's rate limit (HTTP 429 / toomanyrequests).</summary>
    public static bool SaysPullLimit(string? message) => message is not null && PullLimitWords().IsMatch(message);

    public static string PullLimitMessage(string image, string node, string registrySaid) =>
        $"pull limit: the registry refused image {image} on {node} for too many pulls (HTTP 429 toomanyrequests; Docker Hub allows " +
        "10 anonymous pulls an hour per address). Wait for the hour to pass, or log in: create a docker-registry Secret (kubectl create secret " +
        "docker-registry NAME -n default …) and name it in images.pullSecret, or pull through a mirror (images.registryMirror) or pre-pull the image on the node. " +
        $"The runtime said: {registrySaid.Trim()}";

    [GeneratedRegex(@"toomanyrequests|429 Too Many Requests|pull rate limit", RegexOptions.IgnoreCase)]
    private static partial Regex PullLimitWords();

    /// <summary>Whether a container of the pod waits on an image pull (ErrImagePull or ImagePullBackOff).</summary>
    public static bool IsPullingImage(this V1Pod pod) =>
        (pod.Status?.InitContainerStatuses ?? []).Concat(pod.Status?.ContainerStatuses ?? [])
        .Any(s => s.State?.Waiting?.Reason is "ErrImagePull" or "ImagePullBackOff");

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

/// <summary>
/// One wait's memory of pods refused for the pull limit. kubelet before 1.30 says why only while the pod shows
/// <c>ErrImagePull</c>; in the <c>ImagePullBackOff</c> between tries its message is just <c>Back-off pulling image "x"</c>,
/// and that is what a wait usually sees last. The wait shows every event to <see cref="Observe"/>, and
/// <see cref="Describe"/> keeps naming the pull limit for a pod still stuck on its pull.
/// </summary>
public sealed class PullLimitMemory
{
    private System.Collections.Immutable.ImmutableDictionary<string, string> _seen =
        System.Collections.Immutable.ImmutableDictionary<string, string>.Empty;

    /// <summary>Called by the wait on every state it sees (the watch loop's thread).</summary>
    public void Observe(IEnumerable<V1Pod> pods)
    {
        foreach (var pod in pods)
            if (pod.PullLimit() is { } limit && pod.Name() is { } name) _seen = _seen.SetItem(name, limit);
    }

    /// <summary><see cref="ObjectState.Describe(IEnumerable{V1Pod})"/>, plus the pull limit seen earlier for a pod still on its pull
    /// (called from the progress timer too: reads an immutable snapshot).</summary>
    public string Describe(IEnumerable<V1Pod> pods)
    {
        var seen = _seen;
        var list = pods.OrderBy(p => p.Name()).ToList();
        if (list.Count == 0) return "no pods";
        return string.Join("; ", list.Select(p => p.PullLimit() is null && p.IsPullingImage() && p.Name() is { } name && seen.TryGetValue(name, out var limit)
            ? $"{p.Describe()} -- {limit}" : p.Describe()));
    }
}

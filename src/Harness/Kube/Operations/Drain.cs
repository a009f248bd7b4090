using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Harness.Kube.Operations;

/// <summary>What <c>kubectl drain</c> did. Output holds the lines kubectl would print, in order.</summary>
public sealed record DrainResult(
    bool Succeeded, IReadOnlyList<string> Output, IReadOnlyList<string> EvictedPods, string? Error);

/// <summary>kubectl's <c>cordon</c>, <c>uncordon</c> and <c>drain NODE</c>, done through the API.</summary>
public static partial class Drain
{
    /// <summary>kubectl's delay before retrying an eviction a PodDisruptionBudget refused (429).</summary>
    private static readonly TimeSpan EvictionRetryDelay = TimeSpan.FromSeconds(5);

    public static Task<string> CordonAsync(IKubernetes client, string nodeName, CancellationToken cancellationToken) =>
        SetUnschedulableAsync(client, nodeName, true, cancellationToken);

    public static Task<string> UncordonAsync(IKubernetes client, string nodeName, CancellationToken cancellationToken) =>
        SetUnschedulableAsync(client, nodeName, false, cancellationToken);

    /// <summary>policy/v1 Eviction exists from 1.22; older servers (the lab's 1.20, the book's 1.18) need policy/v1beta1.</summary>
    public static string EvictionApiVersion(string major, string minor)
    {
        // Some providers report minor as "20+".
        static int Number(string text) => int.TryParse(new string(text.TakeWhile(char.IsDigit).ToArray()), out var n) ? n : 0;
        var (majorNumber, minorNumber) = (Number(major), Number(minor));
        return majorNumber > 1 || (majorNumber == 1 && minorNumber >= 22) ? "policy/v1" : "policy/v1beta1";
    }

    /// <summary>
    /// Cordons the node, then evicts what <see cref="Plan"/> allows and waits until those pods are gone.
    /// On a refusal the node stays cordoned, as kubectl leaves it.
    /// </summary>
    public static async Task<DrainResult> RunAsync(
        IKubernetes client, string nodeName, DrainOptions options, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var output = new List<string> { await CordonAsync(client, nodeName, cancellationToken).ConfigureAwait(false) };
        var onNode = $"spec.nodeName={nodeName}";
        var pods = await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: onNode, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        var plan = Plan(pods.Items.ToList(), options);
        if (plan.Refused)
        {
            output.AddRange(AbortLines(nodeName, plan.Error!));
            return new DrainResult(false, output, [], plan.Error);
        }
        if (plan.Warning is { } warning) output.Add($"WARNING: {warning}");

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        var evicted = new List<string>();
        try
        {
            var version = await client.Version.GetCodeAsync(timer.Token).ConfigureAwait(false);
            var apiVersion = EvictionApiVersion(version.Major, version.Minor);
            foreach (var pod in plan.ToEvict)
            {
                output.Add($"evicting pod {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}");
                await EvictAsync(client, pod, apiVersion, output, timer.Token).ConfigureAwait(false);
            }
            await WaitUntilGoneAsync(client, onNode, plan.ToEvict, timer.Token).ConfigureAwait(false);
            foreach (var pod in plan.ToEvict)
            {
                output.Add($"pod/{pod.Metadata.Name} evicted");
                evicted.Add($"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var error = $"global timeout reached: {GoDuration(timeout)}";
            output.AddRange(AbortLines(nodeName, error));
            return new DrainResult(false, output, evicted, error);
        }
        output.Add($"node/{nodeName} drained");
        return new DrainResult(true, output, evicted, null);
    }

    /// <summary>What kubectl prints when it gives up on a node (the book's refusal).</summary>
    private static IEnumerable<string> AbortLines(string nodeName, string error) =>
    [
        $"error: unable to drain node \"{nodeName}\", aborting command...",
        "",
        "There are pending nodes to be drained:",
        $" {nodeName}",
        $"error: {error}",
    ];

    /// <summary>A duration as Go prints it (kubectl's messages): 1m0s, 30s, 1h0m0s.</summary>
    public static string GoDuration(TimeSpan duration)
    {
        var seconds = duration.Seconds + duration.Milliseconds / 1000.0;
        var secondsText = seconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + "s";
        var hours = (int)duration.TotalHours;
        if (hours > 0) return $"{hours}h{duration.Minutes}m{secondsText}";
        return duration.Minutes > 0 ? $"{duration.Minutes}m{secondsText}" : secondsText;
    }

    private static async Task<string> SetUnschedulableAsync(
        IKubernetes client, string nodeName, bool unschedulable, CancellationToken cancellationToken)
    {
        var verb = unschedulable ? "cordoned" : "uncordoned";
        var node = await client.CoreV1.ReadNodeAsync(nodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
        if ((node.Spec?.Unschedulable ?? false) == unschedulable) return $"node/{nodeName} already {verb}";
        // false is the default, so uncordon removes the field as kubectl's patch does.
        var body = unschedulable ? """{"spec":{"unschedulable":true}}""" : """{"spec":{"unschedulable":null}}""";
        await client.CoreV1.PatchNodeAsync(new V1Patch(body, V1Patch.PatchType.MergePatch), nodeName,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return $"node/{nodeName} {verb}";
    }

    private static async Task EvictAsync(
        IKubernetes client, V1Pod pod, string apiVersion, List<string> output, CancellationToken cancellationToken)
    {
        var (name, ns) = (pod.Metadata.Name, pod.Metadata.NamespaceProperty);
        var eviction = new V1Eviction
        {
            ApiVersion = apiVersion,
            Kind = "Eviction",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        };
        while (true)
        {
            try
            {
                await client.CoreV1.CreateNamespacedPodEvictionAsync(eviction, name, ns, cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return; // already gone
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                // A PodDisruptionBudget blocks it for now; kubectl retries until its timeout.
                output.Add($"error when evicting pods/\"{name}\" -n \"{ns}\" (will retry after 5s): {StatusMessage(e)}");
                await Task.Delay(EvictionRetryDelay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static string StatusMessage(HttpOperationException e)
    {
        try
        {
            return KubernetesJson.Deserialize<V1Status>(e.Response.Content)?.Message ?? e.Message;
        }
        catch (System.Text.Json.JsonException)
        {
            return e.Message;
        }
    }

    /// <summary>Watches the node's pods until every evicted pod (by UID: a same-named replacement does not count) is deleted.</summary>
    private static async Task WaitUntilGoneAsync(
        IKubernetes client, string onNode, IReadOnlyList<V1Pod> evicted, CancellationToken cancellationToken)
    {
        var remaining = evicted.Select(pod => pod.Metadata.Uid).ToHashSet();
        while (true)
        {
            var list = await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: onNode, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            remaining.IntersectWith(list.Items.Select(pod => pod.Metadata.Uid));
            if (remaining.Count == 0) return;
            var events = client.CoreV1.WatchListPodForAllNamespacesAsync(
                fieldSelector: onNode, resourceVersion: list.Metadata.ResourceVersion, timeoutSeconds: 60,
                cancellationToken: cancellationToken);
            await foreach (var (type, pod) in events.ConfigureAwait(false))
            {
                if (type == WatchEventType.Error) break; // re-list, then watch again
                if (type == WatchEventType.Deleted && remaining.Remove(pod.Metadata.Uid) && remaining.Count == 0) return;
            }
        }
    }
}

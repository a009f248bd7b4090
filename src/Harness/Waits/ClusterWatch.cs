using System.Diagnostics;
using k8s;
using k8s.Models;
using Polly;
using Polly.Timeout;

namespace Harness.Waits;

/// <summary>What a wait saw when its condition became true.</summary>
/// <param name="Objects">The watched objects at that moment, by name.</param>
/// <param name="ObservedAt">When the harness saw the event that made the condition true.</param>
/// <param name="Elapsed">How long the wait took.</param>
public sealed record WatchOutcome<T>(IReadOnlyDictionary<string, T> Objects, DateTimeOffset ObservedAt, TimeSpan Elapsed);

/// <summary>
/// A wait that ran out. The message says what was awaited, for how long, and the last state seen. It is an assertion
/// failure: the cluster did not reach the state the book shows within the deadline (a product verdict, not a harness error).
/// </summary>
public sealed class WaitTimeoutException(string message, string lastState) : NUnit.Framework.AssertionException(message)
{
    public string LastState { get; } = lastState;
}

/// <summary>
/// Waits on the cluster with a watch and a deadline, never by sleeping: list once (the current state may already
/// satisfy the condition), then watch from that list's resourceVersion, re-watching when the server closes the stream.
/// The condition sees every watched object by name, so it can ask "pod gone", "3 pods ready" or "node Ready" alike.
/// </summary>
public sealed class ClusterWatch<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Func<CancellationToken, Task<(IEnumerable<T> Items, string ResourceVersion)>> _list;
    private readonly Func<string, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> _watch;
    private readonly string _what;

    public ClusterWatch(string what,
        Func<CancellationToken, Task<(IEnumerable<T> Items, string ResourceVersion)>> list,
        Func<string, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watchFrom)
    {
        _what = what;
        _list = list;
        _watch = watchFrom;
    }

    /// <param name="awaited">Human words for the condition, e.g. "nginx-pod to leave Terminating".</param>
    /// <param name="describe">Turns the current objects into one line for progress output and timeout messages.</param>
    /// <param name="progress">Receives "waiting for …: 12 s of 120 s" every few seconds.</param>
    public async Task<WatchOutcome<T>> UntilAsync(
        Func<IReadOnlyDictionary<string, T>, bool> condition, string awaited, TimeSpan deadline,
        Func<IReadOnlyDictionary<string, T>, string> describe, Action<string>? progress, CancellationToken ct)
    {
        var objects = new Dictionary<string, T>();
        var clock = Stopwatch.StartNew();
        using var progressTimer = StartProgress(progress, () => $"waiting for {awaited}: {clock.Elapsed.TotalSeconds:0} s of {deadline.TotalSeconds:0} s ({describe(objects)})");

        var pipeline = new ResiliencePipelineBuilder().AddTimeout(deadline).Build();
        try
        {
            return await pipeline.ExecuteAsync(async token =>
            {
                var (items, resourceVersion) = await _list(token);
                foreach (var item in items) objects[item.Name()] = item;
                if (condition(objects)) return Outcome();
                while (true)
                {
                    try
                    {
                        await foreach (var (type, item) in _watch(resourceVersion, token))
                        {
                            resourceVersion = item.ResourceVersion() ?? resourceVersion;
                            if (type == WatchEventType.Deleted) objects.Remove(item.Name());
                            else if (type is WatchEventType.Added or WatchEventType.Modified) objects[item.Name()] = item;
                            if (condition(objects)) return Outcome();
                        }
                    }
                    catch (k8s.Autorest.HttpOperationException e) when ((int)e.Response.StatusCode == 410)
                    {
                        // The resourceVersion is too old: list again and carry on from there.
                        (items, resourceVersion) = await _list(token);
                        objects.Clear();
                        foreach (var item in items) objects[item.Name()] = item;
                        if (condition(objects)) return Outcome();
                    }
                }
            }, ct);
        }
        catch (TimeoutRejectedException)
        {
            var state = describe(objects);
            throw new WaitTimeoutException(
                $"Timed out after {deadline.TotalSeconds:0} s waiting for {awaited} (watching {_what}). Last seen: {state}", state);
        }

        WatchOutcome<T> Outcome() => new(new Dictionary<string, T>(objects), DateTimeOffset.UtcNow, clock.Elapsed);
    }

    private static IDisposable? StartProgress(Action<string>? progress, Func<string> line) =>
        progress is null ? null : new Timer(_ => progress(line()), null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
}

/// <summary>Ready-made watches for what the checks wait on.</summary>
public static class Watches
{
    public static ClusterWatch<V1Pod> Pods(IKubernetes api, string ns, string? labelSelector = null, string? fieldSelector = null) =>
        new($"pods in {ns}" + (labelSelector is null ? "" : $" ({labelSelector})") + (fieldSelector is null ? "" : $" ({fieldSelector})"),
            async ct =>
            {
                var list = await api.CoreV1.ListNamespacedPodAsync(ns, labelSelector: labelSelector, fieldSelector: fieldSelector, cancellationToken: ct);
                return (list.Items, list.ResourceVersion());
            },
            (rv, ct) => api.CoreV1.WatchListNamespacedPodAsync(ns, labelSelector: labelSelector, fieldSelector: fieldSelector,
                resourceVersion: rv, timeoutSeconds: 300, cancellationToken: ct));

    public static ClusterWatch<V1Pod> Pod(IKubernetes api, string ns, string name) =>
        Pods(api, ns, fieldSelector: $"metadata.name={name}");

    public static ClusterWatch<V1Node> Nodes(IKubernetes api) =>
        new("nodes",
            async ct =>
            {
                var list = await api.CoreV1.ListNodeAsync(cancellationToken: ct);
                return (list.Items, list.ResourceVersion());
            },
            (rv, ct) => api.CoreV1.WatchListNodeAsync(resourceVersion: rv, timeoutSeconds: 300, cancellationToken: ct));

    public static ClusterWatch<V1Namespace> Namespace(IKubernetes api, string name) =>
        new($"namespace {name}",
            async ct =>
            {
                var list = await api.CoreV1.ListNamespaceAsync(fieldSelector: $"metadata.name={name}", cancellationToken: ct);
                return (list.Items, list.ResourceVersion());
            },
            (rv, ct) => api.CoreV1.WatchListNamespaceAsync(fieldSelector: $"metadata.name={name}", resourceVersion: rv, timeoutSeconds: 300, cancellationToken: ct));

    public static ClusterWatch<V1ServiceAccount> ServiceAccounts(IKubernetes api, string ns) =>
        new($"service accounts in {ns}",
            async ct =>
            {
                var list = await api.CoreV1.ListNamespacedServiceAccountAsync(ns, cancellationToken: ct);
                return (list.Items, list.ResourceVersion());
            },
            (rv, ct) => api.CoreV1.WatchListNamespacedServiceAccountAsync(ns, resourceVersion: rv, timeoutSeconds: 300, cancellationToken: ct));

    public static ClusterWatch<V1Deployment> Deployment(IKubernetes api, string ns, string name) =>
        new($"deployment {ns}/{name}",
            async ct =>
            {
                var list = await api.AppsV1.ListNamespacedDeploymentAsync(ns, fieldSelector: $"metadata.name={name}", cancellationToken: ct);
                return (list.Items, list.ResourceVersion());
            },
            (rv, ct) => api.AppsV1.WatchListNamespacedDeploymentAsync(ns, fieldSelector: $"metadata.name={name}",
                resourceVersion: rv, timeoutSeconds: 300, cancellationToken: ct));
}

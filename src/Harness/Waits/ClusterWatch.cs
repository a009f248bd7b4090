using System.Collections.Immutable;
using System.Diagnostics;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Harness.Waits;

/// <summary>What a wait saw when its condition became true.</summary>
/// <param name="Objects">The watched objects at that moment, by name.</param>
/// <param name="ObservedAt">When the harness saw the event that made the condition true.</param>
/// <param name="Elapsed">How long the wait took.</param>
public sealed record WatchOutcome<T>(IReadOnlyDictionary<string, T> Objects, DateTimeOffset ObservedAt, TimeSpan Elapsed);

/// <summary>How often a wait reports progress and how it backs off after an API error. Tests shorten them.</summary>
internal sealed record WatchTimings(TimeSpan FirstProgress, TimeSpan ProgressEvery, TimeSpan FirstRetryDelay, TimeSpan MaxRetryDelay,
    TimeSpan QuickEnd)
{
    // QuickEnd: a stream that ends sooner than this without one event is treated as an error (backoff, list again),
    // so a server or proxy that keeps closing watches cannot make the wait spin.
    public static readonly WatchTimings Default = new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10),
        TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(1));
}

/// <summary>
/// Waits on the cluster with a watch and a deadline, never by sleeping: list once (the current state may already
/// satisfy the condition), then watch from that list's resourceVersion, re-watching when the server closes the stream.
/// The condition sees every watched object by name, so it can ask "pod gone", "3 pods ready" or "node Ready" alike.
/// <para>
/// The API may stumble while a fault is in place. An ERROR event (410 Gone, "too old resource version"), a watch that
/// ends at once, a broken connection, 429 or 5xx: list again and watch again, with exponential backoff and jitter,
/// until the one deadline. A refusal (400, 401, 403, 404) ends the wait at once; so does the caller's token.
/// </para>
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

    internal WatchTimings Timings { get; init; } = WatchTimings.Default;

    /// <param name="awaited">Human words for the condition, e.g. "nginx-pod to leave Terminating".</param>
    /// <param name="describe">Turns the current objects into one line for progress output and timeout messages.</param>
    /// <param name="progress">Receives "waiting for …: 12 s of 120 s" every few seconds.</param>
    /// <param name="giveUpWhen">Asked whenever the condition does not hold: a sentence when waiting longer cannot help,
    /// which ends the wait at once with <see cref="WaitGaveUpException"/>; null to go on waiting.</param>
    public async Task<WatchOutcome<T>> UntilAsync(
        Func<IReadOnlyDictionary<string, T>, bool> condition, string awaited, TimeSpan deadline,
        Func<IReadOnlyDictionary<string, T>, string> describe, Action<string>? progress, CancellationToken ct,
        Func<IReadOnlyDictionary<string, T>, string?>? giveUpWhen = null)
    {
        if (giveUpWhen is not null)
        {
            var holds = condition;
            condition = objects =>
            {
                if (holds(objects)) return true;
                if (giveUpWhen(objects) is not { } reason) return false;
                var lastState = Describe(describe, objects);
                throw new WaitGaveUpException($"Gave up waiting for {awaited} (watching {_what}): {reason}" +
                    (lastState.Contains(reason, StringComparison.Ordinal) ? "" : $". Last seen: {lastState}"), reason, lastState);
            };
        }
        var state = new WaitState();
        var clock = Stopwatch.StartNew();
        await using var progressTimer = StartProgress(progress, () =>
            Polling.ProgressLine(awaited, clock.Elapsed, deadline, Describe(describe, state.Objects)) +
            (state.ApiFailing && state.LastApiError is { } error ? $"; API error, retrying: {error.Text}" : ""), Timings);

        var untilDeadline = new ResiliencePipelineBuilder().AddTimeout(deadline).Build();
        var retryApiErrors = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(
                args.Outcome.Exception is { } e && ApiErrors.IsTransient(e, args.Context.CancellationToken)),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = Timings.FirstRetryDelay,
            MaxDelay = Timings.MaxRetryDelay,
            OnRetry = args =>
            {
                // Whatever went wrong, start over from a fresh list: events may have been missed.
                state.NeedsList = true;
                state.ApiFailing = true;
                state.LastApiError = new ApiError(ApiErrors.Describe(args.Outcome.Exception!), clock.Elapsed);
                Interlocked.Increment(ref state.ApiErrorCount);
                return default;
            },
        }).Build();

        try
        {
            return await untilDeadline.ExecuteAsync(async token =>
            {
                while (true)
                {
                    token.ThrowIfCancellationRequested(); // even a stream that never awaits cannot outrun the deadline
                    // One round: list if needed, then watch until the condition holds or the stream ends.
                    // Each round starts its backoff afresh, so an error after a long quiet watch is retried quickly.
                    var outcome = await retryApiErrors.ExecuteAsync(t => ListAndWatchAsync(state, condition, clock, t), token);
                    if (outcome is not null) return outcome;
                }
            }, ct);
        }
        catch (TimeoutRejectedException)
        {
            var lastState = Describe(describe, state.Objects);
            var apiError = state.LastApiError is { } error
                ? $". Last API error (at {error.At.TotalSeconds:0} s; {state.ApiErrorCount} in all): {error.Text}"
                : "";
            throw new WaitTimeoutException(
                $"Timed out after {deadline.TotalSeconds:0} s waiting for {awaited} (watching {_what}). Last seen: {lastState}{apiError}", lastState);
        }
        catch (Exception e) when (e is HttpOperationException or KubernetesException)
        {
            // Transient errors are retried until the deadline, so one that gets here is a refusal: say so plainly.
            throw ApiErrors.Refused(e, _what, awaited);
        }
    }

    /// <returns>The outcome when the condition holds; null when the server ended the watch (watch again from where it stopped).</returns>
    private async ValueTask<WatchOutcome<T>?> ListAndWatchAsync(WaitState state,
        Func<IReadOnlyDictionary<string, T>, bool> condition, Stopwatch clock, CancellationToken token)
    {
        if (state.NeedsList)
        {
            var (items, resourceVersion) = await _list(token);
            var objects = ImmutableSortedDictionary.CreateBuilder<string, T>(StringComparer.Ordinal);
            foreach (var item in items) objects[item.Name()] = item;
            state.Objects = objects.ToImmutable();
            state.ResourceVersion = resourceVersion;
            state.NeedsList = false;
            state.ApiFailing = false;
            if (condition(state.Objects)) return Outcome();
        }

        var opened = Stopwatch.StartNew();
        var events = 0;
        await foreach (var (type, item) in _watch(state.ResourceVersion, token))
        {
            events++;
            state.ApiFailing = false;
            switch (type)
            {
                case WatchEventType.Error:
                    // KubernetesClient hands a Status ERROR event to onError (see WatchStream); a fake or an older
                    // client may yield it instead. Either way the resourceVersion cannot be trusted: list again.
                    throw new WatchRestartException("the watch sent an ERROR event");
                case WatchEventType.Bookmark:
                    // A bookmark only moves the resourceVersion on (fewer 410s when we re-watch); it carries no object.
                    state.ResourceVersion = item.ResourceVersion() ?? state.ResourceVersion;
                    continue;
                case WatchEventType.Deleted when item.Name() is { } name:
                    state.Objects = state.Objects.Remove(name);
                    break;
                case WatchEventType.Added or WatchEventType.Modified when item.Name() is { } name:
                    state.Objects = state.Objects.SetItem(name, item);
                    break;
            }
            state.ResourceVersion = item.ResourceVersion() ?? state.ResourceVersion;
            if (condition(state.Objects)) return Outcome();
        }
        if (events == 0 && opened.Elapsed < Timings.QuickEnd)
            throw new WatchRestartException("the server ended the watch at once");
        return null;

        WatchOutcome<T> Outcome() => new(state.Objects, DateTimeOffset.UtcNow, clock.Elapsed);
    }

    // describe is the caller's code and may trip over a half-filled object; a progress line or a timeout message
    // must not turn into a different error because of it.
    private static string Describe(Func<IReadOnlyDictionary<string, T>, string> describe, IReadOnlyDictionary<string, T> objects)
    {
        try { return describe(objects); }
        catch (Exception e) { return $"(could not describe the state: {e.GetType().Name}: {e.Message})"; }
    }

    // The timer runs on a thread-pool thread: it reads only immutable snapshots, and nothing may escape it (an
    // exception on a timer thread ends the test host, with the faults still in place).
    private static Timer? StartProgress(Action<string>? progress, Func<string> line, WatchTimings timings) =>
        progress is null ? null : new Timer(_ =>
        {
            try { progress(line()); }
            catch (Exception) { /* a lost progress line is harmless */ }
        }, null, timings.FirstProgress, timings.ProgressEvery);

    private sealed record ApiError(string Text, TimeSpan At);

    /// <summary>What one wait has seen so far. Written by the watch loop only; the progress timer reads snapshots.</summary>
    private sealed class WaitState
    {
        private ImmutableSortedDictionary<string, T> _objects = ImmutableSortedDictionary.Create<string, T>(StringComparer.Ordinal);
        private ApiError? _lastApiError;
        private volatile bool _apiFailing;

        public ImmutableSortedDictionary<string, T> Objects
        {
            get => Volatile.Read(ref _objects);
            set => Volatile.Write(ref _objects, value);
        }

        public ApiError? LastApiError
        {
            get => Volatile.Read(ref _lastApiError);
            set => Volatile.Write(ref _lastApiError, value);
        }

        public bool ApiFailing { get => _apiFailing; set => _apiFailing = value; }
        public int ApiErrorCount;
        public bool NeedsList = true;
        public string ResourceVersion = "";
    }
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
            (rv, ct) => WatchStream.ThrowingErrors(onError =>
                api.CoreV1.WatchListNamespacedPodAsync(ns, labelSelector: labelSelector, fieldSelector: fieldSelector,
                    allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: 300, onError: onError, cancellationToken: ct), ct));

    public static ClusterWatch<V1Pod> Pod(IKubernetes api, string ns, string name) =>
        Pods(api, ns, fieldSelector: $"metadata.name={name}");

    public static ClusterWatch<V1Node> Nodes(IKubernetes api) =>
        new("nodes",
            async ct =>
            {
                var list = await api.CoreV1.ListNodeAsync(cancellationToken: ct);
                return (list.Items, list.ResourceVersion());
            },
            (rv, ct) => WatchStream.ThrowingErrors(onError =>
                api.CoreV1.WatchListNodeAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: 300, onError: onError, cancellationToken: ct), ct));

    public static ClusterWatch<V1Namespace> Namespace(IKubernetes api, string name) =>
        new($"namespace {name}",
            async ct =>
            {
                var list = await api.CoreV1.ListNamespaceAsync(fieldSelector: $"metadata.name={name}", cancellationToken: ct);
                return (list.Items, list.ResourceVersion());
            },
            (rv, ct) => WatchStream.ThrowingErrors(onError =>
                api.CoreV1.WatchListNamespaceAsync(fieldSelector: $"metadata.name={name}", allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: 300, onError: onError, cancellationToken: ct), ct));

    public static ClusterWatch<V1ServiceAccount> ServiceAccounts(IKubernetes api, string ns) =>
        new($"service accounts in {ns}",
            async ct =>
            {
                var list = await api.CoreV1.ListNamespacedServiceAccountAsync(ns, cancellationToken: ct);
                return (list.Items, list.ResourceVersion());
            },
            (rv, ct) => WatchStream.ThrowingErrors(onError =>
                api.CoreV1.WatchListNamespacedServiceAccountAsync(ns, allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: 300, onError: onError, cancellationToken: ct), ct));

    public static ClusterWatch<V1Deployment> Deployment(IKubernetes api, string ns, string name) =>
        new($"deployment {ns}/{name}",
            async ct =>
            {
                var list = await api.AppsV1.ListNamespacedDeploymentAsync(ns, fieldSelector: $"metadata.name={name}", cancellationToken: ct);
                return (list.Items, list.ResourceVersion());
            },
            (rv, ct) => WatchStream.ThrowingErrors(onError =>
                api.AppsV1.WatchListNamespacedDeploymentAsync(ns, fieldSelector: $"metadata.name={name}",
                    allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: 300, onError: onError, cancellationToken: ct), ct));
}

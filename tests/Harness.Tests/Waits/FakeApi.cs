using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Harness.Waits;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Harness.Tests.Waits;

/// <summary>
/// A pod list and watch for <see cref="ClusterWatch{T}"/> that the test scripts call by call: the n-th list and the
/// n-th watch (counted from 1) do what the test says. Records how often each was called and where each watch began.
/// </summary>
internal sealed class FakeApi
{
    private int _lists;
    private int _watches;
    private readonly List<string> _watchedFrom = [];

    public required Func<int, Task<(IEnumerable<V1Pod> Items, string ResourceVersion)>> List { get; init; }
    public required Func<int, string, CancellationToken, IAsyncEnumerable<(WatchEventType, V1Pod)>> Watch { get; init; }

    public int Lists => Volatile.Read(ref _lists);
    public int Watches => Volatile.Read(ref _watches);
    public IReadOnlyList<string> WatchedFrom { get { lock (_watchedFrom) return [.. _watchedFrom]; } }

    /// <summary>Test timings: progress every millisecond, backoff from 10 ms to 50 ms.</summary>
    public static readonly WatchTimings Fast = new(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1),
        TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200));

    public ClusterWatch<V1Pod> ClusterWatch(WatchTimings? timings = null) =>
        new("pods in test", _ => List(Interlocked.Increment(ref _lists)), (rv, ct) =>
        {
            lock (_watchedFrom) _watchedFrom.Add(rv);
            return Watch(Interlocked.Increment(ref _watches), rv, ct);
        }) { Timings = timings ?? Fast };

    public static Task<(IEnumerable<V1Pod> Items, string ResourceVersion)> Listed(string resourceVersion, params V1Pod[] pods) =>
        Task.FromResult<(IEnumerable<V1Pod>, string)>((pods, resourceVersion));

    public static V1Pod Pod(string name, string phase, string resourceVersion) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, ResourceVersion = resourceVersion },
        Status = new V1PodStatus { Phase = phase },
    };

    /// <summary>A watch stream: these events, then an error if one is given, else it hangs until cancelled or ends.</summary>
    public static async IAsyncEnumerable<(WatchEventType, V1Pod)> Stream(IEnumerable<(WatchEventType, V1Pod)> events,
        Exception? thenThrow = null, bool thenEnd = false, [EnumeratorCancellation] CancellationToken ct = default)
    {
        foreach (var watchEvent in events)
        {
            await Task.Yield();
            yield return watchEvent;
        }
        if (thenThrow is not null) throw thenThrow;
        if (thenEnd) yield break;
        await Task.Delay(Timeout.Infinite, ct);
    }

    public static IAsyncEnumerable<(WatchEventType, V1Pod)> Hang(CancellationToken ct) => Stream([], ct: ct);

    /// <summary>An error as KubernetesClient throws it for a non-2xx answer: the body is the API's Status object.</summary>
    public static HttpOperationException Http(HttpStatusCode code, string statusMessage)
    {
        // KubernetesClient reads a Status but cannot write one (its converter's Write throws): build the JSON here.
        var body = JsonSerializer.Serialize(new
        {
            kind = "Status", apiVersion = "v1", metadata = new { }, status = "Failure", message = statusMessage,
            reason = code.ToString(), code = (int)code,
        });
        using var response = new HttpResponseMessage(code);
        return new HttpOperationException($"Operation returned an invalid status code '{code}', response body {body}")
        {
            Response = new HttpResponseMessageWrapper(response, body),
        };
    }

    /// <summary>A watch ERROR event as KubernetesClient reports it to onError (Watcher.cs): a KubernetesException with the Status.</summary>
    public static KubernetesException TooOldResourceVersion(string resourceVersion) => new(new V1Status
    {
        Kind = "Status", ApiVersion = "v1", Status = "Failure", Code = 410, Reason = "Expired",
        Message = $"too old resource version: {resourceVersion} (9000)",
    });
}

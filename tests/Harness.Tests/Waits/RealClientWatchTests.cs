using System.Net;
using System.Text.Json;
using Harness.Waits;
using k8s.Autorest;
using k8s.Models;
using NUnit.Framework;
using static Harness.Tests.Waits.LoopbackApiServer;

namespace Harness.Tests.Waits;

/// <summary>
/// The ready-made <see cref="Watches"/> with the real KubernetesClient 21 against a stand-in API server on loopback:
/// what the client does with an ERROR event, a refusal and its own HTTP timeout is its code's, not a fake's.
/// </summary>
[Parallelizable] // in-process and mostly waiting on fake time-outs: runs beside the other waiting fixtures
public class RealClientWatchTests
{
    private static string PodList(string resourceVersion, string phase) =>
        JsonSerializer.Serialize(new
        {
            kind = "PodList", apiVersion = "v1", metadata = new { resourceVersion },
            items = new[] { new { metadata = new { name = "nginx-pod", @namespace = "test", resourceVersion }, status = new { phase } } },
        });

    // What kube-apiserver sends when a watch starts from a resourceVersion etcd has compacted away.
    private const string TooOldResourceVersionEvent =
        """{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (9000)","reason":"Expired","code":410}}""";

    private static bool IsWatch(HttpListenerRequest request) => request.QueryString["watch"] == "true";

    private static bool NginxRunning(IReadOnlyDictionary<string, V1Pod> pods) =>
        pods.TryGetValue("nginx-pod", out var pod) && pod.Status?.Phase == "Running";

    private static string Phases(IReadOnlyDictionary<string, V1Pod> pods) =>
        string.Join(", ", pods.Values.Select(p => $"{p.Metadata.Name} {p.Status?.Phase}"));

    [Test]
    public async Task A_410_error_event_makes_the_wait_list_again()
    {
        var lists = 0;
        using var server = new LoopbackApiServer(async (request, _, stopping) =>
        {
            if (IsWatch(request)) return Answer.WatchLines(TooOldResourceVersionEvent); // then the server ends the stream
            await Task.Yield();
            return Answer.Json(Interlocked.Increment(ref lists) == 1 ? PodList("1", "Pending") : PodList("9000", "Running"));
        });

        var outcome = await Watches.Pods(server.Client(), "test").UntilAsync(NginxRunning, "nginx-pod to run",
            TimeSpan.FromSeconds(10), Phases, null, default);

        Assert.That(outcome.Objects["nginx-pod"].Status.Phase, Is.EqualTo("Running"));
        var watches = server.Requests.Where(r => r.Contains("watch=true")).ToList();
        Assert.That(watches, Has.Count.EqualTo(1), "one watch, then a list: not the same 410 over and over");
        Assert.That(watches[0], Does.Contain("resourceVersion=1").And.Contain("allowWatchBookmarks=true"));
        Assert.That(Volatile.Read(ref lists), Is.EqualTo(2));
    }

    [Test]
    public async Task A_wait_that_keeps_getting_410_names_the_error_event_when_it_times_out()
    {
        using var server = new LoopbackApiServer((request, _, _) => Task.FromResult(IsWatch(request)
            ? Answer.WatchLines(TooOldResourceVersionEvent)
            : Answer.Json(PodList("1", "Pending"))));

        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() => Watches.Pods(server.Client(), "test")
            .UntilAsync(NginxRunning, "nginx-pod to run", TimeSpan.FromSeconds(2), Phases, null, default));

        // KubernetesClient hands the Status to onError only; without one the wait would see a stream that just ended.
        Assert.That(timeout.Message, Does.Contain("Last API error").And.Contain("watch ERROR event 410 Expired: too old resource version: 1 (9000)"));
        Assert.That(server.Requests.Count(r => !r.Contains("watch=true")), Is.GreaterThan(1), "listed again after each 410");
    }

    [Test]
    public async Task A_403_ends_the_wait_at_once_in_the_api_s_words()
    {
        const string forbidden = "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" in the namespace \"test\"";
        var status = JsonSerializer.Serialize(new
        {
            kind = "Status", apiVersion = "v1", metadata = new { }, status = "Failure", message = forbidden, reason = "Forbidden",
            details = new { kind = "pods" }, code = 403,
        });
        using var server = new LoopbackApiServer((_, _, _) => Task.FromResult(new Answer(HttpStatusCode.Forbidden, status)));

        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => Watches.Pods(server.Client(), "test")
            .UntilAsync(NginxRunning, "nginx-pod to run", TimeSpan.FromSeconds(20), Phases, null, default));

        Assert.That(refused.Response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(refused.Message, Does.Contain("Watching pods in test for nginx-pod to run failed: the API refused it (HTTP 403 Forbidden: " +
            "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\""));
        Assert.That(server.Requests, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task The_client_s_own_http_timeout_is_retried_not_taken_for_the_caller_s_cancellation()
    {
        using var server = new LoopbackApiServer(async (request, n, stopping) =>
        {
            if (IsWatch(request) || n == 1) await Task.Delay(Timeout.Infinite, stopping); // the first list never answers
            return Answer.Json(PodList("5", "Running"));
        });

        var outcome = await Watches.Pods(server.Client(httpClientTimeout: TimeSpan.FromMilliseconds(300)), "test")
            .UntilAsync(NginxRunning, "nginx-pod to run", TimeSpan.FromSeconds(10), Phases, null, default);

        Assert.That(outcome.Objects["nginx-pod"].Status.Phase, Is.EqualTo("Running"));
        Assert.That(server.Requests, Has.Count.EqualTo(2), "the list that timed out, then the one that answered");
    }
}

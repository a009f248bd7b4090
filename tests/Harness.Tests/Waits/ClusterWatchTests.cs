using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using Harness.Text;
using Harness.Waits;
using k8s;
using k8s.Autorest;
using k8s.Models;
using NUnit.Framework;
using static Harness.Tests.Waits.FakeApi;

namespace Harness.Tests.Waits;

/// <summary>
/// A wait must outlast an API that stumbles while a fault is in place (ERROR events, 410 Gone, broken connections,
/// 5xx), end at once when the API refuses or the caller cancels, and never let its progress timer crash the test host.
/// </summary>
[Parallelizable] // in-process and mostly waiting on fake time-outs: runs beside the other waiting fixtures
public class ClusterWatchTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

    private static bool NginxRunning(IReadOnlyDictionary<string, V1Pod> pods) =>
        pods.TryGetValue("nginx-pod", out var pod) && pod.Status?.Phase == "Running";

    private static string Phases(IReadOnlyDictionary<string, V1Pod> pods) =>
        string.Join(", ", pods.Values.Select(p => $"{p.Name()} {p.Status?.Phase}"));

    private static Task<WatchOutcome<V1Pod>> UntilNginxRuns(FakeApi api, TimeSpan deadline, CancellationToken ct = default,
        Action<string>? progress = null) =>
        api.ClusterWatch().UntilAsync(NginxRunning, "nginx-pod to run", deadline, Phases, progress, ct);

    // Ways a watch breaks that mean "list again, watch again". The second list shows the pod Running.
    public static IEnumerable<TestCaseData> BrokenWatches()
    {
        yield return Case("ERROR event 410 as KubernetesClient reports it", ct => Stream([], thenThrow: TooOldResourceVersion("1"), ct: ct));
        yield return Case("ERROR event 500 as KubernetesClient reports it", ct => Stream([], thenThrow: new KubernetesException(
            new V1Status { Code = 500, Reason = "InternalError", Message = "etcdserver: leader changed" }), ct: ct));
        yield return Case("ERROR event yielded as an event", ct => Stream(
            [(WatchEventType.Modified, Pod("nginx-pod", "Pending", "2")), (WatchEventType.Error, new V1Pod())], thenEnd: true, ct: ct));
        yield return Case("410 Gone answer to the watch request", ct => Stream([], thenThrow: Http(HttpStatusCode.Gone, "too old resource version"), ct: ct));
        yield return Case("connection reset mid-stream", ct => Stream(
            [(WatchEventType.Modified, Pod("nginx-pod", "Pending", "2"))], thenThrow: new IOException("Connection reset by peer"), ct: ct));
        yield return Case("stream that ends at once without an event", ct => Stream([], thenEnd: true, ct: ct));

        static TestCaseData Case(string name, Func<CancellationToken, IAsyncEnumerable<(WatchEventType, V1Pod)>> firstWatch) =>
            new TestCaseData(firstWatch).SetArgDisplayNames(name);
    }

    [TestCaseSource(nameof(BrokenWatches))]
    public async Task A_broken_watch_lists_again_and_sees_the_condition_met(
        Func<CancellationToken, IAsyncEnumerable<(WatchEventType, V1Pod)>> firstWatch)
    {
        var api = new FakeApi
        {
            List = n => n == 1 ? Listed("1", Pod("nginx-pod", "Pending", "1")) : Listed("9000", Pod("nginx-pod", "Running", "9000")),
            Watch = (n, _, ct) => n == 1 ? firstWatch(ct) : Hang(ct),
        };

        var outcome = await UntilNginxRuns(api, TimeSpan.FromSeconds(5));

        Assert.That(outcome.Objects["nginx-pod"].Status.Phase, Is.EqualTo("Running"));
        Assert.That(api.Lists, Is.EqualTo(2), "listed once, then again after the watch broke");
    }

    [Test]
    public async Task A_watch_the_server_ends_is_watched_again_from_its_last_resource_version_without_listing()
    {
        var api = new FakeApi
        {
            List = _ => Listed("1", Pod("nginx-pod", "Pending", "1")),
            Watch = (n, _, ct) => n == 1
                ? Stream([(WatchEventType.Modified, Pod("nginx-pod", "ContainerCreating", "7"))], thenEnd: true, ct: ct)
                : Stream([(WatchEventType.Modified, Pod("nginx-pod", "Running", "8"))], ct: ct),
        };

        var outcome = await UntilNginxRuns(api, Long);

        Assert.That(outcome.Objects["nginx-pod"].Status.Phase, Is.EqualTo("Running"));
        Assert.That(api.Lists, Is.EqualTo(1));
        Assert.That(api.WatchedFrom, Is.EqualTo(new[] { "1", "7" }));
    }

    [Test]
    public async Task A_bookmark_moves_the_resource_version_on_and_adds_no_object()
    {
        var bookmark = new V1Pod { Metadata = new V1ObjectMeta { ResourceVersion = "42" } };
        var api = new FakeApi
        {
            List = _ => Listed("1", Pod("nginx-pod", "Pending", "1")),
            Watch = (n, _, ct) => n == 1
                ? Stream([(WatchEventType.Bookmark, bookmark)], thenEnd: true, ct: ct)
                : Stream([(WatchEventType.Modified, Pod("nginx-pod", "Running", "43"))], ct: ct),
        };

        var outcome = await UntilNginxRuns(api, Long);

        Assert.That(outcome.Objects.Keys, Is.EqualTo(new[] { "nginx-pod" }));
        Assert.That(api.WatchedFrom, Is.EqualTo(new[] { "1", "42" }));
        Assert.That(api.Lists, Is.EqualTo(1));
    }

    [Test]
    public async Task A_watch_that_keeps_ending_at_once_backs_off_instead_of_spinning()
    {
        var api = new FakeApi
        {
            List = _ => Listed("1", Pod("nginx-pod", "Pending", "1")),
            Watch = (_, _, ct) => Stream([], thenEnd: true, ct: ct),
        };

        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() => UntilNginxRuns(api, TimeSpan.FromSeconds(1)));

        // Backoff from 10 ms to 50 ms: a few dozen tries in a second; a loop without backoff makes many thousands.
        Assert.That(api.Watches, Is.InRange(3, 200));
        Assert.That(timeout.Message, Does.Contain("the server ended the watch at once"));
    }

    // Transient API errors, as the client throws them.
    public static IEnumerable<TestCaseData> TransientErrors()
    {
        yield return Case("connection refused", () => new HttpRequestException("Connection refused (192.168.1.10:6443)"));
        yield return Case("connection reset", () => new IOException("Unable to read data from the transport connection"));
        yield return Case("500", () => Http(HttpStatusCode.InternalServerError, "Internal error occurred"));
        yield return Case("503", () => Http(HttpStatusCode.ServiceUnavailable, "etcdserver: request timed out"));
        yield return Case("429", () => Http(HttpStatusCode.TooManyRequests, "Too many requests, please try again later."));
        // KubernetesClient cancels a request after its HttpClientTimeout with a token of its own, not the caller's.
        yield return Case("HTTP client timeout", () => new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout"));

        static TestCaseData Case(string name, Func<Exception> error) => new TestCaseData(error).SetArgDisplayNames(name);
    }

    [TestCaseSource(nameof(TransientErrors))]
    public async Task Transient_api_errors_then_an_answer_let_the_wait_pass(Func<Exception> error)
    {
        const int failures = 3;
        var api = new FakeApi
        {
            List = n => n <= failures ? Task.FromException<(IEnumerable<V1Pod>, string)>(error()) : Listed("5", Pod("nginx-pod", "Running", "5")),
            Watch = (_, _, ct) => Hang(ct),
        };

        var outcome = await UntilNginxRuns(api, TimeSpan.FromSeconds(5));

        Assert.That(outcome.Objects["nginx-pod"].Status.Phase, Is.EqualTo("Running"));
        Assert.That(api.Lists, Is.EqualTo(failures + 1));
    }

    [Test]
    public async Task A_persistent_transient_error_times_out_naming_the_last_api_error_redacted()
    {
        var secret = "token-" + Guid.NewGuid().ToString("N"); // Secrets is process-wide: unique, so no other text is masked
        Secrets.Register(secret);
        var api = new FakeApi
        {
            List = _ => Task.FromException<(IEnumerable<V1Pod>, string)>(
                Http(HttpStatusCode.ServiceUnavailable, $"etcdserver: request timed out (token {secret})")),
            Watch = (_, _, ct) => Hang(ct),
        };

        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() => UntilNginxRuns(api, TimeSpan.FromSeconds(1)));

        Assert.That(timeout.Message, Does.Contain("Timed out after 1 s waiting for nginx-pod to run"));
        Assert.That(timeout.Message, Does.Contain("Last API error").And.Contain("HTTP 503 ServiceUnavailable: etcdserver: request timed out"));
        Assert.That(timeout.Message, Does.Not.Contain(secret).And.Contain(Secrets.Mask));
        Assert.That(api.Lists, Is.GreaterThan(2), "the list was tried again and again until the deadline");
    }

    [TestCase(HttpStatusCode.Forbidden, "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\"")]
    [TestCase(HttpStatusCode.Unauthorized, "Unauthorized")]
    [TestCase(HttpStatusCode.NotFound, "the server could not find the requested resource")]
    [TestCase(HttpStatusCode.BadRequest, "unable to parse requirement: invalid label key \"app=\"")]
    public async Task A_refused_list_fails_at_once_with_a_clear_message(HttpStatusCode code, string statusMessage)
    {
        var api = new FakeApi
        {
            List = _ => Task.FromException<(IEnumerable<V1Pod>, string)>(Http(code, statusMessage)),
            Watch = (_, _, ct) => Hang(ct),
        };
        var clock = Stopwatch.StartNew();

        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => UntilNginxRuns(api, Long));

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "not retried until the 20 s deadline");
        Assert.That(api.Lists, Is.EqualTo(1));
        Assert.That(refused.Message, Does.Contain("Watching pods in test for nginx-pod to run failed: the API refused it")
            .And.Contain($"HTTP {(int)code} {code}: {statusMessage}"));
        Assert.That(refused.Response.StatusCode, Is.EqualTo(code), "callers still filter on the status code (e.g. 404: namespace gone)");
    }

    [Test]
    public async Task A_refusal_in_a_watch_error_event_fails_at_once()
    {
        var api = new FakeApi
        {
            List = _ => Listed("1", Pod("nginx-pod", "Pending", "1")),
            Watch = (_, _, ct) => Stream([], thenThrow: new KubernetesException(new V1Status
                { Code = 403, Reason = "Forbidden", Message = "pods is forbidden" }), ct: ct),
        };

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => UntilNginxRuns(api, Long));

        Assert.That(refused.Message, Does.Contain("the API refused it (watch ERROR event 403 Forbidden: pods is forbidden)"));
        Assert.That(api.Lists, Is.EqualTo(1));
    }

    [Test]
    public async Task Cancellation_by_the_caller_ends_the_wait_at_once_even_while_retrying()
    {
        var api = new FakeApi
        {
            List = _ => Task.FromException<(IEnumerable<V1Pod>, string)>(new HttpRequestException("Connection refused")),
            Watch = (_, _, ct) => Hang(ct),
        };
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        await Assert.CatchAsync<OperationCanceledException>(() => UntilNginxRuns(api, Long, cancel.Token));

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(api.Lists, Is.GreaterThan(1), "the errors before the cancellation were retried");
    }

    [Test]
    public async Task Cancellation_by_the_caller_ends_a_quiet_watch_at_once()
    {
        var api = new FakeApi
        {
            List = _ => Listed("1", Pod("nginx-pod", "Pending", "1")),
            Watch = (_, _, ct) => Hang(ct),
        };
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();

        await Assert.CatchAsync<OperationCanceledException>(() => UntilNginxRuns(api, Long, cancel.Token));

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public async Task A_describe_that_throws_does_not_hide_the_timeout()
    {
        var api = new FakeApi
        {
            List = _ => Listed("1", Pod("nginx-pod", "Pending", "1")),
            Watch = (_, _, ct) => Hang(ct),
        };

        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() => api.ClusterWatch().UntilAsync(NginxRunning, "nginx-pod to run",
            TimeSpan.FromMilliseconds(300), _ => throw new NullReferenceException("status was null"), null, default));

        Assert.That(timeout.Message, Does.Contain("could not describe the state: NullReferenceException: status was null"));
    }

    [Test]
    public async Task A_progress_callback_that_throws_never_escapes_its_timer()
    {
        var calls = 0;
        var api = new FakeApi
        {
            List = _ => Listed("1", Pod("nginx-pod", "Pending", "1")),
            Watch = (_, _, ct) => Later(ct),
        };

        // An exception escaping a timer callback ends the test host: this test would take the whole run down.
        var outcome = await api.ClusterWatch().UntilAsync(NginxRunning, "nginx-pod to run", Long,
            _ => throw new InvalidOperationException("describe failed"),
            _ => { Interlocked.Increment(ref calls); throw new InvalidOperationException("console closed"); }, default);

        Assert.That(outcome.Objects["nginx-pod"].Status.Phase, Is.EqualTo("Running"));
        Assert.That(Volatile.Read(ref calls), Is.GreaterThan(0), "the timer fired while the wait ran");

        static async IAsyncEnumerable<(WatchEventType, V1Pod)> Later([EnumeratorCancellation] CancellationToken ct)
        {
            await Task.Delay(200, ct);
            yield return (WatchEventType.Modified, Pod("nginx-pod", "Running", "2"));
        }
    }

    [Test]
    public async Task The_progress_timer_reads_a_snapshot_while_thousands_of_events_arrive()
    {
        var describeErrors = new ConcurrentQueue<Exception>();
        var progressLines = 0;
        var api = new FakeApi
        {
            List = _ => Listed("0"),
            Watch = (_, _, ct) => ManyEventsThenDone(ct),
        };

        var outcome = await api.ClusterWatch().UntilAsync(pods => pods.ContainsKey("done"), "the event storm to end", Long,
            pods =>
            {
                // Enumerates every object, slowly, on the timer's thread while the watch loop changes them.
                try { return string.Join(", ", pods.Values.Select(p => $"{p.Name()} {p.Status?.Phase}")).Length.ToString(); }
                catch (Exception e) { describeErrors.Enqueue(e); return "torn"; }
            },
            _ => Interlocked.Increment(ref progressLines), default);

        Assert.That(describeErrors, Is.Empty, "describe saw a collection being changed under it");
        Assert.That(Volatile.Read(ref progressLines), Is.GreaterThanOrEqualTo(20), "the timer fired during the storm");
        Assert.That(outcome.Objects, Does.ContainKey("done"));

        // Adds, changes and deletes 300 pods as fast as the loop takes them: thousands of events, and on until the
        // timer has fired 20 times during the storm (at most 10 s, should a busy machine starve the timer).
        async IAsyncEnumerable<(WatchEventType, V1Pod)> ManyEventsThenDone([EnumeratorCancellation] CancellationToken ct)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < 5000 || (Volatile.Read(ref progressLines) < 20 && clock.Elapsed < TimeSpan.FromSeconds(10)); i++)
            {
                ct.ThrowIfCancellationRequested();
                // Rounds of 300: add every pod, change every pod, delete every pod.
                var type = (i / 300 % 3) switch { 0 => WatchEventType.Added, 1 => WatchEventType.Modified, _ => WatchEventType.Deleted };
                yield return (type, Pod($"pod-{i % 300}", "Running", i.ToString()));
            }
            await Task.Yield();
            yield return (WatchEventType.Added, Pod("done", "Running", "last"));
        }
    }
}

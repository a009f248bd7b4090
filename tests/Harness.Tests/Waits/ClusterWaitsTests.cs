using System.Collections.Concurrent;
using Harness.Kube;
using Harness.Waits;
using k8s;
using k8s.Models;
using NUnit.Framework;
using static Harness.Tests.Waits.FakeApi;

namespace Harness.Tests.Waits;

/// <summary>
/// The one-line waits a check says (<c>Pod("nginx-pod").Until(p =&gt; p.IsTerminating(), "to show Terminating", t)</c>):
/// the sentence they make, the selector they watch, and the progress sink and token they take from whoever made them.
/// </summary>
[Parallelizable] // in-process and mostly waiting on fake time-outs: runs beside the other waiting fixtures
public class ClusterWaitsTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

    private static V1Pod Terminating(V1Pod pod)
    {
        pod.Metadata.DeletionTimestamp = DateTime.UtcNow;
        return pod;
    }

    /// <summary>Waits whose pods come from <paramref name="api"/>; records the selectors asked for.</summary>
    private static ClusterWaits Waits(FakeApi api, List<(string? Labels, string? Fields)> selectors, Action<string>? progress = null,
        CancellationToken ct = default) =>
        new((labels, fields) =>
        {
            selectors.Add((labels, fields));
            return api.ClusterWatch();
        }, () => throw new AssertionException("no node is watched here"), progress, ct);

    [Test]
    public async Task A_pod_wait_watches_that_pod_by_name_and_sees_it_once_it_exists()
    {
        var seenByCondition = new List<string>();
        var api = new FakeApi
        {
            List = _ => Listed("1"),
            Watch = (_, _, ct) => Stream(
            [
                (WatchEventType.Added, Pod("nginx-pod", "Running", "2")),
                (WatchEventType.Modified, Terminating(Pod("nginx-pod", "Running", "3"))),
            ], ct: ct),
        };
        var selectors = new List<(string?, string?)>();

        var outcome = await Waits(api, selectors).Pod("nginx-pod").Until(p =>
        {
            seenByCondition.Add(p.ResourceVersion());
            return p.IsTerminating();
        }, "to show Terminating", Long);

        Assert.That(selectors, Is.EqualTo(new[] { ((string?)null, (string?)"metadata.name=nginx-pod") }), "kubectl get pod nginx-pod -w");
        Assert.That(seenByCondition, Is.EqualTo(new[] { "2", "3" }), "not asked while the pod did not exist");
        Assert.That(outcome.Objects["nginx-pod"].IsTerminating(), Is.True);
    }

    [Test]
    public async Task A_timed_out_pod_wait_says_the_books_sentence_and_the_pod_in_kubectls_words()
    {
        var api = new FakeApi { List = _ => Listed("1", Pod("nginx-pod", "Running", "1")), Watch = (_, _, ct) => Hang(ct) };
        var progress = new ConcurrentQueue<string>();

        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() =>
            Waits(api, [], progress.Enqueue).Pod("nginx-pod").Until(p => p.IsTerminating(), "to show Terminating", TimeSpan.FromMilliseconds(300)));

        Assert.That(timeout!.Message, Does.StartWith("Timed out after 0 s waiting for nginx-pod to show Terminating (watching pods in test). Last seen: "));
        Assert.That(timeout.LastState, Is.EqualTo(ObjectState.Describe([Pod("nginx-pod", "Running", "1")])));
        Assert.That(progress, Has.Some.StartWith("waiting for nginx-pod to show Terminating: "), "progress goes to the sink the waits were made with");
    }

    [TestCase("to be Ready again", "nginx-pod to be Ready again")]
    [TestCase("'s restart count to go up", "nginx-pod's restart count to go up")]
    public async Task The_rest_of_the_sentence_follows_the_pods_name(string toWhat, string awaited)
    {
        var api = new FakeApi { List = _ => Listed("1"), Watch = (_, _, ct) => Hang(ct) };

        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() =>
            Waits(api, []).Pod("nginx-pod").Until(_ => true, toWhat, TimeSpan.FromMilliseconds(100)));

        Assert.That(timeout!.Message, Does.Contain($"waiting for {awaited} (watching"));
    }

    [Test]
    public async Task Until_gone_ends_when_the_pod_is_deleted()
    {
        var api = new FakeApi
        {
            List = _ => Listed("1", Terminating(Pod("nginx-pod", "Running", "1"))),
            Watch = (_, _, ct) => Stream([(WatchEventType.Deleted, Pod("nginx-pod", "Running", "2"))], ct: ct),
        };

        var gone = await Waits(api, []).Pod("nginx-pod").UntilGone(Long);

        Assert.That(gone.Objects, Is.Empty);
    }

    [Test]
    public async Task A_pod_that_stays_makes_until_gone_time_out_naming_it_to_be_deleted()
    {
        var api = new FakeApi { List = _ => Listed("1", Terminating(Pod("nginx-pod", "Running", "1"))), Watch = (_, _, ct) => Hang(ct) };

        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() => Waits(api, []).Pod("nginx-pod").UntilGone(TimeSpan.FromMilliseconds(300)));

        Assert.That(timeout!.Message, Does.Contain("waiting for nginx-pod to be deleted"));
        Assert.That(timeout.LastState, Does.Contain("Terminating"), "what KubeletTests reads while kubelet is stopped");
    }

    [Test]
    public async Task A_pods_wait_watches_the_label_selector_and_its_condition_sees_every_pod_by_name()
    {
        var api = new FakeApi
        {
            List = _ => Listed("1", Pod("echo-1", "Running", "1"), Pod("echo-2", "Pending", "1")),
            Watch = (_, _, ct) => Stream([(WatchEventType.Modified, Pod("echo-2", "Running", "2"))], ct: ct),
        };
        var selectors = new List<(string?, string?)>();

        var outcome = await Waits(api, selectors).Pods("app=nginx").Until(
            pods => pods.Count == 2 && pods.Values.All(p => p.Status.Phase == "Running"), "2 Running pods (app=nginx)", Long);

        Assert.That(selectors, Is.EqualTo(new[] { ((string?)"app=nginx", (string?)null) }));
        Assert.That(outcome.Objects.Keys, Is.EqualTo(new[] { "echo-1", "echo-2" }));
    }

    [Test]
    public async Task The_token_the_waits_were_made_with_ends_a_wait_at_once()
    {
        var api = new FakeApi { List = _ => Listed("1"), Watch = (_, _, ct) => Hang(ct) };
        using var cancelled = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await Assert.CatchAsync<OperationCanceledException>(() =>
            Waits(api, [], ct: cancelled.Token).Pod("nginx-pod").Until(p => p.IsReady(), "to be Running and Ready", Long));

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "not the 20 s deadline");
    }
}

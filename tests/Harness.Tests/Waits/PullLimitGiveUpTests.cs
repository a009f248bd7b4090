using Harness.Kube;
using Harness.Waits;
using k8s;
using k8s.Models;
using NUnit.Framework;
using static Harness.Tests.Waits.FakeApi;

namespace Harness.Tests.Waits;

/// <summary>
/// A wait gives up at once when waiting cannot help: the general rule of <see cref="ClusterWatch{T}.UntilAsync"/>, and the
/// pod waits' own, a pod the registry refused for its pull limit (Docker Hub's hour outlasts any wait of a run).
/// </summary>
[Parallelizable] // in-process and mostly waiting on fake time-outs: runs beside the other waiting fixtures
public class PullLimitGiveUpTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

    private const string Containerd16 =
        "rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/nginx:latest\": failed to copy: httpReadSeeker: failed open: " +
        "unexpected status code http://192.168.1.1:5001/v2/library/nginx/manifests/sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac?ns=docker.io: " +
        "429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: " +
        "https://www.docker.com/increase-rate-limit";

    private const string NotFound =
        "rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:1.17.23\": failed to resolve reference " +
        "\"docker.io/library/nginx:1.17.23\": docker.io/library/nginx:1.17.23: not found";

    private static V1Pod Pulling(string name, string node, string resourceVersion, string reason, string message, string image = "nginx")
    {
        var pod = Pod(name, "Pending", resourceVersion);
        pod.Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "nginx", Image = image }] };
        pod.Status.ContainerStatuses = [new V1ContainerStatus { Name = "nginx", Image = image, Ready = false, RestartCount = 0,
            State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } } }];
        return pod;
    }

    private static V1Pod Ready(string name, string resourceVersion)
    {
        var pod = Pod(name, "Running", resourceVersion);
        pod.Status.Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }];
        return pod;
    }

    private static ClusterWaits Waits(FakeApi api) =>
        new((_, _) => api.ClusterWatch(), () => throw new AssertionException("no node is watched here"), null, CancellationToken.None);

    [Test]
    public async Task A_watch_gives_up_with_the_rules_sentence_as_soon_as_it_says_one()
    {
        var api = new FakeApi
        {
            List = _ => Listed("1", Pod("a", "Pending", "1")),
            Watch = (_, _, ct) => Stream([(WatchEventType.Modified, Pod("a", "Failed", "2"))], ct: ct),
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var gaveUp = await Assert.ThrowsAsync<WaitGaveUpException>(() => api.ClusterWatch().UntilAsync(
            pods => pods["a"].Status.Phase == "Running", "a to run", Long, pods => string.Join(",", pods.Values.Select(p => p.Status.Phase)),
            null, CancellationToken.None, pods => pods["a"].Status.Phase == "Failed" ? "a failed for good" : null));

        Assert.That(gaveUp!.Reason(), Is.EqualTo("a failed for good"));
        Assert.That(gaveUp.Message, Is.EqualTo("Gave up waiting for a to run (watching pods in test): a failed for good. Last seen: Failed"));
        Assert.That(gaveUp.LastState(), Is.EqualTo("Failed"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "not the 20 s deadline");
        Assert.That(Harness.Reporting.Report.StatusOf(gaveUp), Is.EqualTo(Harness.Reporting.Status.Broken), "no failed expectation of the product");
    }

    [Test]
    public async Task A_pods_wait_gives_up_at_once_on_a_pod_refused_for_the_pull_limit_naming_the_limit_the_image_and_the_node()
    {
        var api = new FakeApi
        {
            List = _ => Listed("1", Ready("preflight-w2-k8s", "1")),
            Watch = (_, _, ct) => Stream([(WatchEventType.Added, Pulling("preflight-w1-k8s", "w1-k8s", "2", "ErrImagePull", Containerd16))], ct: ct),
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var gaveUp = await Assert.ThrowsAsync<WaitGaveUpException>(() => Waits(api).Pods().Until(
            pods => pods.Count == 2 && pods.Values.All(p => p.IsReady()), "a Ready nginx pod on every worker", Long));

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "not the 20 s deadline");
        Assert.That(gaveUp!.Reason(), Is.EqualTo(ObjectState.PullLimitMessage("nginx", "w1-k8s", Containerd16)));
        Assert.That(gaveUp.Reason(), Does.StartWith("pull limit: the registry refused image nginx on w1-k8s for too many pulls (HTTP 429 toomanyrequests;"));
        Assert.That(gaveUp.Message, Does.StartWith("Gave up waiting for a Ready nginx pod on every worker (watching pods in test): pull limit: "));
    }

    [Test]
    public async Task A_pods_wait_whose_condition_holds_ends_well_whatever_another_pod_shows()
    {
        var api = new FakeApi
        {
            List = _ => Listed("1", Pulling("other", "w1-k8s", "1", "ErrImagePull", Containerd16), Ready("nginx-pod", "1")),
            Watch = (_, _, ct) => Hang(ct),
        };

        var outcome = await Waits(api).Pods().Until(pods => pods.TryGetValue("nginx-pod", out var p) && p.IsReady(), "nginx-pod to be Ready", Long);

        Assert.That(outcome.Objects["nginx-pod"].IsReady(), Is.True);
    }

    [Test]
    public async Task A_terminating_pod_refused_for_the_pull_limit_does_not_end_a_wait_for_it_to_go()
    {
        var leaving = Pulling("nginx-pod", "w1-k8s", "1", "ErrImagePull", Containerd16);
        leaving.Metadata.DeletionTimestamp = DateTime.UtcNow;
        var api = new FakeApi
        {
            List = _ => Listed("1", leaving),
            Watch = (_, _, ct) => Stream([(WatchEventType.Deleted, Pod("nginx-pod", "Pending", "2"))], ct: ct),
        };

        var gone = await Waits(api).Pods().Until(pods => pods.Count == 0, "the pods of test to be deleted", Long);

        Assert.That(gone.Objects, Is.Empty);
    }

    [Test]
    public async Task A_pull_that_fails_for_another_reason_is_waited_on_until_the_deadline()
    {
        var api = new FakeApi
        {
            List = _ => Listed("1", Pulling("nginx-pod", "w1-k8s", "1", "ErrImagePull", NotFound, "nginx:1.17.23")),
            Watch = (_, _, ct) => Hang(ct),
        };

        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() =>
            Waits(api).Pod("nginx-pod").Until(p => p.IsReady(), "to be Ready", TimeSpan.FromMilliseconds(300)));

        Assert.That(timeout!.LastState, Does.Contain("nginx-pod ErrImagePull"));
    }
}

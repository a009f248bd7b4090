using Harness.Kube;
using Harness.Waits;
using k8s;
using k8s.Models;
using NUnit.Framework;
using static Harness.Tests.Waits.FakeApi;

namespace Harness.Tests.NodeFacts;

/// <summary>
/// A pod wait that times out on a pod the registry refused for its pull limit names the limit, even when the last
/// state it saw is kubelet's plain back-off (before 1.30 the back-off carries no reason).
/// </summary>
public class PullLimitWaitTests
{
    private const string Containerd16 =
        "rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/nginx:latest\": failed to copy: httpReadSeeker: failed open: " +
        "unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/latest: 429 Too Many Requests - Server message: toomanyrequests: " +
        "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit";

    private static V1Pod Pulling(string resourceVersion, string reason, string message)
    {
        var pod = Pod("nginx-pod", "Pending", resourceVersion);
        pod.Spec = new V1PodSpec { NodeName = "w1-k8s", Containers = [new V1Container { Name = "nginx", Image = "nginx" }] };
        pod.Status.ContainerStatuses = [new V1ContainerStatus { Name = "nginx", Image = "nginx", Ready = false, RestartCount = 0,
            State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } } }];
        return pod;
    }

    private static ClusterWaits Waits(Waits.FakeApi api) =>
        new((_, _) => api.ClusterWatch(), () => throw new AssertionException("no node is watched here"), null, CancellationToken.None);

    [Test]
    public async Task A_wait_timed_out_in_the_back_off_still_names_the_pull_limit_seen_before()
    {
        var api = new Waits.FakeApi
        {
            List = _ => Listed("1"),
            Watch = (_, _, ct) => Stream(
            [
                (WatchEventType.Added, Pulling("2", "ErrImagePull", Containerd16)),
                (WatchEventType.Modified, Pulling("3", "ImagePullBackOff", "Back-off pulling image \"nginx\"")),
            ], ct: ct),
        };

        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() =>
            Waits(api).Pod("nginx-pod").Until(p => p.IsReady(), "to be Running and Ready", TimeSpan.FromMilliseconds(500)));

        Assert.That(timeout!.Message, Does.Contain("Last seen: nginx-pod ImagePullBackOff ip=<none> node=w1-k8s restarts=0 -- pull limit: the registry refused image nginx on w1-k8s"));
        Assert.That(timeout.Message, Does.Contain("toomanyrequests: You have reached your pull rate limit"));
    }

    [Test]
    public async Task A_pod_that_got_past_its_pull_no_longer_names_the_limit()
    {
        var running = Pod("nginx-pod", "Running", "3");
        var api = new Waits.FakeApi
        {
            List = _ => Listed("1"),
            Watch = (_, _, ct) => Stream([(WatchEventType.Added, Pulling("2", "ErrImagePull", Containerd16)), (WatchEventType.Modified, running)], ct: ct),
        };

        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() =>
            Waits(api).Pod("nginx-pod").Until(p => p.IsTerminating(), "to show Terminating", TimeSpan.FromMilliseconds(500)));

        Assert.That(timeout!.LastState, Is.EqualTo("nginx-pod Running ip=<none> node=<none> restarts=0"));
    }
}

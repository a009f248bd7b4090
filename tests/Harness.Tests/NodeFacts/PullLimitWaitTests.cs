using Harness.Kube;
using Harness.Waits;
using k8s;
using k8s.Models;
using NUnit.Framework;
using static Harness.Tests.Waits.FakeApi;

namespace Harness.Tests.NodeFacts;

/// <summary>
/// A pod wait on a pod the registry refused for its pull limit gives up at once naming the limit; what it remembers of
/// the refusal names the limit through kubelet's plain back-off (before 1.30 the back-off carries no reason).
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
    public async Task A_wait_gives_up_at_the_first_sight_of_the_pull_limit_rather_than_time_out_in_the_back_off()
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

        var gaveUp = await Assert.ThrowsAsync<WaitGaveUpException>(() =>
            Waits(api).Pod("nginx-pod").Until(p => p.IsReady(), "to be Running and Ready", TimeSpan.FromSeconds(20)));

        Assert.That(gaveUp!.LastState(), Does.StartWith("nginx-pod ErrImagePull ip=<none> node=w1-k8s restarts=0 -- pull limit: the registry refused image nginx on w1-k8s"));
        Assert.That(gaveUp.Reason(), Does.Contain("toomanyrequests: You have reached your pull rate limit"));
        Assert.That(gaveUp.Message, Is.EqualTo($"Gave up waiting for nginx-pod to be Running and Ready (watching pods in test): {gaveUp.Reason()}"),
            "the pull limit said once, not again in the last state");
    }

    [Test]
    public void A_pod_seen_refused_keeps_naming_the_limit_in_the_back_off_and_no_longer_once_past_its_pull()
    {
        // kubelet before 1.30 says why only in ErrImagePull: the memory names the limit through the back-off that follows
        // (a timeout's last state, e.g. of a wait for a terminating pod, which no pull limit ends early).
        var memory = new PullLimitMemory();
        memory.Observe([Pulling("2", "ErrImagePull", Containerd16)]);

        Assert.That(memory.Describe([Pulling("3", "ImagePullBackOff", "Back-off pulling image \"nginx\"")]),
            Does.StartWith("nginx-pod ImagePullBackOff ip=<none> node=w1-k8s restarts=0 -- pull limit: the registry refused image nginx on w1-k8s"));
        Assert.That(memory.Describe([Pod("nginx-pod", "Running", "4")]), Is.EqualTo("nginx-pod Running ip=<none> node=<none> restarts=0"));
    }
}

using Harness.Kube;
using Harness.Reporting;
using Harness.Text;
using k8s.Models;
using NUnit.Framework;

namespace Harness.Tests.NodeFacts;

/// <summary>
/// Finding 4: a pod held by the registry's pull limit fails its wait with one message naming the limit, the image, the
/// node and what to do (the runtimes' real wording), while S9's missing tag stays a plain ErrImagePull; and the pods the
/// harness creates pull each image at most once per node, naming the user's pull Secret when there is one.
/// </summary>
public class PullLimitTests
{
    /// <summary>containerd 1.6 (kubelet's ErrImagePull message): the manifest GET refused, with Docker Hub's body.</summary>
    private const string Containerd16 =
        "rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/nginx:latest\": failed to copy: httpReadSeeker: failed open: " +
        "unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/sha256:8d0bff43db3ce5c528cb6f957520511d263d7cceee012696e4afdc9087919bb9: " +
        "429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit";

    /// <summary>containerd 1.6.16+/2.x: the HEAD that resolves the tag refused (a HEAD has no body: only the status).</summary>
    private const string ContainerdHead =
        "failed to pull and unpack image \"docker.io/library/nginx:latest\": failed to resolve reference \"docker.io/library/nginx:latest\": " +
        "unexpected status from HEAD request to https://registry-1.docker.io/v2/library/nginx/manifests/latest: 429 Too Many Requests";

    /// <summary>docker 20.10 through dockershim.</summary>
    private const string Docker2010 =
        "Error response from daemon: toomanyrequests: You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit";

    /// <summary>S9's tag that does not exist, from the lab's registry through containerd 1.6.</summary>
    private const string MissingTag =
        "rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:1.17.23\": failed to resolve reference " +
        "\"docker.io/library/nginx:1.17.23\": docker.io/library/nginx:1.17.23: not found";

    private static V1Pod Waiting(string reason, string? message, string image = "nginx", string node = "w1-k8s") => new()
    {
        Metadata = new V1ObjectMeta { Name = "nginx-pod" },
        Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "nginx", Image = image }] },
        Status = new V1PodStatus
        {
            Phase = "Pending",
            ContainerStatuses = [new V1ContainerStatus { Name = "nginx", Image = image, Ready = false, RestartCount = 0,
                State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } } }],
        },
    };

    [TestCase(Containerd16)]
    [TestCase(ContainerdHead)]
    [TestCase(Docker2010)]
    public void A_pull_refused_for_the_limit_names_the_limit_the_image_the_node_and_what_to_do(string runtimeSaid)
    {
        var limit = Waiting("ErrImagePull", runtimeSaid, "sysnet4admin/echo-hname", "w3-k8s").PullLimit();

        Assert.That(limit, Does.StartWith("pull limit: the registry refused image sysnet4admin/echo-hname on w3-k8s for too many pulls"));
        Assert.That(limit, Does.Contain("images.pullSecret").And.Contain("images.registryMirror").And.Contain("Wait for the hour to pass"));
        Assert.That(limit, Does.EndWith(runtimeSaid));
    }

    [Test]
    public void A_back_off_that_carries_the_429_counts_too()
    {
        // kubelet 1.30+ puts the last pull error into the back-off's message.
        var pod = Waiting("ImagePullBackOff", $"Back-off pulling image \"nginx\": ErrImagePull: {ContainerdHead}");

        Assert.That(pod.PullLimit(), Does.StartWith("pull limit: the registry refused image nginx on w1-k8s"));
    }

    [Test]
    public void S9s_missing_tag_and_a_plain_back_off_are_no_pull_limit()
    {
        Assert.That(Waiting("ErrImagePull", MissingTag, "nginx:1.17.23").PullLimit(), Is.Null);
        Assert.That(Waiting("ImagePullBackOff", "Back-off pulling image \"nginx:1.17.23\"", "nginx:1.17.23").PullLimit(), Is.Null);
        Assert.That(Waiting("ContainerCreating", null).PullLimit(), Is.Null);
        Assert.That(Waiting("CrashLoopBackOff", "back-off 10s restarting failed container: 429 Too Many Requests").PullLimit(), Is.Null,
            "only a pull's waiting reasons are read");
    }

    [Test]
    public void A_wait_that_times_out_on_such_a_pod_names_the_pull_limit_in_its_last_seen_state()
    {
        var describe = Waiting("ErrImagePull", Containerd16).Describe();

        Assert.That(describe, Does.StartWith("nginx-pod ErrImagePull ip=<none> node=w1-k8s restarts=0 -- pull limit: the registry refused image nginx on w1-k8s"));
        Assert.That(Waiting("ErrImagePull", MissingTag, "nginx:1.17.23").Describe(), Is.EqualTo("nginx-pod ErrImagePull ip=<none> node=w1-k8s restarts=0"));
    }

    // ---- the pods the harness creates -------------------------------------------------------------------------------

    private static readonly Manifests Manifests = new(Path.Combine(AllureResults.RepositoryRoot()!, "fixtures", "manifests"));

    [Test]
    public void Pods_the_harness_creates_pull_each_image_at_most_once_per_node()
    {
        var pod = Manifests.Pod("nginx-pod", "nginx", "w1-k8s");
        var echo = Manifests.EchoHname("sysnet4admin/echo-hname", 3);
        var rollout = k8s.KubernetesYaml.Deserialize<V1Deployment>(Manifests.RolloutNginx("nginx:1.17.23", 30));

        // Untagged, these would default to Always: a registry pull per pod start.
        Assert.That(pod.Spec.Containers.Single().ImagePullPolicy, Is.EqualTo("IfNotPresent"));
        Assert.That(pod.Spec.Containers.Single().Image, Is.EqualTo("nginx"), "the book's image as the report shows it");
        Assert.That(echo.Spec.Template.Spec.Containers.Single().ImagePullPolicy, Is.EqualTo("IfNotPresent"));
        // A tag that exists nowhere is never present: still pulled, still ErrImagePull (S9).
        Assert.That(rollout.Spec.Template.Spec.Containers.Single().ImagePullPolicy, Is.EqualTo("IfNotPresent"));
        Assert.That(rollout.Spec.Template.Spec.Containers.Single().Image, Is.EqualTo("nginx:1.17.23"));
    }

    [Test]
    public void The_users_pull_secret_is_named_in_the_pods_never_its_content()
    {
        var pod = Manifests.Pod("nginx-pod", "nginx", "w1-k8s", "default/dockerhub");
        var echo = Manifests.EchoHname("sysnet4admin/echo-hname", 3, "dockerhub");
        var rollout = k8s.KubernetesYaml.Deserialize<V1Deployment>(Manifests.RolloutNginx("nginx:1.15.12", 30, "dockerhub"));

        Assert.That(pod.Spec.ImagePullSecrets.Select(s => s.Name), Is.EqualTo(new[] { "dockerhub" }));
        Assert.That(echo.Spec.Template.Spec.ImagePullSecrets.Select(s => s.Name), Is.EqualTo(new[] { "dockerhub" }));
        Assert.That(rollout.Spec.Template.Spec.ImagePullSecrets.Select(s => s.Name), Is.EqualTo(new[] { "dockerhub" }));
        Assert.That(Manifests.Pod("nginx-pod", "nginx", "w1-k8s").Spec.ImagePullSecrets, Is.Null.Or.Empty, "none set: none named");
    }

    [Test]
    public void The_pull_secret_setting_reads_as_name_or_namespace_slash_name_and_its_copy_keeps_type_and_data_only()
    {
        Assert.That(PullSecrets.Source("dockerhub"), Is.EqualTo(("default", "dockerhub")));
        Assert.That(PullSecrets.Source("registry-creds/dockerhub"), Is.EqualTo(("registry-creds", "dockerhub")));
        Assert.That(PullSecrets.Source(" "), Is.Null);

        var original = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "dockerhub", NamespaceProperty = "default", ResourceVersion = "42", Uid = "u-1",
                Annotations = new Dictionary<string, string> { ["kubectl.kubernetes.io/last-applied-configuration"] = "{…}" } },
            Type = "kubernetes.io/dockerconfigjson",
            Data = new Dictionary<string, byte[]> { [".dockerconfigjson"] = "{}"u8.ToArray() },
        };
        var copy = PullSecrets.CopyFor(original, "verification");

        Assert.That(copy.Metadata.NamespaceProperty, Is.EqualTo("verification"));
        Assert.That(copy.Metadata.ResourceVersion, Is.Null);
        Assert.That(copy.Metadata.Annotations, Is.Null, "nothing of the original but name, type and data");
        Assert.That(copy.Type, Is.EqualTo("kubernetes.io/dockerconfigjson"));
        Assert.That(copy.Data, Is.SameAs(original.Data));
    }
}

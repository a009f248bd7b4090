using Harness.Kube;
using Harness.Reporting;
using k8s.Models;
using NUnit.Framework;

namespace Harness.Tests.Kube;

public class ManifestsTests
{
    private static readonly Manifests Manifests = new(Path.Combine(AllureResults.RepositoryRoot()!, "fixtures", "manifests"));

    [Test]
    public void The_nginx_pod_is_pinned_to_its_node_with_the_profile_image()
    {
        var pod = Manifests.Pod("nginx-pod", "nginx:1.15.12", "w2-k8s");

        Assert.That(pod.Kind, Is.EqualTo("Pod"));
        Assert.That(pod.Metadata.Name, Is.EqualTo("nginx-pod"));
        Assert.That(pod.Metadata.Labels["run"], Is.EqualTo("nginx-pod"));
        Assert.That(pod.Spec.NodeName, Is.EqualTo("w2-k8s"));
        Assert.That(pod.Spec.Containers.Single().Image, Is.EqualTo("nginx:1.15.12"));
    }

    [Test]
    public void Echo_hname_has_the_replicas_and_image_the_check_asks_for()
    {
        var deployment = Manifests.EchoHname("sysnet4admin/echo-hname", 6);

        Assert.That(deployment.Kind, Is.EqualTo("Deployment"));
        Assert.That(deployment.Metadata.Name, Is.EqualTo("echo-hname"));
        Assert.That(deployment.Spec.Replicas, Is.EqualTo(6));
        Assert.That(deployment.Spec.Template.Spec.Containers.Single().Image, Is.EqualTo("sysnet4admin/echo-hname"));
        Assert.That(deployment.Spec.Selector.MatchLabels, Is.EqualTo(deployment.Spec.Template.Metadata.Labels));
    }

    [Test]
    public void Rollout_nginx_has_a_short_progress_deadline_and_leaves_the_change_cause_to_kubectl()
    {
        var deployment = k8s.KubernetesYaml.Deserialize<V1Deployment>(Manifests.RolloutNginx("nginx:1.16.0", 30));

        Assert.That(deployment.Metadata.Name, Is.EqualTo("rollout-nginx"));
        Assert.That(deployment.Spec.Replicas, Is.EqualTo(3));
        Assert.That(deployment.Spec.ProgressDeadlineSeconds, Is.EqualTo(30));
        Assert.That(deployment.Metadata.Annotations, Is.Null.Or.Not.ContainKey("kubernetes.io/change-cause"),
            "kubectl apply --record (or kubectl annotate) writes it, as in the book");
        Assert.That(deployment.Spec.Template.Spec.Containers.Single().Image, Is.EqualTo("nginx:1.16.0"));
    }

    [Test]
    public void A_missing_manifest_names_its_path_and_how_to_restore_it()
    {
        var e = Assert.Throws<ManifestException>(() => Manifests.Load<V1Pod>("nginx-pdo.yaml", new Dictionary<string, string>()))!;

        Assert.That(e.Message, Does.StartWith($"Manifest {Path.Combine(Manifests.Directory, "nginx-pdo.yaml")} is missing."));
        Assert.That(e.Message, Does.Contain("git checkout -- fixtures/manifests/nginx-pdo.yaml"));
    }

    [Test]
    public void A_placeholder_the_check_does_not_fill_is_named()
    {
        var values = new Dictionary<string, string> { ["NAME"] = "nginx-pod", ["IMAGE"] = "nginx" }; // no NODE

        var e = Assert.Throws<ManifestException>(() => Manifests.Load<V1Pod>("nginx-pod.yaml", values))!;

        Assert.That(e.Message, Does.EndWith("nginx-pod.yaml uses ${NODE}, which the check does not fill."));
    }
}

using Harness.Kube.Operations;
using NUnit.Framework;
using k8s.Models;
using static Harness.Tests.Kube.KubeObjects;

namespace Harness.Tests.Kube;

/// <summary>kubectl drain's pod filters, on the pods the book's w3-k8s holds.</summary>
public class DrainPlanTests
{
    private const string Unmanaged = "Pods not managed by ReplicationController, ReplicaSet, Job, DaemonSet or StatefulSet";

    private static readonly V1Pod Calico = Pod("kube-system", "calico-node-5n94z", "DaemonSet");
    private static readonly V1Pod KubeProxy = Pod("kube-system", "kube-proxy-qx5tw", "DaemonSet");
    private static readonly V1Pod EchoHname = Pod("default", "echo-hname-7894b67f-kgp6w", "ReplicaSet");
    private static readonly V1Pod[] BookNode = [Calico, KubeProxy, EchoHname];

    private static IEnumerable<string> Names(DrainPlan plan) => plan.ToEvict.Select(pod => pod.Metadata.Name);

    [Test]
    public void DaemonSet_pods_refuse_the_drain_with_the_books_text()
    {
        var plan = Drain.Plan(BookNode, new DrainOptions());

        Assert.That(plan.Refused, Is.True);
        Assert.That(plan.Error, Is.EqualTo(
            "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/calico-node-5n94z, kube-system/kube-proxy-qx5tw"));
    }

    [Test]
    public void Ignore_daemonsets_warns_and_evicts_only_the_workload()
    {
        var plan = Drain.Plan(BookNode, new DrainOptions(IgnoreDaemonSets: true));

        Assert.That(plan.Refused, Is.False);
        Assert.That(plan.Warning, Is.EqualTo(
            "ignoring DaemonSet-managed Pods: kube-system/calico-node-5n94z, kube-system/kube-proxy-qx5tw"));
        Assert.That(Names(plan), Is.EqualTo(new[] { "echo-hname-7894b67f-kgp6w" }));
    }

    [Test]
    public void Mirror_pods_are_skipped_silently()
    {
        var apiServer = Pod("kube-system", "kube-apiserver-m-k8s", "Node", mirror: true);
        var unownedMirror = Pod("kube-system", "etcd-m-k8s", mirror: true);

        var plan = Drain.Plan([apiServer, unownedMirror, EchoHname], new DrainOptions());

        Assert.That(plan.Refused, Is.False);
        Assert.That(plan.Warning, Is.Null);
        Assert.That(Names(plan), Is.EqualTo(new[] { "echo-hname-7894b67f-kgp6w" }));
    }

    [Test]
    public void Unmanaged_pods_refuse_the_drain_unless_forced()
    {
        V1Pod[] pods = [Pod("default", "nginx-pod"), EchoHname];

        var refused = Drain.Plan(pods, new DrainOptions());
        var forced = Drain.Plan(pods, new DrainOptions(Force: true));

        Assert.That(refused.Error, Is.EqualTo($"cannot delete {Unmanaged} (use --force to override): default/nginx-pod"));
        Assert.That(forced.Refused, Is.False);
        Assert.That(forced.Warning, Is.EqualTo($"deleting {Unmanaged}: default/nginx-pod"));
        Assert.That(Names(forced), Is.EqualTo(new[] { "nginx-pod", "echo-hname-7894b67f-kgp6w" }));
    }

    [Test]
    public void EmptyDir_pods_refuse_the_drain_unless_their_data_may_be_deleted()
    {
        V1Pod[] pods = [Pod("default", "cache-0", "ReplicaSet", emptyDir: true)];

        var refused = Drain.Plan(pods, new DrainOptions());
        var allowed = Drain.Plan(pods, new DrainOptions(DeleteEmptyDirData: true));

        Assert.That(refused.Error, Is.EqualTo(
            "cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache-0"));
        Assert.That(Names(allowed), Is.EqualTo(new[] { "cache-0" }));
    }

    [Test]
    public void Finished_pods_are_deleted_whatever_owns_them()
    {
        V1Pod[] pods = [Pod("default", "job-done", phase: "Succeeded", emptyDir: true), Pod("kube-system", "ds-failed", "DaemonSet", phase: "Failed")];

        var plan = Drain.Plan(pods, new DrainOptions());

        Assert.That(plan.Refused, Is.False);
        Assert.That(Names(plan), Is.EqualTo(new[] { "job-done", "ds-failed" }));
    }

    [Test]
    public void Several_kinds_of_refusal_are_joined_as_kubectls_aggregate_error()
    {
        var plan = Drain.Plan([Calico, Pod("default", "nginx-pod"), KubeProxy], new DrainOptions());

        Assert.That(plan.Error, Is.EqualTo(
            "[cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/calico-node-5n94z, kube-system/kube-proxy-qx5tw, " +
            $"cannot delete {Unmanaged} (use --force to override): default/nginx-pod]"));
    }

    [TestCase("1", "18", "policy/v1beta1")]
    [TestCase("1", "20", "policy/v1beta1")]
    [TestCase("1", "21+", "policy/v1beta1")]
    [TestCase("1", "22", "policy/v1")]
    [TestCase("1", "30+", "policy/v1")]
    public void Eviction_uses_policy_v1beta1_before_1_22(string major, string minor, string expected) =>
        Assert.That(Drain.EvictionApiVersion(major, minor), Is.EqualTo(expected));

    [TestCase(60, "1m0s")]
    [TestCase(30, "30s")]
    [TestCase(3725, "1h2m5s")]
    public void Timeouts_are_printed_as_go_durations_like_kubectl(int seconds, string expected) =>
        Assert.That(Drain.GoDuration(TimeSpan.FromSeconds(seconds)), Is.EqualTo(expected));
}

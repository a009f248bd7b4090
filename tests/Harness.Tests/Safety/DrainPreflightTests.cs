using Harness.Safety;
using k8s.Models;
using NUnit.Framework;
using static Harness.Tests.Kube.KubeObjects;

namespace Harness.Tests.Safety;

/// <summary>Which pods on the drain target would make the book's <c>kubectl drain --ignore-daemonsets</c> refuse.</summary>
public class DrainPreflightTests
{
    private static readonly IReadOnlySet<string> DaemonSets = new HashSet<string> { "kube-system/kube-proxy", "kube-system/calico-node" };

    private static IReadOnlyList<string> Blockers(params V1Pod[] pods) =>
        DrainPreflight.Blockers("w3-k8s", pods, DaemonSets, "--delete-emptydir-data").Select(b => b.ToString()).ToList();

    [Test]
    public void The_books_node_has_nothing_that_blocks_the_drain()
    {
        // DaemonSet pods stay (--ignore-daemonsets), echo-hname's are evicted, the static pods' mirrors are skipped.
        Assert.That(Blockers(
            Pod("kube-system", "kube-proxy-qx5tw", "DaemonSet", owner: "kube-proxy"),
            Pod("kube-system", "calico-node-5n94z", "DaemonSet", owner: "calico-node"),
            Pod("verification", "echo-hname-7894b67f-kgp6w", "ReplicaSet"),
            Pod("kube-system", "kube-apiserver-w3-k8s", mirror: true),
            Pod("batch", "backup-27", "Job")), Is.Empty);
    }

    [Test]
    public void A_bare_pod_needs_force_and_is_named_with_its_node()
    {
        Assert.That(Blockers(Pod("kube-system", "foo")), Is.EqualTo(new[]
        {
            "kube-system/foo on w3-k8s is not managed by a controller: kubectl drain would refuse it (it needs --force)",
        }));
    }

    [Test]
    public void An_emptyDir_pod_needs_the_profiles_emptyDir_flag()
    {
        var pod = Pod("monitoring", "scraper-6b4884c9d5-7hx2m", "ReplicaSet", emptyDir: true);

        Assert.That(DrainPreflight.Blockers("w3-k8s", [pod], DaemonSets, "--delete-local-data").Single().ToString(), Is.EqualTo(
            "monitoring/scraper-6b4884c9d5-7hx2m on w3-k8s has an emptyDir volume (its data would be deleted): kubectl drain would refuse it (it needs --delete-local-data)"));
    }

    [Test]
    public void A_bare_pod_with_emptyDir_names_both_flags()
    {
        var blockers = DrainPreflight.Blockers("w3-k8s", [Pod("default", "scratch", emptyDir: true)], DaemonSets, "--delete-emptydir-data");

        Assert.That(blockers.Select(b => b.Flag), Is.EqualTo(new[] { "--delete-emptydir-data", "--force" }));
    }

    [Test]
    public void A_pod_of_a_DaemonSet_that_no_longer_exists_needs_force()
    {
        Assert.That(Blockers(Pod("kube-system", "old-agent-x2", "DaemonSet", owner: "old-agent")).Single(), Does.StartWith(
            "kube-system/old-agent-x2 on w3-k8s belongs to DaemonSet old-agent, which no longer exists: kubectl drain would refuse it (it needs --force)"));
    }

    [TestCase("Succeeded")]
    [TestCase("Failed")]
    public void A_finished_pod_is_deleted_whatever_it_is(string phase) =>
        Assert.That(Blockers(Pod("default", "done", emptyDir: true, phase: phase)), Is.Empty);

    [Test]
    public void Blockers_are_listed_by_namespace_then_name()
    {
        var blockers = DrainPreflight.Blockers("w3-k8s", [Pod("kube-system", "b"), Pod("default", "z"), Pod("kube-system", "a")],
            DaemonSets, "--delete-emptydir-data");

        Assert.That(blockers.Select(b => b.Pod), Is.EqualTo(new[] { "default/z", "kube-system/a", "kube-system/b" }));
    }
}

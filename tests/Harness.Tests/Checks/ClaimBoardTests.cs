using Harness.Checks;
using NUnit.Framework;

namespace Harness.Tests.Checks;

/// <summary>
/// Checks run side by side only when what they touch cannot interfere: a node one check breaks is nobody else's
/// meanwhile; nodes checks only need are shared. Written against the book's four nodes.
/// </summary>
public class ClaimBoardTests
{
    private static readonly string[] Workers = ["w1-k8s", "w2-k8s", "w3-k8s"];
    private static ClusterClaim Breaks(params string[] nodes) => ClusterClaim.Nothing.Breaking(nodes).Needing(["m-k8s"]);
    private static ClusterClaim Needs(params string[] nodes) => ClusterClaim.Nothing.Needing([.. nodes, "m-k8s"]);

    [Test]
    public void ChecksOnDifferentWorkersDoNotConflict()
    {
        Assert.That(Breaks("w3-k8s").ConflictsWith(Breaks("w2-k8s")), Is.False, "kubelet on w3, kube-proxy on w2");
        Assert.That(Breaks("w3-k8s").ConflictsWith(Needs("w1-k8s")), Is.False, "kubelet on w3, self-healing on w1");
        Assert.That(Needs(Workers).ConflictsWith(Needs(Workers)), Is.False, "two Deployment checks only need the workers");
    }

    [Test]
    public void ABrokenNodeIsNobodyElses()
    {
        Assert.That(Breaks("w3-k8s").ConflictsWith(Breaks("w3-k8s")), Is.True);
        Assert.That(Breaks("w3-k8s").ConflictsWith(Needs(Workers)), Is.True, "a Deployment's pod may land on the broken node");
        Assert.That(Needs(Workers).ConflictsWith(Breaks("w1-k8s")), Is.True, "symmetric");
        Assert.That(Breaks("m-k8s").ConflictsWith(Needs("w1-k8s")), Is.True, "every check needs the control plane");
    }

    [Test]
    public void ACordonLetsChecksThatOnlyNeedTheNodeHealthyGoOn()
    {
        var cordon = ClusterClaim.Nothing.Cordoning(["w3-k8s"]).Needing([.. Workers, "m-k8s"]);
        var scale = ClusterClaim.Nothing.NeedingSchedulable(Workers).Needing(["m-k8s"]);
        Assert.That(cordon.ConflictsWith(Needs(Workers)), Is.False, "a Deployment's pods only go elsewhere; those on w3 keep running");
        Assert.That(cordon.ConflictsWith(scale), Is.True, "scale counts pods on every worker: w3 must be schedulable");
        Assert.That(scale.ConflictsWith(cordon), Is.True, "symmetric");
        Assert.That(cordon.ConflictsWith(cordon), Is.True, "two cordons of w3: one's uncordon would end the other's");
        Assert.That(cordon.ConflictsWith(Breaks("w1-k8s")), Is.True, "cordon's pods go to w1, which must be healthy");
        Assert.That(cordon.ToString(), Is.EqualTo("cordons w3-k8s; needs m-k8s, w1-k8s, w2-k8s healthy"));
    }

    [Test]
    public async Task ACordonedNodeIsLeftOutOfOtherChecksSteadyState()
    {
        var board = new ClaimBoard();
        using var cordon = await board.AcquireAsync("cordon", ClusterClaim.Nothing.Cordoning(["w3-k8s"]).Needing(Workers), CancellationToken.None);
        using var rollout = await board.AcquireAsync("rollout", Needs(Workers), CancellationToken.None);
        Assert.That(board.BrokenByOthers("rollout"), Is.EquivalentTo(new[] { "w3-k8s" }), "SchedulingDisabled on w3 is cordon's doing");
        Assert.That(board.BrokenByOthers("cordon"), Is.Empty);
    }

    [Test]
    public void ANodeBothBrokenAndNeededCountsAsBroken()
    {
        var drain = ClusterClaim.Nothing.Breaking(["w3-k8s"]).Needing(Workers);
        Assert.That(drain.Breaks, Is.EquivalentTo(new[] { "w3-k8s" }));
        Assert.That(drain.Needs, Is.EquivalentTo(new[] { "w1-k8s", "w2-k8s" }));
        Assert.That(drain.ToString(), Is.EqualTo("breaks w3-k8s; needs w1-k8s, w2-k8s healthy"));
    }

    [Test]
    public async Task NonConflictingClaimsAreGrantedAtOnce()
    {
        var board = new ClaimBoard();
        using var kubelet = await board.AcquireAsync("kubelet", Breaks("w3-k8s"), CancellationToken.None);
        var waited = false;
        using var proxy = await board.AcquireAsync("kube-proxy", Breaks("w2-k8s"), CancellationToken.None, _ => waited = true);
        Assert.That(waited, Is.False);
        Assert.That(board.BrokenByOthers("kube-proxy"), Is.EquivalentTo(new[] { "w3-k8s" }), "kube-proxy's steady state leaves w3 out");
        Assert.That(board.BrokenByOthers("kubelet"), Is.EquivalentTo(new[] { "w2-k8s" }));
    }

    [Test]
    public async Task AConflictingClaimWaitsUntilTheHolderIsDone()
    {
        var board = new ClaimBoard();
        var kubelet = await board.AcquireAsync("kubelet", Breaks("w3-k8s"), CancellationToken.None);
        IReadOnlyList<string>? blockers = null;
        var rollout = board.AcquireAsync("rollout", Needs(Workers), CancellationToken.None, b => blockers = b);
        await Task.Delay(50);
        Assert.That(rollout.IsCompleted, Is.False, "the rollout's pods could land on w3 while its kubelet is stopped");
        Assert.That(blockers, Is.EqualTo(new[] { "kubelet" }));

        kubelet.Dispose();
        using var granted = await rollout.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(board.Held().Keys, Is.EquivalentTo(new[] { "rollout" }));
    }

    [Test]
    public async Task WaitingChecksThatFitTogetherStartTogether()
    {
        var board = new ClaimBoard();
        var kubelet = await board.AcquireAsync("kubelet", Breaks("w3-k8s"), CancellationToken.None);
        var scale = board.AcquireAsync("scale", Needs(Workers), CancellationToken.None);
        var cordon = board.AcquireAsync("cordon", ClusterClaim.Nothing.Breaking(["w3-k8s"]).Needing(Workers), CancellationToken.None);
        var rollout = board.AcquireAsync("rollout", Needs(Workers), CancellationToken.None);

        kubelet.Dispose();
        var scaleHeld = await scale.WaitAsync(TimeSpan.FromSeconds(5));
        var rolloutHeld = await rollout.WaitAsync(TimeSpan.FromSeconds(5));
        await Task.Delay(50);
        Assert.That(cordon.IsCompleted, Is.False, "cordon breaks w3, which scale and rollout need");

        scaleHeld.Dispose();
        await Task.Delay(50);
        Assert.That(cordon.IsCompleted, Is.False, "rollout still needs w3");
        rolloutHeld.Dispose();
        using var cordonHeld = await cordon.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Test]
    public async Task ACancelledWaitLeavesNothingHeld()
    {
        var board = new ClaimBoard();
        using var kubelet = await board.AcquireAsync("kubelet", Breaks("w3-k8s"), CancellationToken.None);
        using var interrupted = new CancellationTokenSource();
        var drain = board.AcquireAsync("drain", Breaks("w3-k8s"), interrupted.Token);
        interrupted.Cancel();
        Assert.That(async () => await drain, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(board.Held().Keys, Is.EquivalentTo(new[] { "kubelet" }));
    }

    [Test]
    public async Task ReleasingTwiceFreesOnce()
    {
        var board = new ClaimBoard();
        var first = await board.AcquireAsync("kubelet", Breaks("w3-k8s"), CancellationToken.None);
        first.Dispose();
        using var second = await board.AcquireAsync("cordon", Breaks("w3-k8s"), CancellationToken.None);
        first.Dispose();
        Assert.That(board.Held().Keys, Is.EquivalentTo(new[] { "cordon" }), "a second Dispose must not free another check's claim");
    }

    [Test]
    public void ANamespacePerCheckIsADnsLabel()
    {
        var ns = CheckContext.NamespaceOf("verification", "DrainIsRefusedForDaemonSetPodsUnlessIgnored");
        Assert.That(ns, Is.EqualTo("verification-drainisrefusedfordaemonsetpodsunlessignored"));
        Assert.That(CheckContext.NamespaceOf("verification", new string('A', 80)), Has.Length.EqualTo(63));
        Assert.That(CheckContext.NamespaceOf("verification", "KubectlOnAWorkerNeedsTheAdminKubeconfig"), Does.Match("^[a-z0-9-]+$"));
    }
}

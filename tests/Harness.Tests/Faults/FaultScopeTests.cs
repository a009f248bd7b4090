using Harness.Faults;
using NUnit.Framework;

namespace Harness.Tests.Faults;

public class FaultScopeTests
{
    private static readonly FaultPolicy Workers = new(new HashSet<string> { "w1-k8s", "w2-k8s" }, DryRun: false);

    private static FaultScope Scope(TempLedger ledger, FakeReverter reverter, FaultPolicy? policy = null) =>
        new(ledger.Ledger, reverter, policy ?? Workers, "run-1", "KubeletTests.StopKubelet");

    private static Task<InjectedFault> StopKubelet(FaultScope scope, string node, Func<CancellationToken, Task>? inject = null,
        CancellationToken ct = default) =>
        scope.InjectAsync(Fault.OnNode("kubelet stopped", node, "systemctl stop kubelet", Revert.OnNode(node, "systemctl start kubelet")),
            inject ?? (_ => Task.CompletedTask), ct);

    [Test]
    public async Task The_open_line_is_on_disk_before_the_fault_is_injected()
    {
        using var ledger = new TempLedger();
        var reverter = new FakeReverter();
        string? seenByInject = null;

        await using (var scope = Scope(ledger, reverter))
            await StopKubelet(scope, "w1-k8s", _ =>
            {
                seenByInject = File.ReadAllText(ledger.Path); // what a SIGKILL right now would leave
                return Task.CompletedTask;
            });

        Assert.That(seenByInject, Does.Contain("\"op\":\"open\"").And.Contain("w1-k8s").And.Contain("systemctl start kubelet"));
        Assert.That(new FaultLedger(ledger.Path).OpenEntries(), Is.Empty, "closed by the scope's end");
    }

    [Test]
    public async Task A_check_that_fails_after_the_inject_still_gets_its_revert()
    {
        using var ledger = new TempLedger();
        var reverter = new FakeReverter();

        await Assert.ThrowsAsync<AssertionException>(async () =>
        {
            await using var scope = Scope(ledger, reverter);
            await StopKubelet(scope, "w1-k8s");
            Assert.Fail("node did not become NotReady");
        });

        Assert.That(reverter.Reverted, Is.EqualTo(new[] { Revert.OnNode("w1-k8s", "systemctl start kubelet") }));
        Assert.That(ledger.Ledger.OpenEntries(), Is.Empty);
    }

    [Test]
    public async Task An_inject_that_throws_half_way_is_reverted_too()
    {
        using var ledger = new TempLedger();
        var reverter = new FakeReverter();

        await Assert.ThrowsAsync<IOException>(async () =>
        {
            await using var scope = Scope(ledger, reverter);
            await StopKubelet(scope, "w1-k8s", _ => throw new IOException("ssh connection dropped"));
        });

        Assert.That(reverter.Reverted, Has.Count.EqualTo(1));
        Assert.That(ledger.Ledger.OpenEntries(), Is.Empty);
    }

    [Test]
    public async Task A_cancelled_check_is_reverted_although_its_token_is_cancelled()
    {
        using var ledger = new TempLedger();
        var reverter = new FakeReverter();
        using var cancel = new CancellationTokenSource();

        await Assert.ThrowsAsync<TaskCanceledException>(async () =>
        {
            await using var scope = Scope(ledger, reverter);
            await StopKubelet(scope, "w1-k8s", ct: cancel.Token);
            await cancel.CancelAsync(); // Ctrl-C while the check waits for the symptom
            await Task.Delay(TimeSpan.FromSeconds(30), cancel.Token);
        });

        Assert.That(reverter.Reverted, Has.Count.EqualTo(1));
        Assert.That(ledger.Ledger.OpenEntries(), Is.Empty);
    }

    [Test]
    public async Task Faults_are_reverted_newest_first()
    {
        using var ledger = new TempLedger();
        var reverter = new FakeReverter();

        await using (var scope = Scope(ledger, reverter))
        {
            await StopKubelet(scope, "w1-k8s");
            await scope.InjectAsync(Fault.OnNode("cordoned", "w2-k8s", "kubectl cordon w2-k8s", Revert.UncordonNode("w2-k8s")), _ => Task.CompletedTask, default);
        }

        Assert.That(reverter.Reverted.Select(r => r.Target), Is.EqualTo(new[] { "w2-k8s", "w1-k8s" }));
    }

    [Test]
    public async Task A_fault_the_check_recovered_is_closed_and_not_reverted_again()
    {
        using var ledger = new TempLedger();
        var reverter = new FakeReverter();
        var recoveries = 0;

        await using (var scope = Scope(ledger, reverter))
        {
            var fault = await StopKubelet(scope, "w1-k8s");
            await scope.RecoverAsync(fault, default, _ => { recoveries++; return Task.CompletedTask; });
            Assert.That(ledger.Ledger.OpenEntries(), Is.Empty, "closed as soon as the recovery succeeded");
        }

        Assert.That(recoveries, Is.EqualTo(1));
        Assert.That(reverter.Reverted, Is.Empty);
        Assert.That(ledger.Text, Does.Contain("recovered by the check"));
    }

    [Test]
    public async Task A_revert_that_fails_is_an_unreverted_fault_and_stays_open_in_the_ledger()
    {
        using var ledger = new TempLedger();
        var reverter = new FakeReverter { FailOn = { "w1-k8s" } };

        var e = (await Assert.ThrowsAsync<UnrevertedFaultException>(async () =>
        {
            await using var scope = Scope(ledger, reverter);
            await StopKubelet(scope, "w1-k8s");
            await StopKubelet(scope, "w2-k8s");
        }))!;

        Assert.That(e.Message, Does.StartWith("Unreverted fault"));
        Assert.That(e.Message, Does.Contain("kubelet stopped on w1-k8s").And.Contain("connect to w1-k8s refused").And.Contain(ledger.Path));
        Assert.That(reverter.Reverted.Select(r => r.Target), Is.EqualTo(new[] { "w2-k8s" }), "the other fault is still reverted");
        Assert.That(ledger.Ledger.OpenEntries().Select(o => o.Node), Is.EqualTo(new[] { "w1-k8s" }));
    }

    [Test]
    public async Task A_node_that_is_not_a_target_is_refused_before_anything_is_written()
    {
        using var ledger = new TempLedger();
        var injected = false;

        var e = (await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var scope = Scope(ledger, new FakeReverter());
            await StopKubelet(scope, "m-k8s", _ => { injected = true; return Task.CompletedTask; });
        }))!;

        Assert.That(e.Message, Does.StartWith("Refused to inject 'kubelet stopped' into m-k8s").And.Contain("targets: w1-k8s, w2-k8s"));
        Assert.That(injected, Is.False);
        Assert.That(File.Exists(ledger.Path), Is.False);
    }

    [Test]
    public async Task A_dry_run_says_what_it_would_inject_and_writes_nothing()
    {
        using var ledger = new TempLedger();
        var injected = false;

        var e = (await Assert.ThrowsAsync<DryRunException>(async () =>
        {
            await using var scope = Scope(ledger, new FakeReverter(), Workers with { DryRun = true });
            await StopKubelet(scope, "w1-k8s", _ => { injected = true; return Task.CompletedTask; });
        }))!;

        Assert.That(e.Message, Is.EqualTo("dry run: would inject 'kubelet stopped' on w1-k8s with `systemctl stop kubelet`; revert: on w1-k8s: systemctl start kubelet"));
        Assert.That(injected, Is.False);
        Assert.That(File.Exists(ledger.Path), Is.False);
    }

    [Test]
    public async Task Every_entry_carries_the_profile_and_cluster_the_scope_was_given()
    {
        using var ledger = new TempLedger();
        string? onDiskDuringInject = null;

        await using (var scope = new FaultScope(ledger.Ledger, new FakeReverter(), Workers, "run-1", "KubeletTests.StopKubelet",
                         identity: new ClusterIdentity("lab", "uid-of-kube-system")))
        {
            var fault = await StopKubelet(scope, "w1-k8s", _ =>
            {
                onDiskDuringInject = File.ReadAllText(ledger.Path);
                return Task.CompletedTask;
            });
            Assert.That((fault.Entry.Profile, fault.Entry.ClusterUid), Is.EqualTo(("lab", "uid-of-kube-system")));
            Assert.That(ledger.Ledger.OpenEntries().Single().BelongsTo(new ClusterIdentity("lab", "uid-of-kube-system")), Is.True);
        }

        Assert.That(onDiskDuringInject, Does.Contain("\"profile\":\"lab\"").And.Contain("\"clusterUid\":\"uid-of-kube-system\""));
    }
}

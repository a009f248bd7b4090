using Harness.Checks;
using Harness.Faults;
using Harness.Kube;
using Harness.Reporting;
using Harness.Tests.Faults;
using Harness.Tests.Waits;
using Harness.Waits;
using NUnit.Framework;
using static Harness.Tests.Waits.FakeApi;

namespace Harness.Tests.Checks;

/// <summary>
/// A check's context undoes what the check did — its faults' reverts and its deferred clean-ups, in one order, newest
/// first — however the check ends: passed, failed, thrown, cancelled. Its waits use its namespace and its token.
/// </summary>
[Parallelizable] // in-process and mostly waiting on fake time-outs: runs beside the other waiting fixtures
public class CheckContextTests
{
    private static readonly FaultPolicy Workers = new(new HashSet<string> { "w1-k8s", "w2-k8s" }, DryRun: false);

    /// <summary>Every revert and clean-up, in the order they ran, and whether the token they got was already cancelled.</summary>
    private sealed class Undone : IReverter
    {
        public List<string> Order { get; } = [];
        public List<bool> TokenCancelled { get; } = [];

        public Task RevertAsync(Revert revert, CancellationToken ct)
        {
            lock (Order)
            {
                Order.Add($"revert {revert}");
                TokenCancelled.Add(ct.IsCancellationRequested);
            }
            return Task.CompletedTask;
        }

        public Func<CancellationToken, Task> CleanUp(string what) => ct =>
        {
            lock (Order)
            {
                Order.Add($"clean up {what}");
                TokenCancelled.Add(ct.IsCancellationRequested);
            }
            return Task.CompletedTask;
        };
    }

    private static CheckContext Context(TempLedger ledger, IReverter reverter, CancellationTokenSource cancellation,
        Func<CancellationToken, ClusterWaits>? waits = null, string check = "KubeletTests.StopKubelet") =>
        new(check, "verification", cluster: null, new FaultScope(ledger.Ledger, reverter, Workers, "run-1", check),
            TestScope.NotRecorded(check), metrics: null, _ => { }, cancellation,
            waits ?? (ct => new ClusterWaits((_, _) => throw new AssertionException("no pods here"), () => throw new AssertionException("no nodes here"), null, ct)));

    private static Fault KubeletStopped(string node) =>
        Fault.OnNode("kubelet stopped", node, "systemctl stop kubelet", Revert.OnNode(node, "systemctl start kubelet"));

    private static Fault NodeCordoned(string node) => Fault.OnNode("node cordoned", node, $"kubectl cordon {node}", Revert.UncordonNode(node));

    private static Task<InjectedFault> StopKubelet(CheckContext context, string node) =>
        context.InjectAsync(KubeletStopped(node), _ => Task.CompletedTask);

    private static Task<InjectedFault> Cordon(CheckContext context, string node) => context.InjectAsync(NodeCordoned(node), _ => Task.CompletedTask);

    private static readonly string[] NewestFirst =
    [
        "revert kubectl uncordon w2-k8s",
        "clean up the copied admin.conf",
        "revert on w1-k8s: systemctl start kubelet",
    ];

    [Test]
    public async Task Reverts_and_clean_ups_run_newest_first_when_the_check_throws()
    {
        using var ledger = new TempLedger();
        var undone = new Undone();

        await Assert.ThrowsAsync<AssertionException>(async () =>
        {
            await using var context = Context(ledger, undone, new CancellationTokenSource());
            await StopKubelet(context, "w1-k8s");
            context.DeferCleanup("the copied admin.conf", undone.CleanUp("the copied admin.conf"));
            await Cordon(context, "w2-k8s");
            Assert.Fail("nginx-pod did not show Terminating");
        });

        Assert.That(undone.Order, Is.EqualTo(NewestFirst));
        Assert.That(ledger.Ledger.OpenEntries(), Is.Empty, "both faults closed in the ledger");
    }

    [Test]
    public async Task Reverts_and_clean_ups_run_newest_first_with_a_live_token_when_the_check_is_cancelled()
    {
        using var ledger = new TempLedger();
        var undone = new Undone();
        var cancellation = new CancellationTokenSource();

        await Assert.CatchAsync<OperationCanceledException>(async () =>
        {
            await using var context = Context(ledger, undone, cancellation);
            await StopKubelet(context, "w1-k8s");
            context.DeferCleanup("the copied admin.conf", undone.CleanUp("the copied admin.conf"));
            await Cordon(context, "w2-k8s");
            await cancellation.CancelAsync(); // Ctrl-C while the check waits for its symptom
            await Task.Delay(TimeSpan.FromSeconds(30), context.Cancellation);
        });

        Assert.That(undone.Order, Is.EqualTo(NewestFirst));
        Assert.That(undone.TokenCancelled, Has.All.False, "the reverts get a token of their own, not the cancelled check's");
        Assert.That(ledger.Ledger.OpenEntries(), Is.Empty);
    }

    [Test]
    public async Task A_clean_up_that_fails_is_reported_unreverted_and_the_older_reverts_still_run_once()
    {
        using var ledger = new TempLedger();
        var undone = new Undone();
        var context = Context(ledger, undone, new CancellationTokenSource());
        await StopKubelet(context, "w1-k8s");
        context.DeferCleanup("the copied admin.conf", _ => throw new IOException("ssh: connect to w3-k8s refused"));

        var first = await Assert.ThrowsAsync<UnrevertedFaultException>(() => context.CleanUpAsync());
        var again = await Assert.ThrowsAsync<UnrevertedFaultException>(async () => await context.DisposeAsync());

        Assert.That(first!.Message, Does.StartWith("Unreverted fault(s) left by KubeletTests.StopKubelet: the copied admin.conf (clean-up, not in the ledger): ssh: connect to w3-k8s refused"));
        Assert.That(again!.Message, Is.EqualTo(first.Message), "a later call says the same, it does not undo anything twice");
        Assert.That(undone.Order, Is.EqualTo(new[] { "revert on w1-k8s: systemctl start kubelet" }));
    }

    [Test]
    public async Task A_fault_the_check_recovered_is_not_reverted_again_at_the_end()
    {
        using var ledger = new TempLedger();
        var undone = new Undone();

        await using (var context = Context(ledger, undone, new CancellationTokenSource()))
        {
            var kubelet = await StopKubelet(context, "w1-k8s");
            await Cordon(context, "w2-k8s");
            await context.Faults.RecoverAsync(kubelet, context.Cancellation); // the book's `systemctl start kubelet`
        }

        Assert.That(undone.Order, Is.EqualTo(new[] { "revert on w1-k8s: systemctl start kubelet", "revert kubectl uncordon w2-k8s" }));
    }

    [Test]
    public async Task Two_contexts_undo_only_their_own()
    {
        using var ledger = new TempLedger();
        var undone = new Undone();
        var kubelet = Context(ledger, undone, new CancellationTokenSource(), check: "KubeletTests.StopKubelet");
        var cordon = Context(ledger, undone, new CancellationTokenSource(), check: "SchedulingTests.Cordon");
        await StopKubelet(kubelet, "w1-k8s");
        await Cordon(cordon, "w2-k8s");

        await cordon.DisposeAsync();

        Assert.That(undone.Order, Is.EqualTo(new[] { "revert kubectl uncordon w2-k8s" }));
        Assert.That(ledger.Ledger.OpenEntries().Select(e => e.Check), Is.EqualTo(new[] { "KubeletTests.StopKubelet" }));
        await kubelet.DisposeAsync();
    }

    [Test]
    public async Task A_fault_the_check_did_not_declare_is_refused_before_anything_is_written()
    {
        using var ledger = new TempLedger();
        await using var context = Context(ledger, new Undone(), new CancellationTokenSource());
        context.Plan([KubeletStopped("w1-k8s")]);
        var injected = false;

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            context.InjectAsync(NodeCordoned("w2-k8s"), _ => { injected = true; return Task.CompletedTask; }));

        Assert.That(refused!.Message, Does.StartWith("KubeletTests.StopKubelet injects 'node cordoned' on w2-k8s, which it does not declare")
            .And.Contain("declared: 'kubelet stopped' on w1-k8s"));
        Assert.That(injected, Is.False);
        Assert.That(File.Exists(ledger.Path), Is.False);
    }

    [Test]
    public async Task A_declared_fault_is_injected_with_the_command_it_declares_and_listed_as_the_dry_run_says()
    {
        using var ledger = new TempLedger();
        var undone = new Undone();
        var stopped = KubeletStopped("w1-k8s");
        await using (var context = Context(ledger, undone, new CancellationTokenSource()))
        {
            context.Plan([stopped]);
            var fault = await context.InjectAsync(stopped, _ => Task.CompletedTask);
            Assert.That((fault.Entry.Fault, fault.Entry.Node, fault.Entry.Injected), Is.EqualTo(("kubelet stopped", "w1-k8s", "systemctl stop kubelet")));
        }

        Assert.That(stopped.ToString(), Is.EqualTo("kubelet stopped on w1-k8s: `systemctl stop kubelet` — revert: on w1-k8s: systemctl start kubelet"));
        Assert.That(undone.Order, Is.EqualTo(new[] { $"revert {stopped.Revert}" }), "the revert it declares");
    }

    [Test]
    public async Task A_node_fault_is_injected_in_a_step_named_by_the_command_that_runs()
    {
        using var ledger = new TempLedger();
        var undone = new Undone();
        var stopped = Fault.OnNode("kubelet stopped", "w1-k8s", "sudo systemctl stop kubelet.service", Revert.OnNode("w1-k8s", "sudo systemctl start kubelet.service"));
        await using (var context = Context(ledger, undone, new CancellationTokenSource()))
        {
            // This context has no cluster to run it on: the step is named and the revert registered before the command runs.
            await Assert.ThrowsAsync<InvalidOperationException>(() => context.InjectOnNodeAsync(stopped));
            Assert.That(context.Report.Result.Steps.Select(s => s.Name), Is.EqualTo(new[] { "[w1-k8s]$ sudo systemctl stop kubelet.service" }));
        }
        Assert.That(undone.Order, Is.EqualTo(new[] { "revert on w1-k8s: sudo systemctl start kubelet.service" }));
    }

    [Test]
    public async Task The_waits_of_a_context_end_with_its_cancellation()
    {
        using var ledger = new TempLedger();
        var api = new FakeApi { List = _ => Listed("1", Pod("nginx-pod", "Pending", "1")), Watch = (_, _, ct) => Hang(ct) };
        var cancellation = new CancellationTokenSource();
        await using var context = Context(ledger, new Undone(), cancellation,
            waits: ct => new ClusterWaits((_, _) => api.ClusterWatch(), () => throw new AssertionException("no nodes here"), null, ct));

        var wait = context.Pod("nginx-pod").Until(p => p.IsReady(), "to be Running and Ready", TimeSpan.FromSeconds(20));
        cancellation.CancelAfter(TimeSpan.FromMilliseconds(200));

        await Assert.CatchAsync<OperationCanceledException>(async () => await wait);
        Assert.That(context.Namespace, Is.EqualTo("verification"));
    }

    [Test]
    public async Task The_backstop_counts_from_the_moment_the_check_has_its_nodes_not_from_its_queue()
    {
        using var ledger = new TempLedger();
        var board = new ClaimBoard();
        CheckContext On(string check, CancellationTokenSource cancellation) =>
            new(check, "verification", cluster: null, new FaultScope(ledger.Ledger, new Undone(), Workers, "run-1", check),
                TestScope.NotRecorded(check), metrics: null, _ => { }, cancellation,
                ct => new ClusterWaits((_, _) => throw new AssertionException("no pods here"), () => throw new AssertionException("no nodes here"), null, ct),
                claims: board);

        var holder = On("PodHangsInTerminatingUntilKubeletIsBack", new CancellationTokenSource());
        await holder.ClaimAsync(ClusterClaim.Nothing.Breaking(["w1-k8s"]));
        await using var queued = On("KilledContainerIsRestartedByKubelet", new CancellationTokenSource());
        var claimed = queued.ClaimAsync(ClusterClaim.Nothing.Needing(["w1-k8s"]), backstop: TimeSpan.FromMilliseconds(300));

        await Task.Delay(600); // queued twice as long as its backstop
        Assert.That(claimed.IsCompleted, Is.False, "it waits for w1-k8s");
        Assert.That(queued.Cancellation.IsCancellationRequested, Is.False, "the queue does not count");

        await holder.DisposeAsync();
        await claimed;
        Assert.That(queued.Cancellation.IsCancellationRequested, Is.False);
        Assert.That(queued.BackstopReached, Is.False);
        await Task.Delay(TimeSpan.FromSeconds(2)).WaitAsync(queued.Cancellation).ContinueWith(_ => { });
        Assert.That(queued.Cancellation.IsCancellationRequested, Is.True, "cancelled 300 ms after it had its nodes");
        Assert.That(queued.BackstopReached, Is.True);
    }
}

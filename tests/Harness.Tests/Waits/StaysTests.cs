using System.Diagnostics;
using Harness.Kube;
using Harness.Reporting;
using Harness.Waits;
using k8s;
using k8s.Models;
using NUnit.Framework;
using static Harness.Tests.Waits.FakeApi;

namespace Harness.Tests.Waits;

/// <summary>
/// "Consistently" (<see cref="Stays{T}"/>, and <c>Stays</c> on a pod's watch): the book's "must not happen for 30 s".
/// It holds through the period and returns what it saw last; the first look that does not hold ends it at once, naming
/// what changed; a caller's token ends it too. Short real durations.
/// </summary>
[Parallelizable] // in-process and mostly waiting on fake time-outs: runs beside the other waiting fixtures
public class StaysTests
{
    private static readonly Poll Fast = Poll.Every(TimeSpan.FromMilliseconds(10));
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

    /// <summary>A pod's phase, one look after another: the n-th look (from 1) sees <paramref name="phase"/>(n).</summary>
    private static Stays<string> PodPhase(Func<int, string> phase, List<int>? looks = null)
    {
        var n = 0;
        return new Stays<string>("nginx-pod to stay Pending", _ =>
        {
            var look = Interlocked.Increment(ref n);
            looks?.Add(look);
            return Task.FromResult(phase(look));
        }, p => p == "Pending") { Poll = Fast, Describe = p => $"nginx-pod {p}" };
    }

    [Test]
    public async Task A_hold_that_holds_looks_through_the_period_and_returns_the_last_look()
    {
        var looks = new List<int>();
        var clock = Stopwatch.StartNew();

        var last = await PodPhase(_ => "Pending", looks).ForAsync(TimeSpan.FromMilliseconds(300), default);

        Assert.That(last, Is.EqualTo("Pending"));
        Assert.That(looks, Has.Count.GreaterThan(2), "looked again and again");
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250)), "through the whole period");
    }

    [TestCase(1, TestName = "A hold broken at the first look fails at once")]
    [TestCase(3, TestName = "A hold broken at the third look fails at that look")]
    public async Task A_broken_hold_fails_at_once_naming_what_changed(int breaksAt)
    {
        var looks = new List<int>();
        var clock = Stopwatch.StartNew();
        var stays = PodPhase(n => n < breaksAt ? "Pending" : "Running", looks) with { Because = "without a scheduler nobody binds the pod" };

        var broken = await Assert.ThrowsAsync<HoldBrokenException>(() => stays.ForAsync(Long, default));

        Assert.That(looks, Has.Count.EqualTo(breaksAt), "no look after the one that broke it");
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "long before the end of the period");
        Assert.That(broken!.Message, Does.StartWith("Expected nginx-pod to stay Pending for 20 s (without a scheduler nobody binds the pod), but after "));
        Assert.That(broken.Message, Does.EndWith(": nginx-pod Running"));
        Assert.That(broken.LastState, Is.EqualTo("nginx-pod Running"));
        Assert.That(Report.StatusOf(broken), Is.EqualTo(Status.Failed), "a product verdict, as a wait that ran out");
    }

    [Test]
    public async Task A_hold_that_no_look_could_confirm_is_no_hold()
    {
        var hangs = new Stays<int>("the API to stay up", async t => { await Task.Delay(Timeout.Infinite, t); return 0; }, _ => true) { Poll = Fast };

        var timeout = await Assert.ThrowsAsync<WaitTimeoutException>(() => hangs.ForAsync(TimeSpan.FromMilliseconds(200), default));

        Assert.That(timeout!.Message, Does.StartWith("No look at the API to stay up finished within 0 s"));
    }

    private static IEnumerable<TestCaseData> Waits()
    {
        yield return new TestCaseData(new Func<CancellationToken, Task>(ct =>
            new Until<int>("never", _ => Task.FromResult(0), _ => false) { Poll = Fast }.WithinAsync(Long, ct))).SetName("Until gives way to the caller's token");
        yield return new TestCaseData(new Func<CancellationToken, Task>(ct =>
            new Until<int>("never", _ => Task.FromResult(0), _ => false) { Poll = Fast }.LastWithinAsync(Long, ct))).SetName("Until's last look gives way to the caller's token");
        yield return new TestCaseData(new Func<CancellationToken, Task>(ct =>
            PodPhase(_ => "Pending").ForAsync(Long, ct))).SetName("Stays gives way to the caller's token");
        yield return new TestCaseData(new Func<CancellationToken, Task>(ct =>
            new Until<int>("a hung look", async t => { await Task.Delay(Timeout.Infinite, t); return 0; }, _ => true)
                { NotYetOn = _ => true }.WithinAsync(Long, ct))).SetName("A hung look is cancelled with the wait, never taken for not yet");
    }

    [TestCaseSource(nameof(Waits))]
    public void Cancellation_ends_the_wait_with_the_callers_cancellation(Func<CancellationToken, Task> wait)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));
        var clock = Stopwatch.StartNew();

        Assert.That(async () => await wait(cts.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
    }

    // ---- on a watch: ObjectWait.Stays / ObjectsWait.Stays ----

    private static ClusterWaits WaitsOn(FakeApi api) =>
        new((_, _) => api.ClusterWatch(), () => throw new AssertionException("no node is watched here"), null, default);

    [Test]
    public async Task A_pod_that_stays_pending_holds_and_the_last_state_is_in_kubectls_words()
    {
        var api = new FakeApi { List = _ => Listed("1", Pod("new-pod", "Pending", "1")), Watch = (_, _, ct) => Hang(ct) };

        var lastSeen = await WaitsOn(api).Pod("new-pod").Stays(p => !p.IsRunning(), "to stay not Running", TimeSpan.FromMilliseconds(300));

        Assert.That(lastSeen, Is.EqualTo(ObjectState.Describe([Pod("new-pod", "Pending", "1")])));
    }

    [Test]
    public async Task A_pod_that_starts_running_breaks_the_hold_at_that_event()
    {
        var api = new FakeApi
        {
            List = _ => Listed("1", Pod("new-pod", "Pending", "1")),
            Watch = (_, _, ct) => Stream([(WatchEventType.Modified, Pod("new-pod", "Running", "2"))], ct: ct),
        };
        var clock = Stopwatch.StartNew();

        var broken = await Assert.ThrowsAsync<HoldBrokenException>(() =>
            WaitsOn(api).Pod("new-pod").Stays(p => !p.IsRunning(), "to stay not Running", Long, "without a CNI no container starts"));

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "at the event, not at the end of the period");
        Assert.That(broken!.Message, Does.StartWith("Expected new-pod to stay not Running for 20 s (without a CNI no container starts), but after "));
        Assert.That(broken.LastState, Is.EqualTo(ObjectState.Describe([Pod("new-pod", "Running", "2")])));
    }

    [Test]
    public async Task A_pod_that_must_stay_breaks_the_hold_when_it_is_gone()
    {
        var api = new FakeApi
        {
            List = _ => Listed("1", Pod("nginx-pod", "Running", "1")),
            Watch = (_, _, ct) => Stream([(WatchEventType.Deleted, Pod("nginx-pod", "Running", "2"))], ct: ct),
        };

        var broken = await Assert.ThrowsAsync<HoldBrokenException>(() =>
            WaitsOn(api).Pod("nginx-pod").Stays(_ => true, "to stay", Long));

        Assert.That(broken!.Message, Does.StartWith("Expected nginx-pod to stay for 20 s, but after "));
    }

    [TestCase(1, false, TestName = "No pod replaces the deleted one: the hold holds")]
    [TestCase(2, true, TestName = "A pod replaces the deleted one: the hold breaks")]
    public async Task A_set_of_pods_holds_while_it_stays_short(int podsAfter, bool breaks)
    {
        V1Pod[] pods = [Pod("echo-1", "Running", "1"), Pod("echo-2", "Pending", "2")];
        var api = new FakeApi
        {
            List = _ => Listed("1", pods[0]),
            Watch = (_, _, ct) => Stream(pods[1..podsAfter].Select(p => (WatchEventType.Added, p)), ct: ct),
        };

        var hold = WaitsOn(api).Pods("app=nginx").Stays(all => all.Count < 2, "no pod to replace echo-0", TimeSpan.FromMilliseconds(300));

        if (breaks) await Assert.ThrowsAsync<HoldBrokenException>(() => hold);
        else Assert.That(await hold, Does.Contain("echo-1"));
    }
}

using Harness.Kube;
using k8s.Models;
using NUnit.Framework;

namespace Harness.Tests.Waits;

/// <summary>
/// "Healthy and no restart for a while": what a control-plane check and the lab tests wait for after the API server or
/// etcd came back (the scheduler and controller-manager restart once more after a first healthy look).
/// </summary>
[Parallelizable] // in-process and mostly waiting on fake time-outs: runs beside the other waiting fixtures
public class SettlingTests
{
    private static readonly TimeSpan Stable = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private static V1Pod Pod(string name, int restarts) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Status = new V1PodStatus { ContainerStatuses = [new V1ContainerStatus { Name = "c", RestartCount = restarts }] },
    };

    private static Settling.Look Looks(Func<int, (IReadOnlyList<string>, IEnumerable<V1Pod>)> nth)
    {
        var n = 0;
        return _ => Task.FromResult(nth(Interlocked.Increment(ref n)));
    }

    [Test]
    public async Task HealthyWithTheSameRestartsForTheStablePeriodIsSettled()
    {
        var progress = new List<string>();
        var problems = await Settling.UntilSettledAsync(Looks(_ => ([], [Pod("kube-scheduler-m", 2)])),
            Stable, TimeSpan.FromSeconds(10), Interval, progress.Add, CancellationToken.None);
        Assert.That(problems, Is.Empty);
        Assert.That(progress, Has.Some.StartsWith("healthy for"));
    }

    [Test]
    public async Task ARestartStartsTheStablePeriodAgainAndTheDeadlineSaysSo()
    {
        // The scheduler restarts on every look: healthy, but never stable.
        var problems = await Settling.UntilSettledAsync(Looks(n => ([], [Pod("kube-scheduler-m", n)])),
            Stable, TimeSpan.FromSeconds(1), Interval, null, CancellationToken.None);
        Assert.That(problems, Has.Count.EqualTo(1).And.Some.StartsWith("healthy for 0 s of 0 s without a restart"));
    }

    [Test]
    public async Task AProblemAtTheDeadlineIsWhatIsReturned()
    {
        var problems = await Settling.UntilSettledAsync(Looks(_ => (["kube-controller-manager-m is not Ready"], [])),
            Stable, TimeSpan.FromMilliseconds(500), Interval, null, CancellationToken.None);
        Assert.That(problems, Is.EqualTo(new[] { "kube-controller-manager-m is not Ready" }));
    }

    [Test]
    public async Task AnApiThatFailsMeanwhileIsOneMoreLook()
    {
        var n = 0;
        Settling.Look look = _ => ++n <= 3
            ? throw new HttpRequestException("Connection refused (192.168.1.10:6443)")
            : Task.FromResult<(IReadOnlyList<string>, IEnumerable<V1Pod>)>(([], [Pod("etcd-m", 0)]));
        var problems = await Settling.UntilSettledAsync(look, Stable, TimeSpan.FromSeconds(10), Interval, null, CancellationToken.None);
        Assert.That(problems, Is.Empty);
        Assert.That(n, Is.GreaterThan(3));
    }

    [Test]
    public async Task AnApiCallThatRanIntoTheClientsOwnTimeoutIsOneMoreLook()
    {
        // Right after etcd is back, a request on the old HTTP/2 connection can hang until KubernetesClient's
        // HttpClientTimeout, which surfaces as a TaskCanceledException that is not ours (seen on the lab).
        var n = 0;
        Settling.Look look = _ => ++n <= 2
            ? throw new TaskCanceledException("The operation was canceled.")
            : Task.FromResult<(IReadOnlyList<string>, IEnumerable<V1Pod>)>(([], [Pod("etcd-m", 0)]));
        var problems = await Settling.UntilSettledAsync(look, Stable, TimeSpan.FromSeconds(10), Interval, null, CancellationToken.None);
        Assert.That(problems, Is.Empty);
        Assert.That(n, Is.GreaterThan(2));
    }

    [Test]
    public void CancellationIsNotSwallowed()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        Assert.That(async () => await Settling.UntilSettledAsync(Looks(_ => (["not yet"], [])),
            Stable, TimeSpan.FromSeconds(30), Interval, null, cts.Token), Throws.InstanceOf<OperationCanceledException>());
    }
}

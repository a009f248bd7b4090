using Harness.ClusterAccess;
using Harness.Kube;
using Harness.Safety;
using Harness.Waits;
using k8s;
using NUnit.Framework;

namespace Lab.Tests;

/// <summary>Waits until the lab is as the harness wants it before a run: the API answers, every component is healthy,
/// and stays so with no kube-system container restarting for <see cref="Stable"/>. (Right after the API server comes
/// back, the scheduler and controller-manager still show the Ready status they had before it went away, then lose
/// their leader lease and restart: one healthy look is not enough.)</summary>
public static class LabHealth
{
    private static readonly TimeSpan Stable = TimeSpan.FromSeconds(30);

    /// <summary>The kube-system pods' restarts when the lab was last seen settled (Lab.Tests run one test at a time).</summary>
    private static string? _lastSettled;

    public static async Task WaitHealthyAsync(Cluster lab, string when)
    {
        IEnumerable<k8s.Models.V1Pod> lastSeen = [];
        async Task<(IReadOnlyList<string>, IEnumerable<k8s.Models.V1Pod>)> Look(CancellationToken ct)
        {
            var problems = await Preflight.HealthAsync(lab, namespaceGone: lab.Profile.Kubernetes.Namespace, TimeSpan.FromSeconds(10), ct);
            lastSeen = (await lab.Api.CoreV1.ListNamespacedPodAsync("kube-system", cancellationToken: ct)).Items;
            return (problems, lastSeen);
        }

        // Healthy, and not one kube-system pod restarted or replaced since it was last settled: it still is (saves the
        // stable period when the previous test ended with this same wait).
        // A look that fails (the API server put back a moment ago still starts, or etcd behind it: the client's 30 s HTTP
        // timeout, an OperationCanceledException, as seen in CI after etcd's case) is no shortcut: the settle below looks again.
        try
        {
            var (now, pods) = await Look(CancellationToken.None);
            if (now.Count == 0 && _lastSettled is not null && Settling.RestartsOf(pods) == _lastSettled) return;
        }
        catch (Exception) { } // nothing cancels CancellationToken.None: any exception here is a failed look

        // The harness's own deadline for a control plane to settle (timeouts.controlPlaneSettleSeconds, 10 min): kubelet's
        // crash back-off of a static pod that restarted often within 10 minutes reaches 5 minutes, so a scheduler put right
        // after several control-plane cases may wait that long before it starts (seen in CI: 5 min was not enough).
        var problems = await Settling.UntilSettledAsync(Look, Stable, lab.Profile.Timeouts.ToTimeouts().ControlPlaneSettle,
            TimeSpan.FromSeconds(3), progress: null, CancellationToken.None);
        if (problems.Count > 0)
            Assert.Fail($"the lab is not healthy {when}: {string.Join("; ", problems)}");
        _lastSettled = Settling.RestartsOf(lastSeen); // the look that found it settled
    }
}

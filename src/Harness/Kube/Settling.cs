using Harness.Waits;
using k8s.Models;

namespace Harness.Kube;

/// <summary>
/// Until a set of pods is healthy and none of them restarts for a while. One healthy look is not enough after a
/// control-plane fault: right after the API server (or etcd) comes back, the scheduler and controller-manager still
/// show their old Ready status, then lose their leader lease and restart, possibly after kubelet's crash back-off.
/// </summary>
public static class Settling
{
    /// <summary>What is being looked at: the problems now (none: healthy) and the pods whose restarts must not change.</summary>
    public delegate Task<(IReadOnlyList<string> Problems, IEnumerable<V1Pod> Pods)> Look(CancellationToken ct);

    /// <summary>Each pod's name and restart count: equal twice, nothing was restarted or replaced in between.</summary>
    public static string RestartsOf(IEnumerable<V1Pod> pods) =>
        string.Join(",", pods.OrderBy(p => p.Metadata.Name).Select(p => $"{p.Metadata.Name}={p.Restarts()}"));

    /// <summary>
    /// Looks every <paramref name="interval"/> until <paramref name="look"/> has found no problem and the same restart
    /// counts for <paramref name="stable"/>, within <paramref name="deadline"/>. An exception (the API restarting) is
    /// one more look. Returns what was still wrong at the deadline; empty when settled.
    /// </summary>
    public static async Task<IReadOnlyList<string>> UntilSettledAsync(Look look, TimeSpan stable, TimeSpan deadline,
        TimeSpan interval, Action<string>? progress, CancellationToken ct)
    {
        (DateTimeOffset Since, string Restarts)? healthy = null;
        // Each look answers what is still wrong: nothing once healthy with the same restarts for the stable period.
        var settled = await new Until<IReadOnlyList<string>>("the pods to settle", async t =>
            {
                IReadOnlyList<string> now;
                IEnumerable<V1Pod> pods;
                // An API that fails meanwhile is one more look; so is the client's own HTTP timeout (an
                // OperationCanceledException too), unless the deadline or the caller cancelled it.
                try { (now, pods) = await look(t); }
                catch (Exception e) when (!t.IsCancellationRequested)
                {
                    healthy = null;
                    return [e.Message];
                }
                if (now.Count > 0)
                {
                    healthy = null;
                    progress?.Invoke(now[0]);
                    return now;
                }
                var restarts = RestartsOf(pods);
                if (healthy?.Restarts != restarts) healthy = (DateTimeOffset.UtcNow, restarts);
                var healthyFor = DateTimeOffset.UtcNow - healthy.Value.Since;
                var line = $"healthy for {healthyFor.TotalSeconds:0} s of {stable.TotalSeconds:0} s without a restart";
                progress?.Invoke(line);
                return healthyFor >= stable ? [] : [line];
            }, problems => problems.Count == 0)
            { Poll = Poll.Every(interval) }
            .LastWithinAsync(deadline, ct);
        return settled.Holds ? [] : settled.Last ?? ["not looked at yet"];
    }
}

using Harness.Kube;
using k8s.Models;
using Polly;
using Polly.Retry;

namespace Harness.Waits;

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
        IReadOnlyList<string> problems = ["not looked at yet"];
        (DateTimeOffset Since, string Restarts)? healthy = null;
        var pipeline = new ResiliencePipelineBuilder<bool>()
            .AddTimeout(deadline)
            .AddRetry(new RetryStrategyOptions<bool>
            {
                ShouldHandle = new PredicateBuilder<bool>()
                    // The client's own HTTP timeout is an OperationCanceledException too: one more look, unless we were cancelled.
                    .Handle<Exception>(e => e is not Polly.Timeout.TimeoutRejectedException && !(e is OperationCanceledException && ct.IsCancellationRequested))
                    .HandleResult(settled => !settled),
                MaxRetryAttempts = int.MaxValue, Delay = interval, BackoffType = DelayBackoffType.Constant,
                OnRetry = args => { if (args.Outcome.Exception is { } e) { problems = [e.Message]; healthy = null; } return default; },
            }).Build();
        try
        {
            await pipeline.ExecuteAsync(async t =>
            {
                var (now, pods) = await look(t);
                if (now.Count > 0)
                {
                    problems = now;
                    healthy = null;
                    progress?.Invoke(problems[0]);
                    return false;
                }
                var restarts = RestartsOf(pods);
                if (healthy?.Restarts != restarts) healthy = (DateTimeOffset.UtcNow, restarts);
                var healthyFor = DateTimeOffset.UtcNow - healthy.Value.Since;
                problems = [$"healthy for {healthyFor.TotalSeconds:0} s of {stable.TotalSeconds:0} s without a restart"];
                progress?.Invoke(problems[0]);
                return healthyFor >= stable;
            }, ct);
            return [];
        }
        catch (Polly.Timeout.TimeoutRejectedException)
        {
            return problems;
        }
    }
}

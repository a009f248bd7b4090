using Harness;
using Harness.Kube;
using Harness.Safety;
using k8s;
using NUnit.Framework;
using Polly;
using Polly.Retry;

namespace Lab.Tests;

/// <summary>Waits until the lab is as the harness wants it before a run: the API answers, every component is healthy,
/// and stays so with no kube-system container restarting for <see cref="Stable"/>. (Right after the API server comes
/// back, the scheduler and controller-manager still show the Ready status they had before it went away, then lose
/// their leader lease and restart: one healthy look is not enough.)</summary>
public static class LabHealth
{
    private static readonly TimeSpan Stable = TimeSpan.FromSeconds(30);

    public static async Task WaitHealthyAsync(Cluster lab, string when)
    {
        IReadOnlyList<string> problems = ["not checked yet"];
        (DateTimeOffset Since, string Restarts)? healthy = null;
        var pipeline = new ResiliencePipelineBuilder<bool>()
            .AddTimeout(TimeSpan.FromMinutes(5))
            .AddRetry(new RetryStrategyOptions<bool>
            {
                // The API itself may still be starting (after the API server's manifest came back): retry that too.
                ShouldHandle = new PredicateBuilder<bool>()
                    .Handle<Exception>(e => e is not Polly.Timeout.TimeoutRejectedException).HandleResult(stable => !stable),
                MaxRetryAttempts = int.MaxValue, Delay = TimeSpan.FromSeconds(3), BackoffType = DelayBackoffType.Constant,
                OnRetry = args => { if (args.Outcome.Exception is { } e) { problems = [e.Message]; healthy = null; } return default; },
            }).Build();
        try
        {
            await pipeline.ExecuteAsync(async ct =>
            {
                problems = await Preflight.HealthAsync(lab, namespaceGone: lab.Profile.Kubernetes.Namespace, TimeSpan.FromSeconds(10), ct);
                if (problems.Count > 0) { healthy = null; return false; }
                var pods = await lab.Api.CoreV1.ListNamespacedPodAsync("kube-system", cancellationToken: ct);
                var restarts = string.Join(",", pods.Items.OrderBy(p => p.Metadata.Name).Select(p => $"{p.Metadata.Name}={p.Restarts()}"));
                if (healthy?.Restarts != restarts) healthy = (DateTimeOffset.UtcNow, restarts);
                var healthyFor = DateTimeOffset.UtcNow - healthy.Value.Since;
                problems = [$"healthy for {healthyFor.TotalSeconds:0} s, waiting for {Stable.TotalSeconds:0} s without a restart"];
                return healthyFor >= Stable;
            });
        }
        catch (Polly.Timeout.TimeoutRejectedException)
        {
            Assert.Fail($"the lab is not healthy {when}: {string.Join("; ", problems)}");
        }
    }
}

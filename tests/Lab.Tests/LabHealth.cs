using Harness;
using Harness.Safety;
using NUnit.Framework;
using Polly;
using Polly.Retry;

namespace Lab.Tests;

/// <summary>Waits until the lab is as the harness wants it before a run: the API answers and every component is healthy.</summary>
public static class LabHealth
{
    public static async Task WaitHealthyAsync(Cluster lab, string when)
    {
        IReadOnlyList<string> problems = ["not checked yet"];
        var pipeline = new ResiliencePipelineBuilder<IReadOnlyList<string>>()
            .AddTimeout(TimeSpan.FromMinutes(4))
            .AddRetry(new RetryStrategyOptions<IReadOnlyList<string>>
            {
                // The API itself may still be starting (after the API server's manifest came back): retry that too.
                ShouldHandle = new PredicateBuilder<IReadOnlyList<string>>()
                    .Handle<Exception>(e => e is not Polly.Timeout.TimeoutRejectedException).HandleResult(r => r.Count > 0),
                MaxRetryAttempts = int.MaxValue, Delay = TimeSpan.FromSeconds(2), BackoffType = DelayBackoffType.Constant,
            }).Build();
        try
        {
            problems = await pipeline.ExecuteAsync(async ct =>
                problems = await Preflight.HealthAsync(lab, expectNamespaceGone: true, TimeSpan.FromSeconds(10), ct));
        }
        catch (Polly.Timeout.TimeoutRejectedException)
        {
            Assert.Fail($"the lab is not healthy {when}: {string.Join("; ", problems)}");
        }
    }
}

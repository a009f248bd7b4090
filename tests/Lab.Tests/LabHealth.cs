using Harness;
using Harness.Safety;
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
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);

    public static async Task WaitHealthyAsync(Cluster lab, string when)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<string> problems = ["not checked yet"];
        (TimeSpan Since, string Restarts)? healthy = null;
        while (clock.Elapsed < Deadline)
        {
            try
            {
                problems = await Preflight.HealthAsync(lab, namespaceGone: lab.Profile.Kubernetes.Namespace, TimeSpan.FromSeconds(10), default);
                var restarts = problems.Count == 0 ? await KubeSystemRestartsAsync(lab) : "";
                if (problems.Count > 0 || healthy is null || healthy.Value.Restarts != restarts) healthy = problems.Count == 0 ? (clock.Elapsed, restarts) : null;
                else if (clock.Elapsed - healthy.Value.Since >= Stable) return;
                if (problems.Count == 0) problems = [$"healthy for {(clock.Elapsed - healthy!.Value.Since).TotalSeconds:0} s, waiting for {Stable.TotalSeconds:0} s without a restart"];
            }
            catch (Exception e) // the API itself may still be starting (after the API server's manifest came back)
            {
                problems = [e.Message];
                healthy = null;
            }
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        Assert.Fail($"the lab is not healthy {when} after {Deadline.TotalMinutes:0} min: {string.Join("; ", problems)}");
    }

    private static async Task<string> KubeSystemRestartsAsync(Cluster lab)
    {
        var pods = await lab.Api.CoreV1.ListNamespacedPodAsync("kube-system");
        return string.Join(",", pods.Items.OrderBy(p => p.Metadata.Name)
            .Select(p => $"{p.Metadata.Name}={p.Status.ContainerStatuses?.Sum(c => c.RestartCount) ?? 0}"));
    }
}

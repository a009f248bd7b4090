using Harness.ClusterAccess;
using Harness.Kube;
using Harness.Probes;
using Harness.Reporting;
using Harness.Safety;

namespace Harness.Checks;

/// <summary>
/// What the lifecycle (<see cref="CheckLifecycle"/>) does on the cluster around a check's own steps: the steady-state
/// look, the check's namespace, the evidence of a red check, and whether the check left something behind. The unit
/// tests give the lifecycle a fake.
/// </summary>
public interface ILifecycleCluster
{
    /// <summary>
    /// The steady state, asked the same way before and after a check: every node Ready and schedulable, kubelet and the
    /// container runtime active, the control plane and kube-system's components healthy; after a check, also nothing of
    /// it left. Each problem in one line; none when the cluster is steady.
    /// </summary>
    /// <param name="settle">How long nodes and components may take to settle before a deviation counts.</param>
    /// <param name="brokenElsewhere">Nodes other checks running side by side are breaking now: not looked at.</param>
    /// <param name="namespaceGone">After a check: its namespace, which must be gone. Null before it (nothing made yet).</param>
    Task<IReadOnlyList<string>> SteadyStateAsync(TimeSpan settle, IReadOnlySet<string> brokenElsewhere, string? namespaceGone, CancellationToken ct);

    /// <summary><c>kubectl create namespace NS</c>, ready for pods.</summary>
    Task CreateNamespaceAsync(string ns, CancellationToken ct);

    /// <summary>What the check's namespace needs before its pods (the profile's image pull secret), each as a step of <paramref name="report"/>.</summary>
    Task FurnishNamespaceAsync(string ns, TestScope report, CancellationToken ct);

    /// <summary>The evidence of a red check, attached to the open step: its namespace's objects and events, the kubelet journals of <paramref name="nodes"/>.</summary>
    Task AttachEvidenceAsync(string ns, DateTimeOffset since, IEnumerable<string> nodes, TestScope report);
}

/// <summary>The lifecycle's work on a real cluster.</summary>
public sealed class LifecycleCluster(Cluster cluster) : ILifecycleCluster
{
    /// <summary>The preflight's health look without its probe pods (<see cref="Preflight.HealthAsync"/>); an API that fails or hangs is explained from the control plane.</summary>
    public Task<IReadOnlyList<string>> SteadyStateAsync(TimeSpan settle, IReadOnlySet<string> brokenElsewhere, string? namespaceGone, CancellationToken ct) =>
        Preflight.HealthAsync(cluster, namespaceGone, settle, ct, brokenElsewhere);

    public Task CreateNamespaceAsync(string ns, CancellationToken ct) => cluster.Namespaces.EnsureAsync(ns, ct);

    public async Task FurnishNamespaceAsync(string ns, TestScope report, CancellationToken ct)
    {
        var setting = cluster.Profile.Images.PullSecret;
        if (PullSecrets.Source(setting) is var (secretNs, secret))
            await report.Step($"images.pullSecret: Secret {secretNs}/{secret} copied into {ns} (pods name it in imagePullSecrets)", StepPart.Harness,
                () => PullSecrets.CopyAsync(cluster.Api, setting, ns, ct));
    }

    /// <summary>Also the control plane's kubelet journal: it runs the components every check needs.</summary>
    public Task AttachEvidenceAsync(string ns, DateTimeOffset since, IEnumerable<string> nodes, TestScope report) =>
        Evidence.AttachAsync(cluster, ns, since, nodes.Append(cluster.Profile.ControlPlane), report, CancellationToken.None);
}


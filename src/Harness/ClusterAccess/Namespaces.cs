using Harness.Kube;
using Harness.Profiles;
using Harness.Waits;
using k8s;
using k8s.Models;

namespace Harness.ClusterAccess;

/// <summary>The suite's namespaces: made ready for pods before a check, removed with everything in them after it.</summary>
public sealed class Namespaces(IKubernetes api, ClusterProfile profile, string serverVersion, Action<string>? progress)
{
    /// <summary><c>kubectl create namespace NS</c>, ready for pods (its default service account exists); one being deleted is waited out first.</summary>
    public async Task EnsureAsync(string ns, CancellationToken ct)
    {
        var existing = await api.CoreV1.ListNamespaceAsync(fieldSelector: $"metadata.name={ns}", cancellationToken: ct);
        if (existing.Items.Count > 0 && existing.Items[0].Metadata.DeletionTimestamp is not null)
            await DeleteAsync(ns, ct);
        else if (existing.Items.Count > 0) return;
        await api.CoreV1.CreateNamespaceAsync(new V1Namespace
        {
            Metadata = new V1ObjectMeta { Name = ns, Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "verification" } },
        }, cancellationToken: ct);

        // Before 1.24 a pod is refused ("No API token found for service account default") until the token
        // controller has given the namespace's default ServiceAccount its secret.
        var tokenSecretsExpected = ServerMinor < 24;
        await Watches.ServiceAccounts(api, ns).UntilAsync(
            all => all.TryGetValue("default", out var sa) && (!tokenSecretsExpected || sa.Secrets?.Count > 0),
            $"the default service account of {ns}", profile.Timeouts.ToTimeouts().PodReady,
            all => string.Join(", ", all.Keys), progress, ct);
    }

    private int ServerMinor =>
        int.TryParse(new string(serverVersion.Split('.').ElementAtOrDefault(1)?.TakeWhile(char.IsDigit).ToArray()), out var minor) ? minor : 99;

    /// <summary>
    /// Removes the suite's namespace once a check is over. Its pods are deleted at once (grace period 0): the check is
    /// over, so their graceful shutdown (up to 30 s each, on a drained or cordoned node longer) is no symptom of the book's
    /// and not worth waiting for. Controllers go first so nothing recreates the pods meanwhile, and the workloads go
    /// while their service-account secrets still exist: a kubelet that was just restarted re-mounts a terminating pod's
    /// volumes before it kills it, and without the secret the pod hangs in Terminating (seen with kubelet 1.20).
    /// </summary>
    public async Task DeleteAsync(string ns, CancellationToken ct)
    {
        var deadline = profile.Timeouts.ToTimeouts().PodGone;
        try
        {
            foreach (var deployment in (await api.AppsV1.ListNamespacedDeploymentAsync(ns, cancellationToken: ct)).Items)
                await api.AppsV1.DeleteNamespacedDeploymentAsync(deployment.Name(), ns, propagationPolicy: "Orphan", cancellationToken: ct);
            await api.AppsV1.DeleteCollectionNamespacedReplicaSetAsync(ns, propagationPolicy: "Orphan", cancellationToken: ct);
            await api.CoreV1.DeleteCollectionNamespacedPodAsync(ns, gracePeriodSeconds: 0, cancellationToken: ct);
            await new ClusterWaits(api, ns, progress, ct).Pods().Until(pods => pods.Count == 0, $"the pods of {ns} to be deleted", deadline);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound) { return; }

        try { await api.CoreV1.DeleteNamespaceAsync(ns, cancellationToken: ct); }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound) { return; }
        await Watches.Namespace(api, ns).UntilAsync(all => all.Count == 0, $"namespace {ns} to be deleted",
            deadline, all => all.Count == 0 ? "gone" : "Terminating", progress, ct);
    }
}

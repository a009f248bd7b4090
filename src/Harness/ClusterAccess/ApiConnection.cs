using Harness.Diagnosis;
using Harness.Text;
using k8s;

namespace Harness.ClusterAccess;

/// <summary>The one Kubernetes client of a run, made from the fetched admin.conf, and the first questions asked of it.</summary>
internal static class ApiConnection
{
    /// <summary>
    /// Reaches the API of the cluster whose nodes are <paramref name="nodes"/> and returns the client and the server's
    /// version. An API that does not answer (or hangs on a request that needs etcd) gets one look at the control plane
    /// over SSH (<see cref="ControlPlaneDiagnosis"/>): a broken kube-apiserver or etcd is a
    /// <see cref="ClusterUnhealthyException"/> naming it; anything else is unreachable, with what was seen.
    /// </summary>
    public static async Task<(IKubernetes Api, string ServerVersion)> ConnectAsync(NodeAccess nodes, Action<string>? log, CancellationToken ct)
    {
        var profile = nodes.Profile;
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(nodes.KubeconfigPath,
            masterUrl: string.IsNullOrEmpty(profile.Kubernetes.ApiServer) ? null : profile.Kubernetes.ApiServer);
        config.HttpClientTimeout = TimeSpan.FromSeconds(30);
        var api = new Kubernetes(config);
        string version;
        try
        {
            using var apiDeadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            apiDeadline.CancelAfter(profile.Timeouts.ToTimeouts().Connect);
            version = (await api.Version.GetCodeAsync(apiDeadline.Token)).GitVersion;
            // /version answers without etcd: one small list that needs etcd tells an API server that hangs on every request.
            await api.CoreV1.ListNamespaceAsync(limit: 1, cancellationToken: apiDeadline.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            api.Dispose();
            var why = e is OperationCanceledException ? $"no answer within {profile.Timeouts.ToTimeouts().Connect.TotalSeconds:0} s" : Secrets.Redact(e.Message);
            // Look at the control plane over SSH, so the message names the component (its manifest moved away, its
            // container crash-looping, etcd failing in /readyz) rather than only "unreachable".
            ControlPlaneReport? diagnosis = null;
            try { diagnosis = await ControlPlaneDiagnosis.ReadAsync(nodes.ControlPlane, profile, ct); }
            catch (Exception) when (!ct.IsCancellationRequested) { }
            // Only the API server and etcd explain its silence; a missing scheduler or a stopped kubelet (the
            // containers keep running) does not, and is said with the rest of the diagnosis.
            if (diagnosis?.Problems.Any(p => p.Component is "kube-apiserver" or "etcd") == true)
                throw new ClusterUnhealthyException(profile.Name,
                    [.. diagnosis.Problems.Select(p => p.ToString()), $"the Kubernetes API at {config.Host} did not answer ({why})"], diagnosis.Evidence);
            throw new ClusterUnreachableException(
                $"Infrastructure: {ClusterUnreachableException.Where(profile)}: the Kubernetes API at {config.Host} did not answer ({why}). " +
                "Is kube-apiserver running on the control plane, and is that address reachable from here? " +
                "Set 'kubernetes.apiServer' in the profile if the API is reachable only through another address." +
                (diagnosis is null ? "" : $" Diagnosis: {diagnosis}"), e);
        }
        log?.Invoke($"Kubernetes API {config.Host} answers: {version}");
        return (api, version);
    }
}

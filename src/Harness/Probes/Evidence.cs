using System.Text;
using Harness.ClusterAccess;
using Harness.Reporting;
using Harness.Text;
using k8s;
using k8s.Models;

namespace Harness.Probes;

/// <summary>
/// What a Kubernetes engineer asks for first when a check is red: the objects, the events, the kubelet journal of the
/// nodes involved since the check began. Collecting evidence never hides the original failure: each piece is tried
/// on its own and a piece that cannot be had says why.
/// </summary>
public static class Evidence
{
    /// <param name="ns">The check's namespace: its pods, deployments and events are what went wrong.</param>
    /// <param name="report">The check's report: each piece is attached to its open step.</param>
    public static async Task AttachAsync(Cluster cluster, string ns, DateTimeOffset since, IEnumerable<string> nodes, TestScope report,
        CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        var token = deadline.Token;

        // First, over SSH: what the control plane's containers, /readyz and etcd say, which answers when the API hangs.
        await Piece(report, "control plane (static pods' containers, /readyz, etcd health)", "text/plain", "txt", async () =>
        {
            var look = await Diagnosis.ControlPlaneDiagnosis.ReadAsync(cluster.ControlPlane, cluster.Profile, token, TimeSpan.FromSeconds(30));
            return $"{(look.Problems.Count == 0 ? "nothing broken seen" : string.Join("\n", look.Problems))}\n\n{look.Evidence}";
        });
        await Piece(report, "pods (YAML)", "application/yaml", "yaml", async () =>
        {
            var pods = await cluster.Api.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: token);
            return string.Join("---\n", pods.Items.Select(p => { p.Metadata.ManagedFields = null; return KubernetesYaml.Serialize(p); }));
        });
        await Piece(report, "deployments (YAML)", "application/yaml", "yaml", async () =>
        {
            var deployments = await cluster.Api.AppsV1.ListNamespacedDeploymentAsync(ns, cancellationToken: token);
            return string.Join("---\n", deployments.Items.Select(d => { d.Metadata.ManagedFields = null; return KubernetesYaml.Serialize(d); }));
        });
        await Piece(report, "events", "text/plain", "txt", async () => FormatEvents(
            (await cluster.Api.CoreV1.ListNamespacedEventAsync(ns, cancellationToken: token)).Items
            .Concat((await cluster.Api.CoreV1.ListNamespacedEventAsync("default", cancellationToken: token)).Items
                .Where(e => e.InvolvedObject.Kind == "Node"))));
        await Piece(report, "kubectl get nodes", "text/plain", "txt", async () => (await cluster.Kubectl.RunAsync("get nodes -o wide", ns, token)).ToString());
        await Piece(report, $"kubectl get pods -n {ns} -o wide", "text/plain", "txt", async () => (await cluster.Kubectl.RunAsync($"get pods -n {ns} -o wide", ns, token)).ToString());
        foreach (var node in nodes.Distinct())
            await Piece(report, $"journalctl -u kubelet on {node}", "text/plain", "txt", () => cluster.Kubelets.JournalAsync(node, since, token));
    }

    public static string FormatEvents(IEnumerable<Corev1Event> events)
    {
        var text = new StringBuilder("LAST SEEN  TYPE  REASON  OBJECT  MESSAGE\n");
        foreach (var e in events.OrderBy(e => e.LastTimestamp ?? e.EventTime ?? e.Metadata.CreationTimestamp))
            text.AppendLine($"{(e.LastTimestamp ?? e.EventTime ?? e.Metadata.CreationTimestamp):HH:mm:ss}  {e.Type}  {e.Reason}  " +
                            $"{e.InvolvedObject.Kind.ToLowerInvariant()}/{e.InvolvedObject.Name}  {e.Message}");
        return text.ToString();
    }

    private static async Task Piece(TestScope report, string name, string mime, string ext, Func<Task<string>> collect)
    {
        string content;
        try { content = await collect(); }
        catch (Exception e) { content = $"could not collect {name}: {Secrets.Redact(e.Message)}"; }
        report.Attach(name, content, mime, ext);
    }
}

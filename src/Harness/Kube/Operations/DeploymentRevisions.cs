using k8s;
using k8s.Models;

namespace Harness.Kube.Operations;

/// <summary>The Deployment bookkeeping that kubectl's rollout commands read.</summary>
public static class DeploymentRevisions
{
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    public const string ChangeCauseAnnotation = "kubernetes.io/change-cause";
    public const string PodTemplateHashLabel = "pod-template-hash";

    /// <summary>The ReplicaSet's revision, or null when the annotation is missing or not a number (kubectl skips those).</summary>
    public static long? RevisionOf(V1ReplicaSet replicaSet) =>
        replicaSet.Metadata?.Annotations is { } annotations
        && annotations.TryGetValue(RevisionAnnotation, out var text)
        && long.TryParse(text, out var revision)
            ? revision
            : null;

    /// <summary>The ReplicaSets whose controller is this Deployment (kubectl's GetAllReplicaSets).</summary>
    public static async Task<IReadOnlyList<V1ReplicaSet>> OwnedReplicaSetsAsync(
        IKubernetes client, V1Deployment deployment, CancellationToken cancellationToken)
    {
        var matchLabels = deployment.Spec.Selector?.MatchLabels ?? new Dictionary<string, string>();
        var selector = string.Join(",", matchLabels.Select(label => $"{label.Key}={label.Value}"));
        var list = await client.AppsV1.ListNamespacedReplicaSetAsync(
            deployment.Metadata.NamespaceProperty,
            labelSelector: selector.Length == 0 ? null : selector,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return list.Items
            .Where(rs => rs.Metadata.OwnerReferences?.Any(owner =>
                owner.Controller == true && owner.Uid == deployment.Metadata.Uid) == true)
            .ToList();
    }
}

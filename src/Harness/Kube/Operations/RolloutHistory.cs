using System.Text;
using k8s;
using k8s.Models;

namespace Harness.Kube.Operations;

/// <summary>kubectl's <c>rollout history deployment</c>: one row per owned ReplicaSet that carries a revision.</summary>
public static class RolloutHistory
{
    public static async Task<IReadOnlyList<(long Revision, string? ChangeCause)>> GetAsync(
        IKubernetes client, string ns, string name, CancellationToken cancellationToken)
    {
        var deployment = await client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        var replicaSets = await DeploymentRevisions.OwnedReplicaSetsAsync(client, deployment, cancellationToken)
            .ConfigureAwait(false);
        return FromReplicaSets(replicaSets);
    }

    public static IReadOnlyList<(long Revision, string? ChangeCause)> FromReplicaSets(IEnumerable<V1ReplicaSet> replicaSets) =>
        replicaSets
            .Select(rs => (Revision: DeploymentRevisions.RevisionOf(rs), ReplicaSet: rs))
            .Where(entry => entry.Revision is not null)
            .Select(entry => (entry.Revision!.Value, ChangeCauseOf(entry.ReplicaSet)))
            .OrderBy(row => row.Item1)
            .ToList();

    private static string? ChangeCauseOf(V1ReplicaSet replicaSet) =>
        replicaSet.Metadata.Annotations is { } annotations
        && annotations.TryGetValue(DeploymentRevisions.ChangeCauseAnnotation, out var cause)
            ? cause
            : null;

    /// <summary>The text kubectl prints, e.g. <c>deployment.apps/x \nREVISION  CHANGE-CAUSE\n1         kubectl apply …</c>.</summary>
    public static string Format(string name, IReadOnlyList<(long Revision, string? ChangeCause)> history)
    {
        // kubectl's tabwriter pads the REVISION column to its widest cell plus two spaces.
        var width = history.Select(row => row.Revision.ToString().Length).Append("REVISION".Length).Max() + 2;
        var text = new StringBuilder();
        text.Append("deployment.apps/").Append(name).Append(" \n");
        text.Append("REVISION".PadRight(width)).Append("CHANGE-CAUSE\n");
        foreach (var (revision, changeCause) in history)
            text.Append(revision.ToString().PadRight(width))
                .Append(string.IsNullOrEmpty(changeCause) ? "<none>" : changeCause).Append('\n');
        return text.ToString();
    }
}

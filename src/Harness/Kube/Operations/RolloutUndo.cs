using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Harness.Kube.Operations;

public enum RollbackOutcome
{
    /// <summary>Patch the Deployment back to <see cref="RollbackPlan.Template"/>.</summary>
    Patch,
    /// <summary>The current template already is the target revision: nothing to do.</summary>
    Skip,
    /// <summary>kubectl would refuse; <see cref="RollbackPlan.Message"/> is its error.</summary>
    Refused,
}

/// <summary>What <c>kubectl rollout undo</c> would do. Message is kubectl's text for the outcome.</summary>
public sealed record RollbackPlan(
    RollbackOutcome Outcome,
    string Message,
    long Revision = 0,
    V1PodTemplateSpec? Template = null,
    IReadOnlyDictionary<string, string>? Annotations = null)
{
    /// <summary>kubectl's JSON patch: replace /spec/template and /metadata/annotations.</summary>
    public string ToJsonPatch()
    {
        if (Outcome != RollbackOutcome.Patch || Template is null || Annotations is null)
            throw new InvalidOperationException($"A {Outcome} plan has no patch.");
        var annotations = new JsonObject();
        foreach (var (key, value) in Annotations) annotations[key] = value;
        var ops = new JsonArray(
            new JsonObject
            {
                ["op"] = "replace",
                ["path"] = "/spec/template",
                ["value"] = JsonNode.Parse(KubernetesJson.Serialize(Template)),
            },
            new JsonObject { ["op"] = "replace", ["path"] = "/metadata/annotations", ["value"] = annotations });
        return ops.ToJsonString();
    }
}

/// <summary>kubectl's <c>rollout undo deployment [--to-revision=N]</c>, done through the API (there is no undo endpoint).</summary>
public static class RolloutUndo
{
    // kubectl keeps these on the Deployment (its own bookkeeping) instead of copying them from the ReplicaSet.
    public static readonly IReadOnlySet<string> AnnotationsKeptOnDeployment = new HashSet<string>
    {
        DeploymentRevisions.RevisionAnnotation,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "kubectl.kubernetes.io/last-applied-configuration",
        "deprecated.deployment.rollback.to",
    };

    /// <param name="toRevision">0 means the previous revision (the second highest), as kubectl.</param>
    public static RollbackPlan Plan(
        V1Deployment deployment, IReadOnlyList<V1ReplicaSet> replicaSetsOwnedByIt, long toRevision = 0)
    {
        var name = deployment.Metadata.Name;
        if (toRevision < 0) return Refused(RevisionNotFound(toRevision));

        var byRevision = replicaSetsOwnedByIt
            .Select(rs => (Revision: DeploymentRevisions.RevisionOf(rs), ReplicaSet: rs))
            .Where(entry => entry.Revision is not null)
            .OrderByDescending(entry => entry.Revision)
            .ToList();

        (long? Revision, V1ReplicaSet ReplicaSet) target;
        if (toRevision > 0)
        {
            target = byRevision.FirstOrDefault(entry => entry.Revision == toRevision);
            if (target.ReplicaSet is null) return Refused(RevisionNotFound(toRevision));
        }
        else
        {
            // kubectl takes the second-newest ReplicaSet, not "current revision minus one".
            if (byRevision.Count < 2) return Refused($"no rollout history found for deployment \"{name}\"");
            target = byRevision[1];
        }

        // kubectl looks the revision up before it checks for a pause, so a missing revision wins.
        if (deployment.Spec.Paused == true)
            return Refused($"you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/{name}' and try again");

        var revision = target.Revision!.Value;
        var template = WithoutTemplateHash(target.ReplicaSet.Spec.Template);
        if (SameJson(template, WithoutTemplateHash(deployment.Spec.Template)))
            // kubectl names the revision as asked: plain `undo` prints "revision 0".
            return new RollbackPlan(RollbackOutcome.Skip,
                $"skipped rollback (current template already matches revision {toRevision})", revision);

        var annotations = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in deployment.Metadata.Annotations ?? new Dictionary<string, string>())
            if (AnnotationsKeptOnDeployment.Contains(key)) annotations[key] = value;
        foreach (var (key, value) in target.ReplicaSet.Metadata.Annotations ?? new Dictionary<string, string>())
            if (!AnnotationsKeptOnDeployment.Contains(key)) annotations[key] = value;

        return new RollbackPlan(RollbackOutcome.Patch, "rolled back", revision, template, annotations);
    }

    /// <summary>Runs the plan; returns kubectl's line (<c>deployment.apps/x rolled back</c> or the skip notice).</summary>
    /// <exception cref="InvalidOperationException">kubectl's error when it would refuse.</exception>
    public static async Task<string> UndoAsync(
        IKubernetes client, string ns, string name, long toRevision, CancellationToken cancellationToken)
    {
        var deployment = await client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        var replicaSets = await DeploymentRevisions.OwnedReplicaSetsAsync(client, deployment, cancellationToken)
            .ConfigureAwait(false);
        var plan = Plan(deployment, replicaSets, toRevision);
        switch (plan.Outcome)
        {
            case RollbackOutcome.Refused:
                throw new InvalidOperationException(plan.Message);
            case RollbackOutcome.Patch:
                await client.AppsV1.PatchNamespacedDeploymentAsync(
                    new V1Patch(plan.ToJsonPatch(), V1Patch.PatchType.JsonPatch), name, ns,
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                break;
        }
        return $"deployment.apps/{name} {plan.Message}";
    }

    private static RollbackPlan Refused(string message) => new(RollbackOutcome.Refused, message);

    private static string RevisionNotFound(long revision) => $"unable to find specified revision {revision} in history";

    /// <summary>A deep copy without the pod-template-hash label the ReplicaSet controller adds.</summary>
    private static V1PodTemplateSpec WithoutTemplateHash(V1PodTemplateSpec template)
    {
        var copy = KubernetesJson.Deserialize<V1PodTemplateSpec>(KubernetesJson.Serialize(template));
        copy.Metadata ??= new V1ObjectMeta();
        copy.Metadata.Labels?.Remove(DeploymentRevisions.PodTemplateHashLabel);
        // kubectl compares semantically, where an empty map equals a missing one.
        if (copy.Metadata.Labels is { Count: 0 }) copy.Metadata.Labels = null;
        return copy;
    }

    private static bool SameJson(V1PodTemplateSpec a, V1PodTemplateSpec b) =>
        JsonNode.DeepEquals(JsonNode.Parse(KubernetesJson.Serialize(a)), JsonNode.Parse(KubernetesJson.Serialize(b)));
}

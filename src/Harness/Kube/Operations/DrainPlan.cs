using k8s.Models;

namespace Harness.Kube.Operations;

/// <summary>kubectl drain's flags that decide which pods may go.</summary>
public sealed record DrainOptions(bool IgnoreDaemonSets = false, bool Force = false, bool DeleteEmptyDirData = false);

/// <summary>
/// The pods drain would evict, and kubectl's refusal and warning texts.
/// <see cref="Error"/> is non-null when kubectl would abort.
/// </summary>
public sealed record DrainPlan(IReadOnlyList<V1Pod> ToEvict, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings)
{
    public bool Refused => Errors.Count > 0;

    /// <summary>As Go's aggregate error prints: one error alone, several as <c>[a, b]</c>.</summary>
    public string? Error => Errors.Count switch
    {
        0 => null,
        1 => Errors[0],
        _ => "[" + string.Join(", ", Errors) + "]",
    };

    /// <summary>The text after kubectl's <c>WARNING: </c>, or null.</summary>
    public string? Warning => Warnings.Count == 0 ? null : string.Join("; ", Warnings);
}

/// <summary>kubectl's pod filters for drain (pkg/drain/filters.go, 1.18–1.20 wording).</summary>
public static partial class Drain
{
    public const string MirrorPodAnnotation = "kubernetes.io/config.mirror";

    private const string DaemonSetFatal = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)";
    private const string DaemonSetWarning = "ignoring DaemonSet-managed Pods";
    private const string LocalStorageFatal = "Pods with local storage (use --delete-emptydir-data to override)";
    private const string LocalStorageWarning = "deleting Pods with local storage";
    private const string UnmanagedFatal =
        "Pods not managed by ReplicationController, ReplicaSet, Job, DaemonSet or StatefulSet (use --force to override)";
    private const string UnmanagedWarning =
        "deleting Pods not managed by ReplicationController, ReplicaSet, Job, DaemonSet or StatefulSet";

    private enum Verdict { Okay, Skip, Warning, Error }

    private readonly record struct Status(bool Delete, Verdict Verdict, string? Message = null);

    /// <summary>Which pods kubectl drain would evict from a node holding <paramref name="podsOnNode"/>.</summary>
    public static DrainPlan Plan(IReadOnlyList<V1Pod> podsOnNode, DrainOptions options)
    {
        var filters = new Func<V1Pod, DrainOptions, Status>[] { DaemonSet, Mirror, LocalStorage, Unmanaged };
        var toEvict = new List<V1Pod>();
        // Message → pods, in order of first appearance (kubectl uses a Go map, so its order varies).
        var errors = new Dictionary<string, List<string>>();
        var warnings = new Dictionary<string, List<string>>();
        foreach (var pod in podsOnNode)
        {
            // As kubectl: run filters until one says "keep"; the last status run is the pod's status.
            var status = new Status(true, Verdict.Okay);
            foreach (var filter in filters)
            {
                status = filter(pod, options);
                if (!status.Delete) break;
            }
            if (status.Delete) toEvict.Add(pod);
            var bucket = status.Verdict switch
            {
                Verdict.Error => errors,
                Verdict.Warning => warnings,
                _ => null,
            };
            if (bucket is not null)
            {
                if (!bucket.TryGetValue(status.Message!, out var pods)) bucket[status.Message!] = pods = [];
                pods.Add($"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}");
            }
        }
        return new DrainPlan(
            toEvict,
            errors.Select(e => $"cannot delete {e.Key}: {string.Join(", ", e.Value)}").ToList(),
            warnings.Select(w => $"{w.Key}: {string.Join(", ", w.Value)}").ToList());
    }

    private static Status DaemonSet(V1Pod pod, DrainOptions options)
    {
        if (ControllerKind(pod) != "DaemonSet" || IsFinished(pod)) return Okay;
        // kubectl never deletes a running DaemonSet pod: the DaemonSet would recreate it at once.
        return options.IgnoreDaemonSets
            ? new Status(false, Verdict.Warning, DaemonSetWarning)
            : new Status(false, Verdict.Error, DaemonSetFatal);
    }

    // Static pods belong to the kubelet's manifest directory; the API only holds a mirror of them.
    private static Status Mirror(V1Pod pod, DrainOptions options) =>
        pod.Metadata.Annotations?.ContainsKey(MirrorPodAnnotation) == true ? new Status(false, Verdict.Skip) : Okay;

    private static Status LocalStorage(V1Pod pod, DrainOptions options)
    {
        if (pod.Spec?.Volumes?.Any(v => v.EmptyDir is not null) != true || IsFinished(pod)) return Okay;
        return options.DeleteEmptyDirData
            ? new Status(true, Verdict.Warning, LocalStorageWarning)
            : new Status(false, Verdict.Error, LocalStorageFatal);
    }

    private static Status Unmanaged(V1Pod pod, DrainOptions options)
    {
        if (IsFinished(pod) || ControllerKind(pod) is not null) return Okay;
        return options.Force
            ? new Status(true, Verdict.Warning, UnmanagedWarning)
            : new Status(false, Verdict.Error, UnmanagedFatal);
    }

    private static readonly Status Okay = new(true, Verdict.Okay);

    private static string? ControllerKind(V1Pod pod) =>
        pod.Metadata.OwnerReferences?.FirstOrDefault(owner => owner.Controller == true)?.Kind;

    private static bool IsFinished(V1Pod pod) => pod.Status?.Phase is "Succeeded" or "Failed";
}

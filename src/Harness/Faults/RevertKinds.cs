namespace Harness.Faults;

/// <summary>
/// What each kind of revert means, one entry per kind, apart from carrying it out (that is the cluster access's, one
/// reverter per kind): how it reads in the ledger, the log and the report, whether it needs the Kubernetes API, and
/// whether an entry written before entries carried an identity is what this profile would have registered itself
/// (see <see cref="Healing.Decide"/>).
/// </summary>
public static class RevertKinds
{
    /// <param name="NeedsApi">Carrying it out needs the API; those that do not can be healed before the API answers.</param>
    /// <param name="Describe">The revert as the book would type it.</param>
    /// <param name="IsProfilesOwn">An entry without identity is this profile's own: its node, namespace or revert command.</param>
    public sealed record Rules(bool NeedsApi, Func<Revert, string> Describe, Func<Revert, ClusterIdentity, bool> IsProfilesOwn);

    private static readonly IReadOnlyDictionary<RevertKind, Rules> All = new Dictionary<RevertKind, Rules>
    {
        [RevertKind.NodeCommand] = new(NeedsApi: false,
            r => $"on {r.Target}: {r.Command}",
            (r, id) => id.Nodes.Contains(r.Target) && r.Command is not null && id.OwnRevertCommands.Contains(r.Command)),
        // A reboot waits for the node's Ready through the API.
        [RevertKind.NodeReboot] = new(NeedsApi: true,
            r => r.Command is null ? $"reboot {r.Target}" : $"on {r.Target}: {r.Command}; reboot",
            (r, id) => id.Nodes.Contains(r.Target) && (string.IsNullOrEmpty(r.Command) || id.OwnRevertCommands.Contains(r.Command))),
        [RevertKind.Uncordon] = new(NeedsApi: true,
            r => $"kubectl uncordon {r.Target}",
            (r, id) => id.Nodes.Contains(r.Target)),
        [RevertKind.DeleteNamespace] = new(NeedsApi: true,
            r => $"kubectl delete namespace {r.Target}",
            (r, id) => r.Target == id.Namespace
                       || id.Namespace is not null && r.Target.StartsWith(id.Namespace + "-", StringComparison.Ordinal)),
        [RevertKind.RestoreStaticPodManifest] = new(NeedsApi: false,
            r => $"on {r.Target}: {r.Command} ({r.Component}'s manifest back)",
            NotWithoutIdentity),
        [RevertKind.ScaleDeployment] = new(NeedsApi: true,
            r => $"kubectl -n {r.Namespace} scale deployment {r.Target} --replicas={r.Replicas}",
            NotWithoutIdentity),
        [RevertKind.LetDaemonSetOnNode] = new(NeedsApi: true,
            r => $"kubectl -n {r.Namespace} patch daemonset {r.Component}: remove the affinity that keeps it off {r.Target}",
            NotWithoutIdentity),
    };

    /// <summary>Kinds newer than entries without identity: such an entry is never taken for this profile's own.</summary>
    private static bool NotWithoutIdentity(Revert revert, ClusterIdentity identity) => false;

    /// <summary>A kind this harness does not know (a newer harness wrote it): needs the API, and is nobody's here.</summary>
    private static readonly Rules Unknown = new(NeedsApi: true, r => r.Kind.ToString(), NotWithoutIdentity);

    public static Rules Of(RevertKind kind) => All.GetValueOrDefault(kind, Unknown);

    /// <summary>The kinds this table knows.</summary>
    public static IEnumerable<RevertKind> Known => All.Keys;
}

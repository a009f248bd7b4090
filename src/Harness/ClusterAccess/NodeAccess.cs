using Harness.Faults;
using Harness.Nodes;
using Harness.Profiles;

namespace Harness.ClusterAccess;

/// <summary>
/// The cluster's nodes before (or without) its API: discovered, logged in to, admin.conf fetched from the control
/// plane. Enough to carry out reverts that need no API (<see cref="Revert.NeedsApi"/>) — a run killed while the API
/// server's manifest was away is healed through this before anything asks the API (see
/// <see cref="Healing.HealBeforeApiAsync"/>). <see cref="Cluster.ConnectAsync(NodeAccess, Action{string}?, CancellationToken)"/>
/// then adds the API and takes it over.
/// </summary>
public sealed class NodeAccess : IReverter, IAsyncDisposable
{
    private readonly IReadOnlyDictionary<string, INodeShell> _shells;
    private readonly RevertDispatch _reverts;

    private NodeAccess(ClusterProfile profile, IReadOnlyDictionary<string, INodeShell> shells, string kubeconfigPath, string? caFingerprint, Action<string>? progress)
    {
        Profile = profile;
        _shells = shells;
        KubeconfigPath = kubeconfigPath;
        CaFingerprint = caFingerprint;
        Progress = progress;
        _reverts = new RevertDispatch(
            [new NodeCommandRevert(Node, CommandTimeout), new StaticPodRestore(Node, profile, progress)],
            revert => $"'{revert}' needs the Kubernetes API, which this node-only access does not have.");
    }

    /// <summary>The profile with the workers discovery found.</summary>
    public ClusterProfile Profile { get; }

    /// <summary>The local 0600 copy of admin.conf (removed by <see cref="DisposeAsync"/>).</summary>
    public string KubeconfigPath { get; }

    /// <summary>The cluster's CA as admin.conf carries it (<see cref="ClusterIdentity.CaFingerprintOf"/>).</summary>
    public string? CaFingerprint { get; }

    public Action<string>? Progress { get; }

    public INodeShell ControlPlane => Node(Profile.ControlPlane);

    public INodeShell Node(string name) =>
        _shells.TryGetValue(name, out var shell)
            ? shell
            : throw new ArgumentException($"Unknown node '{name}'. Nodes of profile '{Profile.Name}': {string.Join(", ", _shells.Keys)}.");

    /// <summary>
    /// Discover the nodes, log in to each and fetch admin.conf from the control plane; the API is not asked.
    /// Every failure becomes one <see cref="ClusterUnreachableException"/> naming the profile and the fix.
    /// </summary>
    public static async Task<NodeAccess> ConnectAsync(ClusterProfile profile, Action<string>? log, CancellationToken ct)
    {
        var where = ClusterUnreachableException.Where(profile);
        var shells = new Dictionary<string, INodeShell>();
        try
        {
            log?.Invoke($"discovering nodes ({profile.Discovery.Mode})");
            (var endpoints, profile) = await NodeDiscovery.DiscoverAsync(profile, ct);
            var hostKeys = new HostKeyStore(profile.ResolvePath(profile.Login.KnownHostsFile));
            var connectTimeout = profile.Timeouts.ToTimeouts().Connect;
            var connecting = endpoints.Select(async e => (e.Name, Shell: await NodeShell.ConnectAsync(e, hostKeys, connectTimeout, ct))).ToList();
            foreach (var done in await Task.WhenAll(connecting)) shells[done.Name] = done.Shell;
            log?.Invoke($"logged in to {string.Join(", ", shells.Keys)}");
            if (profile.Discovery.Mode == "vagrant") await NodeDiscovery.CheckHostnamesAsync(shells, profile, ct);
            var (kubeconfig, ca) = await AdminKubeconfig.FetchAsync(profile, shells[profile.ControlPlane], ct);
            return new NodeAccess(profile, shells, kubeconfig, ca, log);
        }
        catch (ProfileException e) when (e.IsNodeSetting) { throw; } // found before any login: "bad input", not "unreachable"
        catch (Exception e)
        {
            await LogOutAsync(shells.Values);
            throw ClusterUnreachableException.From(e, where, ct);
        }
    }

    private TimeSpan CommandTimeout => Profile.Timeouts.ToTimeouts().Command;

    /// <summary>The reverts that need no API (a node command, a static-pod manifest put back); any other is refused
    /// (it waits for the pass that has the API).</summary>
    public Task RevertAsync(Revert revert, CancellationToken ct) => _reverts.RevertAsync(revert, ct);

    /// <summary>
    /// Gives the API server its restart time (<c>timeouts.controlPlaneRestartSeconds</c>) to answer its health command on
    /// the control plane, before the API is asked: after etcd came back, kubelet may hold a failed API server in its
    /// crash-loop back-off for minutes, longer than the connect budget. Returns whether it answered; on false the
    /// caller goes on and the API connection names what is wrong.
    /// </summary>
    public async Task<bool> WaitForApiServerAsync(CancellationToken ct)
    {
        if (Profile.Components.HealthCommand("kube-apiserver") is not { } health) return true;
        try
        {
            await ComponentWaits.UntilAsync(StaticPodRestore.RunOn(ControlPlane), "kube-apiserver", health, serving: true,
                StaticPodRestore.RestartDeadline(Profile), Progress, ct);
            return true;
        }
        catch (Waits.WaitTimeoutException) { return false; }
    }

    /// <summary>Logs out of every node and removes the local admin.conf.</summary>
    public async ValueTask DisposeAsync()
    {
        await LogOutAsync(_shells.Values);
        AdminKubeconfig.Delete(KubeconfigPath);
    }

    private static async Task LogOutAsync(IEnumerable<INodeShell> shells)
    {
        foreach (var shell in shells)
            if (shell is IAsyncDisposable connection) await connection.DisposeAsync();
    }
}

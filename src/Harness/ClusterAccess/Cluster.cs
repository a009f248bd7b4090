using Harness.Faults;
using Harness.Kube;
using Harness.Nodes;
using Harness.Profiles;
using Harness.Waits;
using k8s;

namespace Harness.ClusterAccess;

/// <summary>
/// A connected cluster, put together from the parts that each do one job: the nodes' shells (<see cref="NodeAccess"/>:
/// one SSH shell per node, reused, reconnecting after a reboot; admin.conf fetched from the control plane), the one
/// Kubernetes client (<see cref="Api"/>), the book's kubectl (<see cref="Kubectl"/>), kubelets, reboots, namespaces and
/// the workloads the checks change; and the <see cref="IReverter"/> that undoes faults, one reverter per kind.
/// </summary>
public sealed class Cluster : IReverter, IAsyncDisposable
{
    private readonly NodeAccess _nodes;
    private readonly KubectlSession _kubectl;
    private readonly RevertDispatch _reverts;

    private Cluster(NodeAccess nodes, IKubernetes api, string serverVersion, Action<string>? progress)
    {
        _nodes = nodes;
        Profile = nodes.Profile;
        Progress = progress;
        Api = api;
        ServerVersion = serverVersion;
        _kubectl = new KubectlSession(nodes.ControlPlane, Profile);
        Kubelets = new KubeletState(Node, Profile);
        Reboots = new NodeReboots(Node, Profile, ct => Waits(null, ct));
        Namespaces = new Namespaces(api, Profile, serverVersion, progress);
        Deployments = new DeploymentScaling(api, Profile, progress);
        DaemonSets = new DaemonSetPlacement(api, Profile, progress);
        var commandTimeout = Profile.Timeouts.ToTimeouts().Command;
        _reverts = new RevertDispatch(
        [
            new NodeCommandRevert(Node, commandTimeout, (ct => Waits(null, ct), Profile.Timeouts.ToTimeouts().PodReady)),
            new NodeRebootRevert(Node, commandTimeout, Reboots),
            new UncordonRevert(api),
            new DeleteNamespaceRevert(Namespaces),
            new StaticPodRestore(Node, Profile, nodes.Progress), // over SSH, as a later run heals it when the API is down
            new ScaleDeploymentRevert(Deployments),
            new DaemonSetBackOnNodeRevert(DaemonSets),
        ], revert => $"unknown revert: {revert}");
    }

    public ClusterProfile Profile { get; }
    public IKubernetes Api { get; }
    public string ServerVersion { get; }

    /// <summary>The cluster's CA as admin.conf carries it: who the cluster is, also when its API is down (<see cref="ClusterIdentity"/>).</summary>
    public string? CaFingerprint => _nodes.CaFingerprint;

    /// <summary>Where the cluster's own waits (a node back after its reboot, a namespace gone) say how they are doing.</summary>
    public Action<string>? Progress { get; }

    public INodeShell ControlPlane => Node(Profile.ControlPlane);
    public IReadOnlyList<string> Workers => Profile.Workers;
    public INodeShell Node(string name) => _nodes.Node(name);

    /// <summary>The book's kubectl on the control plane, in a check's namespace.</summary>
    public IKubectl Kubectl => _kubectl;

    public KubeletState Kubelets { get; }
    public NodeReboots Reboots { get; }
    public Namespaces Namespaces { get; }
    public DeploymentScaling Deployments { get; }
    public DaemonSetPlacement DaemonSets { get; }

    /// <summary>The waits on <paramref name="ns"/>'s pods (null: nodes only) and on the nodes, reporting to <see cref="Progress"/>.</summary>
    public ClusterWaits Waits(string? ns, CancellationToken ct) => new(Api, ns, Progress, ct);

    /// <summary>
    /// Discover the nodes, log in to each, fetch admin.conf from the control plane and reach the API.
    /// Every failure becomes one <see cref="ClusterUnreachableException"/> naming the profile and the fix.
    /// </summary>
    /// <param name="log">Receives what is being done, and later the progress of the cluster's own waits.</param>
    public static async Task<Cluster> ConnectAsync(ClusterProfile profile, Action<string>? log, CancellationToken ct) =>
        await ConnectAsync(await NodeAccess.ConnectAsync(profile, log, ct), log, ct);

    /// <summary>
    /// Reach the API of the cluster whose nodes are <paramref name="nodes"/> (<see cref="ApiConnection"/>: a silent API
    /// is explained from the control plane over SSH); the cluster then owns them (disposing it logs out). On failure
    /// the nodes are disposed too.
    /// </summary>
    public static async Task<Cluster> ConnectAsync(NodeAccess nodes, Action<string>? log, CancellationToken ct)
    {
        try
        {
            var (api, version) = await ApiConnection.ConnectAsync(nodes, log, ct);
            return new Cluster(nodes, api, version, log);
        }
        catch (Exception e)
        {
            await nodes.DisposeAsync();
            throw ClusterUnreachableException.From(e, ClusterUnreachableException.Where(nodes.Profile), ct);
        }
    }

    public Task RevertAsync(Revert revert, CancellationToken ct) => _reverts.RevertAsync(revert, ct);

    public async ValueTask DisposeAsync()
    {
        await _kubectl.DisposeAsync();
        Api.Dispose();
        await _nodes.DisposeAsync();
    }
}

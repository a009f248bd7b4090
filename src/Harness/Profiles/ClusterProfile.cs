namespace Harness.Profiles;

/// <summary>
/// Which cluster to verify and how: read from fixtures/profiles/&lt;name&gt;.yaml (see <see cref="ProfileLoader"/>).
/// Mutable classes only because YamlDotNet fills them; nothing changes them after loading.
/// </summary>
public sealed class ClusterProfile
{
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";

    /// <summary>Where the profile file was read from; relative paths in it are resolved against its folder.</summary>
    public string SourcePath { get; set; } = "";

    public DiscoverySettings Discovery { get; set; } = new();
    public LoginSettings Login { get; set; } = new();
    public string ControlPlane { get; set; } = "m-k8s";

    /// <summary>The worker nodes. Left out with Vagrant discovery: every machine of the Vagrantfile besides the control
    /// plane (the book's N workers, 2 or 3), filled in by <see cref="WithWorkers"/> once discovered.</summary>
    public List<string> Workers { get; set; } = [];

    /// <summary>Nodes the harness may inject faults into: workers only (see <see cref="ProfileNodes"/>); left out: every
    /// worker. The control plane is never one: its components are stopped through <see cref="ComponentSettings.Stoppable"/>.</summary>
    public List<string> FaultTargets { get; set; } = [];

    public KubernetesSettings Kubernetes { get; set; } = new();
    public ImageSettings Images { get; set; } = new();
    public FaultCommands Commands { get; set; } = new();
    public TimeoutSettings Timeouts { get; set; } = new();
    public SafetySettings Safety { get; set; } = new();
    public ComponentSettings Components { get; set; } = new();
    public EditionSettings Edition { get; set; } = new();

    /// <summary>What this cluster does differently from the book, shown in the report's environment.</summary>
    public List<string> DifferencesFromBook { get; set; } = [];

    /// <summary>The pod network, for the report (e.g. "Calico v3.9.4").</summary>
    public string Cni { get; set; } = "";

    public IEnumerable<string> AllNodes => new[] { ControlPlane }.Concat(Workers);

    /// <summary>This profile with the workers discovery found (fault targets: every worker, unless the profile lists them).</summary>
    public ClusterProfile WithWorkers(IReadOnlyList<string> workers)
    {
        var resolved = (ClusterProfile)MemberwiseClone();
        resolved.Workers = [.. workers];
        resolved.FaultTargets = FaultTargets.Count > 0 ? FaultTargets : [.. workers];
        return resolved;
    }

    public string ResolvePath(string path)
    {
        if (path.StartsWith("~/", StringComparison.Ordinal))
            path = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..]);
        return Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(SourcePath) ?? ".", path));
    }
}

public sealed class DiscoverySettings
{
    /// <summary><c>vagrant</c>: read <c>vagrant ssh-config</c> in <see cref="VagrantDirectory"/>; <c>static</c>: use <see cref="Nodes"/>.</summary>
    public string Mode { get; set; } = "static";
    public string VagrantDirectory { get; set; } = "";

    /// <summary>How Vagrant names the machine of a node: <c>{node}</c> (the book: machine m-k8s is node m-k8s) or e.g.
    /// <c>{node}-*</c> (the revised edition: machine cp-k8s-1.36.0 is node cp-k8s). Checked against each machine's
    /// hostname once logged in.</summary>
    public string MachineNames { get; set; } = "{node}";

    /// <summary>Extra environment for the vagrant command (e.g. DOCKER_HOST for the podman-backed lab).</summary>
    public Dictionary<string, string> VagrantEnvironment { get; set; } = [];

    public List<StaticNode> Nodes { get; set; } = [];
}

public sealed class StaticNode
{
    public string Name { get; set; } = "";
    public string Host { get; set; } = "";
    [Allowed(1, 65535, "a TCP port")]
    public int Port { get; set; } = 22;
}

public sealed class LoginSettings
{
    /// <summary>Login user; empty means "what vagrant ssh-config says".</summary>
    public string User { get; set; } = "";

    /// <summary>Private key file; empty means "what vagrant ssh-config says"; <c>none</c> means password login only.</summary>
    public string PrivateKey { get; set; } = "";

    /// <summary>Name of the environment variable holding the password. The password itself is never in a profile.</summary>
    public string PasswordVariable { get; set; } = "";

    /// <summary>
    /// Where host key fingerprints are pinned on first contact. Empty means <see cref="DefaultKnownHostsFile"/>, one
    /// file per profile: profiles that reach different clusters through the same forwarded address (the book's and the
    /// revised edition's both use 127.0.0.1:60010) must not refuse each other's keys.
    /// </summary>
    public string KnownHostsFile { get; set; } = "";

    public static string DefaultKnownHostsFile(string profileName) => $"~/.cache/verification/known_hosts-{profileName}.json";
}

public sealed class KubernetesSettings
{
    /// <summary>The suite's own namespace: every object it creates lives here and the namespace is deleted afterwards.</summary>
    public string Namespace { get; set; } = "verification";
    public string AdminKubeconfig { get; set; } = "/etc/kubernetes/admin.conf";

    /// <summary>Replaces the kubeconfig's server address when the API is reachable only through another address.</summary>
    public string ApiServer { get; set; } = "";

    /// <summary>kubectl on the nodes (for the book's commands shown in the report).</summary>
    public string Kubectl { get; set; } = "kubectl";

    /// <summary>
    /// Whether the book's commands use <c>--record</c> (the book's 1.18). kubectl deprecated it in 1.22; without it the
    /// change-cause is written with <c>kubectl annotate deployment NAME kubernetes.io/change-cause=… --overwrite</c>,
    /// as the Kubernetes documentation shows.
    /// </summary>
    public bool KubectlHasRecord { get; set; } = true;

    /// <summary>
    /// The flag with which <c>kubectl drain</c> deletes pods that use emptyDir: <c>--delete-local-data</c> up to 1.19
    /// (1.18 knows no other), <c>--delete-emptydir-data</c> from 1.20 (kubectl 1.31 dropped the old one). Left out, it
    /// follows an explicit <see cref="Version"/>, else it is the newer one.
    /// </summary>
    public string DrainEmptyDirFlag { get; set; } = "";

    public const string DeleteLocalData = "--delete-local-data";
    public const string DeleteEmptyDirData = "--delete-emptydir-data";

    /// <summary>
    /// The Kubernetes version every kubelet (and the API server) must run, e.g. <c>1.18.4</c>; <c>vagrantfile</c> reads
    /// the Vagrantfile's <c>Ver</c> as the book's cluster installs it; empty skips the version check.
    /// </summary>
    public string Version { get; set; } = "";

    /// <summary>Container runtime every node must report, e.g. <c>docker</c> or <c>containerd</c> (a version prefix may follow: <c>containerd://1.6</c>).</summary>
    public string ContainerRuntime { get; set; } = "";
}

/// <summary>The cluster's components the steady state checks besides nodes and kubelets (the book's diagram of chapter 3).</summary>
public sealed class ComponentSettings
{
    /// <summary>Where kubeadm keeps the control plane's static-pod manifests on the control plane.</summary>
    public string ManifestsDirectory { get; set; } = "/etc/kubernetes/manifests";

    /// <summary>Static pods of the control plane (kubeadm's names; each has the label component=&lt;name&gt;).</summary>
    public List<string> ControlPlane { get; set; } = ["kube-apiserver", "etcd", "kube-scheduler", "kube-controller-manager"];

    /// <summary>DaemonSets in kube-system that must have a Ready pod on every node (kube-proxy; the CNI's, e.g. calico-node).</summary>
    public List<string> PerNodeDaemonSets { get; set; } = ["kube-proxy"];

    /// <summary>Whether the cluster has CoreDNS (Deployment coredns in kube-system).</summary>
    public bool CoreDns { get; set; } = true;

    /// <summary>
    /// Whether the node's running containers outlive a stop of the container runtime: containerd's unit has
    /// <c>KillMode=process</c>, so its shims (and the containers) stay; dockerd stops its containers when it stops unless
    /// <c>live-restore</c> is set. The container-runtime check asserts that a running pod keeps answering only when true.
    /// Unset: read from the node the check breaks (containerd and cri-o: true; docker: its <c>LiveRestoreEnabled</c>).
    /// </summary>
    public bool? RuntimeStopKeepsContainers { get; set; }

    /// <summary>The CoreDNS Deployment (kubeadm's name) in kube-system and its pods' label.</summary>
    public string CoreDnsDeployment { get; set; } = "coredns";

    // ---- stopping a control-plane component (issue 11), the revised edition's unload-kube-apiserver.sh way ----------

    /// <summary>
    /// Control-plane components the checks may stop by moving their static-pod manifest away (on the control plane,
    /// which is otherwise never a fault target). Empty: the control-plane checks are skipped.
    /// </summary>
    public List<string> Stoppable { get; set; } = ["kube-apiserver", "etcd", "kube-scheduler", "kube-controller-manager"];

    /// <summary>Where a manifest is parked while its component is stopped: outside <see cref="ManifestsDirectory"/>,
    /// since kubelet runs every file in that folder.</summary>
    public string ParkedManifestsDirectory { get; set; } = "/etc/kubernetes/verification-parked";

    /// <summary>Stops a static pod. Placeholders: <c>{manifest}</c> (its file in the manifests folder), <c>{parked}</c>
    /// (where it is parked), <c>{parkedDirectory}</c>, <c>{component}</c>.</summary>
    public string StopStaticPod { get; set; } = "mkdir -p {parkedDirectory} && mv {manifest} {parked}";

    /// <summary>Starts it again; must succeed when the manifest is already back (a later run heals with it, whatever
    /// state the dead run left), and fail when there is no manifest at all.</summary>
    public string StartStaticPod { get; set; } = "if [ -f {parked} ]; then mv {parked} {manifest}; fi; test -f {manifest}";

    /// <summary>
    /// How to ask a component on the control plane whether it serves, without the API (it may be the API that is
    /// down): exit 0 means healthy. Left out, a component gets kubeadm's own liveness probe as a curl (see
    /// <see cref="HealthCommand"/>).
    /// </summary>
    public Dictionary<string, string> Health { get; set; } = [];

    /// <summary>kubeadm's liveness probes of its static pods (manifests of kubeadm 1.18-1.36), asked from the control plane itself.</summary>
    public static readonly IReadOnlyDictionary<string, string> KubeadmHealth = new Dictionary<string, string>
    {
        ["kube-apiserver"] = "curl -fsk --max-time 5 https://127.0.0.1:6443/readyz",
        ["etcd"] = "curl -fs --max-time 5 http://127.0.0.1:2381/health",
        ["kube-scheduler"] = "curl -fsk --max-time 5 https://127.0.0.1:10259/healthz",
        ["kube-controller-manager"] = "curl -fsk --max-time 5 https://127.0.0.1:10257/healthz",
    };

    /// <summary>The profile's health command for <paramref name="component"/>, else kubeadm's probe, else null (not known).</summary>
    public string? HealthCommand(string component) =>
        Health.TryGetValue(component, out var own) && !string.IsNullOrWhiteSpace(own) ? own : KubeadmHealth.GetValueOrDefault(component);
}

/// <summary>Where the book's edition this cluster follows differs in what chapter 3 names and does.</summary>
public sealed class EditionSettings
{
    /// <summary>The pod the chapter runs nginx in: <c>nginx-pod</c> in the first edition, <c>po-nginx</c> in the revised one.</summary>
    public string NginxPod { get; set; } = "nginx-pod";

    /// <summary>Checks whose section this edition's chapter 3 does not have (the revised one has no cordon/drain): still run
    /// as checks of the cluster, labelled so in the report.</summary>
    public List<string> ChecksNotInBook { get; set; } = [];
}

public sealed class ImageSettings
{
    public string Nginx { get; set; } = "nginx";
    public string EchoHname { get; set; } = "sysnet4admin/echo-hname";
    public string RolloutInitial { get; set; } = "nginx:1.15.12";
    public string RolloutUpdate { get; set; } = "nginx:1.16.0";
    public string RolloutMissing { get; set; } = "nginx:1.17.23";

    /// <summary>A pod with <c>nslookup</c> for the CoreDNS check (the Kubernetes DNS debugging page's busybox:1.28; later
    /// busybox builds answer nslookup differently).</summary>
    public string DnsUtils { get; set; } = "busybox:1.28";

    /// <summary>Whether nginx's Server header carries the tag's version (true for the real nginx images, not for rebuilt ones).</summary>
    public bool ServerHeaderShowsVersion { get; set; } = true;

    /// <summary>Optional: the registry mirror the nodes' runtime pulls Docker Hub images through (containerd's
    /// <c>hosts.toml</c> or docker's <c>registry-mirrors</c>, set up by the user). Informational: the harness keeps the
    /// book's image names and names the mirror when a pull is refused for the pull limit.</summary>
    public string RegistryMirror { get; set; } = "";

    /// <summary>Optional: a Secret of type <c>kubernetes.io/dockerconfigjson</c> the user created, as <c>name</c> (in
    /// <c>default</c>) or <c>namespace/name</c>. The harness copies it into each check's namespace (deleted with it) and
    /// names it in <c>imagePullSecrets</c> of the pods it creates; it never writes credentials anywhere else.</summary>
    public string PullSecret { get; set; } = "";
}

/// <summary>Node-level commands for each fault, per OS: CentOS 7 restarts <c>network</c>, Debian/Ubuntu differ.</summary>
public sealed class FaultCommands
{
    public string StopKubelet { get; set; } = "systemctl stop kubelet";
    public string StartKubelet { get; set; } = "systemctl start kubelet";
    public string KubeletActive { get; set; } = "systemctl is-active kubelet";

    /// <summary>Breaks routed traffic to pods on the node (the book: remove br_netfilter and restart the network).</summary>
    public string BreakPodNetwork { get; set; } = "modprobe -r br_netfilter && systemctl restart network";

    /// <summary>Undoes <see cref="BreakPodNetwork"/> before the reboot (the book: modprobe br_netfilter).</summary>
    public string RestorePodNetwork { get; set; } = "modprobe br_netfilter";

    /// <summary>The book's recovery: reboot the node. Run detached, since it drops the SSH connection.</summary>
    public string Reboot { get; set; } = "reboot";

    public string KubeletJournal { get; set; } = "journalctl -u kubelet --no-pager --since '{since}'";

    // ---- node components (issue 11, part 2): each fault and its revert, run as root on one worker -----------------

    /// <summary>Stops the node's container runtime: containerd on the revised edition. The book's docker needs its socket
    /// stopped too (<c>systemctl stop docker.socket docker.service</c>), else kubelet's next call starts it again through
    /// socket activation. <c>{runtimeUnits}</c> (the default) stands for the units of the runtime the node reports: <c>containerd</c>,
    /// <c>docker.socket docker.service</c> or <c>crio</c>.</summary>
    public string StopContainerRuntime { get; set; } = "systemctl stop {runtimeUnits}";

    /// <summary>Undoes <see cref="StopContainerRuntime"/>; a no-op when the runtime already runs (healing repeats it).</summary>
    public string StartContainerRuntime { get; set; } = "systemctl start {runtimeUnits}";

    /// <summary>Takes the node's CNI configuration away: its files moved out of the folder the runtime reads (libcni reads
    /// only <c>/etc/cni/net.d</c> itself, so the parked folder sits beside it, not inside).</summary>
    public string BreakCni { get; set; } = $"mkdir -p {ParkedCniDirectory} && mv /etc/cni/net.d/* {ParkedCniDirectory}/";

    /// <summary>Puts the CNI configuration back. Must succeed when it is already back (healing repeats it) and fail
    /// when the folder is still empty.</summary>
    public string RestoreCni { get; set; } =
        $"if [ -d {ParkedCniDirectory} ]; then cp -a {ParkedCniDirectory}/. /etc/cni/net.d/ && rm -rf {ParkedCniDirectory}; fi; ls -A /etc/cni/net.d | grep -q .";

    /// <summary>Where <see cref="BreakCni"/> parks the CNI files by default.</summary>
    public const string ParkedCniDirectory = "/etc/cni/verification-parked";

    /// <summary>br_netfilter's real job switched off on the node: bridged pod-to-pod replies no longer pass iptables.</summary>
    public string BreakBridgeNetfilter { get; set; } = "sysctl -w net.bridge.bridge-nf-call-iptables=0";

    /// <summary>Undoes <see cref="BreakBridgeNetfilter"/> (kubeadm's preflight requires it at 1).</summary>
    public string RestoreBridgeNetfilter { get; set; } = "sysctl -w net.bridge.bridge-nf-call-iptables=1";

    /// <summary>How curl is run from the control plane to a pod, as the book does.</summary>
    public string Curl { get; set; } = "curl --silent --show-error --connect-timeout {timeout} --max-time {timeout} -i http://{ip}/";
}

/// <summary>
/// Every wait of a run, as the profile's <c>timeouts</c> section says it: whole seconds. Each is at least a second (0 is
/// no deadline to curl and an invalid one to Polly) and at most an hour: a single wait longer than that is a typo, not a
/// slow cluster (the profiles use 5 to 600 s). The code waits with durations: <see cref="ToTimeouts"/>.
/// </summary>
public sealed class TimeoutSettings
{
    /// <summary>The section as durations, converted here and nowhere else.</summary>
    public Waits.Timeouts ToTimeouts() => new()
    {
        Connect = TimeSpan.FromSeconds(ConnectSeconds),
        Command = TimeSpan.FromSeconds(CommandSeconds),
        PodReady = TimeSpan.FromSeconds(PodReadySeconds),
        PodGone = TimeSpan.FromSeconds(PodGoneSeconds),
        NodeReboot = TimeSpan.FromSeconds(NodeRebootSeconds),
        Curl = TimeSpan.FromSeconds(CurlSeconds),
        ProgressDeadline = TimeSpan.FromSeconds(ProgressDeadlineSeconds),
        Rollout = TimeSpan.FromSeconds(RolloutSeconds),
        Symptom = TimeSpan.FromSeconds(SymptomSeconds),
        ControlPlaneRestart = TimeSpan.FromSeconds(ControlPlaneRestartSeconds),
        ControlPlaneSettle = TimeSpan.FromSeconds(ControlPlaneSettleSeconds),
    };

    /// <summary>An SSH login, and the API's first answer; the run's connect budget is three times this.</summary>
    [Seconds(1, 600)]
    public int ConnectSeconds { get; set; } = 20;

    [Seconds(1, 3600)]
    public int CommandSeconds { get; set; } = 60;

    [Seconds(1, 3600)]
    public int PodReadySeconds { get; set; } = 180;

    [Seconds(1, 3600)]
    public int PodGoneSeconds { get; set; } = 180;

    [Seconds(1, 3600)]
    public int NodeRebootSeconds { get; set; } = 300;

    /// <summary>curl's <c>--connect-timeout</c> and <c>--max-time</c> for one call, as the book's <c>curl --connect-timeout 5</c>.</summary>
    [Seconds(1, 600)]
    public int CurlSeconds { get; set; } = 5;

    /// <summary>progressDeadlineSeconds of the rollout fixture, so S9 does not wait the default 10 minutes.</summary>
    [Seconds(1, 3600)]
    public int ProgressDeadlineSeconds { get; set; } = 30;

    [Seconds(1, 3600)]
    public int RolloutSeconds { get; set; } = 240;

    /// <summary>How long the symptom of a fault is watched for before the check fails.</summary>
    [Seconds(1, 3600)]
    public int SymptomSeconds { get; set; } = 90;

    /// <summary>How long a control-plane component may take to serve again once its manifest is back: kubelet notices
    /// the file (inotify, else its 20 s file check), starts the container, the component starts up.</summary>
    [Seconds(1, 3600)]
    public int ControlPlaneRestartSeconds { get; set; } = 180;

    /// <summary>How long the whole control plane may take to be Ready again, with no restart for 20 s, after a
    /// control-plane check: without the API server the scheduler and controller-manager lose their leases and exit,
    /// and kubelet's crash back-off for them grows with every restart within 10 minutes (up to 5 minutes).</summary>
    [Seconds(1, 3600)]
    public int ControlPlaneSettleSeconds { get; set; } = 600;
}

public sealed class SafetySettings
{
    /// <summary>List what each check would inject where, and inject nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary>Fault ledger on disk, outside the repo, so a crashed run is healed by the next one (with <see cref="Ledger"/> <c>local</c>).</summary>
    public string LedgerFile { get; set; } = "~/.cache/verification/fault-ledger.jsonl";

    /// <summary>
    /// Where the fault ledger lives: <c>local</c> (<see cref="LedgerFile"/> on this machine) or <c>controlPlane</c>
    /// (<see cref="ControlPlaneStateDirectory"/> on the control plane node, over SSH), so that a run from another checkout
    /// or runner finds, and heals, what a killed run left on this cluster.
    /// </summary>
    public string Ledger { get; set; } = LocalLedger;

    public const string LocalLedger = "local", ControlPlaneLedger = "controlPlane";

    /// <summary>The folder on the control plane that holds the ledger with <see cref="Ledger"/> <c>controlPlane</c>
    /// (made root-only, mode 0700).</summary>
    public string ControlPlaneStateDirectory { get; set; } = DefaultControlPlaneStateDirectory;

    public const string DefaultControlPlaneStateDirectory = "/var/lib/verification";

    /// <summary>A Lease in this namespace keeps two runs off the same cluster.</summary>
    public string LeaseNamespace { get; set; } = "default";

    /// <summary>How long the Lease holds without renewal. It is renewed every third of this (at least every second), so
    /// under 3 s it could expire between two renewals and let a second run in.</summary>
    [Seconds(3, 3600)]
    public int LeaseSeconds { get; set; } = 60;
}

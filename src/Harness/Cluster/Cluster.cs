using System.Diagnostics;
using Harness.Diagnosis;
using Harness.Faults;
using Harness.Kube;
using Harness.Nodes;
using Harness.Profiles;
using Harness.Safety;
using Harness.Text;
using Harness.Waits;
using k8s;
using k8s.Models;

namespace Harness;

/// <summary>The cluster could not be reached or used. The message names the profile, what failed and how to fix it.</summary>
public sealed class ClusterUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A connected cluster: one SSH shell per node (reused, reconnecting after a reboot), the kubeconfig fetched from the
/// control plane over SFTP, and one Kubernetes client. Also the <see cref="IReverter"/> that undoes faults.
/// </summary>
public sealed class Cluster : IReverter, IAsyncDisposable
{
    private readonly NodeAccess _nodes;

    private Cluster(NodeAccess nodes, IKubernetes api, string serverVersion, Action<string>? progress)
    {
        _nodes = nodes;
        Profile = nodes.Profile;
        Progress = progress;
        Api = api;
        ServerVersion = serverVersion;
    }

    public ClusterProfile Profile { get; }
    public IKubernetes Api { get; }
    public string ServerVersion { get; }

    /// <summary>The cluster's CA as admin.conf carries it: who the cluster is, also when its API is down (<see cref="ClusterIdentity"/>).</summary>
    public string? CaFingerprint => _nodes.CaFingerprint;

    /// <summary>Where the cluster's own waits (a node back after its reboot, a namespace gone) say how they are doing.</summary>
    public Action<string>? Progress { get; }
    public NodeShell ControlPlane => Node(Profile.ControlPlane);
    public IReadOnlyList<string> Workers => Profile.Workers;

    public NodeShell Node(string name) => _nodes.Node(name);

    private Timeouts Timeouts => Profile.Timeouts.ToTimeouts();
    private TimeSpan CommandTimeout => Timeouts.Command;

    /// <summary>
    /// Discover the nodes, log in to each, fetch admin.conf from the control plane and reach the API.
    /// Every failure becomes one <see cref="ClusterUnreachableException"/> naming the profile and the fix.
    /// </summary>
    /// <param name="log">Receives what is being done, and later the progress of the cluster's own waits.</param>
    public static async Task<Cluster> ConnectAsync(ClusterProfile profile, Action<string>? log, CancellationToken ct) =>
        await ConnectAsync(await NodeAccess.ConnectAsync(profile, log, ct), log, ct);

    /// <summary>
    /// Reach the API of the cluster whose nodes are <paramref name="nodes"/>; the cluster then owns them (disposing it
    /// logs out). On failure the nodes are disposed too. An API that does not answer (or hangs on a request that needs
    /// etcd) gets one look at the control plane over SSH (<see cref="ControlPlaneDiagnosis"/>): a broken kube-apiserver
    /// or etcd is a <see cref="ClusterUnhealthyException"/> naming it; anything else is unreachable, with what was seen.
    /// </summary>
    public static async Task<Cluster> ConnectAsync(NodeAccess nodes, Action<string>? log, CancellationToken ct)
    {
        var profile = nodes.Profile;
        var where = NodeAccess.Where(profile);
        try
        {
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
                    $"Infrastructure: {where}: the Kubernetes API at {config.Host} did not answer ({why}). " +
                    "Is kube-apiserver running on the control plane, and is that address reachable from here? " +
                    "Set 'kubernetes.apiServer' in the profile if the API is reachable only through another address." +
                    (diagnosis is null ? "" : $" Diagnosis: {diagnosis}"), e);
            }
            log?.Invoke($"Kubernetes API {config.Host} answers: {version}");
            return new Cluster(nodes, api, version, log);
        }
        catch (Exception e)
        {
            await nodes.DisposeAsync();
            throw Unreachable(e, where, ct);
        }
    }

    /// <summary>Any failure to reach the cluster as the one exception the run reports (health problems pass through).</summary>
    internal static Exception Unreachable(Exception e, string where, CancellationToken ct) => e switch
    {
        ClusterUnreachableException or ClusterUnhealthyException => e,
        OperationCanceledException when ct.IsCancellationRequested => new ClusterUnreachableException(
            $"Infrastructure: {where}: gave up reaching the cluster (cancelled or out of time). " +
            "Check that the nodes are running and reachable, or pick another profile.", e),
        NodeAccessException or ProfileException => new ClusterUnreachableException(
            $"Infrastructure: {where}: {Secrets.Redact(e.Message)}", e),
        _ => new ClusterUnreachableException($"Infrastructure: {where}: {Secrets.Redact(e.Message)}", e),
    };

    /// <summary>kubeadm names a node after its hostname: a Vagrant machine whose hostname is not the node's name is not that node.</summary>
    internal static async Task CheckHostnamesAsync(Dictionary<string, NodeShell> shells, ClusterProfile profile, CancellationToken ct)
    {
        var timeout = profile.Timeouts.ToTimeouts().Command;
        var hostnames = await Task.WhenAll(shells.Select(async kv =>
            (Node: kv.Key, Host: (await kv.Value.RunAsync("hostname", timeout, ct)).EnsureSuccess().Stdout.Trim().Split('.')[0])));
        var wrong = hostnames.Where(h => !string.Equals(h.Node, h.Host, StringComparison.OrdinalIgnoreCase)).ToList();
        if (wrong.Count > 0)
            throw new ProfileException(string.Join(" ", wrong.Select(w => $"The machine taken for node {w.Node} has hostname {w.Host}.")) +
                $" Fix 'discovery.machineNames' ('{profile.Discovery.MachineNames}'), 'controlPlane' or 'workers' in the profile.");
    }

    /// <summary>The book copies /etc/kubernetes/admin.conf from the master; so do we, into a 0600 file removed at the end.</summary>
    /// <returns>The local copy's path, and the fingerprint of the cluster's CA in it.</returns>
    internal static async Task<(string Path, string? CaFingerprint)> FetchKubeconfigAsync(ClusterProfile profile, string where, NodeShell controlPlane, CancellationToken ct)
    {
        var remote = profile.Kubernetes.AdminKubeconfig;
        byte[] bytes;
        try { bytes = await controlPlane.DownloadAsync(remote, ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // One line saying why: over SFTP (root) the file is missing; through sudo the shell's stderr says what it could not open.
            var why = e switch
            {
                FileNotFoundException => "the file does not exist",
                NodeCommandFailedException { Result: var r } when !string.IsNullOrWhiteSpace(r.Stderr) =>
                    string.Join(" ", r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
                _ => e.Message.Split('\n')[0],
            };
            throw new ClusterUnreachableException(
                $"Infrastructure: {where}: no kubeconfig at {remote} on the control plane {profile.ControlPlane} " +
                $"({Secrets.Redact(why)}). Is this node really the control plane (kubeadm init done)? " +
                "Fix 'controlPlane' or 'kubernetes.adminKubeconfig' in the profile.", e);
        }
        var text = System.Text.Encoding.UTF8.GetString(bytes);
        RegisterKubeconfigSecrets(text);
        var dir = Directory.CreateTempSubdirectory("verification-");
        var path = Path.Combine(dir.FullName, "admin.conf");
        await File.WriteAllBytesAsync(path, [], ct);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // 0600 before the key lands in it
        await File.WriteAllBytesAsync(path, bytes, ct);
        return (path, ClusterIdentity.CaFingerprintOf(text));
    }

    private static void RegisterKubeconfigSecrets(string kubeconfig)
    {
        foreach (var line in kubeconfig.Split('\n'))
        {
            var trimmed = line.Trim();
            foreach (var key in new[] { "client-key-data:", "token:", "password:" })
                if (trimmed.StartsWith(key, StringComparison.Ordinal)) Secrets.Register(trimmed[key.Length..].Trim());
        }
    }

    /// <summary>
    /// Runs kubectl on the control plane as the book types it (<c>kubectl drain w3-k8s</c>, <c>kubectl apply -f
    /// ./rollout-nginx.yaml --record</c>), so the report shows the book's command with kubectl's own output. It runs in
    /// the namespace's folder in this run's folder on the control plane (<see cref="KubectlFolder"/>/NS, where
    /// <see cref="PutKubectlFileAsync"/> puts the book's manifests: checks side by side do not share files), with admin.conf and <paramref name="ns"/> (the check's namespace) as the current context
    /// through KUBECONFIG: neither <c>--kubeconfig</c> nor <c>-n</c> is on the command line, because <c>--record</c>
    /// writes the whole command line into the change-cause and the book's history shows neither. The result's Command
    /// is the command as kubectl saw it. <paramref name="timeout"/> defaults to <c>timeouts.commandSeconds</c>.
    /// </summary>
    public async Task<CommandResult> KubectlAsync(string arguments, string ns, CancellationToken ct, TimeSpan? timeout = null)
    {
        var context = await PrepareKubectlAsync(ns, ct);
        // `cd` first: were the folder gone, kubectl must fail rather than run in the default namespace.
        var result = await ControlPlane.RunAsync(
            $"cd {KubectlFolder}/{ns} && KUBECONFIG={context}:{Profile.Kubernetes.AdminKubeconfig} {Profile.Kubernetes.Kubectl} {arguments}",
            timeout ?? CommandTimeout, ct);
        return result with { Command = $"{Profile.Kubernetes.Kubectl} {arguments}" };
    }

    /// <summary>This run's folder on the control plane for the book's kubectl commands and manifests (no secrets in it).</summary>
    public string KubectlFolder { get; } = $"/tmp/verification-kubectl-{Guid.NewGuid():N}"[..39];

    private readonly SemaphoreSlim _kubectlGate = new(1, 1);
    private bool _kubectlFolderReady;
    private readonly HashSet<string> _kubectlContexts = []; // namespaces with a context file in the folder

    /// <summary>Puts a file (the book's manifest) into the namespace's folder, so kubectl in that namespace reads it as <c>./NAME</c>.</summary>
    public async Task PutKubectlFileAsync(string name, string content, string ns, CancellationToken ct)
    {
        await PrepareKubectlAsync(ns, ct);
        await ControlPlane.UploadAsync(System.Text.Encoding.UTF8.GetBytes(content), $"{KubectlFolder}/{ns}/{name}", "0644", ct);
    }

    /// <summary>
    /// Once per run the folder (0700), and once per namespace a kubeconfig in it holding only a context — admin.conf's
    /// cluster and user, that namespace — listed before admin.conf in KUBECONFIG, so kubectl takes its current context
    /// from it and the credentials from admin.conf (nothing secret is copied). Returns that kubeconfig's path (null
    /// <paramref name="ns"/>: the folder only, and null).
    /// </summary>
    private async Task<string?> PrepareKubectlAsync(string? ns, CancellationToken ct)
    {
        var contextFile = ns is null ? null : $"{KubectlFolder}/{ns}/context.conf";
        await _kubectlGate.WaitAsync(ct);
        try
        {
            if (_kubectlFolderReady && (ns is null || _kubectlContexts.Contains(ns))) return contextFile;
            var steps = new List<string> { "umask 077", $"mkdir -p {KubectlFolder}" + (ns is null ? "" : $"/{ns}") };
            if (ns is not null)
            {
                var kubectl = $"{Profile.Kubernetes.Kubectl} --kubeconfig {Profile.Kubernetes.AdminKubeconfig}";
                var context = $"{Profile.Kubernetes.Kubectl} --kubeconfig {contextFile}";
                steps.AddRange(
                [
                    $"cluster=$({kubectl} config view --minify -o \"jsonpath={{.contexts[0].context.cluster}}\")",
                    $"user=$({kubectl} config view --minify -o \"jsonpath={{.contexts[0].context.user}}\")",
                    $"{context} config set-context {ns} --cluster=\"$cluster\" --user=\"$user\" --namespace={ns} >/dev/null",
                    $"{context} config use-context {ns} >/dev/null",
                ]);
            }
            (await ControlPlane.RunAsync(string.Join(" && ", steps), CommandTimeout, ct)).EnsureSuccess();
            _kubectlFolderReady = true;
            if (ns is not null) _kubectlContexts.Add(ns);
            return contextFile;
        }
        finally { _kubectlGate.Release(); }
    }

    public async Task<bool> IsKubeletActiveAsync(string node, CancellationToken ct) =>
        (await Node(node).RunAsync(Profile.Commands.KubeletActive, CommandTimeout, ct)).Succeeded;

    public async Task<string> KubeletJournalAsync(string node, DateTimeOffset since, CancellationToken ct)
    {
        var command = Profile.Commands.KubeletJournal.Replace("{since}", since.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") + " UTC");
        var result = await Node(node).RunAsync(command + " | tail -n 300", CommandTimeout, ct);
        return result.ToString();
    }

    public async Task RevertAsync(Revert revert, CancellationToken ct)
    {
        switch (revert.Kind)
        {
            case RevertKind.NodeCommand:
                (await Node(revert.Target).RunAsync(revert.Command!, CommandTimeout, ct)).EnsureSuccess();
                // The command put the part back; the part is back when its node says so: kubelet, the runtime and the
                // CNI all speak through the node's Ready condition (a CNI config renamed back may not be read for minutes).
                await Waits(null, ct).Node(revert.Target).Until(n => n.IsReady(), $"to report Ready after `{revert.Command}`",
                    Timeouts.PodReady);
                break;
            case RevertKind.NodeReboot:
                if (!string.IsNullOrEmpty(revert.Command))
                    (await Node(revert.Target).RunAsync(revert.Command, CommandTimeout, ct)).EnsureSuccess();
                await RebootAsync(revert.Target, ct);
                break;
            case RevertKind.Uncordon:
                await Api.CoreV1.PatchNodeAsync(new V1Patch("{\"spec\":{\"unschedulable\":null}}", V1Patch.PatchType.MergePatch), revert.Target, cancellationToken: ct);
                break;
            case RevertKind.DeleteNamespace:
                await DeleteNamespaceAsync(revert.Target, ct);
                break;
            case RevertKind.RestoreStaticPodManifest:
                await _nodes.RevertAsync(revert, ct); // over SSH, as a later run heals it when the API is down
                break;
            case RevertKind.ScaleDeployment:
                await ScaleDeploymentAsync(revert.Namespace!, revert.Target, revert.Replicas ?? 1, ct);
                break;
            case RevertKind.LetDaemonSetOnNode:
                await LetDaemonSetOnNodeAsync(revert.Namespace!, revert.Component!, revert.Target, ct);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(revert), revert.Kind, "unknown revert");
        }
    }

    // ---- cluster objects the node-component checks change (issue 11): each with its revert ------------------------

    /// <summary>
    /// <c>kubectl -n NS scale deployment NAME --replicas=N</c>, then waits until the Deployment has N ready replicas and
    /// no more pods than that (scaled to 0: every pod gone), within <c>timeouts.podReadySeconds</c>.
    /// </summary>
    public async Task ScaleDeploymentAsync(string ns, string name, int replicas, CancellationToken ct)
    {
        await Api.AppsV1.PatchNamespacedDeploymentScaleAsync(
            new V1Patch($"{{\"spec\":{{\"replicas\":{replicas}}}}}", V1Patch.PatchType.MergePatch), name, ns, cancellationToken: ct);
        var selector = (await Api.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: ct)).Spec.Selector.MatchLabels;
        var labels = selector is null ? null : string.Join(",", selector.Select(l => $"{l.Key}={l.Value}"));
        await Watches.Pods(Api, ns, labels).UntilAsync(
            pods => pods.Values.Count(p => !p.IsTerminating()) == replicas && pods.Values.Where(p => !p.IsTerminating()).All(p => p.IsReady())
                    && (replicas > 0 || pods.Count == 0),
            $"deployment {ns}/{name} to have {replicas} ready pod(s)", Timeouts.PodReady,
            pods => ObjectState.Describe(pods.Values), Progress, ct);
    }

    /// <summary>
    /// Keeps DaemonSet <paramref name="name"/> off <paramref name="node"/> (<see cref="DaemonSetExclusion"/>), deletes its
    /// pod there if the controller has not yet, and waits until none is left there. Refuses a DaemonSet that has an
    /// affinity of its own (the revert would have to tell it apart from the harness's; it does not guess).
    /// </summary>
    public async Task KeepDaemonSetOffNodeAsync(string ns, string name, string node, CancellationToken ct)
    {
        var ds = await Api.AppsV1.ReadNamespacedDaemonSetAsync(name, ns, cancellationToken: ct);
        if (DaemonSetExclusion.StateOf(ds.Spec.Template.Spec.Affinity, node) == DaemonSetExclusion.ExclusionState.Foreign)
            throw new InvalidOperationException($"DaemonSet {ns}/{name} has an affinity of its own; the harness does not change it");
        await Api.AppsV1.PatchNamespacedDaemonSetAsync(new V1Patch(DaemonSetExclusion.Patch(node), V1Patch.PatchType.StrategicMergePatch), name, ns, cancellationToken: ct);
        var selector = string.Join(",", ds.Spec.Selector.MatchLabels.Select(l => $"{l.Key}={l.Value}"));
        foreach (var pod in (await Api.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, fieldSelector: $"spec.nodeName={node}", cancellationToken: ct)).Items)
        {
            try { await Api.CoreV1.DeleteNamespacedPodAsync(pod.Name(), ns, cancellationToken: ct); }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound) { }
        }
        await Watches.Pods(Api, ns, selector).UntilAsync(pods => pods.Values.All(p => p.Spec.NodeName != node),
            $"{name}'s pod on {node} to be gone", Timeouts.PodGone, pods => ObjectState.Describe(pods.Values), Progress, ct);
    }

    /// <summary>
    /// The revert of <see cref="KeepDaemonSetOffNodeAsync"/>: removes the harness's affinity (none: nothing to remove;
    /// somebody else's: refused), then waits until the DaemonSet has rolled out and its pod on <paramref name="node"/> is
    /// Ready, within <c>timeouts.podReadySeconds</c>.
    /// </summary>
    public async Task LetDaemonSetOnNodeAsync(string ns, string name, string node, CancellationToken ct)
    {
        var ds = await Api.AppsV1.ReadNamespacedDaemonSetAsync(name, ns, cancellationToken: ct);
        switch (DaemonSetExclusion.StateOf(ds.Spec.Template.Spec.Affinity, node))
        {
            case DaemonSetExclusion.ExclusionState.Foreign:
                throw new InvalidOperationException(
                    $"DaemonSet {ns}/{name} has an affinity the harness did not set (not '{DaemonSetExclusion.HostnameLabel} NotIn [{node}]'); " +
                    "remove the harness's exclusion by hand if it is part of it");
            case DaemonSetExclusion.ExclusionState.Ours:
                await Api.AppsV1.PatchNamespacedDaemonSetAsync(
                    new V1Patch("""[{"op":"remove","path":"/spec/template/spec/affinity"}]""", V1Patch.PatchType.JsonPatch), name, ns, cancellationToken: ct);
                break;
        }
        var selector = string.Join(",", ds.Spec.Selector.MatchLabels.Select(l => $"{l.Key}={l.Value}"));
        var deadline = Timeouts.PodReady;
        await Watches.Pods(Api, ns, selector).UntilAsync(pods => pods.Values.Any(p => p.Spec.NodeName == node && p.IsReady() && !p.IsTerminating()),
            $"{name}'s pod on {node} to be Ready again", deadline, pods => ObjectState.Describe(pods.Values), Progress, ct);
        await new Until<V1DaemonSet>($"DaemonSet {ns}/{name} to finish rolling out",
                t => Api.AppsV1.ReadNamespacedDaemonSetAsync(name, ns, cancellationToken: t), DaemonSetExclusion.RolledOut)
            { Describe = d => $"{d.Status?.UpdatedNumberScheduled} of {d.Status?.DesiredNumberScheduled} updated, {d.Status?.NumberReady} ready" }
            .WithinAsync(deadline, ct);
    }

    /// <summary>Changes at every boot of a VM (the kernel draws it anew); the lab gives each node start its own, as a VM.</summary>
    public const string BootIdCommand = "cat /proc/sys/kernel/random/boot_id";

    /// <summary>
    /// The book's reboot: run the profile's reboot command on the node, see it go away and come back with a new boot
    /// id, then wait until its kubelet has reported Ready again after the reboot.
    /// </summary>
    public async Task<TimeSpan> RebootAsync(string nodeName, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var deadline = Timeouts.NodeReboot;
        var shell = Node(nodeName);
        var bootBefore = await BootIdAsync(nodeName, ct);
        var rebootAt = DateTimeOffset.UtcNow;
        await shell.StartDetachedAsync(Profile.Commands.Reboot, ct);
        await shell.WaitUntilUnreachableAsync(deadline, ct);
        await shell.WaitUntilReachableAsync(deadline, ct);
        var bootAfter = await BootIdAsync(nodeName, ct);
        if (bootAfter == bootBefore)
            throw new NodeDidNotRebootException(
                $"{nodeName} went away and answered again, but did not reboot: its boot id ({BootIdCommand}) is still {bootBefore}.");
        await WaitNodeReadySinceAsync(nodeName, rebootAt, deadline - clock.Elapsed, ct);
        return clock.Elapsed;
    }

    public async Task<string> BootIdAsync(string nodeName, CancellationToken ct) =>
        (await Node(nodeName).RunAsync(BootIdCommand, CommandTimeout, ct)).EnsureSuccess().Stdout.Trim();

    /// <summary>The waits on <paramref name="ns"/>'s pods (null: nodes only) and on the nodes, reporting to <see cref="Progress"/>.</summary>
    public ClusterWaits Waits(string? ns, CancellationToken ct) => new(Api, ns, Progress, ct);

    /// <summary>Ready, with a heartbeat posted after <paramref name="since"/> (a quick reboot may never show NotReady).</summary>
    public Task<WatchOutcome<V1Node>> WaitNodeReadySinceAsync(string nodeName, DateTimeOffset since, TimeSpan deadline, CancellationToken ct) =>
        Waits(null, ct).Node(nodeName).Until(
            n => n.IsReady() && n.Status.Conditions.First(c => c.Type == "Ready").LastHeartbeatTime >= since.UtcDateTime.AddSeconds(-1),
            "to report Ready after its reboot", deadline < TimeSpan.FromSeconds(10) ? TimeSpan.FromSeconds(10) : deadline);

    /// <summary><c>kubectl create namespace NS</c>, ready for pods (its default service account exists); one being deleted is waited out first.</summary>
    public async Task EnsureNamespaceAsync(string ns, CancellationToken ct)
    {
        var existing = await Api.CoreV1.ListNamespaceAsync(fieldSelector: $"metadata.name={ns}", cancellationToken: ct);
        if (existing.Items.Count > 0 && existing.Items[0].Metadata.DeletionTimestamp is not null)
            await DeleteNamespaceAsync(ns, ct);
        else if (existing.Items.Count > 0) return;
        await Api.CoreV1.CreateNamespaceAsync(new V1Namespace
        {
            Metadata = new V1ObjectMeta { Name = ns, Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "verification" } },
        }, cancellationToken: ct);

        // Before 1.24 a pod is refused ("No API token found for service account default") until the token
        // controller has given the namespace's default ServiceAccount its secret.
        var tokenSecretsExpected = ServerMinor < 24;
        await Watches.ServiceAccounts(Api, ns).UntilAsync(
            all => all.TryGetValue("default", out var sa) && (!tokenSecretsExpected || sa.Secrets?.Count > 0),
            $"the default service account of {ns}", Timeouts.PodReady,
            all => string.Join(", ", all.Keys), Progress, ct);
    }

    private int ServerMinor =>
        int.TryParse(new string(ServerVersion.Split('.').ElementAtOrDefault(1)?.TakeWhile(char.IsDigit).ToArray()), out var minor) ? minor : 99;

    /// <summary>
    /// Deletes the suite's namespace. Its workloads go first, while their service-account secrets still exist: a kubelet
    /// that was just restarted re-mounts a terminating pod's volumes before it kills it, and if the namespace (and so the
    /// secret) is already gone, the pod hangs in Terminating (seen with kubelet 1.20). A pod that still does not go
    /// within the deadline is force-deleted, so the cluster is left as found.
    /// </summary>
    /// <summary>
    /// Removes the suite's namespace once a check is over. Its pods are deleted at once (grace period 0): the check is
    /// over, so their graceful shutdown (up to 30 s each, on a drained or cordoned node longer) is no symptom of the book's
    /// and not worth waiting for. Controllers go first so nothing recreates the pods meanwhile.
    /// </summary>
    public async Task DeleteNamespaceAsync(string ns, CancellationToken ct)
    {
        var deadline = Timeouts.PodGone;
        try
        {
            foreach (var deployment in (await Api.AppsV1.ListNamespacedDeploymentAsync(ns, cancellationToken: ct)).Items)
                await Api.AppsV1.DeleteNamespacedDeploymentAsync(deployment.Name(), ns, propagationPolicy: "Orphan", cancellationToken: ct);
            await Api.AppsV1.DeleteCollectionNamespacedReplicaSetAsync(ns, propagationPolicy: "Orphan", cancellationToken: ct);
            await Api.CoreV1.DeleteCollectionNamespacedPodAsync(ns, gracePeriodSeconds: 0, cancellationToken: ct);
            await Waits(ns, ct).Pods().Until(pods => pods.Count == 0, $"the pods of {ns} to be deleted", deadline);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound) { return; }

        try { await Api.CoreV1.DeleteNamespaceAsync(ns, cancellationToken: ct); }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound) { return; }
        await Watches.Namespace(Api, ns).UntilAsync(all => all.Count == 0, $"namespace {ns} to be deleted",
            deadline, all => all.Count == 0 ? "gone" : "Terminating", Progress, ct);
    }

    /// <summary>Facts for the report's environment: versions, OS, kernel and runtime as the nodes report them.</summary>
    public async Task<IDictionary<string, string>> DescribeEnvironmentAsync(CancellationToken ct)
    {
        var nodes = await Api.CoreV1.ListNodeAsync(cancellationToken: ct);
        var info = nodes.Items.Select(n => n.Status.NodeInfo).ToList();
        var skew = VersionSkew.Judge(new VersionFacts(Profile.ControlPlane, ServerVersion, await VersionSkew.KubeadmVersionAsync(Api, ct),
            null, "", [.. nodes.Items.Select(n => (n.Name(), n.Status.NodeInfo.KubeletVersion))]));
        return new SortedDictionary<string, string>
        {
            ["profile"] = Profile.Name,
            ["kubernetes.server"] = ServerVersion,
            ["kubelet"] = VersionSkew.Join(info.Select(i => i.KubeletVersion)), // oldest first: the same text in every run for the gate
            [VersionSkew.EnvironmentKey] = skew.Environment,
            ["node.os"] = string.Join(", ", info.Select(i => i.OsImage).Distinct()),
            ["node.kernel"] = string.Join(", ", info.Select(i => i.KernelVersion).Distinct()),
            ["container.runtime"] = string.Join(", ", info.Select(i => i.ContainerRuntimeVersion).Distinct()),
            ["nodes"] = string.Join(", ", nodes.Items.Select(n => n.Name())),
            ["harness"] = typeof(Cluster).Assembly.GetName().Version?.ToString() ?? "",
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (_kubectlFolderReady)
        {
            try { await ControlPlane.RunAsync($"rm -rf {KubectlFolder}", TimeSpan.FromSeconds(15)); }
            catch (Exception) { } // best effort: a folder in /tmp with a manifest and a context, nothing secret
        }
        Api.Dispose();
        await _nodes.DisposeAsync();
    }
}

/// <summary>A node's reboot command made it unreachable for a while, but the kernel did not boot again.</summary>
public sealed class NodeDidNotRebootException(string message) : Exception(message);

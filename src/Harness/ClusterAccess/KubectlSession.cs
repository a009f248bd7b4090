using Harness.Nodes;
using Harness.Profiles;

namespace Harness.ClusterAccess;

/// <summary>The book's kubectl: commands as the book types them, run where the book runs them, in a check's namespace.</summary>
public interface IKubectl
{
    /// <summary><c>kubectl ARGUMENTS</c> in namespace <paramref name="ns"/>; the result's Command is the command as kubectl saw it.</summary>
    Task<CommandResult> RunAsync(string arguments, string ns, CancellationToken ct, TimeSpan? timeout = null);

    /// <summary>Puts a file (the book's manifest) where kubectl in <paramref name="ns"/> reads it as <c>./NAME</c>.</summary>
    Task PutFileAsync(string name, string content, string ns, CancellationToken ct);
}

/// <summary>
/// Runs kubectl on the control plane as the book types it (<c>kubectl drain w3-k8s</c>, <c>kubectl apply -f
/// ./rollout-nginx.yaml --record</c>), so the report shows the book's command with kubectl's own output. It runs in
/// the namespace's folder in this run's folder on the control plane (<see cref="Folder"/>/NS, where
/// <see cref="PutFileAsync"/> puts the book's manifests: checks side by side do not share files), with admin.conf and
/// the check's namespace as the current context through KUBECONFIG: neither <c>--kubeconfig</c> nor <c>-n</c> is on
/// the command line, because <c>--record</c> writes the whole command line into the change-cause and the book's
/// history shows neither. A timeout defaults to <c>timeouts.commandSeconds</c>.
/// </summary>
public sealed class KubectlSession(INodeShell controlPlane, ClusterProfile profile) : IKubectl, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _folderReady;
    private readonly HashSet<string> _contexts = []; // namespaces with a context file in the folder

    /// <summary>This run's folder on the control plane for the book's kubectl commands and manifests (no secrets in it).</summary>
    public string Folder { get; } = $"/tmp/verification-kubectl-{Guid.NewGuid():N}"[..39];

    private TimeSpan CommandTimeout => profile.Timeouts.ToTimeouts().Command;

    public async Task<CommandResult> RunAsync(string arguments, string ns, CancellationToken ct, TimeSpan? timeout = null)
    {
        var context = await PrepareAsync(ns, ct);
        // `cd` first: were the folder gone, kubectl must fail rather than run in the default namespace.
        var result = await controlPlane.RunAsync(
            $"cd {Folder}/{ns} && KUBECONFIG={context}:{profile.Kubernetes.AdminKubeconfig} {profile.Kubernetes.Kubectl} {arguments}",
            timeout ?? CommandTimeout, ct);
        return result with { Command = $"{profile.Kubernetes.Kubectl} {arguments}" };
    }

    public async Task PutFileAsync(string name, string content, string ns, CancellationToken ct)
    {
        await PrepareAsync(ns, ct);
        await controlPlane.UploadAsync(System.Text.Encoding.UTF8.GetBytes(content), $"{Folder}/{ns}/{name}", "0644", ct);
    }

    /// <summary>
    /// Once per run the folder (0700), and once per namespace a kubeconfig in it holding only a context — admin.conf's
    /// cluster and user, that namespace — listed before admin.conf in KUBECONFIG, so kubectl takes its current context
    /// from it and the credentials from admin.conf (nothing secret is copied). Returns that kubeconfig's path.
    /// </summary>
    private async Task<string> PrepareAsync(string ns, CancellationToken ct)
    {
        var contextFile = $"{Folder}/{ns}/context.conf";
        await _gate.WaitAsync(ct);
        try
        {
            if (_folderReady && _contexts.Contains(ns)) return contextFile;
            var kubectl = $"{profile.Kubernetes.Kubectl} --kubeconfig {profile.Kubernetes.AdminKubeconfig}";
            var context = $"{profile.Kubernetes.Kubectl} --kubeconfig {contextFile}";
            string[] steps =
            [
                "umask 077", $"mkdir -p {Folder}/{ns}",
                $"cluster=$({kubectl} config view --minify -o \"jsonpath={{.contexts[0].context.cluster}}\")",
                $"user=$({kubectl} config view --minify -o \"jsonpath={{.contexts[0].context.user}}\")",
                $"{context} config set-context {ns} --cluster=\"$cluster\" --user=\"$user\" --namespace={ns} >/dev/null",
                $"{context} config use-context {ns} >/dev/null",
            ];
            (await controlPlane.RunAsync(string.Join(" && ", steps), CommandTimeout, ct)).EnsureSuccess();
            _folderReady = true;
            _contexts.Add(ns);
            return contextFile;
        }
        finally { _gate.Release(); }
    }

    /// <summary>Removes this run's folder from the control plane, if kubectl ever ran.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_folderReady) return;
        try { await controlPlane.RunAsync($"rm -rf {Folder}", TimeSpan.FromSeconds(15)); }
        catch (Exception) { } // best effort: a folder in /tmp with a manifest and a context, nothing secret
    }
}

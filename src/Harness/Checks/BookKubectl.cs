using Harness.ClusterAccess;
using Harness.Kube.Kubectl;
using Harness.Nodes;

namespace Harness.Checks;

/// <summary>
/// The book's kubectl, and the one way a check runs kubectl: on the control plane, in the check's namespace (its
/// current context there, see <see cref="Harness.Cluster.KubectlAsync"/>), as the book types it, under the check's
/// cancellation. The report's steps name the program the profile runs (<c>kubernetes.kubectl</c>).
/// </summary>
public sealed class BookKubectl(CheckContext context)
{
    /// <summary>The program the profile runs (<c>kubernetes.kubectl</c>), as the steps name it.</summary>
    public string Program => context.Profile.Kubernetes.Kubectl;

    /// <summary>
    /// <c>kubectl ARGUMENTS</c>, with what kubectl printed attached to the open step (unless <paramref name="attach"/> is
    /// false: a poll attaches only what it read last). Not checked: the caller reads the output (a refusal can be the
    /// expected answer).
    /// </summary>
    /// <param name="timeout">Defaults to <c>timeouts.commandSeconds</c>.</param>
    /// <param name="ct">Defaults to the check's cancellation (a fault's inject passes its own).</param>
    public async Task<CommandResult> RunAsync(string arguments, TimeSpan? timeout = null, CancellationToken? ct = null, bool attach = true)
    {
        var result = await context.Cluster.Kubectl.RunAsync(arguments, context.Namespace, ct ?? context.Cancellation, timeout);
        if (attach) context.Report.Attach($"kubectl {arguments}", result.ToString());
        return result;
    }

    /// <summary>A kubectl command as a step of its own (<c>kubectl get pods</c>) with its output; it must succeed unless told otherwise.</summary>
    public Task<CommandResult> StepAsync(string arguments, bool mustSucceed = true) =>
        context.Report.Step($"{Program} {arguments.Replace($" -n {context.Namespace}", "")}", async () =>
        {
            var result = await RunAsync(arguments);
            if (mustSucceed) result.EnsureSuccess();
            return result;
        });

    /// <summary>
    /// Runs <c>kubectl ARGUMENTS</c> every 2 s until what <paramref name="read"/> makes of it is <paramref name="wanted"/>,
    /// within <paramref name="deadline"/>; the last transcript is attached and returned either way (the caller judges it).
    /// </summary>
    /// <param name="attemptTimeout">How long one try may take.</param>
    public async Task<(CommandResult Result, T Read)> UntilAsync<T>(string arguments, Func<CommandResult, T> read, Func<T, bool> wanted,
        TimeSpan deadline, TimeSpan? attemptTimeout = null)
    {
        var last = await context.PollAsync(async _ =>
        {
            var result = await RunAsync(arguments, attemptTimeout, attach: false);
            return (Result: result, Read: read(result));
        }, l => wanted(l.Read), deadline);
        if (last.Result is not null) context.Report.Attach($"kubectl {arguments}", last.Result.ToString());
        return last;
    }

    /// <summary>A kubectl command that must succeed and say <c>RESOURCE/NAME VERB</c> (<c>deployment.apps/echo-hname scaled</c>).</summary>
    public async Task<CommandResult> ExpectAsync(string arguments, string resource, string name, string verb)
    {
        var result = (await RunAsync(arguments)).EnsureSuccess();
        var verbs = KubectlOutput.VerbsFor(KubectlOutput.Text(result), resource, name);
        if (!verbs.Contains(verb)) context.Fail($"kubectl {arguments} must say {resource}/{name} {verb}; it said: {result}");
        return result;
    }

    /// <summary><c>kubectl scale deployment NAME --replicas=N</c>, which answers <c>deployment.apps/NAME scaled</c>.</summary>
    public Task<CommandResult> ScaleAsync(string deployment, int replicas) =>
        ExpectAsync($"scale deployment {deployment} --replicas={replicas}", "deployment.apps", deployment, "scaled");

    /// <summary><c>kubectl get nodes</c>: the node's STATUS column must read <paramref name="status"/> (e.g. <c>Ready,SchedulingDisabled</c>).</summary>
    public async Task ExpectNodeStatusAsync(string node, string status)
    {
        var nodes = (await RunAsync("get nodes")).EnsureSuccess();
        var shown = KubectlTable.Parse(nodes.Stdout).Cell(node, "STATUS");
        if (shown != status) context.Fail($"kubectl get nodes must show {node} {status}, it shows {shown ?? "no such node"}: {nodes}");
    }

    /// <summary><c>kubectl get pods -o wide</c>: <paramref name="pod"/>'s STATUS column as kubectl prints it (null: not listed).</summary>
    public async Task<string?> PodStatusAsync(string pod)
    {
        var pods = (await RunAsync("get pods -o wide")).EnsureSuccess();
        return KubectlTable.Parse(pods.Stdout).Cell(pod, "STATUS");
    }

    /// <summary>Puts a file (the book's manifest) where kubectl in the check's namespace reads it as <c>./NAME</c>.</summary>
    public Task PutFileAsync(string name, string content) =>
        context.Cluster.Kubectl.PutFileAsync(name, content, context.Namespace, context.Cancellation);
}

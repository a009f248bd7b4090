using System.Diagnostics;
using Harness.Nodes;
using Harness.Profiles;
using Harness.Waits;

namespace Harness.Faults;

/// <summary>
/// A control-plane component run by kubelet from a static-pod manifest (kubeadm's
/// <c>/etc/kubernetes/manifests/&lt;component&gt;.yaml</c>), with the profile's commands filled in: how to stop it
/// (move the manifest away, as the revised edition's <c>unload-kube-apiserver.sh</c> does), how to start it again (move
/// it back, <c>load-kube-apiserver.sh</c>) and how to ask on the node whether it serves (kubeadm's liveness probe).
/// Plain data: the fault and its revert are made from it once, and the revert carries its command into the ledger.
/// </summary>
public sealed record StaticPod(string Component, string Node, string Manifest, string Parked, string StopCommand, string StartCommand, string? HealthCommand)
{
    /// <summary><paramref name="component"/> on the profile's control plane, with the profile's <c>components</c> commands.</summary>
    public static StaticPod Of(ClusterProfile profile, string component)
    {
        var c = profile.Components;
        var manifest = $"{c.ManifestsDirectory.TrimEnd('/')}/{component}.yaml";
        var parkedDirectory = c.ParkedManifestsDirectory.TrimEnd('/');
        var parked = $"{parkedDirectory}/{component}.yaml";
        string Fill(string template) => template
            .Replace("{manifest}", manifest).Replace("{parkedDirectory}", parkedDirectory)
            .Replace("{parked}", parked).Replace("{component}", component);
        return new(component, profile.ControlPlane, manifest, parked, Fill(c.StopStaticPod), Fill(c.StartStaticPod), c.HealthCommand(component));
    }

    /// <summary>What undoes <see cref="Stopped"/>: the manifest back, the component serving again; healable without the API.</summary>
    public Revert Restore => Revert.RestoreStaticPod(Node, Component, StartCommand);

    /// <summary>The fault: the manifest moved away, so kubelet stops the component.</summary>
    public Fault Stopped => Fault.OnControlPlane($"{Component} stopped (manifest moved away)", Node, Component, StopCommand, Restore);

    /// <summary>The health command of a revert's component under this profile (null: none known, nothing to wait for).</summary>
    public static string? HealthOf(ClusterProfile profile, Revert revert) =>
        revert.Component is { } component ? profile.Components.HealthCommand(component) : null;
}

/// <summary>
/// Waits on a component by running its health command on its node until the answer is the one wanted — over SSH,
/// because the component may be the API server (or etcd behind it). Each try is a command with a short timeout, so
/// the deadline holds even when a try hangs.
/// </summary>
public static class ComponentWaits
{
    /// <summary>Runs a command on the component's node (as root) and returns what it did.</summary>
    public delegate Task<CommandResult> RunOnNode(string command, TimeSpan timeout, CancellationToken ct);

    /// <summary>
    /// Runs <paramref name="health"/> until it succeeds (<paramref name="serving"/> true) or fails (false), at most
    /// until <paramref name="deadline"/>; returns the time it took. When the deadline passes first it throws a
    /// <see cref="WaitTimeoutException"/> with the last answer: like any wait that ran out, the cluster did not do what
    /// the book shows in time, a failed check rather than a broken harness.
    /// </summary>
    public static async Task<TimeSpan> UntilAsync(RunOnNode run, string component, string health, bool serving, TimeSpan deadline,
        Action<string>? progress, CancellationToken ct, TimeSpan? pollDelay = null)
    {
        var clock = Stopwatch.StartNew();
        await new Until<CommandResult>($"{component} {(serving ? "to serve again" : "to stop serving")} (`{health}`)", async t =>
            {
                try { return await run(health, TryTimeout, t); }
                catch (NodeCommandTimeoutException) // a hung answer is no answer: not serving, try again
                {
                    return new CommandResult(component, health, 124, "", $"no answer within {TryTimeout.TotalSeconds:0} s", TryTimeout);
                }
            }, answer => answer.Succeeded == serving)
        {
            Poll = Poll.Every(pollDelay ?? TimeSpan.FromSeconds(1)),
            Describe = answer => $"exit {answer.ExitCode}: {(answer.Stdout + answer.Stderr).Trim()}",
            Progress = progress,
        }.WithinAsync(deadline, ct);
        return clock.Elapsed;
    }

    /// <summary>Each try of a health command gets this long: the deadline holds even when a try hangs.</summary>
    private static readonly TimeSpan TryTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Carries out a <see cref="RevertKind.RestoreStaticPodManifest"/> revert: its command (the manifest back) must
    /// succeed, then the component must answer its health command within <paramref name="deadline"/> (none known: no wait).
    /// </summary>
    public static async Task RestoreAsync(RunOnNode run, Revert revert, string? health, TimeSpan deadline, Action<string>? progress, CancellationToken ct)
    {
        if (revert.Kind != RevertKind.RestoreStaticPodManifest) throw new ArgumentException($"not a static-pod revert: {revert}", nameof(revert));
        (await run(revert.Command!, TimeSpan.FromSeconds(60), ct)).EnsureSuccess();
        if (health is not null) await UntilAsync(run, revert.Component ?? revert.Target, health, serving: true, deadline, progress, ct);
    }
}

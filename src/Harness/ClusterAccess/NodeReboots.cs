using System.Diagnostics;
using Harness.Kube;
using Harness.Nodes;
using Harness.Profiles;
using Harness.Waits;
using k8s.Models;

namespace Harness.ClusterAccess;

/// <summary>The book's reboot of a node, seen from outside: it goes away, comes back with a new boot id, and its kubelet reports Ready.</summary>
/// <param name="waits">The waits on the nodes, reporting to the cluster's progress.</param>
public sealed class NodeReboots(Func<string, INodeShell> node, ClusterProfile profile, Func<CancellationToken, ClusterWaits> waits)
{
    /// <summary>Changes at every boot of a VM (the kernel draws it anew); the lab gives each node start its own, as a VM.</summary>
    public const string BootIdCommand = "cat /proc/sys/kernel/random/boot_id";

    /// <summary>
    /// The book's reboot: run the profile's reboot command on the node, see it go away and come back with a new boot
    /// id, then wait until its kubelet has reported Ready again after the reboot.
    /// </summary>
    public async Task<TimeSpan> RebootAsync(string nodeName, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var deadline = profile.Timeouts.ToTimeouts().NodeReboot;
        var shell = node(nodeName);
        var bootBefore = await BootIdAsync(nodeName, ct);
        var rebootAt = DateTimeOffset.UtcNow;
        await shell.StartDetachedAsync(profile.Commands.Reboot, ct);
        await shell.WaitUntilUnreachableAsync(deadline, ct);
        await shell.WaitUntilReachableAsync(deadline, ct);
        var bootAfter = await BootIdAsync(nodeName, ct);
        if (bootAfter == bootBefore)
            throw new NodeDidNotRebootException(
                $"{nodeName} went away and answered again, but did not reboot: its boot id ({BootIdCommand}) is still {bootBefore}.");
        await WaitReadySinceAsync(nodeName, rebootAt, deadline - clock.Elapsed, ct);
        return clock.Elapsed;
    }

    public async Task<string> BootIdAsync(string nodeName, CancellationToken ct) =>
        (await node(nodeName).RunAsync(BootIdCommand, profile.Timeouts.ToTimeouts().Command, ct)).EnsureSuccess().Stdout.Trim();

    /// <summary>Ready, with a heartbeat posted after <paramref name="since"/> (a quick reboot may never show NotReady).</summary>
    public Task<WatchOutcome<V1Node>> WaitReadySinceAsync(string nodeName, DateTimeOffset since, TimeSpan deadline, CancellationToken ct) =>
        waits(ct).Node(nodeName).Until(
            n => n.IsReady() && n.Status.Conditions.First(c => c.Type == "Ready").LastHeartbeatTime >= since.UtcDateTime.AddSeconds(-1),
            "to report Ready after its reboot", deadline < TimeSpan.FromSeconds(10) ? TimeSpan.FromSeconds(10) : deadline);
}

/// <summary>A node's reboot command made it unreachable for a while, but the kernel did not boot again.</summary>
public sealed class NodeDidNotRebootException(string message) : Exception(message);

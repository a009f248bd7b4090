using Harness.Nodes;
using Harness.Profiles;

namespace Harness.ClusterAccess;

/// <summary>A node's kubelet as the node itself tells it, over SSH: whether it is active, and its journal.</summary>
public sealed class KubeletState(Func<string, INodeShell> node, ClusterProfile profile)
{
    private TimeSpan CommandTimeout => profile.Timeouts.ToTimeouts().Command;

    /// <summary>The profile's <c>commands.kubeletActive</c> (<c>systemctl is-active kubelet</c>) succeeds on the node.</summary>
    public async Task<bool> IsActiveAsync(string nodeName, CancellationToken ct) =>
        (await node(nodeName).RunAsync(profile.Commands.KubeletActive, CommandTimeout, ct)).Succeeded;

    /// <summary>The last 300 lines of kubelet's journal on the node since <paramref name="since"/> (<c>commands.kubeletJournal</c>).</summary>
    public async Task<string> JournalAsync(string nodeName, DateTimeOffset since, CancellationToken ct)
    {
        var command = profile.Commands.KubeletJournal.Replace("{since}", since.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") + " UTC");
        var result = await node(nodeName).RunAsync(command + " | tail -n 300", CommandTimeout, ct);
        return result.ToString();
    }
}

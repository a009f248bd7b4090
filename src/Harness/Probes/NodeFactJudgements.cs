using System.Text.RegularExpressions;
using Harness.Diagnosis;

namespace Harness.Probes;

/// <summary>
/// A profile's runtime command made to fit the node's units: the book's <c>systemctl stop docker.socket
/// docker.service</c> on a CentOS docker 1.13.1 node (no docker.socket) would fail, so a unit the node does not have is
/// left out, knowingly and said so in the report. The rule: only units of <c>systemctl start|stop|restart</c> are
/// dropped, only when <see cref="NodeFacts.RuntimeUnits"/> was read and lacks them, and never all of a command's units
/// (a command whose every unit is missing is kept as the profile has it, so the feasibility probe refuses it by name).
/// The feasibility probe then judges the command that will run, not the one the profile wrote.
/// </summary>
public static partial class RuntimeUnitFilter
{
    [GeneratedRegex(@"(?<head>\bsystemctl\s+(?:--\S+\s+)*(?:start|stop|restart)\s+)(?<units>[^;&|\n]+)")]
    private static partial Regex SystemctlUnits();

    /// <summary>The command with the units the node lacks left out, and which were left out.</summary>
    public static (string Command, IReadOnlyList<string> Dropped) KeepExisting(string command, IReadOnlySet<string> nodeUnits)
    {
        if (nodeUnits.Count == 0) return (command, []); // nothing read (no systemd, probe failed): change nothing
        var dropped = new List<string>();
        var result = SystemctlUnits().Replace(command, m =>
        {
            var words = m.Groups["units"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var units = words.Where(w => !w.StartsWith('-')).ToList();
            var missing = units.Where(u => !nodeUnits.Contains(UnitName(u))).ToList();
            if (missing.Count == 0 || missing.Count == units.Count) return m.Value;
            dropped.AddRange(missing);
            var trailing = m.Groups["units"].Value.Length - m.Groups["units"].Value.TrimEnd().Length;
            return m.Groups["head"].Value + string.Join(' ', words.Where(w => !missing.Contains(w))) + new string(' ', trailing);
        });
        return (result, dropped);
    }

    /// <summary>In a runtime command, the units of the runtime the node reports (<see cref="UnitsOf"/>): one profile
    /// fits a lab that runs containerd or docker (LAB_RUNTIME), read from the node rather than assumed.</summary>
    public const string RuntimeUnitsPlaceholder = "{runtimeUnits}";

    /// <summary>
    /// The systemd units that make up the runtime a node reports (<c>status.nodeInfo.containerRuntimeVersion</c>):
    /// docker with its socket (else kubelet's dockershim starts it again through socket activation), containerd, or
    /// cri-o's <c>crio</c>; null for a runtime the harness does not know.
    /// </summary>
    public static string? UnitsOf(string? containerRuntimeVersion) => NodeConditions.RuntimeUnit(containerRuntimeVersion) switch
    {
        "docker" => "docker.socket docker.service",
        var unit => unit,
    };

    /// <summary>The command with <see cref="RuntimeUnitsPlaceholder"/> replaced by the units of the runtime
    /// <paramref name="node"/> reports; a command without it is returned as written.</summary>
    /// <exception cref="InvalidOperationException">The placeholder is used and the node's runtime is not one the harness knows.</exception>
    public static string FillRuntimeUnits(string command, string? containerRuntimeVersion, string node)
    {
        if (!command.Contains(RuntimeUnitsPlaceholder, StringComparison.Ordinal)) return command;
        var units = UnitsOf(containerRuntimeVersion) ?? throw new InvalidOperationException(
            $"{node} reports the container runtime '{containerRuntimeVersion}', whose systemd units the harness does not know: " +
            $"write them into commands.stopContainerRuntime and commands.startContainerRuntime instead of {RuntimeUnitsPlaceholder}");
        return command.Replace(RuntimeUnitsPlaceholder, units, StringComparison.Ordinal);
    }

    /// <summary>systemctl's own rule: a name without a suffix means <c>.service</c>.</summary>
    public static string UnitName(string unit) => unit.Contains('.') ? unit : unit + ".service";

    /// <summary>The report's words for what was left out.</summary>
    public static string? Explain(string setting, IReadOnlyList<string> dropped, string node) => dropped.Count == 0 ? null
        : $"{setting}: {string.Join(", ", dropped)} left out: {node} has no such unit (systemctl list-unit-files); the rest of the profile's command runs as written";
}

/// <summary>S3's finding: what the edition's inject changed on the node and whether that explains the traffic.</summary>
public sealed record PodNetworkVerdict(PodNetworkVerdict.Kind Outcome, string Text)
{
    public enum Kind
    {
        /// <summary>curl timed out, and the facts say why (or at least that it did).</summary>
        Stopped,

        /// <summary>curl still answers and the steps left nothing on the routed path changed: not applicable here.</summary>
        NotBrokenByTheseSteps,

        /// <summary>curl still answers although something on the path changed, or on a bridged node: a real red.</summary>
        NotStopped,
    }
}

/// <summary>Reads S3's before/after facts (pure, unit-tested).</summary>
public static class PodNetworkFault
{
    /// <summary>What changed between <paramref name="before"/> and <paramref name="after"/>, e.g. <c>ip_forward went 1 → 0</c>.</summary>
    public static IReadOnlyList<string> Changes(NodeFacts before, NodeFacts? after)
    {
        if (after is null) return [];
        var changes = new List<string>();
        if (before.IpForward != after.IpForward) changes.Add($"ip_forward went {before.IpForward ?? "?"} → {after.IpForward ?? "?"}");
        if (before.BridgeNfCallIptables != after.BridgeNfCallIptables)
            changes.Add($"bridge-nf-call-iptables went {before.BridgeNfCallIptables ?? "absent"} → {after.BridgeNfCallIptables ?? "absent"}");
        if (before.BrNetfilter != after.BrNetfilter)
            changes.Add($"br_netfilter went {NodeFacts.Describe(before.BrNetfilter)} → {NodeFacts.Describe(after.BrNetfilter)}");
        return changes;
    }

    /// <param name="command">The edition's inject as the profile has it (quoted in the text).</param>
    /// <param name="trafficStopped">curl from the control plane timed out after the inject.</param>
    /// <param name="after">Null when the node could not be read after the inject.</param>
    public static PodNetworkVerdict Judge(NodeFacts before, NodeFacts? after, bool trafficStopped, string command)
    {
        var changes = Changes(before, after);
        var changed = changes.Count == 0 ? "ip_forward, bridge-nf-call-iptables and br_netfilter read as before" : string.Join("; ", changes);
        var forwardingOff = before.IpForward != "0" && after?.IpForward == "0";
        var routed = before.Wiring == PodWiring.Routed;
        var routedWords = $"pods on {before.Node} are routed ({before.Cni?.MainType ?? "CNI"}: {before.WiringEvidence})";
        var noPart = routed ? "; br_netfilter plays no part on routed pods" : "";

        if (trafficStopped)
        {
            if (after is null)
                return new(PodNetworkVerdict.Kind.Stopped, $"'{command}' stopped the traffic; the node could not be read afterwards to say how");
            if (forwardingOff)
                return new(PodNetworkVerdict.Kind.Stopped, $"{changed}: forwarding off stopped the traffic{noPart}");
            return new(PodNetworkVerdict.Kind.Stopped,
                changes.Count == 0
                    ? $"'{command}' stopped the traffic, yet {changed}: something else it did cut the path (forwarding stayed {after.IpForward ?? "?"})"
                    : $"{changed}, forwarding stayed {after.IpForward ?? "?"}: that stopped the traffic{(routed ? $" ({routedWords})" : "")}");
        }

        if (routed && !forwardingOff && after is not null)
            return new(PodNetworkVerdict.Kind.NotBrokenByTheseSteps,
                $"not applicable: '{command}' leaves the routed path to the pod alone on {before.Node} ({changed}; ip_forward is {after.IpForward ?? "?"}), " +
                $"and {routedWords}: br_netfilter plays no part, so curl still answers. The edition's steps cannot break this cluster's pod network; " +
                "a fault that can is sysctl -w net.ipv4.ip_forward=0 (commands.breakPodNetwork, as the lab profile does)");

        return new(PodNetworkVerdict.Kind.NotStopped,
            after is null
                ? $"curl still answers after '{command}', and the node could not be read afterwards"
                : forwardingOff
                    ? $"{changed}, yet curl still answers: the pod is reached without the node forwarding (is curl run on {before.Node} itself?)"
                    : $"curl still answers after '{command}': {changed}, pods are {(before.Wiring == PodWiring.Bridged ? "bridged" : "wired unknown")} ({before.WiringEvidence}); " +
                      "commands.breakPodNetwork does not break this node's pod network, e.g. sysctl -w net.ipv4.ip_forward=0 does");
    }
}

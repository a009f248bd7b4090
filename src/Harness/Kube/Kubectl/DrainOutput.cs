using System.Text.RegularExpressions;

namespace Harness.Kube.Kubectl;

/// <summary>
/// One reason kubectl drain gave for not evicting pods:
/// <c>cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/kube-proxy-qx5tw</c>.
/// </summary>
/// <param name="What">What kubectl cannot delete, e.g. <c>DaemonSet-managed Pods</c>.</param>
/// <param name="Flag">The flag kubectl names to get past it, e.g. <c>--ignore-daemonsets</c>.</param>
/// <param name="Pods">namespace/name of each pod, as kubectl lists them.</param>
public sealed record DrainRefusal(string What, string Flag, IReadOnlyList<string> Pods);

/// <summary>
/// What <c>kubectl drain NODE</c> printed, read from its transcript. The wording read here is the same from 1.18 to
/// 1.36 except where noted: up to 1.22 kubectl aborts with <c>error: unable to drain node "w3-k8s", aborting
/// command...</c>, from 1.23 it says <c>error: unable to drain node "w3-k8s" due to error: …, continuing command...</c>;
/// the warning is <c>WARNING:</c> up to 1.24 and <c>Warning:</c> from 1.25; the emptyDir refusal names
/// <c>--delete-local-data</c> up to 1.19 and <c>--delete-emptydir-data</c> from 1.20.
/// </summary>
public sealed partial record DrainOutput(
    string Node,
    bool Cordoned,
    bool UnableToDrain,
    IReadOnlyList<DrainRefusal> Refusals,
    IReadOnlyList<string> IgnoredDaemonSetPods,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string> Evicting,
    IReadOnlyList<string> Evicted,
    bool Drained)
{
    public const string DaemonSetRefusal = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)";

    /// <summary>The pods refused for <paramref name="flag"/> (e.g. <c>--ignore-daemonsets</c>), in kubectl's order.</summary>
    public IReadOnlyList<string> RefusedFor(string flag) =>
        Refusals.Where(r => r.Flag == flag).SelectMany(r => r.Pods).ToList();

    public static DrainOutput Parse(string node, string transcript)
    {
        var lines = KubectlOutput.Lines(transcript);
        var nodeVerbs = KubectlOutput.VerbsFor(transcript, "node", node);
        var refusals = lines.Select(line => RefusalLine().Match(line)).Where(m => m.Success)
            .Select(m => new DrainRefusal(m.Groups["what"].Value, m.Groups["flag"].Value, PodList(m.Groups["pods"].Value)))
            .ToList();
        var warnings = lines.Where(line => line.StartsWith("WARNING: ", StringComparison.OrdinalIgnoreCase))
            .Select(line => line["WARNING: ".Length..]).ToList();
        // Several kinds of warnings share one line, joined with "; ".
        var ignored = warnings.SelectMany(w => w.Split("; "))
            .Where(w => w.StartsWith("ignoring DaemonSet-managed Pods: ", StringComparison.Ordinal))
            .SelectMany(w => PodList(w["ignoring DaemonSet-managed Pods: ".Length..])).ToList();
        return new DrainOutput(
            node,
            Cordoned: nodeVerbs.Contains("cordoned") || nodeVerbs.Contains("already cordoned"),
            UnableToDrain: lines.Any(line => line.StartsWith($"error: unable to drain node \"{node}\"", StringComparison.Ordinal)),
            refusals,
            ignored,
            warnings,
            Evicting: lines.Select(line => EvictingLine().Match(line)).Where(m => m.Success).Select(m => m.Groups["pod"].Value).ToList(),
            Evicted: KubectlOutput.Actions(transcript).Where(a => a.Resource == "pod" && a.Verb == "evicted").Select(a => a.Name).ToList(),
            // kubectl 1.20 ends with "node/w3-k8s evicted" (one printer shared with the pod evictions), 1.18 and 1.21+ "drained".
            Drained: nodeVerbs.Contains("drained") || nodeVerbs.Contains("evicted"));
    }

    private static IReadOnlyList<string> PodList(string text) =>
        text.Split(", ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    // Only whole lines: newer kubectl also quotes the refusal inside its "unable to drain node … due to error: …" line.
    [GeneratedRegex(@"^(?:error: )?cannot delete (?<what>.+?) \(use (?<flag>--[a-z-]+) to [a-z]+\): (?<pods>.+)$")]
    private static partial Regex RefusalLine();

    [GeneratedRegex(@"^evicting pod (?<pod>[^ ]+)$")]
    private static partial Regex EvictingLine();
}

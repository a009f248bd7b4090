using System.Globalization;
using System.Text.RegularExpressions;
using Harness.Nodes;

namespace Harness.Probes;

/// <summary>
/// HTTP calls made from inside a pod, where the book's images have no curl: bash's <c>/dev/tcp</c> (the nginx
/// images, official and the lab's, have bash and coreutils). One line per call: <c>answer &lt;last line of the body&gt;</c>
/// (echo-hname answers with its pod's name) or <c>failed</c>. Run with <c>kubectl exec POD -- bash -c SCRIPT</c>.
/// </summary>
public static partial class PodCalls
{
    /// <summary>The script for <paramref name="calls"/> calls to <paramref name="ip"/>:<paramref name="port"/>, each given <paramref name="timeout"/>.</summary>
    public static string Script(string ip, int port, int calls, TimeSpan timeout)
    {
        if (!Address().IsMatch(ip)) throw new ArgumentException($"not an IP address: '{ip}'", nameof(ip));
        var one = $"exec 3<>/dev/tcp/{ip}/{port} && printf 'GET / HTTP/1.0\\r\\nHost: {ip}\\r\\n\\r\\n' >&3 && cat <&3";
        return $"for i in $(seq 1 {calls}); do r=$(timeout {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} bash -c {ShellQuote.Single(one)} 2>/dev/null | tr -d '\\r' | tail -n 1); " +
               "if [ -n \"$r\" ]; then echo \"answer $r\"; else echo failed; fi; done";
    }

    /// <summary>kubectl's arguments for the calls from <paramref name="pod"/>.</summary>
    public static string KubectlExec(string pod, string ip, int port, int calls, TimeSpan timeout) =>
        $"exec {pod} -- bash -c {ShellQuote.Single(Script(ip, port, calls, timeout))}";

    /// <summary>The calls' outcomes in order: who answered (the body's last line), or null for a call that failed.</summary>
    public static IReadOnlyList<string?> Parse(string stdout) =>
        stdout.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)
            .Select(l => l == "failed" ? null : l.StartsWith("answer ", StringComparison.Ordinal) ? l["answer ".Length..].Trim() : (string?)"?")
            .Where(l => l != "?").ToList();

    /// <summary>Answers per responder, plus <c>failed</c> for failed calls, e.g. <c>echo-w1-k8s: 3, echo-w2-k8s: 4, failed: 2</c>.</summary>
    public static IReadOnlyDictionary<string, int> Count(IReadOnlyList<string?> outcomes) =>
        outcomes.GroupBy(o => o ?? Failed).ToDictionary(g => g.Key, g => g.Count());

    public const string Failed = "failed";

    public static string Describe(IReadOnlyDictionary<string, int> counts) =>
        string.Join(", ", counts.OrderBy(c => c.Key == Failed).ThenBy(c => c.Key).Select(c => $"{c.Key}: {c.Value}"));

    [GeneratedRegex(@"^[0-9a-fA-F:.]+$")]
    private static partial Regex Address();
}

/// <summary>What <c>nslookup kubernetes.default</c> printed: resolved, or not.</summary>
public static class DnsLookup
{
    /// <summary>
    /// Resolved: nslookup exited 0 and printed <paramref name="expectedIp"/> (the <c>kubernetes</c> Service's ClusterIP)
    /// as an answer. busybox 1.28 prints <c>Address 1: 10.96.0.1 kubernetes.default.svc.cluster.local</c>, glibc's
    /// nslookup <c>Name: kubernetes.default.svc.cluster.local</c> / <c>Address: 10.96.0.1</c>; without a DNS server
    /// busybox prints <c>nslookup: can't resolve 'kubernetes.default'</c> and exits 1, dnsutils
    /// <c>;; connection timed out; no servers could be reached</c>.
    /// </summary>
    public static bool Resolved(CommandResult lookup, string expectedIp) =>
        lookup.Succeeded && lookup.Stdout.Split('\n').Any(l =>
            (l.TrimStart().StartsWith("Address", StringComparison.Ordinal) || l.TrimStart().StartsWith("Name", StringComparison.Ordinal))
            && Regex.IsMatch(l, $@"(^|[\s:]){Regex.Escape(expectedIp)}(\s|$)"));
}

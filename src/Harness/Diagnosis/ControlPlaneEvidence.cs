using System.Text.RegularExpressions;

namespace Harness.Diagnosis;

/// <summary>One container of a static pod as <c>crictl ps -a</c> or <c>docker ps -a</c> lists it (newest first).</summary>
/// <param name="Attempt">kubelet's restart count: crictl's ATTEMPT column, the last part of docker's <c>k8s_…_N</c> name.</param>
/// <param name="ExitCode">From docker's STATUS (<c>Exited (1) 2 minutes ago</c>); crictl's table has none (see <c>crictl inspect</c>).</param>
public sealed record ContainerRow(string Id, string Name, string State, int Attempt, int? ExitCode = null)
{
    public bool Running => State.Equals("Running", StringComparison.OrdinalIgnoreCase);
}

/// <summary>One line of the API server's <c>/readyz?verbose</c>: <c>[+]ping ok</c>, <c>[-]etcd failed: reason withheld</c>.</summary>
public sealed record ReadyzCheck(string Name, bool Ok, string Line);

/// <summary>What curl got from an HTTP endpoint on the control plane.</summary>
/// <param name="CurlExit">curl's exit code: 0 answered, 7 refused, 28 timed out (<c>--max-time</c>).</param>
/// <param name="HttpCode">The HTTP status, 0 when nothing answered.</param>
public sealed record EndpointAnswer(string Url, int CurlExit, int HttpCode, string Body)
{
    public bool Answered => CurlExit == 0 && HttpCode > 0;

    /// <summary>What happened in a few words, for a message.</summary>
    public string Describe() => CurlExit switch
    {
        0 when HttpCode > 0 => $"HTTP {HttpCode}",
        7 => "connection refused",
        28 => "no answer within its time limit (it hangs)",
        6 => "host not resolved",
        35 or 60 => "TLS failed",
        127 => "curl is not installed",
        124 => "curl was stopped after its time limit",
        _ => $"curl exit code {CurlExit}" + (Body.Length > 0 ? $": {Body.Split('\n')[0]}" : ""),
    };
}

/// <summary>What the diagnosis script saw of one control-plane component.</summary>
/// <param name="Manifest">Whether its static-pod manifest is in the manifests folder (null: the folder is not there).</param>
/// <param name="Container">Its newest container, null when the runtime listed none (or could not be asked).</param>
/// <param name="LogTail">The last lines of that container's log.</param>
/// <param name="ErrorLine">The last line of its log that reads like an error (<c>Error: …</c>, klog's <c>E1205</c>/<c>F1205</c>,
/// "failed"): a component refusing a flag prints the error and then its whole usage, so the last line alone says nothing.</param>
public sealed record ComponentEvidence(string Component, bool? Manifest, ContainerRow? Container, IReadOnlyList<string> LogTail, string? ErrorLine = null)
{
    /// <summary>The line that says most: the last error, else the last line.</summary>
    public string? TellingLine => ErrorLine ?? (LogTail.Count > 0 ? LogTail[^1].Trim() : null);
}

/// <summary>Everything one run of the diagnosis script printed, parsed.</summary>
/// <param name="Runtime"><c>crictl</c>, <c>docker</c>, or <c>none</c> when neither answered.</param>
/// <param name="RuntimeErrors">What crictl/docker said when they did not answer.</param>
/// <param name="Kubelet"><c>systemctl is-active kubelet</c>'s answer, empty when systemd could not be asked.</param>
public sealed record ControlPlaneEvidence(
    string Runtime, IReadOnlyList<string> RuntimeErrors, string Kubelet, bool ManifestsFolder,
    IReadOnlyList<ComponentEvidence> Components, EndpointAnswer? Readyz, EndpointAnswer? EtcdHealth, bool Complete)
{
    /// <summary>The marker that starts each section of the script's output: <c>@@diag KEY [VALUE]</c>.</summary>
    public const string Marker = "@@diag";

    /// <summary>The checks <c>/readyz?verbose</c> listed (none when it did not answer).</summary>
    public IReadOnlyList<ReadyzCheck> ReadyzChecks => Readyz is { Answered: true } r ? ControlPlaneEvidence.ParseReadyz(r.Body) : [];

    /// <summary>Parses the diagnosis script's output (see <see cref="ControlPlaneDiagnosis.Script"/>).</summary>
    public static ControlPlaneEvidence Parse(string output)
    {
        string runtime = "none", kubelet = "";
        var runtimeErrors = new List<string>();
        var folder = true;
        var complete = false;
        var components = new List<ComponentEvidence>();
        EndpointAnswer? readyz = null, etcd = null;
        string? probe = null;

        foreach (var (key, value, body) in Sections(output))
        {
            switch (key)
            {
                case "runtime": runtime = value; break;
                case "runtime-error": runtimeErrors.AddRange(body.Where(l => l.Trim().Length > 0).Select(l => $"{value}: {l.Trim()}")); break;
                case "kubelet": kubelet = value; break;
                case "manifests-folder": folder = value != "missing"; break;
                case "component": components.Add(new ComponentEvidence(value, null, null, [])); break;
                case "manifest" when components.Count > 0:
                    components[^1] = components[^1] with { Manifest = value == "present" };
                    break;
                case "ps" when components.Count > 0:
                    var rows = runtime == "docker" ? ParseDockerPs(string.Join('\n', body)) : ParseCrictlPs(string.Join('\n', body));
                    components[^1] = components[^1] with { Container = rows.FirstOrDefault(r => r.Name == components[^1].Component) };
                    break;
                case "exit" when components.Count > 0 && components[^1].Container is { } c:
                    // crictl inspect: `"exitCode": 1,`; docker inspect --format '{{.State.ExitCode}}': `1`.
                    var code = body.Select(l => Regex.Match(l, @"^\s*(""exitCode"":\s*)?(?<n>-?\d+),?\s*$")).FirstOrDefault(m => m.Success);
                    if (code is not null) components[^1] = components[^1] with { Container = c with { ExitCode = int.Parse(code.Groups["n"].Value) } };
                    break;
                case "logs" when components.Count > 0:
                    components[^1] = components[^1] with { LogTail = body.Where(l => l.Trim().Length > 0).ToList() };
                    break;
                case "error-line" when components.Count > 0:
                    var line = body.LastOrDefault(l => l.Trim().Length > 0)?.Trim();
                    components[^1] = components[^1] with { ErrorLine = string.IsNullOrEmpty(line) ? null : line };
                    break;
                case "readyz": readyz = Probe(value, body); probe = key; break;
                case "etcd-health": etcd = Probe(value, body); probe = key; break;
                case "http" or "curl" when probe is not null:
                    var n = int.TryParse(value, out var v) ? v : -1;
                    EndpointAnswer Set(EndpointAnswer p) => key == "http" ? p with { HttpCode = Math.Max(0, n) } : p with { CurlExit = n };
                    if (probe == "readyz") readyz = Set(readyz!); else etcd = Set(etcd!);
                    break;
                case "end": complete = true; break;
            }
        }
        if (!folder) components = components.Select(c => c with { Manifest = null }).ToList();
        return new(runtime, runtimeErrors, kubelet, folder, components, readyz, etcd, complete);
    }

    /// <summary>The output cut at its markers: each <c>@@diag KEY VALUE</c> line and the lines up to the next marker.</summary>
    private static IEnumerable<(string Key, string Value, List<string> Body)> Sections(string output)
    {
        (string Key, string Value, List<string> Body)? current = null;
        foreach (var raw in output.Replace("\r", "").Split('\n'))
        {
            if (raw.StartsWith(Marker + " ", StringComparison.Ordinal))
            {
                if (current is { } done) yield return done;
                var words = raw[(Marker.Length + 1)..].Split(' ', 2);
                current = (words[0], words.Length > 1 ? words[1].Trim() : "", []);
            }
            else current?.Body.Add(raw);
        }
        if (current is { } last) yield return last;
    }

    /// <summary>A curl section: the body (curl -sS puts its own error, "curl: (7) Failed to connect …", among it: that
    /// is no answer of the server), completed by the <c>http</c> and <c>curl</c> sections that follow.</summary>
    private static EndpointAnswer Probe(string url, List<string> body) =>
        new(url, -1, 0, string.Join('\n', body.Where(l => !l.StartsWith("curl: (", StringComparison.Ordinal))).Trim());

    /// <summary>
    /// The checks of <c>/readyz?verbose</c> (or <c>/healthz?verbose</c>, <c>/livez?verbose</c>) as kube-apiserver 1.18-1.36
    /// writes them (staging/src/k8s.io/apiserver/pkg/server/healthz/healthz.go, handleRootHealth): one line per check,
    /// <c>[+]NAME ok</c>, <c>[+]NAME excluded: ok</c> or <c>[-]NAME failed: reason withheld</c>, then
    /// <c>readyz check passed</c> or <c>readyz check failed</c>.
    /// </summary>
    public static IReadOnlyList<ReadyzCheck> ParseReadyz(string text) =>
        text.Replace("\r", "").Split('\n').Select(l => l.Trim())
            .Select(l => (Line: l, Match: Regex.Match(l, @"^\[(?<sign>[+-])\](?<name>\S+)\s")))
            .Where(x => x.Match.Success)
            .Select(x => new ReadyzCheck(x.Match.Groups["name"].Value, x.Match.Groups["sign"].Value == "+", x.Line))
            .ToList();

    /// <summary>
    /// <c>crictl ps -a</c>'s table (cri-tools 1.13-1.3x): <c>CONTAINER</c> (<c>CONTAINER ID</c> before 1.19), <c>IMAGE</c>,
    /// <c>CREATED</c> (e.g. "About a minute ago", with spaces), <c>STATE</c>, <c>NAME</c>, <c>ATTEMPT</c>, <c>POD ID</c>
    /// and from 1.26 <c>POD</c>. Written with a tabwriter, so each column starts where its heading does.
    /// </summary>
    public static IReadOnlyList<ContainerRow> ParseCrictlPs(string table) =>
        Rows(table).Select(r => new ContainerRow(
                r.GetValueOrDefault("CONTAINER") ?? r.GetValueOrDefault("CONTAINER ID") ?? "",
                r.GetValueOrDefault("NAME") ?? "", r.GetValueOrDefault("STATE") ?? "",
                int.TryParse(r.GetValueOrDefault("ATTEMPT"), out var a) ? a : 0))
            .Where(r => r.Id.Length > 0 && r.Name.Length > 0).ToList();

    /// <summary>
    /// <c>docker ps -a</c>'s table: <c>CONTAINER ID</c>, <c>IMAGE</c>, <c>COMMAND</c>, <c>CREATED</c>, <c>STATUS</c>
    /// (<c>Up 3 minutes</c>, <c>Exited (1) 5 seconds ago</c>), <c>PORTS</c>, <c>NAMES</c>. kubelet (dockershim) names a
    /// container <c>k8s_CONTAINER_POD_NAMESPACE_UID_ATTEMPT</c>; the name given is CONTAINER.
    /// </summary>
    public static IReadOnlyList<ContainerRow> ParseDockerPs(string table) =>
        Rows(table).Select(r =>
            {
                var names = (r.GetValueOrDefault("NAMES") ?? "").Split('_');
                var status = r.GetValueOrDefault("STATUS") ?? "";
                var exit = Regex.Match(status, @"^(Exited|Restarting) \((?<code>-?\d+)\)");
                var state = status.StartsWith("Up", StringComparison.Ordinal) ? "Running" : status.Split(' ')[0];
                return new ContainerRow(r.GetValueOrDefault("CONTAINER ID") ?? "",
                    names.Length >= 6 && names[0] == "k8s" ? names[1] : string.Join('_', names), state,
                    names.Length >= 6 && int.TryParse(names[^1], out var a) ? a : 0,
                    exit.Success ? int.Parse(exit.Groups["code"].Value) : null);
            })
            .Where(r => r.Id.Length > 0).ToList();

    /// <summary>A tabwriter table: the heading's columns (words joined by single spaces) and each row cut at their starts.</summary>
    private static IEnumerable<Dictionary<string, string>> Rows(string table)
    {
        var lines = table.Replace("\r", "").Split('\n').Where(l => l.Trim().Length > 0).ToList();
        var header = lines.FindIndex(l => l.StartsWith("CONTAINER", StringComparison.Ordinal));
        if (header < 0) yield break;
        var columns = Regex.Matches(lines[header], @"\S+(?: \S+)*").Select(m => (m.Value, m.Index)).ToList();
        foreach (var line in lines.Skip(header + 1))
        {
            var row = new Dictionary<string, string>();
            for (var i = 0; i < columns.Count; i++)
            {
                var start = columns[i].Index;
                if (start >= line.Length) break;
                var end = i + 1 < columns.Count ? Math.Min(columns[i + 1].Index, line.Length) : line.Length;
                row[columns[i].Value] = line[start..end].Trim();
            }
            yield return row;
        }
    }
}

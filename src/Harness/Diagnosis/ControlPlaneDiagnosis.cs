using System.Text.RegularExpressions;
using Harness.Nodes;
using Harness.Probes;
using Harness.Profiles;
using Harness.Text;

namespace Harness.Diagnosis;

/// <summary>What one look at the control plane found.</summary>
/// <param name="Problems">Each component found broken on firm evidence (a manifest missing, a container exited or
/// crash-looping, /readyz naming a failed check, kubelet inactive), root causes first: kubelet, etcd, kube-apiserver.</param>
/// <param name="Observations">What was seen without proving a component broken (e.g. "kube-apiserver.yaml is present",
/// "nothing answers https://127.0.0.1:6443/readyz?verbose (connection refused)"), for a message that has no problem to name.</param>
/// <param name="Evidence">The script's raw output, for a report attachment.</param>
public sealed record ControlPlaneReport(string Node, IReadOnlyList<ComponentProblem> Problems, IReadOnlyList<string> Observations, string Evidence)
{
    /// <summary>One line: the problems, then what else was seen.</summary>
    public override string ToString() =>
        string.Join("; ", [.. Problems.Select(p => p.ToString()), .. Observations.Count > 0 ? [$"seen on {Node}: {string.Join("; ", Observations)}"] : Array.Empty<string>()]);
}

/// <summary>
/// Looks at the control plane over SSH when its API does not answer, times out or hangs: for each static pod of
/// <c>components.controlPlane</c> its manifest, its newest container (crictl, or docker on a dockershim node), restart
/// count, last exit code and last log lines; kubelet; the API server's <c>/readyz?verbose</c> and etcd's
/// <c>/health</c> (kubeadm: <c>--listen-metrics-urls=http://127.0.0.1:2381</c>). One shell script, one SSH round trip,
/// every command under a time limit; the output is parsed and judged here, in pure code.
/// </summary>
public static class ControlPlaneDiagnosis
{
    /// <summary>How long the whole look may take: each command in it is cut at a few seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(45);

    private const string DefaultReadyz = "https://127.0.0.1:6443/readyz?verbose";
    private const string DefaultEtcdHealth = "http://127.0.0.1:2381/health";
    private const string DockerExitCode = "'{{.State.ExitCode}}'";

    /// <summary>
    /// Runs the script on <paramref name="controlPlane"/> and judges what it printed. A script that does not finish within
    /// <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>) gives a report without problems that says so;
    /// other SSH failures are thrown.
    /// </summary>
    /// <param name="extraPath">A folder put first on the script's PATH (tests put stand-in crictl, docker, curl there).</param>
    public static async Task<ControlPlaneReport> ReadAsync(INodeShell controlPlane, ClusterProfile profile, CancellationToken ct,
        TimeSpan? timeout = null, string? extraPath = null)
    {
        var limit = timeout ?? DefaultTimeout;
        CommandResult result;
        try { result = await controlPlane.RunAsync(Script(profile, extraPath), limit, ct); }
        catch (NodeCommandTimeoutException)
        {
            return new(profile.ControlPlane, [], [$"the diagnosis script on {profile.ControlPlane} did not finish within {limit.TotalSeconds:0} s"], "");
        }
        var evidence = Secrets.Redact($"# control-plane diagnosis on {controlPlane.Name} ({result.Duration.TotalSeconds:0.0} s, exit {result.ExitCode})\n" +
                                      result.Stdout + (result.Stderr.Length > 0 ? "\n# stderr\n" + result.Stderr : ""));
        return Judge(ControlPlaneEvidence.Parse(result.Stdout), profile, evidence);
    }

    /// <summary>Where the API server's <c>/readyz?verbose</c> and etcd's <c>/health</c> are on the control plane: taken
    /// from the profile's health commands when they name a URL (<c>components.health</c>), else kubeadm's.</summary>
    public static (string Readyz, string EtcdHealth) Endpoints(ClusterProfile profile)
    {
        var api = Url(profile.Components.HealthCommand("kube-apiserver"));
        var etcd = Url(profile.Components.HealthCommand("etcd"));
        return (api is null ? DefaultReadyz : Regex.Replace(api, @"/(readyz|healthz|livez)(\?.*)?$", "") + "/readyz?verbose",
            etcd is not null && etcd.EndsWith("/health", StringComparison.Ordinal) ? etcd : DefaultEtcdHealth);
    }

    private static string? Url(string? command) =>
        command is null ? null : Regex.Match(command, @"https?://[^\s'""]+") is { Success: true } m ? m.Value : null;

    /// <summary>
    /// The script: POSIX sh, as root. Prints <c>@@diag KEY VALUE</c> markers (see <see cref="ControlPlaneEvidence.Parse"/>).
    /// Every command is cut by <c>timeout</c>; a runtime CLI that does not answer is not asked again.
    /// </summary>
    public static string Script(ClusterProfile profile, string? extraPath = null)
    {
        var (readyz, etcd) = Endpoints(profile);
        var components = string.Join(' ', profile.Components.ControlPlane.Select(ShellQuote.Single));
        var m = ControlPlaneEvidence.Marker;
        return (extraPath is null ? "" : $"PATH={ShellQuote.Single(extraPath)}:$PATH\n") + $$"""
            t() { s=$1; shift; if command -v timeout >/dev/null 2>&1; then timeout "$s" "$@"; else "$@"; fi; }
            rt=none
            for cli in crictl docker; do
              command -v $cli >/dev/null 2>&1 || continue
              if out=$(t 10 $cli ps 2>&1); then rt=$cli; break; fi
              echo "{{m}} runtime-error $cli"; echo "$out" | tail -n 3
            done
            echo "{{m}} runtime $rt"
            echo "{{m}} kubelet $(systemctl is-active kubelet 2>/dev/null | head -n 1)"
            dir={{ShellQuote.Single(profile.Components.ManifestsDirectory.TrimEnd('/'))}}
            [ -d "$dir" ] || echo "{{m}} manifests-folder missing"
            for c in {{components}}; do
              echo "{{m}} component $c"
              if [ -f "$dir/$c.yaml" ]; then echo "{{m}} manifest present"; else echo "{{m}} manifest missing"; fi
              id=
              case $rt in
                crictl)
                  ps=$(t 10 crictl ps -a --name "$c" 2>&1); echo "{{m}} ps"; echo "$ps"
                  id=$(echo "$ps" | awk -v c="$c" 'NR > 1 { for (i = 2; i <= NF; i++) if ($i == c) { print $1; exit } }')
                  [ -n "$id" ] && { echo "{{m}} exit"; t 10 crictl inspect "$id" 2>&1 | grep -m 1 '"exitCode"'; } ;;
                docker)
                  ps=$(t 10 docker ps -a --filter "name=k8s_${c}_" 2>&1); echo "{{m}} ps"; echo "$ps"
                  id=$(echo "$ps" | awk 'NR == 2 { print $1 }')
                  [ -n "$id" ] && { echo "{{m}} exit"; t 10 docker inspect --format {{DockerExitCode}} "$id" 2>&1; } ;;
              esac
              [ -n "$id" ] && {
                echo "{{m}} logs $id"; t 10 $rt logs --tail 5 "$id" 2>&1 | tail -n 5
                # The last line that starts as an error does (klog's E/F, cobra's "Error: …", a panic); else any line
                # naming one, but never the usage text a component prints after a bad flag (indented flag help).
                echo "{{m}} error-line"; lines=$(t 10 $rt logs --tail 300 "$id" 2>&1)
                { echo "$lines" | grep -E '^(E[0-9]{4} |F[0-9]{4} |Error|error|panic|fatal|FATAL)' ||
                  echo "$lines" | grep -vE '^[[:space:]]' | grep -iE 'error|fatal|failed'; } | tail -n 1
              }
            done
            probe() { echo "{{m}} $1 $2"; t 10 curl -sSk --max-time 5 -w '\n{{m}} http %{http_code}\n' "$2" 2>&1; rc=$?; echo; echo "{{m}} curl $rc"; }
            probe readyz {{ShellQuote.Single(readyz)}}
            probe etcd-health {{ShellQuote.Single(etcd)}}
            echo "{{m}} end"
            """.Replace("\r", "");
    }

    /// <summary>Order of root causes: without kubelet no static pod restarts; without etcd the API server hangs or exits.</summary>
    private static int Rank(string component) => component switch { "kubelet" => 0, "etcd" => 1, "kube-apiserver" => 2, _ => 3 };

    /// <summary>
    /// Judges the script's parsed output. A component is named broken only on firm evidence; what is merely seen goes
    /// into <see cref="ControlPlaneReport.Observations"/>.
    /// </summary>
    public static ControlPlaneReport Judge(ControlPlaneEvidence e, ClusterProfile profile, string evidence = "")
    {
        var node = profile.ControlPlane;
        var dir = profile.Components.ManifestsDirectory.TrimEnd('/');
        var problems = new List<ComponentProblem>();
        var seen = new List<string>();
        var readyzChecks = e.ReadyzChecks;
        // "etcd", and from 1.28 also "etcd-readiness": both say the API server cannot use etcd.
        var etcdFailed = readyzChecks.FirstOrDefault(c => (c.Name == "etcd" || c.Name.StartsWith("etcd-", StringComparison.Ordinal)) && !c.Ok);
        var etcdHealthy = e.EtcdHealth is { Answered: true } h && Regex.IsMatch(h.Body, @"""health""\s*:\s*""true""");
        var cli = e.Runtime;

        if (!e.Complete) seen.Add($"the diagnosis script on {node} stopped before its end (see the evidence)");
        if (e.Kubelet is "inactive" or "failed" or "activating" or "deactivating")
            problems.Add(new("kubelet", node, $"not active on the control plane (`systemctl is-active kubelet`: {e.Kubelet}), so no static pod is started or restarted",
                $"`systemctl start kubelet` on {node}, then `journalctl -u kubelet` there if it stops again"));
        if (!e.ManifestsFolder)
            seen.Add($"{dir} does not exist on {node}: not a kubeadm control plane whose static pods can be read");
        if (cli == "none")
            seen.Add("no container runtime CLI answered (crictl, docker)" + (e.RuntimeErrors.Count > 0 ? ": " + string.Join(" / ", e.RuntimeErrors) : ""));

        foreach (var c in e.Components)
        {
            var manifest = $"{dir}/{c.Component}.yaml";
            var readyzNote = c.Component == "etcd" && etcdFailed is not null ? $"; the API server answers but /readyz says {etcdFailed.Line}" : "";
            if (c.Manifest == false)
            {
                problems.Add(new(c.Component, node, $"not running: {manifest} is missing{readyzNote}",
                    $"put the manifest back into {dir} on {node} (`mv {profile.Components.ParkedManifestsDirectory.TrimEnd('/')}/{c.Component}.yaml {dir}/` " +
                    "if a control-plane check parked it there; the next run does that itself when the ledger says it parked it" +
                    (c.Component == "kube-apiserver" ? "; the revised edition's load-kube-apiserver.sh does it for the API server)" : ")")));
                continue;
            }
            if (c.Manifest == true) seen.Add($"{manifest} is present");
            if (cli == "none" || c.Manifest is null) continue;

            var look = cli == "docker"
                ? $"look at `docker ps -a --filter name=k8s_{c.Component}_` and `docker logs {c.Container?.Id}` on {node}"
                : $"look at `crictl ps -a --name {c.Component}` and `crictl logs {c.Container?.Id}` on {node}";
            var lastLine = c.TellingLine is not { } telling ? ""
                : c.LogTail.Count > 0 && telling == c.LogTail[^1].Trim() ? $": last log line \"{telling}\"" : $": last error in its log \"{telling}\"";
            switch (c.Container)
            {
                case null:
                    problems.Add(new(c.Component, node, $"not running: {manifest} is present but `{cli} ps -a` shows no {c.Component} container{readyzNote}",
                        $"kubelet has not started it: look at `journalctl -u kubelet` on {node} (a manifest it cannot read is logged there)"));
                    break;
                case { Running: true } when c.Component == "etcd" && etcdFailed is not null && !etcdHealthy:
                    problems.Add(new("etcd", node, $"running but not healthy: the API server's /readyz says {etcdFailed.Line}, " +
                                                   $"etcd's {e.EtcdHealth?.Url} gave {Describe(e.EtcdHealth)}{lastLine}",
                        $"{look}, and the etcd flags in {manifest}"));
                    break;
                case { Running: true }:
                    seen.Add($"{c.Component} is running (attempt {c.Container.Attempt})");
                    break;
                case var k:
                    var exit = k.ExitCode is { } code ? $"exited with code {code}" : $"container {k.State}";
                    var what = k.Attempt > 0 ? $"crash-looping ({exit}, {k.Attempt} restart{(k.Attempt == 1 ? "" : "s")})" : $"not running ({exit}, not restarted yet)";
                    var needsEtcd = c.Component == "kube-apiserver" && e.Components.Any(o => o.Component == "etcd" && (o.Manifest == false || o.Container is { Running: false }))
                        ? " (it needs etcd, which is down too: fix etcd first)" : "";
                    problems.Add(new(c.Component, node, $"{what}{lastLine}{needsEtcd}", $"{look}, and the flags in {manifest}"));
                    break;
            }
        }

        // etcd named by the API server itself, whatever the runtime showed (or could not show).
        if (etcdFailed is not null && problems.All(p => p.Component != "etcd"))
            problems.Add(new("etcd", node, $"not serving: the API server answers but /readyz says {etcdFailed.Line}; etcd's {e.EtcdHealth?.Url} gave {Describe(e.EtcdHealth)}",
                $"look at `crictl ps -a --name etcd` (or `docker ps -a --filter name=k8s_etcd_`) and its logs on {node}"));
        var otherFailed = readyzChecks.Where(c => !c.Ok && !c.Name.StartsWith("etcd", StringComparison.Ordinal)).Select(c => c.Line).ToList();
        if (otherFailed.Count > 0) seen.Add($"/readyz says {string.Join(", ", otherFailed)}");

        if (e.Readyz is { } r && !r.Answered)
        {
            var apiServer = e.Components.FirstOrDefault(c => c.Component == "kube-apiserver");
            if (r.CurlExit == 28 && apiServer?.Container is { Running: true } && problems.All(p => p.Component != "kube-apiserver"))
                problems.Add(new("kube-apiserver", node, $"running but hangs: {r.Url} gave no answer within 5 s on {node} itself; etcd's {e.EtcdHealth?.Url} gave {Describe(e.EtcdHealth)}",
                    $"look at `crictl logs {apiServer.Container.Id}` (or docker logs) on {node}; an API server waiting for etcd hangs like this"));
            else seen.Add($"nothing answers {r.Url} on {node} ({r.Describe()})");
        }
        else if (e.Readyz is { } ok && readyzChecks.Count > 0 && readyzChecks.All(c => c.Ok))
            seen.Add($"the API server is ready on {node} itself ({ok.Url}: all {readyzChecks.Count} checks ok): the address used from here does not reach it");
        if (e.EtcdHealth is { } eh && problems.All(p => p.Component != "etcd"))
            seen.Add(etcdHealthy ? $"etcd is healthy ({eh.Url}: {eh.Body})" : $"etcd's {eh.Url} gave {Describe(eh)}");

        return new(node, problems.OrderBy(p => Rank(p.Component)).ToList(), seen, evidence);
    }

    private static string Describe(EndpointAnswer? p) => p switch
    {
        null => "nothing (not asked)",
        { Answered: true } => $"HTTP {p.HttpCode} {p.Body.Split('\n')[0]}",
        _ => p.Describe(),
    };
}
